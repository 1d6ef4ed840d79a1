//! `cert_url::check`: never panics, and every URL it accepts is SNS's one canonical spelling.

use proptest::prelude::*;
use url::Url;

use crate::sns::cert_url::{self, CertKey, MAX_LEN};
use crate::strategies::config;

const REGIONS: &[&str] = &["us-east-1", "eu-west-1", "cn-north-1", "US-EAST-1", "", "x"];

/// Pieces of real and almost-real URLs, so that accepted ones are common and near misses more so.
fn url_like() -> impl Strategy<Value = (String, String)> {
    let pick = |options: &'static [&'static str]| prop::sample::select(options);
    (
        pick(REGIONS),
        pick(&[
            "https://",
            "http://",
            "HTTPS://",
            "https:/",
            "https:\\\\",
            "https://@",
            "https://x@",
            "",
        ]),
        pick(&["sns.", "SNS.", "%73ns.", "", "x.sns."]),
        pick(&[
            ".amazonaws.com",
            ".amazonaws.com.cn",
            ".amazonaws.com.",
            ".AMAZONAWS.com",
            ".amazonaws.com.evil",
            "%2eamazonaws.com",
        ]),
        pick(&["", "", "", ":443", ":", ":8443"]),
        prop::collection::vec(
            pick(&["/", "./", "../", "a/", "%2e/", "%2E%2E/", "\\", "."]),
            0..3,
        ),
        pick(&[
            "SimpleNotificationService-",
            "SimpleNotificationService-",
            "simplenotificationservice-",
            "SimpleNotificationService%2D",
            "",
        ]),
        prop_oneof![8 => "[0-9a-f]{1,40}", 1 => "[0-9a-fA-F%]{0,40}", 1 => "[0-9a-f]{180,200}"],
        pick(&[".pem", ".pem", ".PEM", "%2epem", ".pem/", ""]),
        pick(&["", "", "", "?", "#", "?x=1", "\n", " ", "\t"]),
        pick(REGIONS),
        prop::bool::weighted(0.9),
    )
        .prop_map(
            |(region, scheme, sns, domain, port, dirs, prefix, hex, suffix, tail, other, same)| {
                let url = format!(
                    "{scheme}{sns}{region}{domain}{port}/{}{prefix}{hex}{suffix}{tail}",
                    dirs.concat()
                );
                (url, if same { region } else { other }.to_owned())
            },
        )
}

fn is_certificate_file(file: &str) -> bool {
    file.strip_prefix("SimpleNotificationService-")
        .and_then(|rest| rest.strip_suffix(".pem"))
        .is_some_and(|hex| {
            !hex.is_empty()
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

fn check_accepted(raw: &str, region: &str, key: &CertKey) -> Result<(), TestCaseError> {
    prop_assert!(raw.len() <= MAX_LEN);
    let reparsed = Url::parse(raw).map(String::from);
    prop_assert_eq!(reparsed.as_deref(), Ok(raw));
    prop_assert_eq!(key.url(), raw);
    let (global, china) = (
        format!("sns.{region}.amazonaws.com"),
        format!("sns.{region}.amazonaws.com.cn"),
    );
    prop_assert!(
        key.host() == global || key.host() == china,
        "{}",
        key.host()
    );
    prop_assert!(is_certificate_file(key.file()), "{}", key.file());
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn url_like_strings((raw, region) in url_like()) {
        if let Ok(key) = cert_url::check(&raw, &region) {
            check_accepted(&raw, &region, &key)?;
        }
    }

    #[test]
    fn any_string(raw in any::<String>(), region in prop::sample::select(REGIONS)) {
        if let Ok(key) = cert_url::check(&raw, region) {
            check_accepted(&raw, region, &key)?;
        }
    }
}
