//! `PUT /api/v1/users/{email}`, `GET /api/v1/users/{email}`, `GET /api/v1/users`.

use super::Path;
use super::RawBody;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use escucha_core::access::{DataScope, PermissionSet, RoleRef, role_permissions};
use escucha_core::org::{Role, User, UserFields};
use escucha_core::validation::Collector;
use escucha_core::values::{Email, Label};

use crate::auth::Caller;
use crate::error::{ApiError, parse_json};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserInput {
    name: Option<String>,
    role: Option<String>,
    manager_email: Option<String>,
    team: Option<String>,
    region: Option<String>,
    /// Absent: keep; `null`: remove; a name: that custom role.
    #[serde(default, deserialize_with = "present")]
    custom_role: Option<Option<String>>,
    /// Absent: keep; `null`: back to the default scope; `{kind, values}`: that scope.
    #[serde(default, deserialize_with = "present")]
    scope: Option<Option<Value>>,
}

/// Tells a field given as `null` (`Some(None)`) from an absent one (`None`).
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Parses and checks an explicit data scope: known kind, at least one non-blank value, an
/// e-mail for own accounts.
fn parse_scope(errors: &mut Collector, raw: Value) -> Option<DataScope> {
    let scope: DataScope = match serde_json::from_value(raw) {
        Ok(s) => s,
        Err(e) => {
            errors.push(
                "scope",
                "invalid_scope",
                format!("scope must be {{\"kind\": organisation|regions|teams|own_accounts, \"values\": …}}: {e}"),
            );
            return None;
        }
    };
    let ok = match &scope {
        DataScope::Organisation => true,
        DataScope::Regions(v) | DataScope::Teams(v) => !v.is_empty() && v.iter().all(|x| Label::parse(x).is_ok()),
        DataScope::OwnAccounts(e) => Email::parse(e).is_ok(),
    };
    if !ok {
        errors.push("scope", "invalid_scope", "a scope needs at least one valid value (an e-mail for own_accounts)");
        return None;
    }
    Some(match scope {
        DataScope::OwnAccounts(e) => DataScope::OwnAccounts(e.trim().to_lowercase()),
        other => other,
    })
}

fn view(u: &User) -> Value {
    json!({
        "email": u.email,
        "name": u.name,
        "role": u.role,
        "manager_email": u.manager_email,
        "team": u.team,
        "region": u.region,
        "custom_role": u.custom_role,
        "scope": u.scope,
    })
}

/// Creates (201) or updates (200) a user (permission `manage_users`). Nobody grants a role
/// with permissions they do not hold themselves.
pub async fn upsert(
    State(state): State<AppState>,
    caller: Caller,
    Path(email): Path<String>,
    RawBody(body): RawBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let email = Email::parse(&email).map_err(|e| e.prefixed("email"))?;
    let input: UserInput = if body.is_empty() {
        UserInput {
            name: None,
            role: None,
            manager_email: None,
            team: None,
            region: None,
            custom_role: None,
            scope: None,
        }
    } else {
        parse_json(&body)?
    };
    let roles = state.store.list_roles(caller.org_id).await?;
    let mut errors = Collector::default();
    let label = |errors: &mut Collector, field: &str, v: Option<String>| {
        v.and_then(|v| errors.take(Label::parse(&v).map_err(|e| e.prefixed(field))))
    };
    let fields = UserFields {
        name: label(&mut errors, "name", input.name),
        team: label(&mut errors, "team", input.team),
        region: label(&mut errors, "region", input.region),
        role: input.role.and_then(|r| errors.take(Role::parse(&r))),
        manager_email: input
            .manager_email
            .and_then(|m| errors.take(Email::parse(&m).map_err(|e| e.prefixed("manager_email")))),
        custom_role: match input.custom_role {
            Some(Some(name)) if !roles.iter().any(|r| r.name() == name) => {
                errors.push(
                    "custom_role",
                    "unknown_role",
                    "there is no custom role with that name (PUT /api/v1/roles/{name})",
                );
                None
            }
            other => other,
        },
        scope: input.scope.map(|s| s.and_then(|raw| parse_scope(&mut errors, raw))),
    };
    if fields.manager_email.as_ref() == Some(&email) {
        errors.push("manager_email", "invalid_manager", "a user cannot be their own manager");
    }
    let fields = errors.finish(|| fields)?;
    let granted = match (&fields.custom_role, fields.role) {
        (Some(Some(name)), _) => RoleRef::Custom(name.clone()).permissions(&roles),
        (_, Some(role)) => role_permissions(role),
        _ => PermissionSet::EMPTY,
    };
    if !caller.permissions.contains_all(granted) {
        return Err(ApiError::forbidden("you cannot grant a role with permissions you do not hold"));
    }
    let (user, created) = state.store.upsert_user(caller.org_id, &email, fields).await?;
    let detail = json!({
        "created": created, "role": user.role, "custom_role": user.custom_role, "scope": user.scope,
        "region": user.region, "team": user.team, "manager_email": user.manager_email,
    });
    caller.audit(&state, "user.upsert", Some(format!("user:{}", user.email)), detail).await?;
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(view(&user))))
}

/// One user.
pub async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(email): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let not_found = || ApiError::not_found("not_found", "there is no user with that e-mail");
    let email = Email::parse(&email).map_err(|_| not_found())?;
    let user = state.store.user_by_email(caller.org_id, &email).await?.ok_or_else(not_found)?;
    Ok(Json(view(&user)))
}

/// All users of the organisation.
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let users = state.store.list_users(caller.org_id).await?;
    Ok(Json(json!({"items": users.iter().map(view).collect::<Vec<_>>(), "next_cursor": null})))
}
