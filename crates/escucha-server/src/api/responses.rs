//! `POST /api/v1/responses`, `GET /api/v1/responses/{id}`.

use super::Path;
use super::RawBody;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use escucha_core::ids::ResponseId;

use super::idempotency::{self, Idempotency};
use crate::auth::Caller;
use crate::error::{ApiError, parse_json};
use crate::service::redaction::redact_answers;
use crate::service::responses::{ResponseInput, submit};
use crate::state::AppState;

/// Stores a response; 201 `{id, case_id}`. With an `Idempotency-Key`, a replay answers the
/// first result with `Idempotent-Replayed: true`.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let idem =
        idempotency::check(state.store.as_ref(), caller.org_id, &headers, "POST /api/v1/responses", &body, "response")
            .await?;
    if let Idempotency::Replay(earlier) = &idem {
        return Ok(replayed(earlier.resource_id));
    }
    let input: ResponseInput = parse_json(&body)?;
    match submit(&state, &caller, input, idem.record(), chrono::Utc::now()).await {
        Ok(done) => Ok((StatusCode::CREATED, Json(json!({"id": done.id, "case_id": done.case_id}))).into_response()),
        Err(e) if e.code == "conflict" => {
            // Lost a race with the same key: answer what the winner stored.
            let conflict = escucha_store::StoreError::Conflict(e.message);
            let earlier =
                idempotency::replay_after_conflict(state.store.as_ref(), caller.org_id, &idem, conflict).await?;
            Ok(replayed(earlier.resource_id))
        }
        Err(e) => Err(e),
    }
}

fn replayed(id: i64) -> Response {
    (StatusCode::CREATED, [("idempotent-replayed", "true")], Json(json!({"id": id}))).into_response()
}

/// One response with its answers and context.
pub async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = super::parse_id(&id, "response")?;
    let not_found = || ApiError::not_found("not_found", format!("there is no response {id}"));
    let r = state.store.response(caller.org_id, ResponseId(id)).await?.ok_or_else(not_found)?;
    let owner = match (&caller.scope, r.customer_id) {
        (
            escucha_core::access::DataScope::OwnAccounts(_) | escucha_core::access::DataScope::Teams(_),
            Some(customer),
        ) => state.store.customer(caller.org_id, customer).await?.and_then(|c| c.owner_email).map(|e| e.to_string()),
        _ => None,
    };
    let (region, team) = (r.context.region.as_ref().map(|v| v.as_str()), r.context.team.as_ref().map(|v| v.as_str()));
    if !caller.sees(&state, region, team, owner.as_deref()).await? {
        return Err(not_found());
    }
    Ok(Json(json!({
        "id": r.id,
        "survey_id": r.survey_id,
        "survey_version": r.survey_version,
        "customer_external_id": r.customer_external_id,
        "answers": if caller.sees_personal_data() { r.answers.clone() } else { redact_answers(&r.answers) },
        "personal_data_hidden": !caller.sees_personal_data(),
        "scores": r.scores,
        "emotions": r.emotions,
        "context": r.context,
        "segment": r.segment,
        "language": r.language,
        "submitted_at": r.submitted_at,
        "created_at": r.created_at,
    })))
}
