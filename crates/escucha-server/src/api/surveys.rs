//! `POST /api/v1/surveys`, `GET /api/v1/surveys`, `GET /api/v1/surveys/{id}`.

use super::Path;
use super::RawBody;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use escucha_core::ids::SurveyId;
use escucha_core::survey::{Survey, SurveyInput};
use escucha_store::NewSurvey;

use super::idempotency::{self, Idempotency};
use crate::auth::Caller;
use crate::error::{ApiError, parse_json};
use crate::state::AppState;

fn view(s: &Survey) -> Value {
    json!({
        "id": s.id,
        "name": s.name,
        "version": s.version,
        "languages": s.definition.languages,
        "questions": s.definition.questions,
        "touchpoint": s.touchpoint,
        "created_at": s.created_at,
    })
}

/// Creates a survey from a definition; every problem in it is reported at once (422).
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let store = state.store.as_ref();
    let idem = idempotency::check(store, caller.org_id, &headers, "POST /api/v1/surveys", &body, "survey").await?;
    if let Idempotency::Replay(earlier) = &idem {
        return existing(&state, &caller, earlier.resource_id).await;
    }
    let input: SurveyInput = parse_json(&body)?;
    let (name, definition, touchpoint) = input.parse()?;
    let new = NewSurvey { name, definition, touchpoint, created_at: chrono::Utc::now() };
    match store.create_survey(caller.org_id, new, idem.record()).await {
        Ok(s) => {
            caller.audit(&state, "survey.create", Some(format!("survey:{}", s.id)), json!({"name": s.name})).await?;
            Ok((StatusCode::CREATED, Json(view(&s))))
        }
        Err(e) => {
            let earlier = idempotency::replay_after_conflict(store, caller.org_id, &idem, e).await?;
            existing(&state, &caller, earlier.resource_id).await
        }
    }
}

async fn existing(state: &AppState, caller: &Caller, id: i64) -> Result<(StatusCode, Json<Value>), ApiError> {
    let s = state
        .store
        .survey(caller.org_id, SurveyId(id))
        .await?
        .ok_or_else(|| ApiError::not_found("not_found", format!("there is no survey {id}")))?;
    Ok((StatusCode::CREATED, Json(view(&s))))
}

/// One survey with its current definition.
pub async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = super::parse_id(&id, "survey")?;
    let s = state
        .store
        .survey(caller.org_id, SurveyId(id))
        .await?
        .ok_or_else(|| ApiError::not_found("not_found", format!("there is no survey {id}")))?;
    Ok(Json(view(&s)))
}

/// All surveys, newest first.
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let surveys = state.store.list_surveys(caller.org_id).await?;
    Ok(Json(json!({"items": surveys.iter().map(view).collect::<Vec<_>>(), "next_cursor": null})))
}
