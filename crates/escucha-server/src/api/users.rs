//! `PUT /api/v1/users/{email}`, `GET /api/v1/users/{email}`, `GET /api/v1/users`.

use super::RawBody;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

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
}

fn view(u: &User) -> Value {
    json!({
        "email": u.email,
        "name": u.name,
        "role": u.role,
        "manager_email": u.manager_email,
        "team": u.team,
        "region": u.region,
    })
}

/// Creates (201) or updates (200) a user; admins only.
pub async fn upsert(
    State(state): State<AppState>,
    caller: Caller,
    Path(email): Path<String>,
    RawBody(body): RawBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require_admin()?;
    let email = Email::parse(&email).map_err(|e| e.prefixed("email"))?;
    let input: UserInput = if body.is_empty() {
        UserInput { name: None, role: None, manager_email: None, team: None, region: None }
    } else {
        parse_json(&body)?
    };
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
    };
    if fields.manager_email.as_ref() == Some(&email) {
        errors.push("manager_email", "invalid_manager", "a user cannot be their own manager");
    }
    let fields = errors.finish(|| fields)?;
    let (user, created) = state.store.upsert_user(caller.org_id, &email, fields).await?;
    let detail = json!({"created": created, "role": user.role, "region": user.region, "team": user.team, "manager_email": user.manager_email});
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

/// All users of the organisation; admins and analysts.
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    caller.require_manage()?;
    let users = state.store.list_users(caller.org_id).await?;
    Ok(Json(json!({"items": users.iter().map(view).collect::<Vec<_>>(), "next_cursor": null})))
}
