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

/// The most responses one export holds; more must be exported in date ranges.
pub const MAX_EXPORT_RESPONSES: usize = 200_000;

/// `GET /api/v1/responses/export`: the caller's responses as CSV, oldest first, with `from`
/// (inclusive), `to` (exclusive) and `survey_id`; only what the caller's data scope covers,
/// selected in the store query; free text redacted unless the caller may read personal data.
/// Audited as `responses.export` with the row count and filters.
pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> Result<Response, ApiError> {
    use super::audit::{csv_cell, parse_time};
    let params = super::metrics::query_pairs(raw)?;
    super::only_params(&params, &["from", "to", "survey_id"])?;
    let mut filter = escucha_store::ResponseFilter::default();
    for (k, v) in &params {
        match k.as_str() {
            "from" => filter.from = Some(parse_time("from", v)?),
            "to" => filter.to = Some(parse_time("to", v)?),
            "survey_id" => {
                filter.survey_id = Some(v.parse::<i64>().map_err(|_| {
                    ApiError::bad_request("invalid_parameter", "survey_id must be a survey's numeric id")
                })?)
            }
            _ => {}
        }
    }
    let filter = crate::service::scope::scope_response_filter(&caller.scope, filter);
    let personal = caller.sees_personal_data();
    let mut out = csv::Writer::from_writer(Vec::new());
    let csv_error = |e: csv::Error| ApiError::internal(&e);
    out.write_record([
        "id",
        "survey_id",
        "submitted_at",
        "customer_external_id",
        "region",
        "product",
        "channel",
        "team",
        "employee",
        "touchpoint",
        "journey_stage",
        "segment",
        "language",
        "nps",
        "csat",
        "ces",
        "cadv",
        "verbatim",
    ])
    .map_err(csv_error)?;
    let mut rows = 0usize;
    let mut after_id = 0;
    loop {
        let page = escucha_store::ResponseFilter { after_id, limit: 1_000, ..filter.clone() };
        let responses = state.store.responses_page(caller.org_id, page).await?;
        let Some(last) = responses.last() else { break };
        after_id = last.id.0;
        for r in &responses {
            let label = |l: &Option<escucha_core::values::Label>| l.as_ref().map(|v| v.to_string()).unwrap_or_default();
            let score = |s: Option<u8>| s.map(|v| v.to_string()).unwrap_or_default();
            let verbatim = match (&r.verbatim, personal) {
                (Some(text), true) => text.clone(),
                (Some(text), false) => crate::service::redaction::redact_text(text),
                (None, _) => String::new(),
            };
            let c = &r.context;
            out.write_record([
                r.id.0.to_string(),
                r.survey_id.0.to_string(),
                r.submitted_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                csv_cell(r.customer_external_id.as_deref().unwrap_or("")).into_owned(),
                csv_cell(&label(&c.region)).into_owned(),
                csv_cell(&label(&c.product)).into_owned(),
                csv_cell(&label(&c.channel)).into_owned(),
                csv_cell(&label(&c.team)).into_owned(),
                csv_cell(&c.employee_email.as_ref().map(|e| e.to_string()).unwrap_or_default()).into_owned(),
                csv_cell(&label(&c.touchpoint)).into_owned(),
                csv_cell(&label(&c.journey_stage)).into_owned(),
                csv_cell(&label(&r.segment)).into_owned(),
                r.language.as_ref().map(|l| l.to_string()).unwrap_or_default(),
                score(r.scores.nps),
                score(r.scores.csat),
                score(r.scores.ces),
                score(r.scores.cadv),
                csv_cell(&verbatim).into_owned(),
            ])
            .map_err(csv_error)?;
            rows += 1;
        }
        if rows > MAX_EXPORT_RESPONSES {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "export_too_large",
                format!("more than {MAX_EXPORT_RESPONSES} responses match; narrow the export with from and to"),
            ));
        }
    }
    let body = out.into_inner().map_err(|e| ApiError::internal(e.error()))?;
    let filters: serde_json::Map<String, serde_json::Value> =
        params.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    let detail = json!({"rows": rows, "filters": filters, "scope": caller.scope, "personal_data": personal});
    caller.audit(&state, "responses.export", None, detail).await?;
    Ok(super::audit::csv_attachment("responses", body))
}
