//! Custom roles (`GET /api/v1/roles`, `PUT/DELETE /api/v1/roles/{name}`) and the team tree
//! (`GET /api/v1/teams`, `PUT /api/v1/teams/{name}`) that team scopes widen through.

use super::Path;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use escucha_core::access::{CustomRole, Permission, PermissionSet};
use escucha_core::values::Label;

use super::RawBody;
use crate::auth::Caller;
use crate::error::{ApiError, parse_json};
use crate::state::AppState;

fn role_view(r: &CustomRole) -> Value {
    json!({"name": r.name(), "permissions": r.permissions})
}

/// The organisation's custom roles, with every permission that exists (for building one).
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let roles = state.store.list_roles(caller.org_id).await?;
    Ok(Json(json!({
        "items": roles.iter().map(role_view).collect::<Vec<_>>(),
        "permissions": Permission::ALL.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
        "next_cursor": null,
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleInput {
    permissions: Vec<String>,
}

/// Creates (201) or replaces (200) a custom role. Nobody defines a role with permissions they
/// do not hold; audited.
pub async fn upsert(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    RawBody(body): RawBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let input: RoleInput = parse_json(&body)?;
    let mut permissions = PermissionSet::EMPTY;
    let mut unknown = Vec::new();
    for raw in &input.permissions {
        match Permission::parse(raw) {
            Ok(p) => permissions.insert(p),
            Err(_) => unknown.push(raw.chars().take(40).collect::<String>()),
        }
    }
    if !unknown.is_empty() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_permission",
            format!("unknown permission(s): {}; GET /api/v1/roles lists them", unknown.join(", ")),
        ));
    }
    let role = CustomRole::new(&name, permissions)
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_role_name", e.to_string()))?;
    if !caller.permissions.contains_all(permissions) {
        return Err(ApiError::forbidden("you cannot define a role with permissions you do not hold"));
    }
    let created = state.store.upsert_role(caller.org_id, &role).await?;
    caller
        .audit(
            &state,
            "role.upsert",
            Some(format!("role:{}", role.name())),
            json!({"created": created, "permissions": permissions}),
        )
        .await?;
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(role_view(&role))))
}

/// Deletes a custom role; 409 while users hold it; audited.
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    match state.store.delete_role(caller.org_id, &name).await {
        Err(escucha_store::StoreError::Conflict(m)) => return Err(ApiError::conflict("role_in_use", m)),
        Err(escucha_store::StoreError::NotFound(_)) => {
            return Err(ApiError::not_found("not_found", "there is no custom role with that name"));
        }
        other => other?,
    }
    caller.audit(&state, "role.delete", Some(format!("role:{name}")), json!({})).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The team tree: each team with its parent.
pub async fn list_teams(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let teams = state.store.list_teams(caller.org_id).await?;
    Ok(Json(json!({"items": teams, "next_cursor": null})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TeamInput {
    parent: Option<String>,
}

/// Places a team under a parent (or at the top with `parent: null`); 409 when that would make
/// a cycle; audited (it widens team scopes).
pub async fn set_team(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    RawBody(body): RawBody,
) -> Result<Json<Value>, ApiError> {
    let input: TeamInput = if body.is_empty() { TeamInput { parent: None } } else { parse_json(&body)? };
    let team = Label::parse(&name).map_err(|e| e.prefixed("name"))?;
    let parent = input.parent.map(|p| Label::parse(&p).map_err(|e| e.prefixed("parent"))).transpose()?;
    match state.store.set_team(caller.org_id, team.as_str(), parent.as_ref().map(|p| p.as_str())).await {
        Err(escucha_store::StoreError::Conflict(m)) => return Err(ApiError::conflict("team_cycle", m)),
        other => other?,
    }
    caller.audit(&state, "team.set", Some(format!("team:{team}")), json!({"parent": parent})).await?;
    Ok(Json(json!({"name": team, "parent": parent})))
}
