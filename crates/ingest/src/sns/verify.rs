//! SNS message signature verification (SignatureVersion 1 and 2).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::cert_url::{self, CertKey, CertUrlError};
use super::certs::{CertError, CertStore, SigningKey};
use super::envelope::Envelope;
use model::TopicArn;

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("TopicArn is not a valid SNS topic ARN")]
    BadTopicArn,
    #[error("SignatureVersion must be 1 or 2")]
    UnsupportedSignatureVersion,
    #[error(transparent)]
    CertUrl(#[from] CertUrlError),
    #[error("Signature is not valid base64")]
    SignatureEncoding,
    #[error("the signature does not match the message")]
    BadSignature,
    #[error(transparent)]
    Certificate(#[from] CertError),
}

impl VerifyError {
    /// Only a failure to reach the certificate host is worth a retry by SNS.
    pub fn is_transient(&self) -> bool {
        matches!(self, VerifyError::Certificate(CertError::Unreachable(_)))
    }
}

enum Algorithm {
    Sha1,
    Sha256,
}

/// Checks everything that can be checked without a certificate, and returns where it is.
fn precheck(envelope: &Envelope) -> Result<(Algorithm, CertKey), VerifyError> {
    let algorithm = match envelope.signature_version.as_str() {
        "1" => Algorithm::Sha1,
        "2" => Algorithm::Sha256,
        _ => return Err(VerifyError::UnsupportedSignatureVersion),
    };
    let topic: TopicArn = envelope
        .topic_arn
        .parse()
        .map_err(|_| VerifyError::BadTopicArn)?;
    let place = cert_url::check(&envelope.signing_cert_url, topic.region())?;
    Ok((algorithm, place))
}

fn check_signature(
    envelope: &Envelope,
    algorithm: Algorithm,
    key: &SigningKey,
) -> Result<(), VerifyError> {
    let signature = STANDARD
        .decode(envelope.signature.as_bytes())
        .map_err(|_| VerifyError::SignatureEncoding)?;
    let key = match algorithm {
        Algorithm::Sha1 => &key.sha1,
        Algorithm::Sha256 => &key.sha256,
    };
    key.verify_sig(envelope.string_to_sign().as_bytes(), &signature)
        .map_err(|_| VerifyError::BadSignature)
}

pub async fn verify(envelope: &Envelope, certs: &CertStore) -> Result<(), VerifyError> {
    let (algorithm, place) = precheck(envelope)?;
    let key = certs.key(&place).await?;
    check_signature(envelope, algorithm, &key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    const REAL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../events/sns-real");

    fn pinned_store() -> CertStore {
        CertStore::new(Some(PathBuf::from(REAL)))
    }

    fn fixture(name: &str) -> Envelope {
        let body = std::fs::read(format!("{REAL}/{name}")).unwrap();
        Envelope::from_json(&body).unwrap()
    }

    const HTTP_FIXTURES: [&str; 4] = [
        "hello-v1.json",
        "hello-v2.json",
        "ses-bounce-v1.json",
        "subscription-v1.json",
    ];

    #[tokio::test]
    async fn every_real_message_verifies() {
        let certs = pinned_store();
        for name in HTTP_FIXTURES {
            verify(&fixture(name), &certs)
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }

    #[tokio::test]
    async fn the_lambda_spelling_verifies() {
        let body = std::fs::read(format!("{REAL}/hello-v1-lambda-event.json")).unwrap();
        let event: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let envelope = Envelope::from_lambda_record(&event["Records"][0]["Sns"]).unwrap();
        verify(&envelope, &pinned_store()).await.unwrap();
    }

    /// Every signed field, changed by one character, must break the signature.
    #[tokio::test]
    async fn any_tampering_is_refused() {
        let certs = pinned_store();
        type Field = fn(&mut Envelope) -> Option<&mut String>;
        let fields: [(&str, Field); 7] = [
            ("Message", |e| Some(&mut e.message)),
            ("MessageId", |e| Some(&mut e.message_id)),
            ("Subject", |e| e.subject.as_mut()),
            ("Timestamp", |e| Some(&mut e.timestamp)),
            ("TopicArn", |e| Some(&mut e.topic_arn)),
            ("SubscribeURL", |e| e.subscribe_url.as_mut()),
            ("Token", |e| e.token.as_mut()),
        ];
        let mut tampered = 0;
        for name in HTTP_FIXTURES {
            for (field, get) in fields {
                let mut envelope = fixture(name);
                let Some(value) = get(&mut envelope) else {
                    continue;
                };
                // Keep the topic's region so the failure is the signature's, not the URL rule's.
                value.push('0');
                let result = verify(&envelope, &certs).await;
                assert!(
                    matches!(
                        result,
                        Err(VerifyError::BadSignature | VerifyError::BadTopicArn)
                    ),
                    "{name}: changing {field} was accepted: {result:?}"
                );
                tampered += 1;
            }
            let mut envelope = fixture(name);
            envelope.message_type = match envelope.message_type {
                super::super::envelope::MessageType::Notification => {
                    super::super::envelope::MessageType::SubscriptionConfirmation
                }
                _ => super::super::envelope::MessageType::Notification,
            };
            envelope.subscribe_url.get_or_insert_with(String::new);
            envelope.token.get_or_insert_with(String::new);
            assert!(verify(&envelope, &certs).await.is_err(), "{name}: Type");
            let mut envelope = fixture(name);
            envelope.signature_version = if envelope.signature_version == "1" {
                "2"
            } else {
                "1"
            }
            .into();
            assert!(
                verify(&envelope, &certs).await.is_err(),
                "{name}: SignatureVersion"
            );
        }
        assert_eq!(tampered, 4 + 4 + 5 + 6, "every signed field was exercised");
    }

    #[tokio::test]
    async fn a_subject_added_or_removed_is_refused() {
        let certs = pinned_store();
        let mut added = fixture("hello-v1.json");
        added.subject = Some(String::new());
        assert!(matches!(
            verify(&added, &certs).await,
            Err(VerifyError::BadSignature)
        ));
        let mut removed = fixture("ses-bounce-v1.json");
        removed.subject = None;
        assert!(matches!(
            verify(&removed, &certs).await,
            Err(VerifyError::BadSignature)
        ));
    }

    #[tokio::test]
    async fn other_signature_versions_and_urls_are_refused_before_any_fetch() {
        // No pinned directory: reaching the network would fail differently.
        let certs = CertStore::new(None);
        let mut v3 = fixture("hello-v2.json");
        v3.signature_version = "3".into();
        assert!(matches!(
            verify(&v3, &certs).await,
            Err(VerifyError::UnsupportedSignatureVersion)
        ));
        let mut elsewhere = fixture("hello-v2.json");
        elsewhere.signing_cert_url =
            "https://sns.us-east-2.amazonaws.com.attacker.example/SimpleNotificationService-7ff5318490ec183fbaddaa2a969abfda.pem".into();
        assert!(matches!(
            verify(&elsewhere, &certs).await,
            Err(VerifyError::CertUrl(_))
        ));
        let mut other_region = fixture("hello-v2.json");
        other_region.signing_cert_url = other_region
            .signing_cert_url
            .replace("us-east-2", "us-east-1");
        assert!(matches!(
            verify(&other_region, &certs).await,
            Err(VerifyError::CertUrl(_))
        ));
    }

    /// Spellings that normalise to the real certificate URL: each must fail the URL rule, which
    /// a store without a pinned directory shows (a fetch would fail differently).
    #[tokio::test]
    async fn other_spellings_of_the_real_url_are_refused_before_any_fetch() {
        let certs = CertStore::new(None);
        let real = fixture("hello-v2.json").signing_cert_url;
        let (host, file) = real
            .strip_prefix("https://")
            .and_then(|rest| rest.split_once('/'))
            .unwrap();
        let spellings = [
            format!("https://{}/{file}", host.to_uppercase()),
            format!("https://{host}/a/../{file}"),
            format!("https://{host}/./{file}"),
            format!("https://{host}/%2e/{file}"),
            format!("https://%73{}/{file}", &host[1..]),
            format!("https://{host}:443/{file}"),
            format!("https://@{host}/{file}"),
            format!("https://{host}/{}", file.replace('S', "%53")),
            format!("https://{host}/{}", file.to_uppercase()),
            format!("https://{host}/{file}?"),
            format!("https://{host}/{file}#"),
            format!("https://{host}//{file}"),
            format!("https://{host}/{file}\n"),
            format!("https://{host}/{}{file}", "a/../".repeat(50)),
        ];
        for url in spellings {
            let mut envelope = fixture("hello-v2.json");
            envelope.signing_cert_url = url.clone();
            let result = verify(&envelope, &certs).await;
            assert!(
                matches!(result, Err(VerifyError::CertUrl(_))),
                "{url:?}: {result:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_corrupted_signature_is_refused() {
        let certs = pinned_store();
        let mut envelope = fixture("hello-v2.json");
        envelope.signature = "not base64!".into();
        assert!(matches!(
            verify(&envelope, &certs).await,
            Err(VerifyError::SignatureEncoding)
        ));
        let mut envelope = fixture("hello-v2.json");
        envelope.signature = STANDARD.encode([0u8; 256]);
        assert!(matches!(
            verify(&envelope, &certs).await,
            Err(VerifyError::BadSignature)
        ));
    }
}
