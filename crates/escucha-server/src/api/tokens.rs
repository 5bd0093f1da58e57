//! `GET/POST /api/v1/tokens`, `DELETE /api/v1/tokens/{id}`: API tokens managed by admins. The
//! secret is shown once, at creation; only its hash is kept.

use super::Path;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use escucha_core::access::{PermissionSet, TokenScope, role_permissions, token_permissions};
use escucha_core::ids::TokenId;
use escucha_core::org::Role;
use escucha_core::validation::Collector;
use escucha_core::values::Email;
use escucha_store::{ApiToken, NewToken};

use super::RawBody;
use crate::auth::{Caller, TOKEN_PREFIX, hash_secret, new_secret};
use crate::error::{ApiError, parse_json};
use crate::state::AppState;

fn view(t: &ApiToken) -> Value {
    json!({
        "id": t.id,
        "name": t.name,
        "role": t.role,
        "user_id": t.user_id,
        "expires_at": t.expires_at,
        "last_used_at": t.last_used_at,
        "created_at": t.created_at,
        "scopes": t.scopes,
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenInput {
    name: String,
    role: Option<String>,
    user_email: Option<String>,
    expires_at: Option<DateTime<Utc>>,
    /// What the token may be used for; default `["admin"]` (everything its role allows).
    scopes: Option<Vec<String>>,
}

/// Creates a token for a role or acting as a user, limited to its scopes; 201 with the secret,
/// shown this once. Nobody mints a token with permissions they do not hold themselves.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    RawBody(body): RawBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let input: TokenInput = parse_json(&body)?;
    let mut errors = Collector::default();
    let name = input.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 {
        errors.push("name", "invalid_name", "name the token (1 to 100 characters): what is it for?");
    }
    if input.expires_at.is_some_and(|e| e <= Utc::now()) {
        errors.push("expires_at", "in_past", "expires_at must be in the future");
    }
    let scopes = match &input.scopes {
        None => vec![TokenScope::Admin],
        Some(list) if list.is_empty() => {
            errors.push("scopes", "no_scopes", "give at least one scope, or leave scopes out for admin");
            Vec::new()
        }
        Some(list) => list
            .iter()
            .filter_map(|s| match TokenScope::parse(s) {
                Ok(scope) => Some(scope),
                Err(e) => {
                    errors.push("scopes", "unknown_scope", e.to_string());
                    None
                }
            })
            .collect(),
    };
    let mut granted = PermissionSet::EMPTY;
    let (role, user_id) = match (input.role.as_deref(), input.user_email.as_deref()) {
        (Some(r), None) => {
            let role = errors.take(Role::parse(r));
            granted = role.map(role_permissions).unwrap_or_default();
            (role, None)
        }
        (None, Some(e)) => match Email::parse(e) {
            Ok(email) => match state.store.user_by_email(caller.org_id, &email).await? {
                Some(u) => {
                    granted = crate::auth::user_access(&state, &u).await?.0;
                    (Some(u.role), Some(u.id))
                }
                None => {
                    errors.push("user_email", "unknown_user", "there is no user with that e-mail");
                    (None, None)
                }
            },
            Err(err) => {
                errors.take::<()>(Err(err.prefixed("user_email")));
                (None, None)
            }
        },
        _ => {
            errors.push("role", "role_or_user", "give either role or user_email");
            (None, None)
        }
    };
    errors.finish(|| ())?;
    if !caller.permissions.contains_all(token_permissions(granted, &scopes)) {
        return Err(ApiError::forbidden("you cannot create a token with permissions you do not hold"));
    }
    let role = role.unwrap_or(Role::Viewer);
    let secret = new_secret(TOKEN_PREFIX);
    let token = state
        .store
        .create_token(
            caller.org_id,
            NewToken { name, role, user_id, hash: hash_secret(&secret), expires_at: input.expires_at, scopes },
        )
        .await?;
    caller
        .audit(
            &state,
            "token.create",
            Some(format!("token:{}", token.id)),
            json!({"name": token.name, "role": token.role, "scopes": token.scopes, "expires_at": token.expires_at}),
        )
        .await?;
    let mut v = view(&token);
    v["secret"] = json!(secret);
    Ok((StatusCode::CREATED, Json(v)))
}

/// The organisation's live tokens, newest first, with when each was last used.
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let tokens = state.store.list_tokens(caller.org_id).await?;
    Ok(Json(json!({"items": tokens.iter().map(view).collect::<Vec<_>>(), "next_cursor": null})))
}

/// Revokes a token at once; 204.
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = super::parse_id(&id, "token")?;
    state.store.revoke_token(caller.org_id, TokenId(id), Utc::now()).await?;
    caller.audit(&state, "token.revoke", Some(format!("token:{id}")), json!({})).await?;
    Ok(StatusCode::NO_CONTENT)
}
