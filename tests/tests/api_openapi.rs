//! The API's machine-readable contract (`GET /openapi.json`, OpenAPI 3.1 generated from the
//! handlers): it validates, and it describes exactly what the deployment serves.

mod common;

use std::path::Path;
use std::process::Command;

use common::contract::{document, documented, operations};
use common::*;

/// GIVEN the document a client downloads WHEN the reference validator for OpenAPI 3.1 reads it
/// THEN it is valid (`openapi-spec-validator`, installed by dev/venv.sh).
#[tokio::test]
async fn the_document_validates_as_openapi_3_1() {
    let h = Harness::start().await;
    let document = document(&h).await;
    assert_eq!(document["openapi"], "3.1.0");
    let file = Path::new(env!("CARGO_TARGET_TMPDIR")).join("openapi.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&document).unwrap()).unwrap();
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
    let checked = Command::new(&python)
        .args(["-m", "openapi_spec_validator"])
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("{} (run through `make test`): {e}", python.display()));
    assert!(
        checked.status.success(),
        "{}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
}

/// GIVEN every operation the document lists WHEN each is called (parameters filled, no
/// credentials) THEN some route of the deployment answers it: never the fallback that answers
/// a path or method nothing serves. And the check bites: what is not documented gets the
/// fallback.
#[tokio::test]
async fn every_documented_operation_is_served_and_nothing_else() {
    let h = Harness::start().await;
    let document = document(&h).await;
    let client = reqwest::Client::new();
    let fallback = |problem: &serde_json::Value| {
        problem["type"] == "urn:trackses:problem:not-found"
            && problem["detail"] == "route not found"
            || problem["type"] == "urn:trackses:problem:method-not-allowed"
    };
    let operations = operations(&document);
    assert!(operations.len() >= 25, "{operations:?}");
    for (method, template) in &operations {
        let path = template
            .replace("{name}", "app.js")
            .replace("{pid}", "prj_openapi")
            .replace("{cid}", "con_openapi")
            .replace("{kid}", "keyopenapi")
            .replace("{mid}", "message-openapi")
            .replace("{identity}", "example.com");
        let response = client
            .request(method.parse().unwrap(), format!("{}{path}", h.api.base))
            .send()
            .await
            .unwrap();
        let status = response.status();
        let problem: serde_json::Value = response.json().await.unwrap_or_default();
        assert!(
            !fallback(&problem),
            "{method} {template}: {status} {problem}"
        );
    }

    for (method, path) in [
        ("GET", "/v1/projects/prj_openapi/nothing"),
        ("PATCH", "/v1/session"),
    ] {
        assert!(!documented(&document, method, path));
        let response = client
            .request(method.parse().unwrap(), format!("{}{path}", h.api.base))
            .send()
            .await
            .unwrap();
        let problem: serde_json::Value = response.json().await.unwrap();
        assert!(fallback(&problem), "{method} {path}: {problem}");
    }
}
