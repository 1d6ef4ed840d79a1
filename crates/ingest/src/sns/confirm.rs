//! Confirming a subscription by visiting its SubscribeURL, only on a trusted SNS host.

use url::{Host, Url};

use super::cert_url::is_sns_host;
use super::certs::strict_http_client;

#[derive(Debug, thiserror::Error)]
pub enum ConfirmError {
    #[error("SubscribeURL is not on the SNS endpoint of the topic's region")]
    UntrustedUrl,
    #[error("SNS did not confirm the subscription (HTTP {0})")]
    Refused(u16),
    #[error("SNS could not be reached to confirm the subscription: {0}")]
    Unreachable(String),
}

/// Same scheme, host and port: the only other place trackses follows a URL it was sent to.
pub fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host() == b.host()
        && a.port_or_known_default() == b.port_or_known_default()
}

pub struct Confirmer {
    http: reqwest::Client,
    /// `AWS_ENDPOINT_URL_SNS` / `AWS_ENDPOINT_URL`: where the operator told the SDK SNS lives.
    endpoint_override: Option<Url>,
}

impl Confirmer {
    pub fn new(endpoint_override: Option<Url>) -> Confirmer {
        Confirmer {
            http: strict_http_client(),
            endpoint_override,
        }
    }

    pub fn trusted_url(&self, raw: &str, region: &str) -> Result<Url, ConfirmError> {
        let url = Url::parse(raw).map_err(|_| ConfirmError::UntrustedUrl)?;
        let on_aws = url.scheme() == "https"
            && url.port().is_none()
            && matches!(url.host(), Some(Host::Domain(h)) if is_sns_host(h, region));
        let on_override = self
            .endpoint_override
            .as_ref()
            .is_some_and(|e| same_origin(e, &url));
        let confirms = url
            .query_pairs()
            .any(|(k, v)| k == "Action" && v == "ConfirmSubscription");
        let no_credentials = url.username().is_empty() && url.password().is_none();
        if (on_aws || on_override) && confirms && no_credentials {
            Ok(url)
        } else {
            Err(ConfirmError::UntrustedUrl)
        }
    }

    pub async fn confirm(&self, raw: &str, region: &str) -> Result<(), ConfirmError> {
        let url = self.trusted_url(raw, region)?;
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| ConfirmError::Unreachable(e.without_url().to_string()))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(ConfirmError::Refused(response.status().as_u16()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REAL: &str = "https://sns.eu-central-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:eu-central-1:573964052742:t&Token=ab";

    #[test]
    fn trusts_only_the_regions_sns_host() {
        let confirmer = Confirmer::new(None);
        assert!(confirmer.trusted_url(REAL, "eu-central-1").is_ok());
        for bad in [
            REAL.replace("https", "http"),
            REAL.replace(
                "eu-central-1.amazonaws.com",
                "eu-central-1.amazonaws.com.evil.io",
            ),
            REAL.replace("sns.eu-central-1", "sns.eu-west-1"),
            REAL.replace("Action=ConfirmSubscription", "Action=Unsubscribe"),
            REAL.replace("https://", "https://user@"),
            REAL.replace(".com/", ".com:444/"),
            "http://127.0.0.1:4566/?Action=ConfirmSubscription".to_owned(),
        ] {
            assert!(
                confirmer.trusted_url(&bad, "eu-central-1").is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn trusts_the_operators_endpoint_only_when_set() {
        let local = "http://127.0.0.1:4566/?Action=ConfirmSubscription&Token=ab";
        let confirmer = Confirmer::new(Some(Url::parse("http://127.0.0.1:4566").unwrap()));
        assert!(confirmer.trusted_url(local, "eu-west-1").is_ok());
        assert!(confirmer.trusted_url(REAL, "eu-central-1").is_ok());
        assert!(
            confirmer
                .trusted_url(&local.replace("4566", "4567"), "eu-west-1")
                .is_err()
        );
        assert!(
            confirmer
                .trusted_url(&local.replace("127.0.0.1", "localhost"), "eu-west-1")
                .is_err()
        );
    }
}
