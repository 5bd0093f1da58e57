//! Survey responses with the context that makes them actionable (where, what, who served), and
//! invitations that ask a customer to answer.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::customer::Customer;
use crate::emotions::Emotion;
use crate::ids::{CustomerId, InvitationId, OrgId, ResponseId, SurveyId};
use crate::survey::{Answers, MetricScores};
use crate::validation::{Collector, ValidationErrors};
use crate::values::{Email, Label, Language};

/// Where and through whom the experience happened; the dimensions of every metric.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ResponseContext {
    /// Region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<Label>,
    /// Product or service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<Label>,
    /// Channel of the experience (web, phone, store…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Label>,
    /// Team that served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<Label>,
    /// Employee who served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub employee_email: Option<Email>,
    /// Touchpoint key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub touchpoint: Option<Label>,
    /// Journey stage key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub journey_stage: Option<Label>,
}

/// The context as clients send it; unknown fields are refused.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextInput {
    /// Region.
    pub region: Option<String>,
    /// Product.
    pub product: Option<String>,
    /// Channel.
    pub channel: Option<String>,
    /// Team.
    pub team: Option<String>,
    /// Employee e-mail.
    pub employee_email: Option<String>,
    /// Touchpoint key.
    pub touchpoint: Option<String>,
    /// Journey stage key.
    pub journey_stage: Option<String>,
}

impl ContextInput {
    /// Parses every field, reporting all problems under `context.`.
    pub fn parse(self) -> Result<ResponseContext, ValidationErrors> {
        let mut errors = Collector::default();
        let mut label = |name: &str, v: Option<String>| -> Option<Label> {
            let v = v.filter(|s| !s.trim().is_empty())?;
            errors.take(Label::parse(&v).map_err(|e| e.prefixed(&format!("context.{name}"))))
        };
        let region = label("region", self.region);
        let product = label("product", self.product);
        let channel = label("channel", self.channel);
        let team = label("team", self.team);
        let touchpoint = label("touchpoint", self.touchpoint);
        let journey_stage = label("journey_stage", self.journey_stage);
        let employee_email = self
            .employee_email
            .filter(|s| !s.trim().is_empty())
            .and_then(|e| errors.take(Email::parse(&e).map_err(|e| e.prefixed("context.employee_email"))));
        errors.finish(|| ResponseContext { region, product, channel, team, employee_email, touchpoint, journey_stage })
    }
}

impl ResponseContext {
    /// Fills gaps from the customer (region) and the survey (touchpoint), so every response can
    /// be cut by those dimensions even when the sender did not repeat them.
    pub fn with_defaults(mut self, customer: Option<&Customer>, survey_touchpoint: Option<&str>) -> Self {
        if self.region.is_none() {
            self.region = customer.and_then(|c| c.region.clone());
        }
        if self.touchpoint.is_none() {
            self.touchpoint = survey_touchpoint.and_then(|t| Label::parse(t).ok());
        }
        self
    }
}

/// A response ready to be stored: validated answers plus everything derived from them.
#[derive(Debug, Clone, PartialEq)]
pub struct NewResponse {
    /// Survey answered.
    pub survey_id: SurveyId,
    /// Version of the definition answered.
    pub survey_version: i32,
    /// Respondent, when known.
    pub customer_id: Option<CustomerId>,
    /// Invitation answered, when any.
    pub invitation_id: Option<InvitationId>,
    /// Validated answers.
    pub answers: Answers,
    /// Scores for the metrics.
    pub scores: MetricScores,
    /// Emotions picked (for NEV).
    pub emotions: Vec<Emotion>,
    /// Joined open-text answers.
    pub verbatim: Option<String>,
    /// Resolved context.
    pub context: ResponseContext,
    /// Customer segment at the time of answering.
    pub segment: Option<Label>,
    /// Language answered in.
    pub language: Option<Language>,
    /// When the respondent submitted.
    pub submitted_at: DateTime<Utc>,
}

/// A stored response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response {
    /// Store id, increasing in commit order within one process.
    pub id: ResponseId,
    /// Owning organisation.
    pub org_id: OrgId,
    /// Survey answered.
    pub survey_id: SurveyId,
    /// Version of the definition answered.
    pub survey_version: i32,
    /// Respondent, when known.
    pub customer_id: Option<CustomerId>,
    /// Respondent's external id, when known.
    pub customer_external_id: Option<String>,
    /// Invitation answered, when any.
    pub invitation_id: Option<InvitationId>,
    /// Answers.
    pub answers: Answers,
    /// Scores.
    pub scores: MetricScores,
    /// Emotions picked.
    pub emotions: Vec<Emotion>,
    /// Verbatim.
    pub verbatim: Option<String>,
    /// Context.
    pub context: ResponseContext,
    /// Segment.
    pub segment: Option<Label>,
    /// Language.
    pub language: Option<Language>,
    /// When submitted.
    pub submitted_at: DateTime<Utc>,
    /// When stored.
    pub created_at: DateTime<Utc>,
}

/// How an invitation reaches the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitationChannel {
    /// Personal e-mail with reminders.
    Email,
    /// A personal link the caller distributes.
    Link,
    /// An employee enters the answers during a call or visit.
    Interview,
}

impl InvitationChannel {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            InvitationChannel::Email => "email",
            InvitationChannel::Link => "link",
            InvitationChannel::Interview => "interview",
        }
    }
}

/// One metric's most recent answer by a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LatestScore {
    /// The answer.
    pub value: u8,
    /// When it was given.
    pub submitted_at: DateTime<Utc>,
    /// The response that carried it.
    pub response_id: ResponseId,
}

/// A customer's latest answer to each metric, for their profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct LatestScores {
    /// Latest NPS answer (0–10).
    pub nps: Option<LatestScore>,
    /// Latest CSAT answer (1–5).
    pub csat: Option<LatestScore>,
    /// Latest CES answer (1–7).
    pub ces: Option<LatestScore>,
    /// Latest advocacy answer (1–5).
    pub cadv: Option<LatestScore>,
}

impl LatestScores {
    /// Picks, for each metric, the newest response that answered it (ties: the higher id).
    pub fn from_responses(responses: &[Response]) -> Self {
        let pick = |get: fn(&MetricScores) -> Option<u8>| {
            responses
                .iter()
                .filter_map(|r| get(&r.scores).map(|v| (r, v)))
                .max_by_key(|(r, _)| (r.submitted_at, r.id))
                .map(|(r, value)| LatestScore { value, submitted_at: r.submitted_at, response_id: r.id })
        };
        LatestScores { nps: pick(|s| s.nps), csat: pick(|s| s.csat), ces: pick(|s| s.ces), cadv: pick(|s| s.cadv) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn response(id: i64, day: u32, nps: Option<u8>, csat: Option<u8>) -> Response {
        Response {
            id: ResponseId(id),
            org_id: OrgId(1),
            survey_id: SurveyId(1),
            survey_version: 1,
            customer_id: Some(CustomerId(1)),
            customer_external_id: Some("C1".into()),
            invitation_id: None,
            answers: Default::default(),
            scores: MetricScores { nps, csat, ..Default::default() },
            emotions: vec![],
            verbatim: None,
            context: Default::default(),
            segment: None,
            language: None,
            submitted_at: Utc.with_ymd_and_hms(2026, 1, day, 12, 0, 0).unwrap(),
            created_at: Utc.with_ymd_and_hms(2026, 1, day, 12, 0, 0).unwrap(),
        }
    }

    #[test]
    fn latest_scores_take_the_newest_answer_of_each_metric() {
        let rs = [response(1, 1, Some(9), Some(5)), response(3, 3, Some(2), None), response(2, 2, None, Some(1))];
        let l = LatestScores::from_responses(&rs);
        assert_eq!(l.nps.map(|s| (s.value, s.response_id)), Some((2, ResponseId(3))));
        assert_eq!(l.csat.map(|s| (s.value, s.response_id)), Some((1, ResponseId(2))));
        assert_eq!(l.ces, None);
        assert_eq!(LatestScores::from_responses(&[]), LatestScores::default());
    }
}
