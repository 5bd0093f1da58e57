//! `Idempotency-Key`: the same key with the same body returns the first result; with another
//! body it is refused. The record is written in the same transaction as the effects, so a
//! retry after a crash or a timeout never double counts.

use axum::http::HeaderMap;
use sha2::{Digest, Sha256};

use escucha_core::ids::OrgId;
use escucha_store::{IdempotencyRecord, IdempotentResult, Store, StoreError};

use crate::error::ApiError;

/// What to do with a write that may carry an idempotency key.
pub enum Idempotency {
    /// No key: just do it.
    None,
    /// New key: do it, writing this record with the effects.
    Fresh(IdempotencyRecord),
    /// Seen key with the same body: answer with the earlier result.
    Replay(IdempotentResult),
}

impl Idempotency {
    /// The record to write with the effects, if any.
    pub fn record(&self) -> Option<IdempotencyRecord> {
        match self {
            Idempotency::Fresh(r) => Some(r.clone()),
            _ => None,
        }
    }
}

/// Reads the header and looks the key up.
pub async fn check(
    store: &dyn Store,
    org: OrgId,
    headers: &HeaderMap,
    method_and_path: &str,
    body: &[u8],
    resource: &str,
) -> Result<Idempotency, ApiError> {
    let Some(raw) = headers.get("idempotency-key") else {
        return Ok(Idempotency::None);
    };
    let key = raw
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| (1..=255).contains(&k.len()) && k.chars().all(|c| c.is_ascii_graphic()))
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_idempotency_key",
                "Idempotency-Key must be 1 to 255 visible ASCII characters",
            )
        })?;
    let mut hasher = Sha256::new();
    hasher.update(method_and_path.as_bytes());
    hasher.update([0]);
    hasher.update(body);
    let request_hash = hex::encode(hasher.finalize());
    match store.idempotent_result(org, key).await? {
        Some(earlier) => same_request(earlier, &request_hash, resource).map(Idempotency::Replay),
        None => Ok(Idempotency::Fresh(IdempotencyRecord {
            key: key.to_string(),
            request_hash,
            resource: resource.to_string(),
        })),
    }
}

fn same_request(earlier: IdempotentResult, request_hash: &str, resource: &str) -> Result<IdempotentResult, ApiError> {
    if earlier.request_hash == request_hash && earlier.resource == resource {
        Ok(earlier)
    } else {
        Err(ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            "this Idempotency-Key was already used with a different request; use a new key",
        ))
    }
}

/// After a write failed with a conflict (two requests with one key at once), the winner's
/// result, when that is what happened.
pub async fn replay_after_conflict(
    store: &dyn Store,
    org: OrgId,
    idem: &Idempotency,
    error: StoreError,
) -> Result<IdempotentResult, ApiError> {
    if let (Idempotency::Fresh(record), StoreError::Conflict(_)) = (idem, &error)
        && let Some(earlier) = store.idempotent_result(org, &record.key).await?
    {
        return same_request(earlier, &record.request_hash, &record.resource);
    }
    Err(error.into())
}
