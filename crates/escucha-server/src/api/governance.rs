//! Data governance over the API: the security policy (`/api/v1/security/policy`), the incident
//! register (`/api/v1/security/incidents`) and retention rules (`/api/v1/retention`). Admin
//! permissions (`manage_security`, `manage_retention`); every change is audited by the service.

use super::Path;
use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use chrono::Utc;
use serde_json::{Map, Value, json};

use escucha_core::governance::{
    Incident, IncidentId, IncidentInput, MAX_RETENTION_MONTHS, PolicyItem, PolicyItemId, PolicyItemInput,
    RetentionKind, RetentionRules, RetentionRulesInput,
};
use escucha_store::IncidentFilter;

use super::RawBody;
use super::metrics::query_pairs;
use crate::auth::Caller;
use crate::error::{ApiError, parse_json};
use crate::service::governance::{self as gov, Actor};
use crate::state::AppState;

fn actor(caller: &Caller) -> Actor<'_> {
    Actor { name: &caller.actor, ip: caller.ip.as_deref() }
}

/// The API view of a policy item, with whether its review is overdue today.
pub fn policy_view(item: &PolicyItem) -> Value {
    let mut v = json!(item);
    v["review_overdue"] = json!(item.review_overdue(Utc::now().date_naive()));
    v
}

/// The API view of an incident.
pub fn incident_view(incident: &Incident) -> Value {
    let mut v = json!(incident);
    v["open"] = json!(incident.fields.is_open());
    v
}

/// A JSON object body (for partial updates).
fn object_body(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match parse_json::<Value>(body)? {
        Value::Object(m) if !m.is_empty() => Ok(m),
        Value::Object(_) => {
            Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "empty_update", "give at least one field"))
        }
        _ => Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", "the body must be a JSON object")),
    }
}

/// `POST /api/v1/security/policy`: adds a policy item; 201.
pub async fn create_policy_item(
    State(state): State<AppState>,
    caller: Caller,
    RawBody(body): RawBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let input: PolicyItemInput = parse_json(&body)?;
    let item = gov::create_policy_item(state.store.as_ref(), caller.org_id, input, actor(&caller)).await?;
    Ok((StatusCode::CREATED, Json(policy_view(&item))))
}

/// `GET /api/v1/security/policy`: every item, newest first, with the maturity figures.
pub async fn list_policy_items(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let items = state.store.list_policy_items(caller.org_id).await?;
    let stats = escucha_core::governance::policy_stats(&items, Utc::now().date_naive());
    Ok(Json(json!({"items": items.iter().map(policy_view).collect::<Vec<_>>(), "stats": stats})))
}

async fn load_policy_item(state: &AppState, caller: &Caller, raw: &str) -> Result<PolicyItem, ApiError> {
    let id = PolicyItemId(super::parse_id(raw, "policy item")?);
    state
        .store
        .policy_item(caller.org_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("not_found", format!("there is no policy item {id}")))
}

/// `GET /api/v1/security/policy/{id}`.
pub async fn get_policy_item(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(policy_view(&load_policy_item(&state, &caller, &id).await?)))
}

/// `PATCH /api/v1/security/policy/{id}`: changes the fields given.
pub async fn update_policy_item(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    RawBody(body): RawBody,
) -> Result<Json<Value>, ApiError> {
    let id = load_policy_item(&state, &caller, &id).await?.id;
    let patch = object_body(&body)?;
    let item = gov::update_policy_item(state.store.as_ref(), caller.org_id, id, &patch, actor(&caller)).await?;
    Ok(Json(policy_view(&item)))
}

/// `DELETE /api/v1/security/policy/{id}`: 204.
pub async fn delete_policy_item(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = load_policy_item(&state, &caller, &id).await?.id;
    gov::delete_policy_item(state.store.as_ref(), caller.org_id, id, actor(&caller)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/security/incidents`: records an incident; 201.
pub async fn create_incident(
    State(state): State<AppState>,
    caller: Caller,
    RawBody(body): RawBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let input: IncidentInput = parse_json(&body)?;
    let incident = gov::create_incident(state.store.as_ref(), caller.org_id, input, actor(&caller)).await?;
    Ok((StatusCode::CREATED, Json(incident_view(&incident))))
}

/// `GET /api/v1/security/incidents`: `status` (open, closed), `limit`, `cursor`; newest first,
/// with the register's maturity figures.
pub async fn list_incidents(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let params = query_pairs(raw)?;
    super::only_params(&params, &["status", "limit", "cursor"])?;
    let (limit, cursor) = super::paging(&params)?;
    let mut filter = IncidentFilter { limit: limit + 1, before_id: cursor, open: None };
    if let Some((_, v)) = params.iter().find(|(k, _)| k == "status") {
        filter.open = Some(match v.as_str() {
            "open" => true,
            "closed" => false,
            _ => return Err(ApiError::bad_request("invalid_parameter", "status must be open or closed")),
        });
    }
    let mut items = state.store.list_incidents(caller.org_id, filter).await?;
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|i| i.id.0)
    } else {
        None
    };
    let stats = state.store.incident_stats(caller.org_id, None).await?;
    Ok(Json(json!({
        "items": items.iter().map(incident_view).collect::<Vec<_>>(),
        "next_cursor": next_cursor,
        "stats": stats,
    })))
}

async fn load_incident(state: &AppState, caller: &Caller, raw: &str) -> Result<Incident, ApiError> {
    let id = IncidentId(super::parse_id(raw, "incident")?);
    state
        .store
        .incident(caller.org_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("not_found", format!("there is no incident {id}")))
}

/// `GET /api/v1/security/incidents/{id}`.
pub async fn get_incident(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(incident_view(&load_incident(&state, &caller, &id).await?)))
}

/// `PATCH /api/v1/security/incidents/{id}`: changes the fields given; `closed_at` closes it
/// (with `actions_taken`), `closed_at: null` reopens it.
pub async fn update_incident(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    RawBody(body): RawBody,
) -> Result<Json<Value>, ApiError> {
    let id = load_incident(&state, &caller, &id).await?.id;
    let patch = object_body(&body)?;
    let incident = gov::update_incident(state.store.as_ref(), caller.org_id, id, &patch, actor(&caller)).await?;
    Ok(Json(incident_view(&incident)))
}

/// The API view of retention rules, with every kind and its bounds.
fn retention_view(rules: &RetentionRules) -> Value {
    let kinds: Vec<Value> = RetentionKind::ALL
        .iter()
        .map(|k| json!({"kind": k, "min_months": k.min_months(), "max_months": MAX_RETENTION_MONTHS}))
        .collect();
    json!({"rules": rules.rules(), "kinds": kinds})
}

/// `GET /api/v1/retention`.
pub async fn get_retention(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    Ok(Json(retention_view(&state.store.retention_rules(caller.org_id).await?)))
}

/// `PUT /api/v1/retention`: replaces the rules (`{"rules": [{"kind", "months"}]}`).
pub async fn put_retention(
    State(state): State<AppState>,
    caller: Caller,
    RawBody(body): RawBody,
) -> Result<Json<Value>, ApiError> {
    let input: RetentionRulesInput = parse_json(&body)?;
    let rules = gov::set_retention_rules(state.store.as_ref(), caller.org_id, input, actor(&caller)).await?;
    Ok(Json(retention_view(&rules)))
}

/// `POST /api/v1/retention/run?dry_run=true`: applies the rules now (or only counts), as the
/// daily run does; returns the counts per rule.
pub async fn run_retention(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let params = query_pairs(raw)?;
    super::only_params(&params, &["dry_run"])?;
    let dry_run = match params.iter().find(|(k, _)| k == "dry_run").map(|(_, v)| v.as_str()) {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(ApiError::bad_request("invalid_parameter", "dry_run must be true or false")),
    };
    let report =
        crate::service::retention::run(state.store.as_ref(), caller.org_id, Utc::now(), dry_run, &caller.actor).await?;
    Ok(Json(json!(report)))
}
