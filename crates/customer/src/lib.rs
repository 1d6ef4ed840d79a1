//! Everything trackses does inside a customer's AWS account, behind one gate (`guard`).
//! Clients are built per customer and carry the guard; nothing else builds them.

pub mod account;
pub mod crypto;
pub mod error;
pub mod guard;
pub mod trust;

use aws_config::SdkConfig;
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_types::region::Region;
use zeroize::Zeroizing;

pub use account::{CustomerAccount, Identity};
pub use error::AccountError;

/// A customer's IAM access key. Debug never shows the secret; the buffer wipes itself.
#[derive(Clone)]
pub struct AccessKey {
    pub id: String,
    pub secret: Zeroizing<String>,
}

impl std::fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessKey")
            .field("id", &format_args!("…{}", self.last4()))
            .finish_non_exhaustive()
    }
}

impl AccessKey {
    /// All the API ever shows of a key.
    pub fn last4(&self) -> &str {
        let start = self.id.len().saturating_sub(4);
        self.id.get(start..).unwrap_or_default()
    }

    pub fn provider(&self) -> SharedCredentialsProvider {
        SharedCredentialsProvider::new(Credentials::new(
            &self.id,
            self.secret.as_str(),
            None,
            None,
            "trackses-customer-key",
        ))
    }

    /// The sealed form: a small JSON document, so the key id stays with its secret.
    pub fn to_plaintext(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(
            serde_json::to_vec(&serde_json::json!({
                "access_key_id": self.id,
                "secret_access_key": self.secret.as_str(),
            }))
            .unwrap_or_default(),
        )
    }

    pub fn from_plaintext(plaintext: &[u8]) -> Option<AccessKey> {
        #[derive(serde::Deserialize)]
        struct Stored {
            access_key_id: String,
            secret_access_key: Zeroizing<String>,
        }
        let stored: Stored = serde_json::from_slice(plaintext).ok()?;
        Some(AccessKey {
            id: stored.access_key_id,
            secret: stored.secret_access_key,
        })
    }
}

/// The SDK configuration for one customer account and region: trackses' own settings (endpoints,
/// retries, timeouts) with the customer's credentials.
pub fn customer_config(
    base: &SdkConfig,
    region: &str,
    credentials: SharedCredentialsProvider,
) -> SdkConfig {
    base.to_builder()
        .region(Region::new(region.to_owned()))
        .credentials_provider(credentials)
        .build()
}

/// Credentials of a role in a customer account, assumed with the project's external id under a
/// session name naming trackses and the connection. The provider caches them and assumes the
/// role again shortly before they expire.
pub async fn assumed_role(
    base: &SdkConfig,
    region: &str,
    role_arn: &str,
    external_id: &str,
    connection_id: &str,
) -> SharedCredentialsProvider {
    SharedCredentialsProvider::new(
        aws_config::sts::AssumeRoleProvider::builder(role_arn)
            .external_id(external_id)
            .session_name(format!("trackses-{connection_id}"))
            .region(Region::new(region.to_owned()))
            .configure(base)
            .build()
            .await,
    )
}

/// STS with the guard, for validating a key before anything is stored.
pub fn sts_client(config: &SdkConfig) -> aws_sdk_sts::Client {
    aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::config::Builder::from(config)
            .interceptor(guard::Guard::default())
            .build(),
    )
}

/// Who a key belongs to, as STS says.
pub struct Caller {
    pub account_id: String,
    pub arn: String,
}

impl Caller {
    /// Root keys can do anything in the account; trackses takes only a scoped IAM user's key.
    pub fn is_root(&self) -> bool {
        self.arn.ends_with(":root")
    }
}

/// Checks a key with STS GetCallerIdentity, which needs no permission.
pub async fn caller(
    base: &SdkConfig,
    region: &str,
    key: &AccessKey,
) -> Result<Caller, AccountError> {
    let output = sts_client(&customer_config(base, region, key.provider()))
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| AccountError::from_sdk("sts:GetCallerIdentity", e))?;
    Ok(Caller {
        account_id: output.account.unwrap_or_default(),
        arn: output.arn.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_keys_are_recognised() {
        let caller = |arn: &str| Caller {
            account_id: "111122223333".into(),
            arn: arn.into(),
        };
        assert!(caller("arn:aws:iam::111122223333:root").is_root());
        assert!(!caller("arn:aws:iam::111122223333:user/trackses").is_root());
        assert!(!caller("arn:aws:iam::111122223333:user/root-ish").is_root());
    }

    #[test]
    fn a_key_shows_only_its_last_four_and_round_trips_sealed() {
        let key = AccessKey {
            id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret: Zeroizing::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into()),
        };
        let shown = format!("{key:?}");
        assert!(shown.contains("MPLE") && !shown.contains("AKIA") && !shown.contains("wJalr"));
        let back = AccessKey::from_plaintext(&key.to_plaintext()).unwrap();
        assert_eq!((back.id, back.secret), (key.id, key.secret));
        assert!(AccessKey::from_plaintext(b"{}").is_none());
    }
}
