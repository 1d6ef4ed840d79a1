//! Bearer tokens: the deployment's admin token, and project API keys stored only as hashes.

use std::sync::Arc;

use aws_lc_rs::constant_time::verify_slices_are_equal;
use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use chrono::SubsecRound;

use model::{ApiKeyRecord, KeyScope, ids, sha256_hex};
use store::Store;

use crate::problem::Problem;

const KEY_PREFIX: &str = "tsk_";

pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

pub fn require_admin(headers: &HeaderMap, admin_token: Option<&str>) -> Result<(), Problem> {
    let token = bearer(headers).ok_or_else(Problem::unauthorized)?;
    let expected = admin_token.ok_or_else(|| {
        Problem::forbidden("project creation is disabled: no admin token is configured")
    })?;
    // Compare digests so neither the length nor the content leaks through timing.
    verify_slices_are_equal(
        sha256_hex(token).as_bytes(),
        sha256_hex(expected).as_bytes(),
    )
    .map_err(|_| Problem::forbidden("the admin token is not valid"))
}

/// A new key: the token to show once, and the record to store.
pub fn mint_api_key(
    project_id: &str,
    scope: KeyScope,
    label: Option<String>,
) -> (String, ApiKeyRecord) {
    let id = ids::api_key_id();
    let secret = ids::random_hex(32);
    let record = ApiKeyRecord {
        id: id.clone(),
        project_id: project_id.to_owned(),
        secret_sha256: sha256_hex(&secret),
        scope,
        label,
        // At the precision the table keeps, so the creation answer and later reads agree.
        created_at: chrono::Utc::now().trunc_subsecs(3),
        last_used_at: None,
    };
    (format!("{KEY_PREFIX}{id}_{secret}"), record)
}

/// How stale `last_used_at` may get: it is written at most this often per key.
const LAST_USED_RESOLUTION: chrono::TimeDelta = chrono::TimeDelta::hours(1);

/// The bearer token as a key id and secret, or `None` when it is not shaped like a key.
fn bearer_key(headers: &HeaderMap) -> Option<(&str, &str)> {
    bearer(headers)?
        .strip_prefix(KEY_PREFIX)?
        .split_once('_')
        .filter(|(kid, _)| ids::is_key_safe(kid))
}

/// Whether `secret` is the one `record` keeps the hash of, compared in constant time.
fn proves(secret: &str, record: &ApiKeyRecord) -> bool {
    verify_slices_are_equal(
        sha256_hex(secret).as_bytes(),
        record.secret_sha256.as_bytes(),
    )
    .is_ok()
}

/// Checks that the bearer key belongs to `pid` and may do what `needed` names. A key of another
/// project gets the same 404 as a project that does not exist, so a key never reveals which
/// other projects exist; a key of this project without the scope gets 403.
async fn require_project_key(
    headers: &HeaderMap,
    store: &Store,
    pid: &str,
    needed: KeyScope,
) -> Result<ApiKeyRecord, Problem> {
    let (kid, secret) = bearer_key(headers).ok_or_else(Problem::unauthorized)?;
    if !ids::is_key_safe(pid) {
        return Err(Problem::not_found("project"));
    }
    let record = store
        .get_api_key(pid, kid)
        .await?
        .filter(|record| proves(secret, record))
        .ok_or_else(|| Problem::not_found("project"))?;
    if !record.scope.allows(needed) {
        return Err(Problem::forbidden(format!(
            "this API key has the `{}` scope; this needs an `{}` key",
            record.scope.as_str(),
            needed.as_str()
        )));
    }
    note_use(store, &record).await;
    Ok(record)
}

/// The bearer key, whichever project it belongs to: signing in with the key alone. An unknown
/// key and a wrong secret get the same 401.
async fn require_any_key(headers: &HeaderMap, store: &Store) -> Result<ApiKeyRecord, Problem> {
    let (kid, secret) = bearer_key(headers).ok_or_else(Problem::unauthorized)?;
    let record = store
        .find_api_key(kid)
        .await?
        .filter(|record| proves(secret, record))
        .ok_or_else(Problem::invalid_key)?;
    note_use(store, &record).await;
    Ok(record)
}

async fn note_use(store: &Store, record: &ApiKeyRecord) {
    let now = chrono::Utc::now();
    if record
        .last_used_at
        .is_none_or(|t| now - t > LAST_USED_RESOLUTION)
        && let Err(e) = store.touch_api_key(record, now).await
    {
        // Bookkeeping only: the request itself is authorised.
        tracing::warn!(key_id = %record.id, error = %e, "last use of an API key not recorded");
    }
}

/// What a router's state offers the key check: the store keys are kept in.
pub trait KeyStore {
    fn key_store(&self) -> &Store;
}

impl<T: KeyStore> KeyStore for Arc<T> {
    fn key_store(&self) -> &Store {
        T::key_store(self)
    }
}

/// A bearer key of the project the route's `{pid}` names, with at least the scope `ADMIN` says
/// (`ReadKey`, `AdminKey`): a handler that takes one cannot run for anyone else.
pub struct ProjectKey<const ADMIN: bool>(pub ApiKeyRecord);

/// Any key of the project: reads.
pub type ReadKey = ProjectKey<false>;
/// An admin key of the project: changes.
pub type AdminKey = ProjectKey<true>;

impl<S, const ADMIN: bool> FromRequestParts<S> for ProjectKey<ADMIN>
where
    S: KeyStore + Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| Problem::not_found("project"))?;
        let pid = params
            .iter()
            .find_map(|(name, value)| (name == "pid").then_some(value))
            .ok_or_else(|| Problem::not_found("project"))?;
        let needed = if ADMIN {
            KeyScope::Admin
        } else {
            KeyScope::Read
        };
        let record = require_project_key(&parts.headers, state.key_store(), pid, needed).await?;
        Ok(ProjectKey(record))
    }
}

/// Any valid bearer key, of whichever project: what a route that names no project (signing in)
/// takes. It grants nothing by itself; handlers read only the key's own project through it.
pub struct AnyKey(pub ApiKeyRecord);

impl<S> FromRequestParts<S> for AnyKey
where
    S: KeyStore + Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        require_any_key(&parts.headers, state.key_store())
            .await
            .map(AnyKey)
    }
}
