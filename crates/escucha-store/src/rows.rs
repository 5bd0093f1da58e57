//! Rows as the database returns them (plain column types, the same on both backends) and their
//! conversion into domain values. Stored text is parsed again with the domain's parsers, so a
//! manual edit that breaks a rule surfaces as [`StoreError::Corrupt`] instead of a panic.

use sqlx::types::Json;

use escucha_core::case::{Case, CaseNote, CaseStatus, Priority};
use escucha_core::customer::Customer;
use escucha_core::emotions::Emotion;
use escucha_core::feedback::{Feedback, FeedbackSource};
use escucha_core::ids::{
    CaseId, CustomerId, FeedbackId, InvitationId, JobId, JourneyId, OrgId, ResponseId, SurveyId, TokenId, UserId,
};
use escucha_core::job::{Job, JobKind, JobStatus};
use escucha_core::journey::{Journey, Stage};
use escucha_core::org::{Organisation, Role, User};
use escucha_core::response::{Response, ResponseContext};
use escucha_core::survey::{Answers, MetricScores, Survey, SurveyDefinition};
use escucha_core::values::{Email, ExternalId, Label, Language, Slug};

use crate::codec::{Ts, parse_stored, parse_stored_opt, score};
use crate::{ApiToken, Attributes, IdempotentResult, IndexRow, StoreError};

fn label(what: &str, raw: Option<String>) -> Result<Option<Label>, StoreError> {
    parse_stored_opt(what, raw, Label::parse)
}

fn email(what: &str, raw: Option<String>) -> Result<Option<Email>, StoreError> {
    parse_stored_opt(what, raw, Email::parse)
}

fn role(raw: &str) -> Result<Role, StoreError> {
    parse_stored("role", raw, Role::parse)
}

/// `orgs` row.
#[derive(sqlx::FromRow)]
pub(crate) struct OrgRow {
    pub id: i64,
    pub slug: String,
    pub name: String,
}

impl TryFrom<OrgRow> for Organisation {
    type Error = StoreError;
    fn try_from(r: OrgRow) -> Result<Self, StoreError> {
        Ok(Organisation {
            id: OrgId(r.id),
            slug: parse_stored("slug", &r.slug, Slug::parse)?,
            name: parse_stored("organisation name", &r.name, Label::parse)?,
        })
    }
}

/// `users` row (without the password hash).
#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    pub id: i64,
    pub org_id: i64,
    pub email: String,
    pub name: Option<String>,
    pub role: String,
    pub manager_email: Option<String>,
    pub team: Option<String>,
    pub region: Option<String>,
    pub custom_role: Option<String>,
    pub scope: Option<String>,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(r: UserRow) -> Result<Self, StoreError> {
        Ok(User {
            id: UserId(r.id),
            org_id: OrgId(r.org_id),
            email: parse_stored("user e-mail", &r.email, Email::parse)?,
            name: label("user name", r.name)?,
            role: role(&r.role)?,
            manager_email: email("manager e-mail", r.manager_email)?,
            team: label("team", r.team)?,
            region: label("region", r.region)?,
            custom_role: r.custom_role,
            scope: r
                .scope
                .map(|s| serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(format!("user scope '{s}': {e}"))))
                .transpose()?,
        })
    }
}

/// `api_tokens` row.
#[derive(sqlx::FromRow)]
pub(crate) struct TokenRow {
    pub id: i64,
    pub org_id: i64,
    pub name: String,
    pub role: String,
    pub user_id: Option<i64>,
    pub expires_at: Option<Ts>,
    pub last_used_at: Option<Ts>,
    pub created_at: Ts,
    pub scopes: Option<String>,
}

impl TryFrom<TokenRow> for ApiToken {
    type Error = StoreError;
    fn try_from(r: TokenRow) -> Result<Self, StoreError> {
        Ok(ApiToken {
            id: TokenId(r.id),
            org_id: OrgId(r.org_id),
            name: r.name,
            role: role(&r.role)?,
            user_id: r.user_id.map(UserId),
            expires_at: r.expires_at.map(|t| t.0),
            last_used_at: r.last_used_at.map(|t| t.0),
            created_at: r.created_at.0,
            scopes: match r.scopes {
                None => vec![escucha_core::access::TokenScope::Admin],
                Some(s) => {
                    serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(format!("token scopes '{s}': {e}")))?
                }
            },
        })
    }
}

/// `customers` row.
#[derive(sqlx::FromRow)]
pub(crate) struct CustomerRow {
    pub id: i64,
    pub org_id: i64,
    pub external_id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub language: Option<String>,
    pub region: Option<String>,
    pub segment: Option<String>,
    pub lifecycle_stage: Option<String>,
    pub annual_value: Option<f64>,
    pub owner_email: Option<String>,
    pub attributes: Json<Attributes>,
    pub erased_at: Option<Ts>,
    pub created_at: Ts,
    pub updated_at: Ts,
}

impl TryFrom<CustomerRow> for Customer {
    type Error = StoreError;
    fn try_from(r: CustomerRow) -> Result<Self, StoreError> {
        Ok(Customer {
            id: CustomerId(r.id),
            org_id: OrgId(r.org_id),
            external_id: parse_stored("external id", &r.external_id, ExternalId::parse)?,
            name: r.name,
            email: email("customer e-mail", r.email)?,
            phone: r.phone,
            language: parse_stored_opt("language", r.language, Language::parse)?,
            region: label("region", r.region)?,
            segment: label("segment", r.segment)?,
            lifecycle_stage: label("lifecycle stage", r.lifecycle_stage)?,
            annual_value: r.annual_value,
            owner_email: email("owner e-mail", r.owner_email)?,
            attributes: r.attributes.0,
            erased_at: r.erased_at.map(|t| t.0),
            created_at: r.created_at.0,
            updated_at: r.updated_at.0,
        })
    }
}

/// `journeys` row.
#[derive(sqlx::FromRow)]
pub(crate) struct JourneyRow {
    pub id: i64,
    pub org_id: i64,
    pub key: String,
    pub name: String,
    pub stages: Json<Vec<Stage>>,
}

impl From<JourneyRow> for Journey {
    fn from(r: JourneyRow) -> Self {
        Journey { id: JourneyId(r.id), org_id: OrgId(r.org_id), key: r.key, name: r.name, stages: r.stages.0 }
    }
}

/// `surveys` row.
#[derive(sqlx::FromRow)]
pub(crate) struct SurveyRow {
    pub id: i64,
    pub org_id: i64,
    pub name: String,
    pub version: i32,
    pub definition: Json<SurveyDefinition>,
    pub touchpoint: Option<String>,
    pub created_at: Ts,
}

impl From<SurveyRow> for Survey {
    fn from(r: SurveyRow) -> Self {
        Survey {
            id: SurveyId(r.id),
            org_id: OrgId(r.org_id),
            name: r.name,
            version: r.version,
            definition: r.definition.0,
            touchpoint: r.touchpoint,
            created_at: r.created_at.0,
        }
    }
}

/// The context and score columns a response row shares with the analytics feed.
#[derive(sqlx::FromRow)]
pub(crate) struct ContextCols {
    pub region: Option<String>,
    pub product: Option<String>,
    pub channel: Option<String>,
    pub team: Option<String>,
    pub employee_email: Option<String>,
    pub touchpoint: Option<String>,
    pub journey_stage: Option<String>,
    pub segment: Option<String>,
    pub language: Option<String>,
    pub nps: Option<i16>,
    pub csat: Option<i16>,
    pub ces: Option<i16>,
    pub cadv: Option<i16>,
    pub repurchase: Option<i16>,
}

impl ContextCols {
    fn scores(&self) -> Result<MetricScores, StoreError> {
        Ok(MetricScores {
            nps: score("nps", self.nps)?,
            csat: score("csat", self.csat)?,
            ces: score("ces", self.ces)?,
            cadv: score("cadv", self.cadv)?,
            repurchase: score("repurchase", self.repurchase)?,
        })
    }
}

/// `responses` row joined with the customer's external id.
#[derive(sqlx::FromRow)]
pub(crate) struct ResponseRow {
    pub id: i64,
    pub org_id: i64,
    pub survey_id: i64,
    pub survey_version: i32,
    pub customer_id: Option<i64>,
    pub customer_external_id: Option<String>,
    pub invitation_id: Option<i64>,
    pub answers: Json<Answers>,
    #[sqlx(flatten)]
    pub cols: ContextCols,
    pub emotions: Json<Vec<Emotion>>,
    pub verbatim: Option<String>,
    pub submitted_at: Ts,
    pub created_at: Ts,
}

impl TryFrom<ResponseRow> for Response {
    type Error = StoreError;
    fn try_from(r: ResponseRow) -> Result<Self, StoreError> {
        let scores = r.cols.scores()?;
        let c = r.cols;
        Ok(Response {
            id: ResponseId(r.id),
            org_id: OrgId(r.org_id),
            survey_id: SurveyId(r.survey_id),
            survey_version: r.survey_version,
            customer_id: r.customer_id.map(CustomerId),
            customer_external_id: r.customer_external_id,
            invitation_id: r.invitation_id.map(InvitationId),
            answers: r.answers.0,
            scores,
            emotions: r.emotions.0,
            verbatim: r.verbatim,
            context: ResponseContext {
                region: label("region", c.region)?,
                product: label("product", c.product)?,
                channel: label("channel", c.channel)?,
                team: label("team", c.team)?,
                employee_email: email("employee e-mail", c.employee_email)?,
                touchpoint: label("touchpoint", c.touchpoint)?,
                journey_stage: label("journey stage", c.journey_stage)?,
            },
            segment: label("segment", c.segment)?,
            language: parse_stored_opt("language", c.language, Language::parse)?,
            submitted_at: r.submitted_at.0,
            created_at: r.created_at.0,
        })
    }
}

/// The analytics feed row: a response with its customer's attributes.
#[derive(sqlx::FromRow)]
pub(crate) struct IndexFeedRow {
    pub id: i64,
    pub org_id: i64,
    pub survey_id: i64,
    pub submitted_at: Ts,
    #[sqlx(flatten)]
    pub cols: ContextCols,
    pub attributes: Option<Json<Attributes>>,
    pub owner_email: Option<String>,
}

impl TryFrom<IndexFeedRow> for IndexRow {
    type Error = StoreError;
    fn try_from(r: IndexFeedRow) -> Result<Self, StoreError> {
        let scores = r.cols.scores()?;
        let c = r.cols;
        Ok(IndexRow {
            id: r.id,
            org_id: OrgId(r.org_id),
            survey_id: r.survey_id,
            submitted_at: r.submitted_at.0,
            region: c.region,
            product: c.product,
            channel: c.channel,
            team: c.team,
            employee: c.employee_email,
            touchpoint: c.touchpoint,
            journey_stage: c.journey_stage,
            segment: c.segment,
            language: c.language,
            attributes: r.attributes.map(|a| a.0).unwrap_or_default(),
            owner: r.owner_email,
            scores,
        })
    }
}

/// `feedback` row.
#[derive(sqlx::FromRow)]
pub(crate) struct FeedbackRow {
    pub id: i64,
    pub org_id: i64,
    pub text: String,
    pub source: String,
    pub customer_id: Option<i64>,
    pub captured_by_email: Option<String>,
    pub touchpoint: Option<String>,
    pub occurred_at: Ts,
    pub created_at: Ts,
}

impl TryFrom<FeedbackRow> for Feedback {
    type Error = StoreError;
    fn try_from(r: FeedbackRow) -> Result<Self, StoreError> {
        Ok(Feedback {
            id: FeedbackId(r.id),
            org_id: OrgId(r.org_id),
            text: r.text,
            source: parse_stored("feedback source", &r.source, FeedbackSource::parse)?,
            customer_id: r.customer_id.map(CustomerId),
            captured_by_email: email("captured-by e-mail", r.captured_by_email)?,
            touchpoint: label("touchpoint", r.touchpoint)?,
            occurred_at: r.occurred_at.0,
            created_at: r.created_at.0,
        })
    }
}

/// `cases` row joined with the customer's external id.
#[derive(sqlx::FromRow)]
pub(crate) struct CaseRow {
    pub id: i64,
    pub org_id: i64,
    pub customer_id: i64,
    pub customer_external_id: String,
    pub response_id: Option<i64>,
    pub owner_email: String,
    pub manager_email: Option<String>,
    pub reason: String,
    pub priority: String,
    pub status: String,
    pub due_at: Ts,
    pub root_cause: Option<String>,
    pub resolution: Option<String>,
    pub notes: Json<Vec<CaseNote>>,
    pub created_at: Ts,
    pub updated_at: Ts,
    pub closed_at: Option<Ts>,
}

/// Parses a stored priority.
pub(crate) fn priority(raw: &str) -> Result<Priority, StoreError> {
    [Priority::Normal, Priority::High]
        .into_iter()
        .find(|p| p.as_str() == raw)
        .ok_or_else(|| StoreError::Corrupt(format!("stored priority '{raw}' is invalid")))
}

impl TryFrom<CaseRow> for Case {
    type Error = StoreError;
    fn try_from(r: CaseRow) -> Result<Self, StoreError> {
        Ok(Case {
            id: CaseId(r.id),
            org_id: OrgId(r.org_id),
            customer_id: CustomerId(r.customer_id),
            customer_external_id: r.customer_external_id,
            response_id: r.response_id.map(ResponseId),
            owner_email: parse_stored("owner e-mail", &r.owner_email, Email::parse)?,
            manager_email: email("manager e-mail", r.manager_email)?,
            reason: r.reason,
            priority: priority(&r.priority)?,
            status: parse_stored("case status", &r.status, CaseStatus::parse)?,
            due_at: r.due_at.0,
            root_cause: r.root_cause,
            resolution: r.resolution,
            notes: r.notes.0,
            created_at: r.created_at.0,
            updated_at: r.updated_at.0,
            closed_at: r.closed_at.map(|t| t.0),
        })
    }
}

/// `jobs` row.
#[derive(sqlx::FromRow)]
pub(crate) struct JobRow {
    pub id: i64,
    pub org_id: i64,
    pub kind: String,
    pub payload: Json<JobKind>,
    pub status: String,
    pub attempts: i32,
    pub run_at: Ts,
    pub last_error: Option<String>,
    pub created_at: Ts,
}

impl TryFrom<JobRow> for Job {
    type Error = StoreError;
    fn try_from(r: JobRow) -> Result<Self, StoreError> {
        let kind = r.payload.0;
        if kind.name() != r.kind {
            return Err(StoreError::Corrupt(format!(
                "job {} has kind column '{}' but a '{}' payload",
                r.id,
                r.kind,
                kind.name()
            )));
        }
        Ok(Job {
            id: JobId(r.id),
            org_id: OrgId(r.org_id),
            kind,
            status: JobStatus::parse(&r.status)
                .ok_or_else(|| StoreError::Corrupt(format!("stored job status '{}' is invalid", r.status)))?,
            attempts: r.attempts,
            run_at: r.run_at.0,
            last_error: r.last_error,
            created_at: r.created_at.0,
        })
    }
}

/// `idempotency` row.
#[derive(sqlx::FromRow)]
pub(crate) struct IdempotencyRow {
    pub request_hash: String,
    pub resource: String,
    pub resource_id: i64,
}

impl From<IdempotencyRow> for IdempotentResult {
    fn from(r: IdempotencyRow) -> Self {
        IdempotentResult { request_hash: r.request_hash, resource: r.resource, resource_id: r.resource_id }
    }
}

/// Converts every row, stopping at the first corrupt one.
pub(crate) fn convert_all<R, T>(rows: Vec<R>) -> Result<Vec<T>, StoreError>
where
    T: TryFrom<R, Error = StoreError>,
{
    rows.into_iter().map(T::try_from).collect()
}

/// `audit_log` row.
#[derive(sqlx::FromRow)]
pub(crate) struct AuditRow {
    pub id: i64,
    pub at: Ts,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub detail: Json<serde_json::Value>,
    pub ip: Option<String>,
}

impl From<AuditRow> for crate::AuditEntry {
    fn from(r: AuditRow) -> Self {
        crate::AuditEntry {
            id: r.id,
            at: r.at.0,
            actor: r.actor,
            action: r.action,
            target: r.target,
            detail: r.detail.0,
            ip: r.ip,
        }
    }
}

/// `api_tokens` row joined with the user it acts as (`u_` columns, null without one).
#[derive(sqlx::FromRow)]
pub(crate) struct TokenUserRow {
    #[sqlx(flatten)]
    pub token: TokenRow,
    pub u_email: Option<String>,
    pub u_name: Option<String>,
    pub u_role: Option<String>,
    pub u_manager_email: Option<String>,
    pub u_team: Option<String>,
    pub u_region: Option<String>,
    pub u_custom_role: Option<String>,
    pub u_scope: Option<String>,
}

impl TryFrom<TokenUserRow> for (ApiToken, Option<User>) {
    type Error = StoreError;
    fn try_from(r: TokenUserRow) -> Result<Self, StoreError> {
        let user = match (r.token.user_id, r.u_email, r.u_role) {
            (Some(id), Some(email), Some(role)) => Some(User::try_from(UserRow {
                id,
                org_id: r.token.org_id,
                email,
                name: r.u_name,
                role,
                manager_email: r.u_manager_email,
                team: r.u_team,
                region: r.u_region,
                custom_role: r.u_custom_role,
                scope: r.u_scope,
            })?),
            _ => None,
        };
        Ok((ApiToken::try_from(r.token)?, user))
    }
}

/// `roles` row.
#[derive(sqlx::FromRow)]
pub(crate) struct RoleRow {
    pub name: String,
    pub permissions: String,
}

impl TryFrom<RoleRow> for escucha_core::access::CustomRole {
    type Error = StoreError;
    fn try_from(r: RoleRow) -> Result<Self, StoreError> {
        let permissions: escucha_core::access::PermissionSet = serde_json::from_str(&r.permissions)
            .map_err(|e| StoreError::Corrupt(format!("permissions of role '{}': {e}", r.name)))?;
        escucha_core::access::CustomRole::new(&r.name, permissions).map_err(|e| StoreError::Corrupt(e.to_string()))
    }
}

/// `teams` row.
#[derive(sqlx::FromRow)]
pub(crate) struct TeamRow {
    pub name: String,
    pub parent: Option<String>,
}
