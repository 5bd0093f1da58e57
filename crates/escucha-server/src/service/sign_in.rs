//! Sign-in use cases shared by the web pages: the password check with lockouts kept in the store
//! (so every server process applies the same ones), password reset by e-mail token, and the TOTP
//! second factor.
//!
//! Throttle keys are SHA-256 hashes (`account:…`, `ip:…`, `reset-email:…`, `reset-ip:…`), so
//! the throttle table holds no typed e-mail address in clear. A key is the organisation slug and
//! e-mail as typed, trimmed and lower-cased: unknown accounts lock exactly like known ones,
//! which tells an attacker nothing.

use std::time::Duration;

use chrono::{DateTime, Utc};

use escucha_core::ids::{OrgId, UserId};
use escucha_core::lockout::LockoutPolicy;
use escucha_core::org::User;
use escucha_core::values::Email;
use escucha_store::NewAuditEntry;

use crate::auth::{hash_password, hash_secret, new_secret, verify_password};
use crate::error::ApiError;
use crate::ratelimit::{Locked, LockedBy};
use crate::state::AppState;
use crate::totp::{TotpSecret, unix_now};

/// How long a mailed password-reset link works.
pub const RESET_TOKEN_MINUTES: i64 = 30;
/// How long the second sign-in step may wait for its code.
pub const CHALLENGE_MINUTES: i64 = 5;
/// Shortest new password accepted, in characters (NIST SP 800-63B asks for at least 8; we ask
/// a little more and no composition rules).
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest new password accepted, in characters (bounds the hashing work).
pub const MAX_PASSWORD_CHARS: usize = 256;

fn key(kind: &str, parts: &[&str]) -> String {
    let normalised: Vec<String> = parts.iter().map(|p| p.trim().to_lowercase()).collect();
    format!("{kind}:{}", hash_secret(&normalised.join("\u{0}")))
}

/// The throttle key of an account (organisation slug and e-mail as typed).
pub fn account_key(org: &str, email: &str) -> String {
    key("account", &[org, email])
}

/// The throttle key of a client IP's sign-ins.
pub fn ip_key(ip: &str) -> String {
    key("ip", &[ip])
}

fn retry_after(until: DateTime<Utc>, now: DateTime<Utc>) -> Duration {
    (until - now).to_std().unwrap_or(Duration::from_secs(1)).max(Duration::from_secs(1))
}

/// The lock in force for this account or IP, if any: first the process's own pre-check, then
/// the store (the IP's lock is reported first when both are locked).
pub async fn lock_in_force(state: &AppState, org: &str, email: &str, ip: &str) -> Result<Option<Locked>, ApiError> {
    if let Err(locked) = state.limits.sign_in.check(org, email, ip) {
        return Ok(Some(locked));
    }
    let now = Utc::now();
    if let Some(until) = state.store.attempt_lock(&ip_key(ip), now).await? {
        return Ok(Some(Locked { by: LockedBy::Ip, retry_after: retry_after(until, now) }));
    }
    if let Some(until) = state.store.attempt_lock(&account_key(org, email), now).await? {
        return Ok(Some(Locked { by: LockedBy::Account, retry_after: retry_after(until, now) }));
    }
    Ok(None)
}

/// Counts a failed sign-in (wrong password, unknown account, wrong second-factor code) in this
/// process and in the store.
pub async fn record_failure(state: &AppState, org: &str, email: &str, ip: &str) -> Result<(), ApiError> {
    state.limits.sign_in.record_failure(org, email, ip);
    let policy = state.limits.sign_in.policy();
    let now = Utc::now();
    state.store.record_failed_attempt(&account_key(org, email), &policy.account_lockout(), now).await?;
    state.store.record_failed_attempt(&ip_key(ip), &policy.ip_lockout(), now).await?;
    // A spray of made-up accounts adds a row per account: now and then, drop the quiet ones.
    static FAILURES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    if FAILURES.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % PURGE_EVERY == PURGE_EVERY - 1 {
        let quiet_since = now - policy.account_lockout().forget_after;
        let purged = state.store.purge_failed_attempts(now, quiet_since).await?;
        tracing::debug!(purged, "quiet sign-in throttle keys dropped");
    }
    Ok(())
}

/// Failed sign-ins (in one process) between two purges of quiet throttle keys.
const PURGE_EVERY: u64 = 256;

/// Clears the account's failures after a complete sign-in (the IP's stay: one good account must
/// not launder an IP's guessing).
pub async fn record_success(state: &AppState, org: &str, email: &str, ip: &str) -> Result<(), ApiError> {
    state.limits.sign_in.record_success(org, email, ip);
    state.store.clear_failed_attempts(&account_key(org, email)).await?;
    Ok(())
}

/// An audit entry about a user's own sign-in security.
pub fn audit(email: &str, action: &str, detail: serde_json::Value, ip: &str) -> NewAuditEntry {
    NewAuditEntry {
        at: Utc::now(),
        actor: email.to_string(),
        action: action.to_string(),
        target: Some(format!("user:{email}")),
        detail,
        ip: Some(ip.to_string()),
    }
}

/// Checks an organisation slug, e-mail and password. A wrong one is audited (when the
/// organisation exists) and counted; the right one returns the user, with nothing recorded yet
/// (the second factor may still fail).
pub async fn check_password(
    state: &AppState,
    org_slug: &str,
    email: &str,
    password: &str,
    ip: &str,
) -> Result<Option<(OrgId, User)>, ApiError> {
    let org = match Email::parse(email) {
        Ok(_) => state.store.org_by_slug(org_slug.trim()).await?,
        Err(_) => None,
    };
    let found = match (&org, Email::parse(email)) {
        (Some(org), Ok(parsed)) => state.store.password_hash(org.id, &parsed).await?,
        _ => None,
    };
    // Unknown accounts cost a password check too, so timing does not tell them apart.
    let right = match &found {
        Some((_, hash)) => verify_password(password, hash),
        None => {
            let _ = verify_password(password, dummy_hash());
            false
        }
    };
    match found {
        Some((user, _)) if right => Ok(Some((user.org_id, user))),
        _ => {
            if let Some(org) = org {
                let actor = email.trim();
                state
                    .store
                    .append_audit(org.id, audit(actor, "sign_in.failure", serde_json::json!({"via": "password"}), ip))
                    .await?;
            }
            record_failure(state, org_slug, email, ip).await?;
            Ok(None)
        }
    }
}

/// A password hash of nothing anyone knows, computed once, to verify against for unknown
/// accounts.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password(&new_secret("dummy_")).unwrap_or_default())
}

/// Whether the user must give a TOTP code to sign in.
pub async fn second_factor_required(state: &AppState, org: OrgId, user: UserId) -> Result<bool, ApiError> {
    Ok(state.store.totp_state(org, user).await?.is_some_and(|t| t.enabled_at.is_some()))
}

/// Verifies a TOTP code of a user with the factor enabled and records its time step, so the
/// same code (or an older one) is refused from then on, by every process.
pub async fn verify_code(state: &AppState, org: OrgId, user: UserId, code: &str) -> Result<bool, ApiError> {
    let Some(totp) = state.store.totp_state(org, user).await?.filter(|t| t.enabled_at.is_some()) else {
        return Ok(false);
    };
    let secret = TotpSecret::from_base32(&totp.secret_base32).map_err(|e| ApiError::internal(&e))?;
    let last = totp.last_step.and_then(|s| u64::try_from(s).ok());
    let Some(step) = secret.verify(code, unix_now(), last) else {
        return Ok(false);
    };
    Ok(state.store.accept_totp_step(org, user, i64::try_from(step).unwrap_or(i64::MAX)).await?)
}

/// Starts the second sign-in step: returns the secret for the challenge cookie.
pub async fn start_challenge(state: &AppState, org: OrgId, user: UserId) -> Result<String, ApiError> {
    let secret = new_secret("esm_");
    let expires = Utc::now() + chrono::Duration::minutes(CHALLENGE_MINUTES);
    state.store.create_sign_in_challenge(org, user, &hash_secret(&secret), expires).await?;
    Ok(secret)
}

/// How often one typed e-mail may ask for a reset link: 3 an hour, then locked 15 minutes,
/// doubling.
pub fn reset_email_policy() -> LockoutPolicy {
    LockoutPolicy {
        max_failures: 3,
        window: chrono::Duration::hours(1),
        base_lockout: chrono::Duration::minutes(15),
        max_lockout: chrono::Duration::hours(24),
        forget_after: chrono::Duration::hours(24),
    }
}

/// How often one client IP may ask for reset links: 10 an hour, then locked 15 minutes, doubling.
pub fn reset_ip_policy() -> LockoutPolicy {
    LockoutPolicy { max_failures: 10, ..reset_email_policy() }
}

/// Counts one reset request for the typed e-mail and the IP; `Err(retry_after)` when either is
/// locked (the request is then not counted and nothing is sent).
pub async fn count_reset_request(
    state: &AppState,
    org: &str,
    email: &str,
    ip: &str,
) -> Result<Result<(), Duration>, ApiError> {
    let now = Utc::now();
    let email_key = key("reset-email", &[org, email]);
    let ip_key = key("reset-ip", &[ip]);
    for k in [&ip_key, &email_key] {
        if let Some(until) = state.store.attempt_lock(k, now).await? {
            return Ok(Err(retry_after(until, now)));
        }
    }
    state.store.record_failed_attempt(&email_key, &reset_email_policy(), now).await?;
    state.store.record_failed_attempt(&ip_key, &reset_ip_policy(), now).await?;
    Ok(Ok(()))
}

/// A reset link to mail: who gets it and the secret token (only its hash is stored).
#[derive(Debug)]
pub struct ResetLink {
    /// The user's address.
    pub to: Email,
    /// The secret for `?token=`.
    pub token: String,
}

/// Creates a reset token when an active user (one with a password) has this organisation and
/// e-mail, and audits the request; `None` otherwise (the caller answers the same either way).
pub async fn create_reset(
    state: &AppState,
    org_slug: &str,
    email: &str,
    ip: &str,
) -> Result<Option<ResetLink>, ApiError> {
    let Ok(email) = Email::parse(email) else { return Ok(None) };
    let Some(org) = state.store.org_by_slug(org_slug.trim()).await? else { return Ok(None) };
    let Some((user, _)) = state.store.password_hash(org.id, &email).await? else { return Ok(None) };
    let token = new_secret("esr_");
    let expires = Utc::now() + chrono::Duration::minutes(RESET_TOKEN_MINUTES);
    state.store.create_password_reset(org.id, user.id, &hash_secret(&token), expires).await?;
    let detail = serde_json::json!({"expires_at": expires});
    state.store.append_audit(org.id, audit(user.email.as_str(), "password_reset_requested", detail, ip)).await?;
    Ok(Some(ResetLink { to: user.email, token }))
}

/// What is wrong with a new password, as an i18n key.
pub fn password_problem(password: &str, confirmation: &str) -> Option<&'static str> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        Some("password_too_short")
    } else if chars > MAX_PASSWORD_CHARS {
        Some("password_too_long")
    } else if password != confirmation {
        Some("passwords_differ")
    } else {
        None
    }
}

/// Whether a reset token is still good (to show the form or the friendly refusal).
pub async fn reset_token_valid(state: &AppState, token: &str) -> Result<bool, ApiError> {
    Ok(state.store.password_reset_user(&hash_secret(token), Utc::now()).await?.is_some())
}

/// Sets a new password with a reset token: the token is consumed, every session of the user ends,
/// the account's sign-in failures are forgotten and the reset is audited. `None` when the token
/// is unknown, used or expired.
pub async fn complete_reset(
    state: &AppState,
    token: &str,
    new_password: &str,
    ip: &str,
) -> Result<Option<User>, ApiError> {
    if !reset_token_valid(state, token).await? {
        return Ok(None);
    }
    // Hashing takes ~140 ms of CPU: off the async workers.
    let password = new_password.to_string();
    let hashed =
        tokio::task::spawn_blocking(move || hash_password(&password)).await.map_err(|e| ApiError::internal(&e))?;
    let hash = hashed.map_err(|e| ApiError::internal(&std::io::Error::other(e.to_string())))?;
    let Some((org, user)) = state.store.reset_password(&hash_secret(token), &hash, Utc::now()).await? else {
        return Ok(None);
    };
    if let Some(o) = state.store.org(org).await? {
        record_success(state, o.slug.as_str(), user.email.as_str(), ip).await?;
    }
    let detail = serde_json::json!({"sessions_revoked": true});
    state.store.append_audit(org, audit(user.email.as_str(), "password_reset", detail, ip)).await?;
    Ok(Some(user))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_hashed_and_normalised() {
        let k = account_key("Acme ", " Ana@X.example");
        assert_eq!(k, account_key("acme", "ana@x.example"));
        assert!(k.starts_with("account:") && !k.contains("ana"));
        assert_ne!(account_key("acme", "ana@x.example"), account_key("other", "ana@x.example"));
        assert_ne!(ip_key("1.1.1.1"), key("reset-ip", &["1.1.1.1"]));
    }

    #[test]
    fn new_passwords_need_a_sensible_length_and_a_match() {
        assert_eq!(password_problem("short", "short"), Some("password_too_short"));
        assert_eq!(password_problem(&"x".repeat(300), &"x".repeat(300)), Some("password_too_long"));
        assert_eq!(password_problem("long enough pass", "long enough pasS"), Some("passwords_differ"));
        assert_eq!(password_problem("ñandú ñandú ñ", "ñandú ñandú ñ"), None);
    }
}
