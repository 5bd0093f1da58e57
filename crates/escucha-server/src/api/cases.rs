//! `GET /api/v1/cases`, `GET /api/v1/cases/{id}`, `PATCH /api/v1/cases/{id}`.

use super::Path;
use super::RawBody;
use axum::Json;
use axum::extract::{RawQuery, State};
use serde::Deserialize;
use serde_json::{Value, json};

use escucha_core::case::{Case, CaseStatus, CaseUpdate};
use escucha_core::ids::CaseId;
use escucha_core::values::Email;
use escucha_store::CaseFilter;

use super::metrics::query_pairs;
use crate::auth::Caller;
use crate::error::{ApiError, parse_json};
use crate::state::AppState;

/// The API view of a case for a caller: without `read_personal_data`, note texts, root cause
/// and resolution come redacted (staff write customers' details into them).
pub fn view_for(caller: &Caller, c: &Case) -> Value {
    let mut v = view(c);
    if !caller.sees_personal_data() {
        let redact = crate::service::redaction::redact_text;
        for (field, text) in [("root_cause", &c.root_cause), ("resolution", &c.resolution)] {
            if let Some(text) = text {
                v[field] = json!(redact(text));
            }
        }
        v["notes"] = json!(
            c.notes
                .iter()
                .map(|n| json!({"at": n.at, "author": n.author, "text": redact(&n.text)}))
                .collect::<Vec<_>>()
        );
        v["personal_data_hidden"] = json!(true);
    }
    v
}

/// The full API view of a case.
pub fn view(c: &Case) -> Value {
    json!({
        "id": c.id,
        "customer_external_id": c.customer_external_id,
        "response_id": c.response_id,
        "owner_email": c.owner_email,
        "manager_email": c.manager_email,
        "reason": c.reason,
        "priority": c.priority,
        "status": c.status,
        "due_at": c.due_at,
        "root_cause": c.root_cause,
        "resolution": c.resolution,
        "notes": c.notes,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
        "closed_at": c.closed_at,
    })
}

/// Cases, newest first, by status and owner, paged with `limit` and `cursor`.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let params = query_pairs(raw)?;
    super::only_params(&params, &["status", "owner_email", "limit", "cursor"])?;
    let (limit, cursor) = super::paging(&params)?;
    let mut filter = CaseFilter { limit: limit + 1, before_id: cursor, ..Default::default() };
    for (k, v) in &params {
        match k.as_str() {
            "status" => {
                filter.status =
                    Some(CaseStatus::parse(v).map_err(|e| ApiError::bad_request("invalid_parameter", e.to_string()))?)
            }
            "owner_email" => {
                filter.owner_email =
                    Some(Email::parse(v).map_err(|e| ApiError::bad_request("invalid_parameter", e.to_string()))?)
            }
            _ => {}
        }
    }
    let filter = crate::service::scope::scope_case_filter(&caller.scope, filter);
    let mut cases = state.store.list_cases(caller.org_id, filter).await?;
    let next_cursor = if cases.len() as i64 > limit {
        cases.truncate(limit as usize);
        cases.last().map(|c| c.id.0)
    } else {
        None
    };
    Ok(Json(
        json!({"items": cases.iter().map(|c| view_for(&caller, c)).collect::<Vec<_>>(), "next_cursor": next_cursor}),
    ))
}

/// One case.
pub async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let case = load(&state, &caller, &id).await?;
    Ok(Json(view_for(&caller, &case)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CasePatch {
    status: Option<String>,
    root_cause: Option<String>,
    resolution: Option<String>,
    note: Option<String>,
}

/// Moves a case along: status, root cause, resolution, a note.
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    RawBody(body): RawBody,
) -> Result<Json<Value>, ApiError> {
    let patch: CasePatch = parse_json(&body)?;
    let mut case = load(&state, &caller, &id).await?;
    let read_at = case.updated_at;
    let update = CaseUpdate {
        status: patch.status.as_deref().map(CaseStatus::parse).transpose()?,
        root_cause: patch.root_cause,
        resolution: patch.resolution,
        note: patch.note,
    };
    case.apply(update, &caller.actor, chrono::Utc::now())?;
    match state.store.save_case(caller.org_id, &case, read_at).await {
        Err(escucha_store::StoreError::Conflict(_)) => {
            return Err(ApiError::conflict(
                "case_changed",
                "the case changed while this update was made; read it again and retry",
            ));
        }
        other => other?,
    }
    caller.audit(&state, "case.update", Some(format!("case:{}", case.id)), json!({"status": case.status})).await?;
    Ok(Json(view_for(&caller, &case)))
}

async fn load(state: &AppState, caller: &Caller, raw_id: &str) -> Result<Case, ApiError> {
    let id = super::parse_id(raw_id, "case")?;
    let not_found = || ApiError::not_found("not_found", format!("there is no case {id}"));
    let case = state.store.case(caller.org_id, CaseId(id)).await?.ok_or_else(not_found)?;
    // Out of scope reads as absent; the customer's region decides, as in the case list.
    let region = match &caller.scope {
        escucha_core::access::DataScope::Organisation => None,
        _ => state.store.customer(caller.org_id, case.customer_id).await?.and_then(|c| c.region).map(|r| r.to_string()),
    };
    if caller.sees(state, region.as_deref(), None, Some(case.owner_email.as_str())).await? {
        Ok(case)
    } else {
        Err(not_found())
    }
}
