//! SNS signing certificates, kept per container as parsed public keys.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use aws_lc_rs::signature::{
    ParsedPublicKey, RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY, RSA_PKCS1_2048_8192_SHA256,
};
use x509_parser::pem::parse_x509_pem;

use super::cert_url::CertKey;

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

/// SNS signs with one certificate per region at a time, and a container serves a few regions; a
/// small bound keeps whatever else arrives from growing the cache (oldest entry evicted first).
const CACHE_CAPACITY: usize = 8;

pub struct CertStore {
    pinned_dir: Option<PathBuf>,
    http: reqwest::Client,
    cache: RwLock<Vec<(CertKey, Arc<SigningKey>)>>,
}

impl CertStore {
    pub fn new(pinned_dir: Option<PathBuf>) -> CertStore {
        CertStore {
            pinned_dir,
            http: strict_http_client(),
            cache: RwLock::new(Vec::with_capacity(CACHE_CAPACITY)),
        }
    }

    /// `place` comes from `cert_url::check`, so it is the one spelling of a certificate's URL.
    pub async fn key(&self, place: &CertKey) -> Result<Arc<SigningKey>, CertError> {
        if let Some(key) = self.cached(place) {
            return Ok(key);
        }
        let pem = match self.pinned(place.file()) {
            Some(pem) => pem,
            None => self.fetch(&place.url()).await?,
        };
        let key = Arc::new(SigningKey::from_pem(&pem)?);
        self.remember(place, key.clone());
        Ok(key)
    }

    fn cached(&self, place: &CertKey) -> Option<Arc<SigningKey>> {
        self.cache
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .iter()
            .find(|(k, _)| k == place)
            .map(|(_, key)| key.clone())
    }

    fn remember(&self, place: &CertKey, key: Arc<SigningKey>) {
        let mut cache = self
            .cache
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Two requests may have fetched the same certificate at once; keep one entry.
        cache.retain(|(k, _)| k != place);
        if cache.len() >= CACHE_CAPACITY {
            cache.remove(0);
        }
        cache.push((place.clone(), key));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sns::cert_url;

    const REAL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../events/sns-real");
    const FILE: &str = "SimpleNotificationService-7ff5318490ec183fbaddaa2a969abfda.pem";

    /// The pinned certificate answers for any host, so many distinct places load without a fetch.
    fn place(i: usize) -> CertKey {
        let region = format!("test-{i}");
        cert_url::check(
            &format!("https://sns.{region}.amazonaws.com/{FILE}"),
            &region,
        )
        .unwrap()
    }

    fn cached_len(certs: &CertStore) -> usize {
        certs.cache.read().unwrap().len()
    }

    #[tokio::test]
    async fn the_cache_never_exceeds_its_bound() {
        let certs = CertStore::new(Some(PathBuf::from(REAL)));
        for i in 0..3 * CACHE_CAPACITY {
            certs.key(&place(i)).await.unwrap();
            assert!(cached_len(&certs) <= CACHE_CAPACITY, "after {i}");
        }
        assert_eq!(cached_len(&certs), CACHE_CAPACITY);
        let newest = 3 * CACHE_CAPACITY - 1;
        assert!(certs.cached(&place(newest)).is_some());
        assert!(certs.cached(&place(0)).is_none(), "the oldest was evicted");
    }

    #[tokio::test]
    async fn one_place_is_one_entry() {
        let certs = CertStore::new(Some(PathBuf::from(REAL)));
        for _ in 0..3 {
            certs.key(&place(0)).await.unwrap();
            certs.remember(&place(0), certs.key(&place(0)).await.unwrap());
        }
        assert_eq!(cached_len(&certs), 1);
    }
}
