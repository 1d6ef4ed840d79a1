//! Answering a custom-resource request: an HTTP PUT of the answer to the request's pre-signed
//! `ResponseURL`. The URL comes from whoever published to the callback topic, so trackses only
//! ever PUTs to S3 (or to the operator's own AWS endpoint, the emulator).

use url::{Host, Url};

use super::request::Answer;
use crate::sns::certs::strict_http_client;

#[derive(Debug, thiserror::Error)]
pub enum RespondError {
    #[error("ResponseURL is not a pre-signed Amazon S3 URL")]
    UntrustedUrl,
    #[error("CloudFormation's ResponseURL refused the answer (HTTP {0})")]
    Refused(u16),
    #[error("CloudFormation's ResponseURL could not be reached: {0}")]
    Unreachable(String),
}

pub struct Responder {
    http: reqwest::Client,
    endpoint_override: Option<Url>,
}

/// `…s3.<region>.amazonaws.com`, `…s3-<region>.amazonaws.com` and the China partition's.
fn is_s3_host(host: &str) -> bool {
    let Some(rest) = host
        .strip_suffix(".amazonaws.com")
        .or_else(|| host.strip_suffix(".amazonaws.com.cn"))
    else {
        return false;
    };
    rest.split('.')
        .any(|label| label == "s3" || label.starts_with("s3-"))
}

impl Responder {
    pub fn new(endpoint_override: Option<Url>) -> Responder {
        Responder {
            http: strict_http_client(),
            endpoint_override,
        }
    }

    pub fn trusted_url(&self, raw: &str) -> Result<Url, RespondError> {
        let url = Url::parse(raw).map_err(|_| RespondError::UntrustedUrl)?;
        let on_s3 = url.scheme() == "https"
            && url.port().is_none()
            && matches!(url.host(), Some(Host::Domain(h)) if is_s3_host(h));
        let on_override = self
            .endpoint_override
            .as_ref()
            .is_some_and(|e| crate::sns::confirm::same_origin(e, &url));
        let no_credentials = url.username().is_empty() && url.password().is_none();
        if (on_s3 || on_override) && no_credentials {
            Ok(url)
        } else {
            Err(RespondError::UntrustedUrl)
        }
    }

    pub async fn answer(&self, raw_url: &str, answer: &Answer) -> Result<(), RespondError> {
        let url = self.trusted_url(raw_url)?;
        // No Content-Type: the pre-signed URL signs none, and S3 refuses headers it did not sign.
        let body = serde_json::to_vec(answer).unwrap_or_default();
        let response = self
            .http
            .put(url)
            .body(body)
            .send()
            .await
            .map_err(|e| RespondError::Unreachable(e.without_url().to_string()))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(RespondError::Refused(response.status().as_u16()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REAL: &str = "https://cloudformation-custom-resource-response-euwest1.s3-eu-west-1.amazonaws.com/arn%3Aaws%3Acloudformation?X-Amz-Signature=ab";

    #[test]
    fn answers_go_only_to_s3_or_the_operators_endpoint() {
        let responder = Responder::new(Some(Url::parse("http://127.0.0.1:4566").unwrap()));
        for good in [
            REAL,
            "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x?y=z",
            "https://bucket.s3.eu-west-1.amazonaws.com/x",
            "https://bucket.s3.cn-north-1.amazonaws.com.cn/x",
            "http://127.0.0.1:4566/_trackses/cloudformation/responses/1",
        ] {
            assert!(responder.trusted_url(good).is_ok(), "{good}");
        }
        for bad in [
            REAL.replace("https", "http"),
            REAL.replace(".amazonaws.com/", ".amazonaws.com.evil.io/"),
            REAL.replace("s3-eu-west-1", "sqs"),
            REAL.replace("https://", "https://user@"),
            REAL.replace(".com/", ".com:444/"),
            "https://169.254.169.254/latest/meta-data".to_owned(),
            "http://127.0.0.1:4567/_trackses/cloudformation/responses/1".to_owned(),
            "not a url".to_owned(),
        ] {
            assert!(responder.trusted_url(&bad).is_err(), "{bad}");
        }
        assert!(
            Responder::new(None)
                .trusted_url("http://127.0.0.1:4566/x")
                .is_err()
        );
    }
}
