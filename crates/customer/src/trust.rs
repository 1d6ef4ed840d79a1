//! The proof that a customer role admits trackses *only* under the project's external id, taken
//! before trackses acts through the role. Without it trackses is a confused deputy: any project
//! could name a role that trusts trackses' account without an `sts:ExternalId` condition (a
//! hand-written trust policy, an account's `OrganizationAccountAccessRole`) and act in an account
//! that never connected it.

use aws_config::SdkConfig;
use aws_types::region::Region;

use super::AccountError;
use model::ids;
use model::role_arn::RoleArn;

const ACTION: &str = "sts:AssumeRole";
const SESSION: &str = "trackses-trust-check";

/// What the user sees of an external id in an error: enough to tell it apart, never all of it.
pub fn masked_external_id(external_id: &str) -> String {
    let shown: String = external_id.chars().take(13).collect();
    format!("{shown}…")
}

/// Refuses a role of trackses' own account (IAM refuses it too, in the wiring function's
/// policy): no customer connects trackses' account, so such a role can only be an attack.
pub fn ensure_customer_role(role: &RoleArn, trackses_account: &str) -> Result<(), AccountError> {
    if role.account_id() == trackses_account {
        Err(AccountError::OwnAccountRole)
    } else {
        Ok(())
    }
}

/// Three AssumeRole calls with trackses' own identity: with the project's external id it must
/// succeed (so the role exists and IAM already honours it), then with a fresh random external id
/// and with none it must be denied. Only the first success makes the two denials mean "the trust
/// policy demands the external id" rather than "the role is not there (yet)".
pub async fn prove_role(
    base: &SdkConfig,
    region: &str,
    role: &RoleArn,
    external_id: &str,
    trackses_account: &str,
) -> Result<(), AccountError> {
    ensure_customer_role(role, trackses_account)?;
    let sts = aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::config::Builder::from(base)
            .region(Region::new(region.to_owned()))
            .build(),
    );
    let assume = |external_id: Option<String>| {
        sts.assume_role()
            .role_arn(role.as_str())
            .role_session_name(SESSION)
            .set_external_id(external_id)
            .duration_seconds(900)
            .send()
    };
    if let Err(error) = assume(Some(external_id.to_owned())).await {
        return Err(match AccountError::from_sdk(ACTION, error) {
            AccountError::Denied { .. } => AccountError::CannotAssumeRole,
            other => other,
        });
    }
    for probe in [Some(ids::external_id()), None] {
        match assume(probe).await {
            Ok(_) => {
                return Err(AccountError::TrustTooOpen {
                    external_id: masked_external_id(external_id),
                });
            }
            Err(error) => match AccountError::from_sdk(ACTION, error) {
                AccountError::Denied { .. } => {}
                other => return Err(other),
            },
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mask_hides_all_but_the_start() {
        let id = ids::external_id();
        let masked = masked_external_id(&id);
        assert!(masked.starts_with("trackses-") && masked.ends_with('…'));
        assert!(!masked.contains(&id[13..]));
    }

    #[test]
    fn roles_of_trackses_own_account_are_refused() {
        let own: RoleArn = "arn:aws:iam::123456789012:role/Admin".parse().unwrap();
        let customer: RoleArn = "arn:aws:iam::210987654321:role/Admin".parse().unwrap();
        assert_eq!(
            ensure_customer_role(&own, "123456789012"),
            Err(AccountError::OwnAccountRole)
        );
        assert_eq!(ensure_customer_role(&customer, "123456789012"), Ok(()));
    }
}
