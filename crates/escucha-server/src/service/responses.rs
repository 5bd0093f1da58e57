//! Submitting a survey response: validate the answers against the survey, resolve the context,
//! decide whether it opens a case, and write it all in one transaction.

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

use escucha_analytics::ResponseFacts;
use escucha_core::case::{case_for_response, default_alert_rules};
use escucha_core::customer::Customer;
use escucha_core::ids::{CaseId, ResponseId, SurveyId};
use escucha_core::response::{ContextInput, NewResponse};
use escucha_core::validation::ValidationErrors;
use escucha_core::values::Language;
use escucha_store::{IdempotencyRecord, ResponseWrite};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// How far in the future a `submitted_at` may be (clock skew of the sender).
const MAX_CLOCK_SKEW_MINUTES: i64 = 5;

/// A response as clients send it (`POST /api/v1/responses`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseInput {
    /// Survey answered.
    pub survey_id: i64,
    /// Invitation answered.
    #[serde(default)]
    pub invitation_token: Option<String>,
    /// Respondent.
    #[serde(default)]
    pub customer_external_id: Option<String>,
    /// Answers by question id.
    pub answers: serde_json::Map<String, serde_json::Value>,
    /// Context.
    #[serde(default)]
    pub context: Option<ContextInput>,
    /// When submitted (default now).
    #[serde(default)]
    pub submitted_at: Option<DateTime<Utc>>,
    /// Language answered in (default: the customer's, else the survey's first).
    #[serde(default)]
    pub language: Option<String>,
}

/// What a stored response produced.
#[derive(Debug, Clone, Copy)]
pub struct Submitted {
    /// The response.
    pub id: ResponseId,
    /// The case it opened, if any.
    pub case_id: Option<CaseId>,
}

/// Validates and stores one response with its effects; on success the analytics index already
/// counts it.
pub async fn submit(
    state: &AppState,
    caller: &Caller,
    input: ResponseInput,
    idempotency: Option<IdempotencyRecord>,
    now: DateTime<Utc>,
) -> Result<Submitted, ApiError> {
    let org = caller.org_id;
    let store = state.store.as_ref();
    let survey = store.survey(org, SurveyId(input.survey_id)).await?.ok_or_else(|| {
        ApiError::from(ValidationErrors::one(
            "survey_id",
            "unknown_survey",
            format!("there is no survey {} in this organisation", input.survey_id),
        ))
    })?;
    if input.invitation_token.is_some() {
        return Err(
            ValidationErrors::one("invitation_token", "unknown_invitation", "no invitation has this token").into()
        );
    }
    let customer: Option<Customer> = match input.customer_external_id.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(ext) => Some(store.customer_by_external_id(org, ext).await?.ok_or_else(|| {
            ApiError::from(ValidationErrors::one(
                "customer_external_id",
                "unknown_customer",
                format!(
                    "there is no customer '{}'; create it first with PUT /api/v1/customers/{{external_id}}",
                    ext.chars().take(60).collect::<String>()
                ),
            ))
        })?),
    };
    let answers = survey.definition.parse_answers(&input.answers)?;
    let context =
        input.context.unwrap_or_default().parse()?.with_defaults(customer.as_ref(), survey.touchpoint.as_deref());
    let language = match input.language.as_deref() {
        Some(raw) => {
            let lang = Language::parse(raw)?;
            if !survey.definition.languages.iter().any(|l| l == lang.as_str() || l == lang.primary()) {
                return Err(ValidationErrors::one(
                    "language",
                    "unsupported_language",
                    format!("the survey is in {}", survey.definition.languages.join(", ")),
                )
                .into());
            }
            Some(lang)
        }
        None => customer
            .as_ref()
            .and_then(|c| c.language.clone())
            .or_else(|| survey.definition.languages.first().and_then(|l| Language::parse(l).ok())),
    };
    let submitted_at = input.submitted_at.unwrap_or(now);
    if submitted_at > now + Duration::minutes(MAX_CLOCK_SKEW_MINUTES) {
        return Err(ValidationErrors::one("submitted_at", "in_future", "submitted_at cannot be in the future").into());
    }
    let scores = survey.definition.metric_scores(&answers);
    let response = NewResponse {
        survey_id: survey.id,
        survey_version: survey.version,
        customer_id: customer.as_ref().map(|c| c.id),
        invitation_id: None,
        emotions: survey.definition.emotions(&answers),
        verbatim: survey.definition.verbatim(&answers),
        answers,
        scores,
        context,
        segment: customer.as_ref().and_then(|c| c.segment.clone()),
        language,
        submitted_at,
    };
    let case = match &customer {
        Some(c) => {
            let manager = match &c.owner_email {
                Some(owner) => store.user_by_email(org, owner).await?.and_then(|u| u.manager_email),
                None => None,
            };
            case_for_response(&default_alert_rules(), &scores, c, manager, None, now)
        }
        None => None,
    };
    let facts = facts_for(caller, &response, customer.as_ref());
    let written =
        store.insert_responses(org, vec![ResponseWrite { response, case, queue_jobs: true }], idempotency).await?;
    let (id, case_id) = *written
        .first()
        .ok_or_else(|| ApiError::internal(&escucha_store::StoreError::Corrupt("insert returned no id".into())))?;
    state.index.insert(&ResponseFacts { seq: id.0, ..facts });
    Ok(Submitted { id, case_id })
}

fn facts_for(caller: &Caller, r: &NewResponse, customer: Option<&Customer>) -> ResponseFacts {
    let label = |l: &Option<escucha_core::values::Label>| l.as_ref().map(|v| v.to_string());
    ResponseFacts {
        seq: 0,
        org_id: caller.org_id.0,
        survey_id: r.survey_id.0,
        submitted_at: r.submitted_at,
        region: label(&r.context.region),
        product: label(&r.context.product),
        channel: label(&r.context.channel),
        team: label(&r.context.team),
        employee: r.context.employee_email.as_ref().map(|e| e.to_string()),
        touchpoint: label(&r.context.touchpoint),
        journey_stage: label(&r.context.journey_stage),
        segment: label(&r.segment),
        language: r.language.as_ref().map(|l| l.to_string()),
        owner: customer.and_then(|c| c.owner_email.as_ref()).map(|e| e.to_string()),
        attributes: customer.map(|c| c.attributes.clone().into_iter().collect()).unwrap_or_default(),
        nps: r.scores.nps,
        csat: r.scores.csat,
        ces: r.scores.ces,
        cadv: r.scores.cadv,
    }
}
