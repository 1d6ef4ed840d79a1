//! Envelope encryption of customer credentials: a KMS data key per secret, AES-256-GCM locally,
//! both bound to the owning project and connection.

use std::collections::BTreeMap;

use aws_lc_rs::aead::{AES_256_GCM, Aad, NONCE_LEN, Nonce, RandomizedNonceKey};
use aws_sdk_kms::error::DisplayErrorContext;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;
use model::Sealed;
use zeroize::Zeroizing;

// The stored nonce is the size AES-GCM uses.
const _: () = assert!(NONCE_LEN == model::sealed::NONCE_LEN);

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("KMS refused or failed: {0}")]
    Kms(String),
    /// Wrong context (a ciphertext moved to another connection), tampering, or a wrong key.
    #[error("the sealed secret does not open under this project and connection")]
    Integrity,
}

/// Who a secret belongs to. Used verbatim as the KMS encryption context and, serialised, as the
/// AES-GCM associated data: a ciphertext copied to another connection or project opens at neither
/// layer. The IAM policies of the functions condition KMS use on `purpose`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretContext {
    pub project_id: String,
    pub connection_id: String,
}

impl SecretContext {
    pub const PURPOSE: &'static str = "trackses-customer-credentials";

    fn pairs(&self) -> BTreeMap<&'static str, &str> {
        BTreeMap::from([
            ("purpose", Self::PURPOSE),
            ("project_id", self.project_id.as_str()),
            ("connection_id", self.connection_id.as_str()),
        ])
    }

    fn aad(&self) -> Vec<u8> {
        // A BTreeMap serialises with sorted keys: the same bytes at seal and open.
        serde_json::to_vec(&self.pairs()).unwrap_or_default()
    }
}

/// The KMS key secrets are sealed under, and the client that reaches it (one per cold start).
#[derive(Clone)]
pub struct Envelope {
    kms: aws_sdk_kms::Client,
    key_id: String,
}

fn kms_error<E: std::error::Error + 'static, R: std::fmt::Debug>(
    e: aws_sdk_kms::error::SdkError<E, R>,
) -> CryptoError {
    CryptoError::Kms(DisplayErrorContext(&e).to_string())
}

impl Envelope {
    pub fn new(kms: aws_sdk_kms::Client, key_id: impl Into<String>) -> Envelope {
        Envelope {
            kms,
            key_id: key_id.into(),
        }
    }

    pub async fn seal(
        &self,
        context: &SecretContext,
        plaintext: &[u8],
    ) -> Result<Sealed, CryptoError> {
        let mut request = self
            .kms
            .generate_data_key()
            .key_id(&self.key_id)
            .key_spec(DataKeySpec::Aes256);
        for (k, v) in context.pairs() {
            request = request.encryption_context(k, v);
        }
        let output = request.send().await.map_err(kms_error)?;
        let data_key = Zeroizing::new(
            output
                .plaintext
                .map(Blob::into_inner)
                .ok_or_else(|| CryptoError::Kms("GenerateDataKey returned no key".into()))?,
        );
        let key = RandomizedNonceKey::new(&AES_256_GCM, &data_key)
            .map_err(|_| CryptoError::Kms("KMS returned a key of the wrong size".into()))?;
        let mut ciphertext = plaintext.to_vec();
        let nonce = key
            .seal_in_place_append_tag(Aad::from(context.aad()), &mut ciphertext)
            .map_err(|_| CryptoError::Integrity)?;
        Ok(Sealed {
            ciphertext,
            nonce: *nonce.as_ref(),
            wrapped_key: output
                .ciphertext_blob
                .map(Blob::into_inner)
                .ok_or_else(|| {
                    CryptoError::Kms("GenerateDataKey returned no wrapped key".into())
                })?,
            key_id: output.key_id.unwrap_or_else(|| self.key_id.clone()),
        })
    }

    /// The plaintext lives only in the returned buffer, which wipes itself when dropped.
    pub async fn open(
        &self,
        context: &SecretContext,
        sealed: &Sealed,
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let mut request = self
            .kms
            .decrypt()
            .key_id(&sealed.key_id)
            .ciphertext_blob(Blob::new(sealed.wrapped_key.clone()));
        for (k, v) in context.pairs() {
            request = request.encryption_context(k, v);
        }
        let data_key = match request.send().await {
            Ok(output) => Zeroizing::new(
                output
                    .plaintext
                    .map(Blob::into_inner)
                    .ok_or(CryptoError::Integrity)?,
            ),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_invalid_ciphertext_exception()) =>
            {
                return Err(CryptoError::Integrity);
            }
            Err(e) => return Err(kms_error(e)),
        };
        let key =
            RandomizedNonceKey::new(&AES_256_GCM, &data_key).map_err(|_| CryptoError::Integrity)?;
        let mut buffer = Zeroizing::new(sealed.ciphertext.clone());
        let len = key
            .open_in_place(
                Nonce::assume_unique_for_key(sealed.nonce),
                Aad::from(context.aad()),
                &mut buffer,
            )
            .map_err(|_| CryptoError::Integrity)?
            .len();
        buffer.truncate(len);
        Ok(buffer)
    }
}
