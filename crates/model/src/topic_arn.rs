//! `arn:<partition>:sns:<region>:<account>:<name>`: the registry key of a connection.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TopicArn {
    raw: String,
    region_end: usize,
    account_end: usize,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "`{0}` is not an SNS topic ARN (expected arn:aws:sns:<region>:<12-digit account>:<topic name>)"
)]
pub struct InvalidTopicArn(pub String);

impl TopicArn {
    pub fn region(&self) -> &str {
        let start = self.raw[..self.region_end].rfind(':').map_or(0, |i| i + 1);
        &self.raw[start..self.region_end]
    }

    pub fn account_id(&self) -> &str {
        &self.raw[self.region_end + 1..self.account_end]
    }

    pub fn name(&self) -> &str {
        &self.raw[self.account_end + 1..]
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }
}

impl FromStr for TopicArn {
    type Err = InvalidTopicArn;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidTopicArn(s.chars().take(256).collect());
        let parts: Vec<&str> = s.split(':').collect();
        let [arn, partition, service, region, account, name] = parts[..] else {
            return Err(invalid());
        };
        let region_ok = !region.is_empty()
            && region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        let name_ok = (1..=256).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
        if arn != "arn"
            || !partition.starts_with("aws")
            || service != "sns"
            || !region_ok
            || !crate::ids::is_account_id(account)
            || !name_ok
        {
            return Err(invalid());
        }
        let region_end = arn.len() + partition.len() + service.len() + region.len() + 3;
        Ok(TopicArn {
            raw: s.to_owned(),
            region_end,
            account_end: region_end + 1 + account.len(),
        })
    }
}

impl fmt::Display for TopicArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_a_topic_arn() {
        let arn: TopicArn = "arn:aws:sns:eu-west-1:111111111111:trackses-demo"
            .parse()
            .unwrap();
        assert_eq!(arn.region(), "eu-west-1");
        assert_eq!(arn.account_id(), "111111111111");
        assert_eq!(arn.name(), "trackses-demo");
    }

    #[test]
    fn refuses_what_is_not_a_topic() {
        for bad in [
            "",
            "arn:aws:sqs:eu-west-1:111111111111:q",
            "arn:aws:sns:eu-west-1:1111:t",
            "arn:aws:sns::111111111111:t",
            "arn:aws:sns:eu-west-1:111111111111:",
            "arn:aws:sns:eu-west-1:111111111111:t:extra",
            "arn:aws:sns:EU/../:111111111111:t",
        ] {
            assert!(bad.parse::<TopicArn>().is_err(), "{bad}");
        }
    }
}
