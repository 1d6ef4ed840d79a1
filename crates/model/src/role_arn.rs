//! `arn:aws:iam::<account>:role/<path/><name>`: what a role-mode connection assumes.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an IAM role ARN (expected arn:aws:iam::<12-digit account>:role/<name>)")]
pub struct InvalidRoleArn(String);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleArn {
    raw: String,
}

impl RoleArn {
    pub fn account_id(&self) -> &str {
        self.raw.split(':').nth(4).unwrap_or_default()
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }
}

impl std::str::FromStr for RoleArn {
    type Err = InvalidRoleArn;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidRoleArn(s.chars().take(300).collect());
        let parts: Vec<&str> = s.splitn(6, ':').collect();
        let ["arn", partition, "iam", "", account, resource] = parts[..] else {
            return Err(invalid());
        };
        let name_ok = |n: &str| {
            !n.is_empty()
                && n.len() <= 64
                && n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
        };
        let ok = partition.starts_with("aws")
            && crate::ids::is_account_id(account)
            && s.len() <= 2048
            && resource
                .strip_prefix("role/")
                .and_then(|path| path.rsplit('/').next())
                .is_some_and(name_ok);
        if ok {
            Ok(RoleArn { raw: s.to_owned() })
        } else {
            Err(invalid())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns() {
        let arn: RoleArn = "arn:aws:iam::210987654321:role/trackses/TrackSesAccess"
            .parse()
            .unwrap();
        assert_eq!(arn.account_id(), "210987654321");
        for bad in [
            "arn:aws:iam::21098765432:role/x",
            "arn:aws:iam::210987654321:user/x",
            "arn:aws:sts::210987654321:role/x",
            "arn:aws:iam::210987654321:role/",
            "arn:aws:iam::210987654321:role/a b",
            "role/x",
        ] {
            assert!(bad.parse::<RoleArn>().is_err(), "{bad}");
        }
    }
}
