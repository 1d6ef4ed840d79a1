//! The API's OpenAPI document as a client reads it (`GET /openapi.json`), and whether a request
//! is one it describes.

use serde_json::Value;

use super::Harness;

pub async fn document(h: &Harness) -> Value {
    let response = reqwest::get(format!("{}/openapi.json", h.api.base))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    response.json().await.unwrap()
}

/// Every (method, path template) the document describes, methods upper-case.
pub fn operations(document: &Value) -> Vec<(String, String)> {
    let mut operations = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            operations.push((method.to_uppercase(), path.clone()));
        }
    }
    operations
}

/// Whether `path` fits `template`, each `{name}` one non-empty segment.
pub fn fits(template: &str, path: &str) -> bool {
    let (template, path): (Vec<_>, Vec<_>) =
        (template.split('/').collect(), path.split('/').collect());
    template.len() == path.len()
        && template
            .iter()
            .zip(&path)
            .all(|(t, p)| t == p || (t.starts_with('{') && t.ends_with('}') && !p.is_empty()))
}

pub fn documented(document: &Value, method: &str, path: &str) -> bool {
    operations(document)
        .iter()
        .any(|(m, template)| m == method && fits(template, path))
}
