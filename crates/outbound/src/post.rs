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
