//! Housekeeping in the background: expired web sessions, second-step challenges, password-reset
//! tokens and quiet sign-in throttle keys are deleted periodically, so those tables hold only
//! what can still be used.

use std::time::Duration;

use chrono::Utc;
use escucha_store::Store;

/// How often housekeeping runs.
pub const PERIOD: Duration = Duration::from_secs(15 * 60);

/// Throttle keys without a failure for this long (and not locked) are forgotten.
pub const QUIET_THROTTLE: chrono::Duration = chrono::Duration::hours(24);

/// One pass; returns how many rows went.
pub async fn run_once(store: &dyn Store) -> Result<u64, escucha_store::StoreError> {
    let now = Utc::now();
    let sessions = store.delete_expired_sessions(now).await?;
    let sign_in = store.delete_expired_sign_in_state(now).await?;
    let throttle = store.purge_failed_attempts(now, now - QUIET_THROTTLE).await?;
    Ok(sessions + sign_in + throttle)
}

/// Runs [`run_once`] every `period` until `stop` changes.
pub async fn worker(store: std::sync::Arc<dyn Store>, period: Duration, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(period) => {}
            _ = stop.changed() => return,
        }
        match run_once(store.as_ref()).await {
            Ok(n) => tracing::debug!(deleted = n, "housekeeping"),
            Err(e) => tracing::warn!(error = %e, "housekeeping failed"),
        }
    }
}
