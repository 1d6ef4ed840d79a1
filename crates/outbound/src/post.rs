//! One delivery: a POST to a checked address, no redirect followed, a short deadline, and no
//! more of the answer read than a line of it, so a hostile or broken receiver costs a bounded
//! few seconds and bytes and cannot steer the request elsewhere.

use std::error::Error as _;
use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use url::Url;

use crate::address::{AddressError, PublicResolver, Reach, check_url};

/// The longest a receiver may take to accept a delivery. Deliveries run concurrently, so a
/// slow receiver holds its own slot only.
pub const DEADLINE: Duration = Duration::from_secs(10);
const CONNECT_DEADLINE: Duration = Duration::from_secs(3);
/// What is kept of a refusing answer's body, to show its owner why.
pub const EXCERPT_BYTES: usize = 256;

#[derive(Debug)]
pub struct Delivered {
    pub status: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryFailure {
    #[error("the address is refused: {0}")]
    Refused(#[from] AddressError),
    #[error("answered HTTP {status}: {excerpt}")]
    Status { status: u16, excerpt: String },
    #[error("no answer within {} s", DEADLINE.as_secs())]
    Timeout,
    #[error("could not connect")]
    Connect,
    #[error("the request failed")]
    Request,
}

/// The client, built once per cold start.
#[derive(Clone)]
pub struct Poster {
    http: reqwest::Client,
    reach: Reach,
}

impl Poster {
    pub fn new(reach: Reach) -> Poster {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            // An environment proxy would connect on our behalf, past the resolver's check.
            .no_proxy()
            .dns_resolver(PublicResolver::shared(reach))
            .connect_timeout(CONNECT_DEADLINE)
            .timeout(DEADLINE)
            .user_agent("trackses-webhooks/1")
            .build()
            // Building fails only when the TLS backend cannot start: nothing could be sent.
            .expect("the HTTP client could not be built");
        Poster { http, reach }
    }

    pub fn reach(&self) -> Reach {
        self.reach
    }

    /// POSTs `body` as JSON with `headers` to `url`. Only a 2xx answer is a delivery; a redirect
    /// is a failure like any other answer.
    pub async fn post_json(
        &self,
        url: &str,
        mut headers: HeaderMap,
        body: Vec<u8>,
    ) -> Result<Delivered, DeliveryFailure> {
        let url: Url = check_url(url, self.reach)?;
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let mut response = self
            .http
            .post(url)
            .headers(headers)
            .body(body)
            .send()
            .await
            .map_err(failure)?;
        let status = response.status();
        if status.is_success() {
            return Ok(Delivered {
                status: status.as_u16(),
            });
        }
        let mut excerpt = Vec::new();
        while excerpt.len() < EXCERPT_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => excerpt.extend_from_slice(&chunk),
                _ => break,
            }
        }
        excerpt.truncate(EXCERPT_BYTES);
        let excerpt = String::from_utf8_lossy(&excerpt)
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect::<String>()
            .trim()
            .to_owned();
        Err(DeliveryFailure::Status {
            status: status.as_u16(),
            excerpt,
        })
    }
}

fn failure(error: reqwest::Error) -> DeliveryFailure {
    let mut source = error.source();
    while let Some(cause) = source {
        if let Some(refused) = cause.downcast_ref::<AddressError>() {
            return DeliveryFailure::Refused(refused.clone());
        }
        source = cause.source();
    }
    if error.is_timeout() {
        DeliveryFailure::Timeout
    } else if error.is_connect() {
        DeliveryFailure::Connect
    } else {
        DeliveryFailure::Request
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::http::{StatusCode, header::LOCATION};
    use axum::routing::{get, post};

    use super::*;
    use crate::address::AddressError;

    /// A receiver on loopback: `/ok` accepts, `/moved` redirects to `/taken` (counting visits
    /// there), `/broken` fails with a megabyte of body.
    async fn receiver() -> (String, Arc<AtomicUsize>) {
        let taken = Arc::new(AtomicUsize::new(0));
        let counter = taken.clone();
        let app = axum::Router::new()
            .route("/ok", post(|| async { StatusCode::NO_CONTENT }))
            .route(
                "/moved",
                post(|| async { (StatusCode::FOUND, [(LOCATION, "/taken")]) }),
            )
            .route(
                "/taken",
                get(move || async move {
                    counter.fetch_add(1, Ordering::SeqCst);
                    StatusCode::OK
                })
                .post(|| async { StatusCode::OK }),
            )
            .route(
                "/broken",
                post(|| async { (StatusCode::BAD_GATEWAY, "x".repeat(1 << 20)) }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (base, taken)
    }

    #[tokio::test]
    async fn a_2xx_delivers_a_redirect_is_not_followed_and_a_refusal_is_read_a_line_deep() {
        let (base, taken) = receiver().await;
        let poster = Poster::new(Reach::PublicOrLoopback);
        let post = |path: &str| {
            let url = format!("{base}{path}");
            let poster = poster.clone();
            async move {
                poster
                    .post_json(&url, HeaderMap::new(), b"{}".to_vec())
                    .await
            }
        };
        assert_eq!(post("/ok").await.map(|d| d.status), Ok(204));
        match post("/moved").await {
            Err(DeliveryFailure::Status { status: 302, .. }) => {}
            other => panic!("{other:?}"),
        }
        assert_eq!(taken.load(Ordering::SeqCst), 0, "the redirect was followed");
        match post("/broken").await {
            Err(DeliveryFailure::Status {
                status: 502,
                excerpt,
            }) => {
                assert!(
                    excerpt.len() <= EXCERPT_BYTES && excerpt.starts_with("xxx"),
                    "{excerpt}"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn deployed_it_reaches_no_loopback_address_by_ip_or_by_name() {
        let (base, _) = receiver().await;
        let poster = Poster::new(Reach::Public);
        let port = base.rsplit(':').next().unwrap();
        let by_ip = poster
            .post_json(
                &format!("https://127.0.0.1:{port}/ok"),
                HeaderMap::new(),
                vec![],
            )
            .await;
        assert_eq!(
            by_ip.err(),
            Some(DeliveryFailure::Refused(AddressError::NotPublic(
                "127.0.0.1".into()
            )))
        );
        let by_name = poster
            .post_json(
                &format!("https://localhost:{port}/ok"),
                HeaderMap::new(),
                vec![],
            )
            .await;
        assert!(
            matches!(
                by_name,
                Err(DeliveryFailure::Refused(AddressError::NotPublic(_)))
            ),
            "{:?}",
            by_name.err()
        );
        let plain = poster
            .post_json(&format!("{base}/ok"), HeaderMap::new(), vec![])
            .await;
        assert_eq!(
            plain.err(),
            Some(DeliveryFailure::Refused(AddressError::NotHttps))
        );
    }
}
