//! The dashboard: a static page and its scripts, compiled into the binary so the API serves it
//! with no file system, build step or CDN. It holds no data; it calls the API like any client.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use edge::Problem;
use model::sha256_hex;

/// Everything from this origin, nothing inline: data shown by the page can never run as code.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

macro_rules! asset {
    ($name:literal, $content_type:expr) => {
        Asset {
            name: $name,
            content_type: $content_type,
            body: include_str!(concat!("../assets/dashboard/", $name)),
        }
    };
}

const INDEX: &str = "index.html";
const JS: &str = "text/javascript; charset=utf-8";

static ASSETS: [Asset; 13] = [
    asset!("index.html", "text/html; charset=utf-8"),
    asset!("app.css", "text/css; charset=utf-8"),
    asset!("icon.svg", "image/svg+xml"),
    asset!("app.js", JS),
    asset!("api.js", JS),
    asset!("dom.js", JS),
    asset!("live.js", JS),
    asset!("overview.js", JS),
    asset!("message.js", JS),
    asset!("suppressions.js", JS),
    asset!("connections.js", JS),
    asset!("alerts.js", JS),
    asset!("endpoints.js", JS),
];

/// Content hashes: a deploy changes them, so `no-cache` revalidation never serves a stale
/// script beside a new page, and an unchanged asset costs a 304.
static ETAGS: LazyLock<Vec<String>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|a| format!("\"{}\"", &sha256_hex(a.body)[..32]))
        .collect()
});

pub fn routes<S: Clone + Send + Sync + 'static>() -> OpenApiRouter<S> {
    OpenApiRouter::new()
        .routes(routes!(page))
        .routes(routes!(file))
}

/// The dashboard (sign in with an API key).
#[utoipa::path(get, path = "/", tag = "dashboard",
    responses((status = 200, description = "The page", content_type = "text/html"),
              (status = 304, description = "Unchanged since the `ETag` sent in `If-None-Match`")))]
async fn page(headers: HeaderMap) -> Response {
    serve(INDEX, &headers)
}

/// One of the dashboard's scripts, its style sheet or its icon.
#[utoipa::path(get, path = "/dashboard/{name}", tag = "dashboard",
    params(("name" = String, Path, description = "A file name the page links to")),
    responses((status = 200, description = "The file (JavaScript, CSS or SVG)"),
              (status = 304, description = "Unchanged since the `ETag` sent in `If-None-Match`")))]
async fn file(Path(name): Path<String>, headers: HeaderMap) -> Response {
    serve(&name, &headers)
}

fn serve(name: &str, request: &HeaderMap) -> Response {
    let Some(index) = ASSETS.iter().position(|a| a.name == name) else {
        return Problem::not_found("dashboard file").into_response();
    };
    let (asset, etag) = (&ASSETS[index], ETAGS[index].as_str());
    let fresh = request
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes());
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, asset.content_type)], asset.body).into_response()
    };
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CACHE_CONTROL, "no-cache"),
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if let Ok(value) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use axum::body::{Body, to_bytes};
    use axum::http::Request;
    use tower::ServiceExt;

    use super::*;

    async fn get(path: &str, if_none_match: Option<&str>) -> Response {
        let mut request = Request::get(path);
        if let Some(tag) = if_none_match {
            request = request.header(header::IF_NONE_MATCH, tag);
        }
        axum::Router::from(routes::<()>())
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn the_page_comes_with_its_type_a_strict_policy_and_revalidation() {
        let response = get("/", None).await;
        assert_eq!(response.status(), StatusCode::OK);
        let headers = response.headers().clone();
        assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
        assert_eq!(headers[header::CACHE_CONTROL], "no-cache");
        assert!(
            headers[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap()
                .starts_with("default-src 'none'; script-src 'self';")
        );
        let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
        assert!(
            std::str::from_utf8(&body)
                .unwrap()
                .contains("/dashboard/app.js")
        );

        let etag = headers[header::ETAG].to_str().unwrap();
        let again = get("/", Some(etag)).await;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(get("/", Some("\"stale\"")).await.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn scripts_are_javascript_and_unknown_files_are_problems() {
        let script = get("/dashboard/live.js", None).await;
        assert_eq!(script.headers()[header::CONTENT_TYPE], JS);
        assert_eq!(script.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        let missing = get("/dashboard/secrets.js", None).await;
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            missing.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
    }

    /// Every file the page links or a script imports is one the router serves.
    #[test]
    fn every_referenced_file_is_served() {
        for asset in &ASSETS {
            for prefix in ["\"/dashboard/", "'./"] {
                for (i, _) in asset.body.match_indices(prefix) {
                    let rest = &asset.body[i + prefix.len()..];
                    let name = &rest[..rest.find(['"', '\'']).unwrap()];
                    assert!(
                        ASSETS.iter().any(|a| a.name == name),
                        "{} refers to {name}, which is not served",
                        asset.name
                    );
                }
            }
        }
    }
}
