//! Who is calling: API tokens (bearer) and web sessions (cookie). Secrets are random 256-bit
//! values shown once; only their SHA-256 is stored, so a leaked database does not leak access.
//! Passwords are hashed with argon2id.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chrono::Utc;
use rand::RngCore;
use sha2::{Digest, Sha256};

use escucha_analytics::Dimension;
use escucha_core::access::{
    DataScope, Permission, PermissionSet, TeamHierarchy, allows, expand_teams, role_permissions, token_permissions,
    user_permissions, user_scope,
};
use escucha_core::ids::OrgId;
use escucha_core::org::{Role, User};

use crate::error::ApiError;
use crate::state::AppState;

/// Prefix of API token secrets, so they are recognisable in secret scanners.
pub const TOKEN_PREFIX: &str = "esk_";

/// A fresh random secret with `prefix`: 32 random bytes, hex.
pub fn new_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", hex::encode(bytes))
}

/// The stored form of a secret.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Memory cost of password hashing, KiB (argon2id).
pub const PASSWORD_MEMORY_KIB: u32 = 65_536;
/// Passes over the memory.
pub const PASSWORD_ITERATIONS: u32 = 3;
/// The parameters, for figures and logs.
pub const PASSWORD_PARAMS_TEXT: &str = "m=64 MiB, t=3, p=1";

/// The argon2id hasher with Escucha's parameters, chosen for roughly 100–300 ms per sign-in on
/// a 2-core server (see bench/RESULTS.md): slow for guessing, fine for people.
fn hasher() -> Result<Argon2<'static>, argon2::password_hash::Error> {
    let params = argon2::Params::new(PASSWORD_MEMORY_KIB, PASSWORD_ITERATIONS, 1, None)
        .map_err(|_| argon2::password_hash::Error::ParamNameInvalid)?;
    Ok(Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params))
}

/// Hashes a password with argon2id and a random salt (PHC string, which records the
/// parameters, so hashes made with older parameters keep verifying).
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let mut salt_bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut salt_bytes);
    let salt = SaltString::encode_b64(&salt_bytes)?;
    Ok(hasher()?.hash_password(password.as_bytes(), &salt)?.to_string())
}

/// Checks a password against a stored PHC hash; false for a malformed hash.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// The authenticated caller of an API request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The organisation every query is scoped to.
    pub org_id: OrgId,
    /// The caller's role (the acting user's, or the organisation token's).
    pub role: Role,
    /// What the caller may do: the role's permissions, narrowed by the token's scopes.
    pub permissions: PermissionSet,
    /// The user the token acts as, if any.
    pub user: Option<User>,
    /// Who to record as the actor (user e-mail or `token:NAME`).
    pub actor: String,
    /// Which records the caller may see: the user's scope for a token that acts as a user,
    /// the whole organisation for an organisation token.
    pub scope: DataScope,
    /// The client's IP, for the audit log.
    pub ip: Option<String>,
}

impl Caller {
    /// The metric-index restriction of the caller's scope.
    pub fn index_restriction(&self) -> Vec<(Dimension, Vec<String>)> {
        crate::service::scope::index_restriction(&self.scope)
    }

    /// Appends an entry to the audit log before the call returns (an audited action that
    /// cannot be recorded fails rather than going unrecorded).
    pub async fn audit(
        &self,
        state: &AppState,
        action: &str,
        target: Option<String>,
        detail: serde_json::Value,
    ) -> Result<(), ApiError> {
        let entry = escucha_store::NewAuditEntry {
            at: Utc::now(),
            actor: self.actor.clone(),
            action: action.to_string(),
            target,
            detail,
            ip: self.ip.clone(),
        };
        Ok(state.store.append_audit(self.org_id, entry).await?)
    }

    /// Fails with 403 unless the caller holds `permission`.
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if self.permissions.contains(permission) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!("this needs the '{permission}' permission")))
        }
    }

    /// True when a record with this region, team and owner (account executive e-mail) is inside
    /// the caller's scope. A record without a team of its own belongs to its owner's team, looked
    /// up only for team scopes.
    pub async fn sees(
        &self,
        state: &AppState,
        region: Option<&str>,
        team: Option<&str>,
        owner: Option<&str>,
    ) -> Result<bool, ApiError> {
        let owner_team = match (&self.scope, team, owner) {
            (DataScope::Teams(_), None, Some(owner)) => match escucha_core::values::Email::parse(owner) {
                Ok(email) => state.store.user_by_email(self.org_id, &email).await?.and_then(|u| u.team),
                Err(_) => None,
            },
            _ => None,
        };
        let team = team.or(owner_team.as_ref().map(|t| t.as_str()));
        Ok(allows(&self.scope, region, team, owner))
    }

    /// True when the caller may read personal data in clear (contact fields, unredacted text).
    pub fn sees_personal_data(&self) -> bool {
        self.permissions.contains(Permission::ReadPersonalData)
    }
}

/// What a staff user may do and see: the permissions of their custom role or built-in role, and
/// their data scope (the explicit one or the default from role, region and team), with team
/// scopes widened to the teams' sub-teams from the organisation's team tree.
pub async fn user_access(state: &AppState, user: &User) -> Result<(PermissionSet, DataScope), ApiError> {
    let permissions = match &user.custom_role {
        Some(_) => user_permissions(user, &state.store.list_roles(user.org_id).await?),
        None => role_permissions(user.role),
    };
    let scope = user_scope(user, user.scope.as_ref());
    let scope = match scope {
        DataScope::Teams(_) => {
            let tree = state.store.list_teams(user.org_id).await?;
            let tree = TeamHierarchy::from_pairs(tree.into_iter().filter_map(|t| t.parent.map(|p| (t.name, p))));
            expand_teams(&scope, &tree)
        }
        other => other,
    };
    Ok((permissions, scope))
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        // Resolved once per request by the route's permission check.
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        let header = parts.headers.get(axum::http::header::AUTHORIZATION).ok_or_else(|| {
            ApiError::unauthorized("send 'Authorization: Bearer TOKEN' (create one with 'escucha token create')")
        })?;
        let secret = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| ApiError::unauthorized("the Authorization header must be 'Bearer TOKEN'"))?;
        let (token, user) = state
            .store
            .token_and_user_by_hash(&hash_secret(secret))
            .await?
            .ok_or_else(|| ApiError::unauthorized("the token is unknown or revoked"))?;
        if token.user_id.is_some() && user.is_none() {
            // Fail closed: never fall back to the token's own role for a user who is gone.
            return Err(ApiError::unauthorized("the user this token acts as no longer exists"));
        }
        let now = Utc::now();
        if token.expires_at.is_some_and(|e| e <= now) {
            return Err(ApiError::unauthorized("the token has expired"));
        }
        if token.last_used_at.is_none_or(|t| now - t > chrono::Duration::seconds(60)) {
            let store = state.store.clone();
            tokio::spawn(async move {
                if let Err(e) = store.touch_token(token.id, now).await {
                    tracing::warn!(error = %e, "could not record token use");
                }
            });
        }
        let (role, actor, permissions, scope) = match &user {
            Some(u) => {
                let (permissions, scope) = user_access(state, u).await?;
                (u.role, u.email.to_string(), permissions, scope)
            }
            None => {
                (token.role, format!("token:{}", token.name), role_permissions(token.role), DataScope::Organisation)
            }
        };
        let permissions = token_permissions(permissions, &token.scopes);
        let ip =
            parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip().to_string());
        Ok(Caller { org_id: token.org_id, role, permissions, user, actor, scope, ip })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_hashed() {
        let a = new_secret(TOKEN_PREFIX);
        let b = new_secret(TOKEN_PREFIX);
        assert_ne!(a, b);
        assert!(a.starts_with("esk_") && a.len() == 4 + 64);
        // SHA-256("abc"), a published test vector.
        assert_eq!(hash_secret("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn passwords_verify_only_themselves() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=65536,t=3,p=1$"), "{h}");
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));
    }
}
