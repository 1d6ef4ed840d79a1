//! Where SNS signing certificates may come from. A URL that fails here is never fetched.

use url::{Host, Url};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CertUrlError {
    #[error("SigningCertURL is not a URL")]
    NotAUrl,
    #[error("SigningCertURL must use https")]
    NotHttps,
    #[error("SigningCertURL host must be sns.{0}.amazonaws.com")]
    WrongHost(String),
    #[error("SigningCertURL path must be /SimpleNotificationService-<hex>.pem")]
    WrongPath,
}

/// `sns.<region>.amazonaws.com` or, in the China partition, `.com.cn`.
pub fn is_sns_host(host: &str, region: &str) -> bool {
    host.strip_prefix("sns.")
        .and_then(|rest| rest.strip_prefix(region))
        .is_some_and(|rest| rest == ".amazonaws.com" || rest == ".amazonaws.com.cn")
}

/// Checks every rule and returns the certificate's file name.
pub fn check(raw: &str, topic_region: &str) -> Result<String, CertUrlError> {
    let url = Url::parse(raw).map_err(|_| CertUrlError::NotAUrl)?;
    if url.scheme() != "https" {
        return Err(CertUrlError::NotHttps);
    }
    let host_ok = matches!(url.host(), Some(Host::Domain(h)) if is_sns_host(h, topic_region));
    if !host_ok || url.port().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err(CertUrlError::WrongHost(topic_region.to_owned()));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(CertUrlError::WrongPath);
    }
    let file = url
        .path()
        .strip_prefix('/')
        .ok_or(CertUrlError::WrongPath)?;
    let hex = file
        .strip_prefix("SimpleNotificationService-")
        .and_then(|rest| rest.strip_suffix(".pem"))
        .ok_or(CertUrlError::WrongPath)?;
    if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(CertUrlError::WrongPath);
    }
    Ok(file.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-7ff5318490ec183fbaddaa2a969abfda.pem";

    #[test]
    fn accepts_the_documented_shape() {
        assert_eq!(
            check(GOOD, "eu-west-1").unwrap(),
            "SimpleNotificationService-7ff5318490ec183fbaddaa2a969abfda.pem"
        );
        let cn = "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem";
        assert!(check(cn, "cn-north-1").is_ok());
    }

    #[test]
    fn refuses_every_deviation() {
        let bad = [
            (
                "http://sns.eu-west-1.amazonaws.com/SimpleNotificationService-ab.pem",
                CertUrlError::NotHttps,
            ),
            (
                "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-ab.pem",
                CertUrlError::WrongHost("eu-west-1".into()),
            ),
            (
                "https://sns.eu-west-1.amazonaws.com.evil.com/SimpleNotificationService-ab.pem",
                CertUrlError::WrongHost("eu-west-1".into()),
            ),
            (
                "https://evil.com/sns.eu-west-1.amazonaws.com/SimpleNotificationService-ab.pem",
                CertUrlError::WrongHost("eu-west-1".into()),
            ),
            (
                "https://x@sns.eu-west-1.amazonaws.com/SimpleNotificationService-ab.pem",
                CertUrlError::WrongHost("eu-west-1".into()),
            ),
            (
                "https://sns.eu-west-1.amazonaws.com:8443/SimpleNotificationService-ab.pem",
                CertUrlError::WrongHost("eu-west-1".into()),
            ),
            (
                "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-ab.pem?x=1",
                CertUrlError::WrongPath,
            ),
            (
                "https://sns.eu-west-1.amazonaws.com/x/SimpleNotificationService-ab.pem",
                CertUrlError::WrongPath,
            ),
            (
                "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-zz.pem",
                CertUrlError::WrongPath,
            ),
            (
                "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-.pem",
                CertUrlError::WrongPath,
            ),
            (
                "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-ab.crt",
                CertUrlError::WrongPath,
            ),
            ("not a url", CertUrlError::NotAUrl),
        ];
        for (url, want) in bad {
            assert_eq!(check(url, "eu-west-1"), Err(want), "{url}");
        }
    }
}
