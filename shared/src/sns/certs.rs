//! SNS signing certificates, kept per container as parsed public keys.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use aws_lc_rs::signature::{
    ParsedPublicKey, RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY, RSA_PKCS1_2048_8192_SHA256,
};
use x509_parser::pem::parse_x509_pem;

/// The certificate's public key, parsed once for each algorithm SNS signs with.
pub struct SigningKey {
    pub sha1: ParsedPublicKey,
    pub sha256: ParsedPublicKey,
}

#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error("the signing certificate could not be parsed")]
    Unparsable,
    #[error("the signing certificate URL answered HTTP {0}")]
    NotServed(u16),
    #[error("the signing certificate could not be fetched: {0}")]
    Unreachable(String),
}

impl SigningKey {
    pub fn from_pem(pem: &[u8]) -> Result<SigningKey, CertError> {
        let (_, pem) = parse_x509_pem(pem).map_err(|_| CertError::Unparsable)?;
        let cert = pem.parse_x509().map_err(|_| CertError::Unparsable)?;
        // The SubjectPublicKeyInfo bit string holds the PKCS#1 RSAPublicKey that aws-lc parses.
        let rsa_key = cert.public_key().subject_public_key.data.as_ref();
        let parse = |alg| ParsedPublicKey::new(alg, rsa_key).map_err(|_| CertError::Unparsable);
        Ok(SigningKey {
            sha1: parse(&RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY)?,
            sha256: parse(&RSA_PKCS1_2048_8192_SHA256)?,
        })
    }
}

pub struct CertStore {
    pinned_dir: Option<PathBuf>,
    http: reqwest::Client,
    cache: RwLock<HashMap<String, Arc<SigningKey>>>,
}

impl CertStore {
    pub fn new(pinned_dir: Option<PathBuf>) -> CertStore {
        CertStore {
            pinned_dir,
            http: strict_http_client(),
            cache: RwLock::default(),
        }
    }

    /// `url` must already have passed `cert_url::check`; `file_name` is what that returned.
    pub async fn key(&self, url: &str, file_name: &str) -> Result<Arc<SigningKey>, CertError> {
        if let Some(key) = self.cached(url) {
            return Ok(key);
        }
        let pem = match self.pinned(file_name) {
            Some(pem) => pem,
            None => self.fetch(url).await?,
        };
        let key = Arc::new(SigningKey::from_pem(&pem)?);
        self.cache
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(url.to_owned(), key.clone());
        Ok(key)
    }

    fn cached(&self, url: &str) -> Option<Arc<SigningKey>> {
        self.cache
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(url)
            .cloned()
    }

    fn pinned(&self, file_name: &str) -> Option<Vec<u8>> {
        let path = self.pinned_dir.as_ref()?.join(file_name);
        std::fs::read(path).ok()
    }

    async fn fetch(&self, url: &str) -> Result<Vec<u8>, CertError> {
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| CertError::Unreachable(e.without_url().to_string()))?;
        if !response.status().is_success() {
            return Err(CertError::NotServed(response.status().as_u16()));
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| CertError::Unreachable(e.without_url().to_string()))?;
        Ok(body.to_vec())
    }
}

/// For calls to URLs that arrive in messages: no redirects (a redirect could leave the trusted
/// host), short timeouts (a slow host must not hold a webhook invocation).
pub fn strict_http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(4))
        .build()
        .unwrap_or_default()
}
