//! `POST /api/v1/feedback`: customer voice logged by staff from calls, e-mails, conversations.

use super::RawBody;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use escucha_core::feedback::{FeedbackSource, NewFeedback, parse_feedback_text};
use escucha_core::validation::Collector;
use escucha_core::values::{Email, Label};

use super::idempotency::{self, Idempotency};
use crate::auth::Caller;
use crate::error::{ApiError, parse_json};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FeedbackInput {
    text: String,
    source: String,
    customer_external_id: Option<String>,
    captured_by_email: Option<String>,
    touchpoint: Option<String>,
    occurred_at: Option<DateTime<Utc>>,
}

/// Stores a feedback item; 201 `{id}`.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let store = state.store.as_ref();
    let idem = idempotency::check(store, caller.org_id, &headers, "POST /api/v1/feedback", &body, "feedback").await?;
    if let Idempotency::Replay(earlier) = &idem {
        return Ok((StatusCode::CREATED, Json(json!({"id": earlier.resource_id}))));
    }
    let input: FeedbackInput = parse_json(&body)?;
    let now = Utc::now();
    let mut errors = Collector::default();
    let text = errors.take(parse_feedback_text(&input.text));
    let source = errors.take(FeedbackSource::parse(&input.source));
    let captured_by_email = input
        .captured_by_email
        .and_then(|e| errors.take(Email::parse(&e).map_err(|e| e.prefixed("captured_by_email"))));
    let touchpoint = input.touchpoint.and_then(|t| errors.take(Label::parse(&t).map_err(|e| e.prefixed("touchpoint"))));
    if input.occurred_at.is_some_and(|t| t > now + chrono::Duration::minutes(5)) {
        errors.push("occurred_at", "in_future", "occurred_at cannot be in the future");
    }
    let customer_id = match input.customer_external_id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(ext) => match store.customer_by_external_id(caller.org_id, ext).await? {
            Some(c) => Some(c.id),
            None => {
                errors.push("customer_external_id", "unknown_customer", "there is no customer with that external id");
                None
            }
        },
        None => None,
    };
    let item = errors.finish(|| NewFeedback {
        text: text.unwrap_or_default(),
        source: source.unwrap_or(FeedbackSource::Other),
        customer_id,
        captured_by_email,
        touchpoint,
        occurred_at: input.occurred_at.unwrap_or(now),
    })?;
    match store.insert_feedback(caller.org_id, item, idem.record()).await {
        Ok(f) => Ok((StatusCode::CREATED, Json(json!({"id": f.id})))),
        Err(e) => {
            let earlier = idempotency::replay_after_conflict(store, caller.org_id, &idem, e).await?;
            Ok((StatusCode::CREATED, Json(json!({"id": earlier.resource_id}))))
        }
    }
}
