//! Erasure of one customer's personal data, shared by the data-subject request
//! (`DELETE /api/v1/customers/{external_id}`) and the retention rule for inactive customers:
//! contact data, external id, free-text answers, verbatims, feedback texts and case notes go;
//! scores, context and case outcomes stay, anonymous, so the metrics do not move.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use escucha_core::ids::{CustomerId, OrgId, SurveyId};
use escucha_core::response::Response;
use escucha_core::survey::{AnswerValue, Answers, Survey};
use escucha_store::{Store, StoreResult};

/// The most responses of one customer an erasure reaches (far above any real customer).
pub const ERASURE_RESPONSE_LIMIT: i64 = 10_000;

/// Responses' answers without their free text, reading each survey definition once (`surveys`
/// caches them across calls). Without a definition, only scores and option lists are kept.
pub async fn answers_without_free_text(
    store: &dyn Store,
    org: OrgId,
    responses: &[Response],
    surveys: &mut HashMap<SurveyId, Option<Survey>>,
) -> StoreResult<Vec<(escucha_core::ids::ResponseId, Answers)>> {
    let mut out = Vec::with_capacity(responses.len());
    for r in responses {
        if let std::collections::hash_map::Entry::Vacant(slot) = surveys.entry(r.survey_id) {
            slot.insert(store.survey(org, r.survey_id).await?);
        }
        let answers = match surveys.get(&r.survey_id).and_then(Option::as_ref) {
            Some(s) => s.definition.without_free_text(&r.answers),
            None => r
                .answers
                .iter()
                .filter(|(_, v)| !matches!(v, AnswerValue::Text(_)))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        };
        out.push((r.id, answers));
    }
    Ok(out)
}

/// Erases one customer in one store transaction; returns how many responses were redacted.
/// `NotFound` when the organisation has no such customer.
pub async fn erase_customer(
    store: &dyn Store,
    org: OrgId,
    customer: CustomerId,
    surveys: &mut HashMap<SurveyId, Option<Survey>>,
    at: DateTime<Utc>,
) -> StoreResult<usize> {
    let responses = store.responses_of_customer(org, customer, ERASURE_RESPONSE_LIMIT).await?;
    let redacted = answers_without_free_text(store, org, &responses, surveys).await?;
    store.erase_customer(org, customer, redacted, at).await?;
    Ok(responses.len())
}
