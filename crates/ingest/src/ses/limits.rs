//! How much of a notification trackses takes. SES stays inside every bound here, so a document
//! beyond one is not SES's; refusing it keeps what one message costs bounded, in memory and in
//! DynamoDB (`store::ingest_write`'s tests build the worst case these allow and check it fits).

use std::io;

use serde::Serialize;

use super::SesError;
use model::event::Tags;

/// SES's quota: "50 recipients per message. A recipient is any To, CC, or BCC address" (not
/// adjustable; Service quotas in Amazon SES). No event names more than the message had.
pub const MAX_RECIPIENTS: usize = 50;

/// RFC 5321 §4.5.3.1: a local part of up to 64 octets, `@`, and a domain of up to 255.
pub const MAX_ADDRESS_LEN: usize = 320;

/// SES's MessageTag: a name and a value "can contain no more than 256 characters", from ASCII
/// letters, digits, `_` and `-` (API reference, MessageTag). SES's own `ses:` auto-tags are IPs,
/// domains, identity and operation names, all printable ASCII.
pub const MAX_TAG_LEN: usize = 256;

/// SES documents no count of message tags. 50 is AWS's usual tag quota, and SES adds its own
/// `ses:` auto-tags (configuration set, caller identity, from domain, source and outgoing IP,
/// operation, TLS versions, feedback ids) on top: 64 leaves them room.
pub const MAX_TAGS: usize = 64;

/// Subject and source, as JSON. RFC 5322 §2.1.1 caps a header line at 998 characters, and a
/// decoded character is at most 4 bytes of UTF-8: one line of subject fits.
pub const MAX_HEADER_JSON: usize = 4096;

/// Each value in an event's `details`, as JSON. The longest SES gives are a remote server's SMTP
/// reply (RFC 5321 §4.5.3.1.5: 512 octets a line, a few lines) and a clicked link, and common web
/// servers refuse a request line over 8 KB (Apache's LimitRequestLine 8190, nginx's 8k buffers), so
/// no link anyone could follow is longer.
pub const MAX_DETAIL_JSON: usize = 8192;

pub(super) fn count(what: &'static str, n: usize, max: usize) -> Result<(), SesError> {
    if n > max {
        return Err(SesError::TooMany { what, max });
    }
    Ok(())
}

/// The bytes `value` takes as JSON, which is how trackses stores it, counted without building it.
pub fn json_len(value: &(impl Serialize + ?Sized)) -> usize {
    struct Counter(usize);
    impl io::Write for Counter {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    // A failure to serialise counts as too large: the caller refuses what it cannot measure.
    serde_json::to_writer(&mut counter, value).map_or(usize::MAX, |()| counter.0)
}

pub(super) fn json_within(
    field: &'static str,
    value: &(impl Serialize + ?Sized),
    max: usize,
) -> Result<(), SesError> {
    if json_len(value) > max {
        return Err(SesError::TooLarge { field, max });
    }
    Ok(())
}

/// A bare address: one `@` between a non-empty local part and domain, nothing blank or invisible.
/// SES takes only `UserName@[SubDomain.]Domain.TopLevelDomain`, without SMTPUTF8.
pub fn is_address(address: &str) -> bool {
    address.len() <= MAX_ADDRESS_LEN
        && !address.chars().any(|c| c.is_whitespace() || c.is_control())
        && address.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && !domain.is_empty() && !domain.contains('@')
        })
}

/// Counts and lengths as SES allows them; characters printable ASCII other than `"` and `\`, so a
/// tag takes as many bytes in JSON as it has.
pub(super) fn check_tags(tags: &Tags) -> Result<(), SesError> {
    count("message tags", tags.len(), MAX_TAGS)?;
    count(
        "message tag values",
        tags.values().map(Vec::len).sum(),
        MAX_TAGS,
    )?;
    let fits = |s: &String| {
        s.len() <= MAX_TAG_LEN
            && s.bytes()
                .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\')
    };
    if tags
        .iter()
        .all(|(name, values)| fits(name) && values.iter().all(fits))
    {
        Ok(())
    } else {
        Err(SesError::InvalidField("mail.tags"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        for good in ["a@b", "bob@example.com", "\"odd\\\"local\"@example.com"] {
            assert!(is_address(good), "{good}");
        }
        let long = format!("{}@example.com", "x".repeat(MAX_ADDRESS_LEN));
        for bad in [
            "",
            "@example.com",
            "bob@",
            "bob",
            "a@b@c",
            "bob @example.com",
            "bob@exa\u{0}mple.com",
            "bob@example.com\u{2028}",
            "bob\u{a0}@example.com",
            &long,
        ] {
            assert!(!is_address(bad), "{bad:?}");
        }
    }

    #[test]
    fn json_len_is_the_serialised_length() {
        for value in [
            serde_json::json!("plain"),
            serde_json::json!("quote \" backslash \\ control \u{1} é"),
            serde_json::json!({"a": [1, 2, {"b": null}]}),
        ] {
            assert_eq!(json_len(&value), value.to_string().len());
        }
    }

    #[test]
    fn tags() {
        let tag = |name: &str, values: &[&str]| {
            Tags::from([(
                name.to_owned(),
                values.iter().map(|v| (*v).to_owned()).collect(),
            )])
        };
        assert_eq!(check_tags(&tag("ses:source-ip", &["203.0.113.10"])), Ok(()));
        assert_eq!(check_tags(&tag("n", &[&"v".repeat(MAX_TAG_LEN)])), Ok(()));
        for bad in [
            tag("n", &[&"v".repeat(MAX_TAG_LEN + 1)]),
            tag(&"n".repeat(MAX_TAG_LEN + 1), &["v"]),
            tag("n", &["a\"b"]),
            tag("n", &["a\\b"]),
            tag("n", &["a\nb"]),
            tag("n", &["é"]),
        ] {
            assert_eq!(check_tags(&bad), Err(SesError::InvalidField("mail.tags")));
        }
        let many: Tags = (0..=MAX_TAGS).map(|i| (i.to_string(), vec![])).collect();
        assert!(matches!(check_tags(&many), Err(SesError::TooMany { .. })));
        let values = tag("n", &vec!["v"; MAX_TAGS + 1]);
        assert!(matches!(check_tags(&values), Err(SesError::TooMany { .. })));
    }
}
