//! Where SNS signing certificates may come from. A URL that fails here is never fetched.
//!
//! Only the one spelling SNS itself writes is accepted: `Url::parse` must give back exactly the
//! text that arrived. Every other spelling of the same place (`A/../`, an upper-case host, `%2e`,
//! `:443`, a stray `?`) is refused rather than normalised, so each real certificate has one URL and
//! junk spellings cannot each cost a fetch and a cache entry.

use url::{Host, Url};

/// SNS's own URLs are about 100 characters; nothing longer is one of them.
pub const MAX_LEN: usize = 256;

const FILE_PREFIX: &str = "SimpleNotificationService-";
const FILE_SUFFIX: &str = ".pem";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CertUrlError {
    #[error("SigningCertURL is longer than {MAX_LEN} characters")]
    TooLong,
    #[error("SigningCertURL is not a URL")]
    NotAUrl,
    #[error("SigningCertURL is not written the way SNS writes it")]
    NotCanonical,
    #[error("SigningCertURL must use https")]
    NotHttps,
    #[error("SigningCertURL host must be sns.{0}.amazonaws.com")]
    WrongHost(String),
    #[error("SigningCertURL path must be /SimpleNotificationService-<hex>.pem")]
    WrongPath,
}

/// A certificate's place: the only two parts of an accepted SigningCertURL that vary.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CertKey {
    host: String,
    file: String,
}

impl CertKey {
    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn file(&self) -> &str {
        &self.file
    }

    /// The URL to fetch, which is the accepted SigningCertURL itself.
    pub fn url(&self) -> String {
        format!("https://{}/{}", self.host, self.file)
    }
}

/// `sns.<region>.amazonaws.com` or, in the China partition, `.com.cn`.
pub fn is_sns_host(host: &str, region: &str) -> bool {
    host.strip_prefix("sns.")
        .and_then(|rest| rest.strip_prefix(region))
        .is_some_and(|rest| rest == ".amazonaws.com" || rest == ".amazonaws.com.cn")
}

/// Checks every rule and returns where the certificate is.
pub fn check(raw: &str, topic_region: &str) -> Result<CertKey, CertUrlError> {
    if raw.len() > MAX_LEN {
        return Err(CertUrlError::TooLong);
    }
    let url = Url::parse(raw).map_err(|_| CertUrlError::NotAUrl)?;
    if url.as_str() != raw {
        return Err(CertUrlError::NotCanonical);
    }
    if url.scheme() != "https" {
        return Err(CertUrlError::NotHttps);
    }
    let host = match url.host() {
        Some(Host::Domain(h)) if is_sns_host(h, topic_region) => h,
        _ => return Err(CertUrlError::WrongHost(topic_region.to_owned())),
    };
    if url.port().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err(CertUrlError::WrongHost(topic_region.to_owned()));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(CertUrlError::WrongPath);
    }
    let file = url
        .path()
        .strip_prefix('/')
        .filter(|file| is_certificate_file(file))
        .ok_or(CertUrlError::WrongPath)?;
    Ok(CertKey {
        host: host.to_owned(),
        file: file.to_owned(),
    })
}

/// `SimpleNotificationService-<hex>.pem`, hex in lower case as SNS writes it: the path is
/// case-sensitive, so another case would name another (absent) file.
fn is_certificate_file(file: &str) -> bool {
    file.strip_prefix(FILE_PREFIX)
        .and_then(|rest| rest.strip_suffix(FILE_SUFFIX))
        .is_some_and(|hex| {
            !hex.is_empty()
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-7ff5318490ec183fbaddaa2a969abfda.pem";

    #[test]
    fn accepts_the_documented_shape() {
        let key = check(GOOD, "eu-west-1").unwrap();
        assert_eq!(key.host(), "sns.eu-west-1.amazonaws.com");
        assert_eq!(
            key.file(),
            "SimpleNotificationService-7ff5318490ec183fbaddaa2a969abfda.pem"
        );
        assert_eq!(key.url(), GOOD);
        let cn = "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem";
        assert_eq!(check(cn, "cn-north-1").unwrap().url(), cn);
    }

    #[test]
    fn refuses_every_deviation() {
        let wrong_host = || CertUrlError::WrongHost("eu-west-1".into());
        let bad = [
            (
                "http://sns.eu-west-1.amazonaws.com/SimpleNotificationService-ab.pem",
                CertUrlError::NotHttps,
            ),
            (
                "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-ab.pem",
                wrong_host(),
            ),
            (
                "https://sns.eu-west-1.amazonaws.com.evil.com/SimpleNotificationService-ab.pem",
                wrong_host(),
            ),
            (
                "https://evil.com/sns.eu-west-1.amazonaws.com/SimpleNotificationService-ab.pem",
                wrong_host(),
            ),
            (
                "https://x@sns.eu-west-1.amazonaws.com/SimpleNotificationService-ab.pem",
                wrong_host(),
            ),
            (
                "https://sns.eu-west-1.amazonaws.com:8443/SimpleNotificationService-ab.pem",
                wrong_host(),
            ),
            (
                "https://sns.eu-west-1.amazonaws.com./SimpleNotificationService-ab.pem",
                wrong_host(),
            ),
            (
                "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-ab.pem?x=1",
                CertUrlError::WrongPath,
            ),
            (
                "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-ab.pem?",
                CertUrlError::WrongPath,
            ),
            (
                "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-ab.pem#",
                CertUrlError::WrongPath,
            ),
            (
                "https://sns.eu-west-1.amazonaws.com/x/SimpleNotificationService-ab.pem",
                CertUrlError::WrongPath,
            ),
            (
                "https://sns.eu-west-1.amazonaws.com//SimpleNotificationService-ab.pem",
                CertUrlError::WrongPath,
            ),
            (
                "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-zz.pem",
                CertUrlError::WrongPath,
            ),
            (
                "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-AB.pem",
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
            (
                "https://sns.eu-west-1.amazonaws.com/%53impleNotificationService-ab.pem",
                CertUrlError::WrongPath,
            ),
            ("not a url", CertUrlError::NotAUrl),
        ];
        for (url, want) in bad {
            assert_eq!(check(url, "eu-west-1"), Err(want), "{url}");
        }
    }

    /// Each of these is, once normalised, the real URL: accepting any would let it be fetched and
    /// cached beside the real one.
    #[test]
    fn refuses_every_other_spelling_of_the_real_url() {
        let file = "SimpleNotificationService-7ff5318490ec183fbaddaa2a969abfda.pem";
        let spellings = [
            format!("https://SNS.eu-west-1.amazonaws.com/{file}"),
            format!("https://sns.EU-WEST-1.amazonaws.com/{file}"),
            format!("HTTPS://sns.eu-west-1.amazonaws.com/{file}"),
            format!("https://sns.eu-west-1.amazonaws.com/a/../{file}"),
            format!("https://sns.eu-west-1.amazonaws.com/./{file}"),
            format!("https://sns.eu-west-1.amazonaws.com/%2e/{file}"),
            format!("https://sns.eu-west-1.amazonaws.com/x/%2E%2E/{file}"),
            format!("https://%73ns.eu-west-1.amazonaws.com/{file}"),
            format!("https://sns.eu-west-1.amazonaws.com:443/{file}"),
            format!("https://@sns.eu-west-1.amazonaws.com/{file}"),
            format!("https:/sns.eu-west-1.amazonaws.com/{file}"),
            format!("https:\\\\sns.eu-west-1.amazonaws.com\\{file}"),
            format!("https://sns.eu-west-1.amazonaws.com/\t{file}"),
            format!(" https://sns.eu-west-1.amazonaws.com/{file}"),
            format!("https://sns.eu-west-1.amazonaws.com/{file}\n"),
        ];
        for url in &spellings {
            assert_eq!(
                check(url, "eu-west-1"),
                Err(CertUrlError::NotCanonical),
                "{url:?}"
            );
        }
    }

    #[test]
    fn refuses_long_urls_before_parsing() {
        let long = format!(
            "https://sns.eu-west-1.amazonaws.com/{FILE_PREFIX}{}{FILE_SUFFIX}",
            "a".repeat(MAX_LEN)
        );
        assert_eq!(check(&long, "eu-west-1"), Err(CertUrlError::TooLong));
        let at_limit = format!(
            "https://sns.eu-west-1.amazonaws.com/{FILE_PREFIX}{}{FILE_SUFFIX}",
            "a".repeat(MAX_LEN - 66)
        );
        assert_eq!(at_limit.len(), MAX_LEN);
        assert!(check(&at_limit, "eu-west-1").is_ok());
    }
}
