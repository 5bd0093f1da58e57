//! Data governance use cases shared by the API and the staff pages: the security policy, the
//! incident register and the retention rules. Each change is validated in escucha-core, stored,
//! and recorded in the audit log before it returns.

use chrono::Utc;
use serde_json::{Map, Value, json};

use escucha_core::governance::{
    Incident, IncidentId, IncidentInput, PolicyItem, PolicyItemFields, PolicyItemId, PolicyItemInput, RetentionRules,
    RetentionRulesInput, patch_input,
};
use escucha_core::ids::OrgId;
use escucha_core::validation::ValidationErrors;
use escucha_store::{NewAuditEntry, Store, StoreError};

/// Who makes a change, for the audit log.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    /// User e-mail or `token:NAME`.
    pub name: &'a str,
    /// The client's IP, when known.
    pub ip: Option<&'a str>,
}

/// Why a governance change was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum GovernanceError {
    /// The input is invalid (field by field).
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// Storage failed, or the record does not exist (`StoreError::NotFound`).
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<GovernanceError> for crate::error::ApiError {
    fn from(e: GovernanceError) -> Self {
        match e {
            GovernanceError::Invalid(v) => v.into(),
            GovernanceError::Store(s) => s.into(),
        }
    }
}

/// Result of a governance use case.
pub type GovResult<T> = Result<T, GovernanceError>;

async fn audit(
    store: &dyn Store,
    org: OrgId,
    actor: Actor<'_>,
    action: &str,
    target: String,
    detail: Value,
) -> GovResult<()> {
    let entry = NewAuditEntry {
        at: Utc::now(),
        actor: actor.name.to_string(),
        action: action.to_string(),
        target: Some(target),
        detail,
        ip: actor.ip.map(str::to_string),
    };
    Ok(store.append_audit(org, entry).await?)
}

/// Refuses an owner who is not a staff user of the organisation.
async fn check_owner(store: &dyn Store, org: OrgId, fields: &PolicyItemFields) -> GovResult<()> {
    if store.user_by_email(org, &fields.owner_email).await?.is_none() {
        return Err(ValidationErrors::one(
            "owner_email",
            "unknown_owner",
            format!("{} is not a user of this organisation", fields.owner_email),
        )
        .into());
    }
    Ok(())
}

/// Adds a policy item; audited as `security_policy.create`.
pub async fn create_policy_item(
    store: &dyn Store,
    org: OrgId,
    input: PolicyItemInput,
    actor: Actor<'_>,
) -> GovResult<PolicyItem> {
    let fields = input.parse()?;
    check_owner(store, org, &fields).await?;
    let item = store.create_policy_item(org, &fields, Utc::now()).await?;
    let detail = json!({"kind": item.fields.kind, "status": item.fields.status});
    audit(store, org, actor, "security_policy.create", format!("policy_item:{}", item.id), detail).await?;
    Ok(item)
}

/// Changes a policy item with the keys of `patch`; audited as `security_policy.update` with the
/// names of the fields sent.
pub async fn update_policy_item(
    store: &dyn Store,
    org: OrgId,
    id: PolicyItemId,
    patch: &Map<String, Value>,
    actor: Actor<'_>,
) -> GovResult<PolicyItem> {
    let current = store.policy_item(org, id).await?.ok_or_else(|| StoreError::NotFound(format!("policy item {id}")))?;
    let fields = patch_input::<PolicyItemInput>(current.fields.to_input(), patch)?.parse()?;
    if fields.owner_email != current.fields.owner_email {
        check_owner(store, org, &fields).await?;
    }
    let item = store.update_policy_item(org, id, &fields, Utc::now()).await?;
    let changed: Vec<&String> = patch.keys().collect();
    let detail = json!({"fields": changed, "status": item.fields.status});
    audit(store, org, actor, "security_policy.update", format!("policy_item:{id}"), detail).await?;
    Ok(item)
}

/// Deletes a policy item; audited as `security_policy.delete`.
pub async fn delete_policy_item(store: &dyn Store, org: OrgId, id: PolicyItemId, actor: Actor<'_>) -> GovResult<()> {
    let current = store.policy_item(org, id).await?.ok_or_else(|| StoreError::NotFound(format!("policy item {id}")))?;
    store.delete_policy_item(org, id).await?;
    let detail = json!({"kind": current.fields.kind, "title": current.fields.title});
    audit(store, org, actor, "security_policy.delete", format!("policy_item:{id}"), detail).await
}

/// Records an incident reported by `actor`; audited as `security_incident.create`.
pub async fn create_incident(
    store: &dyn Store,
    org: OrgId,
    input: IncidentInput,
    actor: Actor<'_>,
) -> GovResult<Incident> {
    let now = Utc::now();
    let fields = input.parse(now)?;
    let incident = store.create_incident(org, &fields, actor.name, now).await?;
    let detail = json!({
        "severity": incident.fields.severity,
        "customers_affected": incident.fields.customers_affected,
        "closed": !incident.fields.is_open(),
    });
    audit(store, org, actor, "security_incident.create", format!("incident:{}", incident.id), detail).await?;
    Ok(incident)
}

/// Changes an incident with the keys of `patch` (`closed_at: null` reopens it); audited as
/// `security_incident.update`.
pub async fn update_incident(
    store: &dyn Store,
    org: OrgId,
    id: IncidentId,
    patch: &Map<String, Value>,
    actor: Actor<'_>,
) -> GovResult<Incident> {
    let current = store.incident(org, id).await?.ok_or_else(|| StoreError::NotFound(format!("incident {id}")))?;
    let fields = patch_input::<IncidentInput>(current.fields.to_input(), patch)?.parse(Utc::now())?;
    let incident = store.update_incident(org, id, &fields, Utc::now()).await?;
    let changed: Vec<&String> = patch.keys().collect();
    let detail = json!({"fields": changed, "severity": incident.fields.severity, "closed": !incident.fields.is_open()});
    audit(store, org, actor, "security_incident.update", format!("incident:{id}"), detail).await?;
    Ok(incident)
}

/// Replaces the retention rules; audited as `retention.update` with the new rules.
pub async fn set_retention_rules(
    store: &dyn Store,
    org: OrgId,
    input: RetentionRulesInput,
    actor: Actor<'_>,
) -> GovResult<RetentionRules> {
    let rules = input.parse()?;
    store.set_retention_rules(org, &rules, Utc::now()).await?;
    audit(store, org, actor, "retention.update", "retention".into(), json!({"rules": rules})).await?;
    Ok(rules)
}
