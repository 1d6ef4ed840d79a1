//! Answering a custom-resource request: an HTTP PUT of the answer to the request's pre-signed
//! `ResponseURL`. The URL comes from whoever published to the callback topic, so trackses only
//! ever PUTs to S3 (or to the operator's own AWS endpoint, the emulator).

use url::{Host, Url};

use super::request::Answer;
use ingest::sns::certs::strict_http_client;

#[derive(Debug, thiserror::Error)]
pub enum RespondError {
    #[error("ResponseURL is not in CloudFormation's response bucket of the stack's region")]
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

/// CloudFormation's own response bucket of a region: `cloudformation-custom-resource-response-`
/// and the region without its dashes (`euwest1`).
fn response_bucket(region: &str) -> String {
    format!(
        "cloudformation-custom-resource-response-{}",
        region.replace('-', "")
    )
}

/// An S3 endpoint host: `s3.amazonaws.com`, `s3.<region>.amazonaws.com`, `s3-<region>.amazonaws.com`
/// and the China partition's.
fn is_s3_endpoint(host: &str) -> bool {
    let Some(rest) = host
        .strip_suffix(".amazonaws.com")
        .or_else(|| host.strip_suffix(".amazonaws.com.cn"))
    else {
        return false;
    };
    let valid_region = |r: &str| {
        !r.is_empty()
            && r.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    rest == "s3"
        || rest.strip_prefix("s3.").is_some_and(valid_region)
        || rest.strip_prefix("s3-").is_some_and(valid_region)
}

/// Whether `url` is in CloudFormation's response bucket for `region`, virtual-hosted
/// (`<bucket>.s3…`) or path-style (`s3…/<bucket>/…`).
fn in_response_bucket(url: &Url, region: &str) -> bool {
    let Some(Host::Domain(host)) = url.host() else {
        return false;
    };
    let bucket = response_bucket(region);
    match host
        .strip_prefix(bucket.as_str())
        .and_then(|h| h.strip_prefix('.'))
    {
        Some(endpoint) => is_s3_endpoint(endpoint),
        None => {
            is_s3_endpoint(host)
                && url.path_segments().and_then(|mut s| s.next()) == Some(bucket.as_str())
        }
    }
}

impl Responder {
    pub fn new(endpoint_override: Option<Url>) -> Responder {
        Responder {
            http: strict_http_client(),
            endpoint_override,
        }
    }

    /// Only CloudFormation's response bucket of the stack's region (anyone may publish a request
    /// to the callback topic, so any other bucket could be someone's target), or the operator's
    /// own endpoint.
    pub fn trusted_url(&self, raw: &str, region: &str) -> Result<Url, RespondError> {
        let url = Url::parse(raw).map_err(|_| RespondError::UntrustedUrl)?;
        let on_s3 =
            url.scheme() == "https" && url.port().is_none() && in_response_bucket(&url, region);
        let on_override = self
            .endpoint_override
            .as_ref()
            .is_some_and(|e| ingest::sns::confirm::same_origin(e, &url));
        let no_credentials = url.username().is_empty() && url.password().is_none();
        if (on_s3 || on_override) && no_credentials {
            Ok(url)
        } else {
            Err(RespondError::UntrustedUrl)
        }
    }

    pub async fn answer(
        &self,
        raw_url: &str,
        region: &str,
        answer: &Answer,
    ) -> Result<(), RespondError> {
        let url = self.trusted_url(raw_url, region)?;
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
    fn answers_go_only_to_cloudformations_bucket_or_the_operators_endpoint() {
        let responder = Responder::new(Some(Url::parse("http://127.0.0.1:4566").unwrap()));
        for (good, region) in [
            (REAL, "eu-west-1"),
            (
                "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x?y=z",
                "us-east-1",
            ),
            (
                "https://cloudformation-custom-resource-response-uswest2.s3.us-west-2.amazonaws.com/x",
                "us-west-2",
            ),
            (
                "https://s3.amazonaws.com/cloudformation-custom-resource-response-useast1/x",
                "us-east-1",
            ),
            (
                "https://cloudformation-custom-resource-response-cnnorth1.s3.cn-north-1.amazonaws.com.cn/x",
                "cn-north-1",
            ),
            (
                "http://127.0.0.1:4566/_trackses/cloudformation/responses/1",
                "eu-west-1",
            ),
        ] {
            assert!(responder.trusted_url(good, region).is_ok(), "{good}");
        }
        for bad in [
            REAL.replace("https", "http"),
            REAL.replace(".amazonaws.com/", ".amazonaws.com.evil.io/"),
            REAL.replace("s3-eu-west-1", "sqs"),
            REAL.replace("https://", "https://user@"),
            REAL.replace(".com/", ".com:444/"),
            REAL.replace("euwest1", "uswest2"),
            REAL.replace(
                "cloudformation-custom-resource-response-euwest1",
                "attacker-bucket",
            ),
            REAL.replace("response-euwest1.", "response-euwest1.evil."),
            "https://bucket.s3.eu-west-1.amazonaws.com/x".to_owned(),
            "https://s3.amazonaws.com/attacker/cloudformation-custom-resource-response-euwest1"
                .to_owned(),
            "https://169.254.169.254/latest/meta-data".to_owned(),
            "http://127.0.0.1:4567/_trackses/cloudformation/responses/1".to_owned(),
            "not a url".to_owned(),
        ] {
            assert!(responder.trusted_url(&bad, "eu-west-1").is_err(), "{bad}");
        }
        assert!(
            Responder::new(None)
                .trusted_url("http://127.0.0.1:4566/x", "eu-west-1")
                .is_err()
        );
    }
}
