//! `PUT /api/v1/customers/{external_id}` (upsert), `GET /api/v1/customers/{external_id}`.

use super::Path;
use super::RawBody;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use escucha_core::customer::{Customer, CustomerPatch};
use escucha_core::response::LatestScores;
use escucha_core::values::ExternalId;

use crate::auth::Caller;
use crate::error::{ApiError, parse_json};
use crate::state::AppState;

/// The API view of a customer for a caller: without the `read_personal_data` permission the
/// contact fields (name, e-mail, phone) are left out and `personal_data_hidden` says so.
pub fn view_for(caller: &Caller, c: &Customer) -> Value {
    let mut v = view(c);
    if !caller.sees_personal_data()
        && let Some(map) = v.as_object_mut()
    {
        for field in ["name", "email", "phone"] {
            map.remove(field);
        }
        map.insert("personal_data_hidden".into(), json!(true));
    }
    v
}

/// The full API view of a customer.
pub fn view(c: &Customer) -> Value {
    json!({
        "external_id": c.external_id,
        "name": c.name,
        "email": c.email,
        "phone": c.phone,
        "language": c.language,
        "region": c.region,
        "segment": c.segment,
        "lifecycle_stage": c.lifecycle_stage,
        "annual_value": c.annual_value,
        "owner_email": c.owner_email,
        "attributes": c.attributes,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
    })
}

/// Creates (201) or updates (200) a customer; absent fields are kept, `null` clears.
pub async fn upsert(
    State(state): State<AppState>,
    caller: Caller,
    Path(external_id): Path<String>,
    RawBody(body): RawBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let external_id = ExternalId::parse(&external_id)?;
    // An existing customer outside the caller's scope reads as absent, so it cannot be changed
    // either (a new one may be created).
    if let Some(existing) = state.store.customer_by_external_id(caller.org_id, external_id.as_str()).await?
        && !in_scope(&state, &caller, &existing).await?
    {
        return Err(ApiError::not_found("not_found", format!("there is no customer '{external_id}'")));
    }
    let map: serde_json::Map<String, Value> = if body.is_empty() { Default::default() } else { parse_json(&body)? };
    let patch = CustomerPatch::from_json(&map)?;
    let mut done = state.store.upsert_customers(caller.org_id, vec![(external_id, patch)], chrono::Utc::now()).await?;
    let (customer, created) = done
        .pop()
        .ok_or_else(|| ApiError::internal(&escucha_store::StoreError::Corrupt("upsert returned nothing".into())))?;
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(view_for(&caller, &customer))))
}

/// The customer with this external id, if it is inside the caller's data scope; out of scope
/// reads as absent (404), with no hint that the customer exists.
async fn scoped_customer(state: &AppState, caller: &Caller, external_id: &str) -> Result<Customer, ApiError> {
    let not_found = || {
        ApiError::not_found(
            "not_found",
            format!("there is no customer '{}'", external_id.chars().take(60).collect::<String>()),
        )
    };
    let c = state.store.customer_by_external_id(caller.org_id, external_id).await?.ok_or_else(not_found)?;
    if in_scope(state, caller, &c).await? { Ok(c) } else { Err(not_found()) }
}

/// True when the customer is inside the caller's data scope.
async fn in_scope(state: &AppState, caller: &Caller, c: &Customer) -> Result<bool, ApiError> {
    caller.sees(state, c.region.as_ref().map(|r| r.as_str()), None, c.owner_email.as_ref().map(|e| e.as_str())).await
}

/// `GET /api/v1/customers?email=…`: the customers with that e-mail inside the caller's scope,
/// found through the blind index (no decryption of anyone else). Needs `read_personal_data`;
/// audited without the e-mail itself.
pub async fn lookup(
    State(state): State<AppState>,
    caller: Caller,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> Result<Json<Value>, ApiError> {
    let params = super::metrics::query_pairs(raw)?;
    super::only_params(&params, &["email"])?;
    let email = params
        .iter()
        .find(|(k, _)| k == "email")
        .map(|(_, v)| v.as_str())
        .ok_or_else(|| ApiError::bad_request("missing_parameter", "give the e-mail to look up: ?email=…"))?;
    let email = escucha_core::values::Email::parse(email)
        .map_err(|e| ApiError::bad_request("invalid_parameter", e.to_string()))?;
    let mut items = Vec::new();
    for c in state.store.customers_by_email(caller.org_id, &email).await? {
        if in_scope(&state, &caller, &c).await? {
            items.push(c);
        }
    }
    let targets: Vec<String> = items.iter().map(|c| c.external_id.to_string()).collect();
    caller.audit(&state, "customer.lookup", None, json!({"by": "email", "found": targets})).await?;
    Ok(Json(json!({"items": items.iter().map(|c| view_for(&caller, c)).collect::<Vec<_>>(), "next_cursor": null})))
}

/// How many of a customer's latest responses are read for the profile.
const PROFILE_RESPONSES: i64 = 200;

/// One customer, with the latest answer to each metric.
pub async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(external_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let c = scoped_customer(&state, &caller, &external_id).await?;
    let responses = state.store.responses_of_customer(caller.org_id, c.id, PROFILE_RESPONSES).await?;
    caller.audit(&state, "customer.view", Some(format!("customer:{}", c.external_id)), json!({})).await?;
    let mut v = view_for(&caller, &c);
    v["latest_scores"] = json!(LatestScores::from_responses(&responses));
    Ok(Json(v))
}

/// Most records of each kind an export holds.
const EXPORT_LIMIT: i64 = 10_000;

/// Everything held about one customer (data-subject access): the record, every response with
/// its answers, every case and every feedback item. Admins only; recorded in the audit log.
pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    Path(external_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let c = scoped_customer(&state, &caller, &external_id).await?;
    let store = state.store.as_ref();
    let responses = store.responses_of_customer(caller.org_id, c.id, EXPORT_LIMIT).await?;
    let cases = store.cases_of_customer(caller.org_id, c.id, EXPORT_LIMIT).await?;
    let feedback = store.feedback_of_customer(caller.org_id, c.id, EXPORT_LIMIT).await?;
    let counts = json!({"responses": responses.len(), "cases": cases.len(), "feedback": feedback.len()});
    caller.audit(&state, "customer.export", Some(format!("customer:{}", c.external_id)), counts).await?;
    Ok(Json(json!({
        "exported_at": chrono::Utc::now(),
        "customer": view(&c),
        "responses": responses.iter().map(|r| json!({
            "id": r.id, "survey_id": r.survey_id, "submitted_at": r.submitted_at, "language": r.language,
            "answers": r.answers, "context": r.context, "emotions": r.emotions,
        })).collect::<Vec<_>>(),
        "cases": cases.iter().map(super::cases::view).collect::<Vec<_>>(),
        "feedback": feedback.iter().map(|f| json!({
            "id": f.id, "text": f.text, "source": f.source, "captured_by_email": f.captured_by_email,
            "touchpoint": f.touchpoint, "occurred_at": f.occurred_at,
        })).collect::<Vec<_>>(),
    })))
}

/// Erasure on request: the customer's personal data is destroyed, their scores stay anonymous
/// (metrics do not move); 204. Admins only; recorded in the audit log.
pub async fn erase(
    State(state): State<AppState>,
    caller: Caller,
    Path(external_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let c = scoped_customer(&state, &caller, &external_id).await?;
    let mut surveys = std::collections::HashMap::new();
    let responses = crate::service::erasure::erase_customer(
        state.store.as_ref(),
        caller.org_id,
        c.id,
        &mut surveys,
        chrono::Utc::now(),
    )
    .await?;
    // The audit names the store id, not the external id that was just erased.
    caller
        .audit(&state, "customer.erase", Some(format!("customer_id:{}", c.id)), json!({"responses": responses}))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
