//! Customers: who they are and what they are worth, so feedback is read against them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{CustomerId, OrgId};
use crate::validation::{Collector, ValidationErrors};
use crate::values::{Email, ExternalId, Label, Language};

/// A customer of the organisation, identified by the id its CRM uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    /// Store id.
    pub id: CustomerId,
    /// Owning organisation.
    pub org_id: OrgId,
    /// Id in the company's own systems; unique within the organisation.
    pub external_id: ExternalId,
    /// Person or company name (personal data).
    pub name: Option<String>,
    /// Contact e-mail (personal data).
    pub email: Option<Email>,
    /// Contact phone (personal data).
    pub phone: Option<String>,
    /// Preferred language for surveys and mail.
    pub language: Option<Language>,
    /// Region, the default region of its responses.
    pub region: Option<Label>,
    /// Commercial segment.
    pub segment: Option<Label>,
    /// Lifecycle stage (prospect, onboarding, active, at risk, churned…).
    pub lifecycle_stage: Option<Label>,
    /// Yearly revenue from this customer, in the organisation's currency.
    pub annual_value: Option<f64>,
    /// The account executive who owns the relationship.
    pub owner_email: Option<Email>,
    /// Free attributes from the CRM, usable as `attr.NAME` dimensions.
    pub attributes: BTreeMap<String, String>,
    /// Set when the customer's personal data was erased on request.
    pub erased_at: Option<DateTime<Utc>>,
    /// When first stored.
    pub created_at: DateTime<Utc>,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
}

/// A change to one field: leave it, clear it, or set it.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Patch<T> {
    /// Field absent from the input: keep the stored value.
    #[default]
    Keep,
    /// Field given as `null`: clear it.
    Clear,
    /// Field given: store this value.
    Set(T),
}

impl<T> Patch<T> {
    /// Applies the change to a stored value.
    pub fn apply(self, current: Option<T>) -> Option<T> {
        match self {
            Patch::Keep => current,
            Patch::Clear => None,
            Patch::Set(v) => Some(v),
        }
    }

    /// Turns a `Set` value into another type, keeping `Keep`/`Clear`.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Patch<U> {
        match self {
            Patch::Keep => Patch::Keep,
            Patch::Clear => Patch::Clear,
            Patch::Set(v) => Patch::Set(f(v)),
        }
    }
}

/// The changes of a customer upsert (`PUT /api/v1/customers/{external_id}`, imports).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CustomerPatch {
    /// Name.
    pub name: Patch<String>,
    /// E-mail.
    pub email: Patch<Email>,
    /// Phone.
    pub phone: Patch<String>,
    /// Language.
    pub language: Patch<Language>,
    /// Region.
    pub region: Patch<Label>,
    /// Segment.
    pub segment: Patch<Label>,
    /// Lifecycle stage.
    pub lifecycle_stage: Patch<Label>,
    /// Annual value.
    pub annual_value: Patch<f64>,
    /// Owner (account executive).
    pub owner_email: Patch<Email>,
    /// Attributes to set (a `None` value removes that attribute); others are kept.
    pub attributes: BTreeMap<String, Option<String>>,
}

impl CustomerPatch {
    /// Applies the patch to a stored customer (or a blank one for a new customer).
    pub fn apply_to(self, mut c: Customer, now: DateTime<Utc>) -> Customer {
        c.name = self.name.apply(c.name);
        c.email = self.email.apply(c.email);
        c.phone = self.phone.apply(c.phone);
        c.language = self.language.apply(c.language);
        c.region = self.region.apply(c.region);
        c.segment = self.segment.apply(c.segment);
        c.lifecycle_stage = self.lifecycle_stage.apply(c.lifecycle_stage);
        c.annual_value = self.annual_value.apply(c.annual_value);
        c.owner_email = self.owner_email.apply(c.owner_email);
        for (k, v) in self.attributes {
            match v {
                Some(v) => {
                    c.attributes.insert(k, v);
                }
                None => {
                    c.attributes.remove(&k);
                }
            }
        }
        c.updated_at = now;
        c
    }
}

/// The fields a customer upsert accepts, for messages.
pub const CUSTOMER_FIELDS: [&str; 10] = [
    "name",
    "email",
    "phone",
    "language",
    "region",
    "segment",
    "lifecycle_stage",
    "annual_value",
    "owner_email",
    "attributes",
];

impl CustomerPatch {
    /// Parses a JSON object of customer fields (absent = keep, `null` = clear), reporting every
    /// problem: unknown fields, wrong types, bad e-mails, negative values.
    pub fn from_json(map: &serde_json::Map<String, serde_json::Value>) -> Result<Self, ValidationErrors> {
        use serde_json::Value;
        let mut errors = Collector::default();
        let mut patch = CustomerPatch::default();
        for (key, value) in map {
            let text = |errors: &mut Collector| -> Option<Patch<String>> {
                match value {
                    Value::Null => Some(Patch::Clear),
                    Value::String(s) if s.trim().is_empty() => Some(Patch::Clear),
                    Value::String(s) if s.chars().count() <= 500 => Some(Patch::Set(s.trim().to_string())),
                    Value::String(_) => {
                        errors.push(key.as_str(), "too_long", format!("{key} may have at most 500 characters"));
                        None
                    }
                    _ => {
                        errors.push(key.as_str(), "invalid_type", format!("{key} must be a string or null"));
                        None
                    }
                }
            };
            match key.as_str() {
                "name" => patch.name = text(&mut errors).unwrap_or_default(),
                "phone" => patch.phone = text(&mut errors).unwrap_or_default(),
                "email" | "owner_email" => {
                    let parsed = text(&mut errors).unwrap_or_default().map(|s| Email::parse(&s));
                    let p = match parsed {
                        Patch::Set(Ok(e)) => Patch::Set(e),
                        Patch::Set(Err(e)) => {
                            errors.take::<()>(Err(e.prefixed(key)));
                            Patch::Keep
                        }
                        Patch::Clear => Patch::Clear,
                        Patch::Keep => Patch::Keep,
                    };
                    if key == "email" { patch.email = p } else { patch.owner_email = p }
                }
                "language" => {
                    patch.language = match text(&mut errors).unwrap_or_default().map(|s| Language::parse(&s)) {
                        Patch::Set(Ok(l)) => Patch::Set(l),
                        Patch::Set(Err(e)) => {
                            errors.take::<()>(Err(e));
                            Patch::Keep
                        }
                        Patch::Clear => Patch::Clear,
                        Patch::Keep => Patch::Keep,
                    }
                }
                "region" | "segment" | "lifecycle_stage" => {
                    let p = match text(&mut errors).unwrap_or_default().map(|s| Label::parse(&s)) {
                        Patch::Set(Ok(l)) => Patch::Set(l),
                        Patch::Set(Err(e)) => {
                            errors.take::<()>(Err(e.prefixed(key)));
                            Patch::Keep
                        }
                        Patch::Clear => Patch::Clear,
                        Patch::Keep => Patch::Keep,
                    };
                    match key.as_str() {
                        "region" => patch.region = p,
                        "segment" => patch.segment = p,
                        _ => patch.lifecycle_stage = p,
                    }
                }
                "annual_value" => match value {
                    Value::Null => patch.annual_value = Patch::Clear,
                    Value::Number(n) => match n.as_f64() {
                        Some(v) if v.is_finite() && v >= 0.0 => patch.annual_value = Patch::Set(v),
                        _ => errors.push(key.as_str(), "out_of_range", "annual_value must be a number of 0 or more"),
                    },
                    _ => errors.push(key.as_str(), "invalid_type", "annual_value must be a number or null"),
                },
                "attributes" => match value {
                    Value::Null => {}
                    Value::Object(attrs) => {
                        for (name, v) in attrs {
                            if !crate::journey::is_key(name) {
                                errors.push(
                                    format!("attributes.{}", crate::values::clip(name)),
                                    "invalid_key",
                                    "attribute names use 1 to 64 characters a-z, 0-9, '_' or '-'",
                                );
                                continue;
                            }
                            let v = match v {
                                Value::Null => None,
                                Value::String(s) if s.chars().count() <= 500 => Some(s.trim().to_string()),
                                Value::Number(n) => Some(n.to_string()),
                                Value::Bool(b) => Some(b.to_string()),
                                _ => {
                                    errors.push(
                                        format!("attributes.{name}"),
                                        "invalid_type",
                                        "attribute values are strings (at most 500 characters), numbers, booleans or null",
                                    );
                                    continue;
                                }
                            };
                            patch.attributes.insert(name.clone(), v);
                        }
                    }
                    _ => errors.push(key.as_str(), "invalid_type", "attributes must be an object of name: value"),
                },
                other => errors.push(
                    crate::values::clip(other),
                    "unknown_field",
                    format!("unknown field '{}': use {}", crate::values::clip(other), CUSTOMER_FIELDS.join(", ")),
                ),
            }
        }
        errors.finish(|| patch)
    }
}

impl Customer {
    /// A customer with only its identity, before a patch fills it.
    pub fn blank(org_id: OrgId, external_id: ExternalId, now: DateTime<Utc>) -> Self {
        Self {
            id: CustomerId(0),
            org_id,
            external_id,
            name: None,
            email: None,
            phone: None,
            language: None,
            region: None,
            segment: None,
            lifecycle_stage: None,
            annual_value: None,
            owner_email: None,
            attributes: BTreeMap::new(),
            erased_at: None,
            created_at: now,
            updated_at: now,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_patches_distinguish_absent_null_and_values() {
        let map = serde_json::json!({"name": "Ana", "phone": null, "annual_value": 1200.5, "attributes": {"plan": "gold", "old": null}});
        let p = CustomerPatch::from_json(map.as_object().unwrap()).unwrap();
        assert_eq!(p.name, Patch::Set("Ana".into()));
        assert_eq!(p.phone, Patch::Clear);
        assert_eq!(p.email, Patch::Keep);
        assert_eq!(p.annual_value, Patch::Set(1200.5));
        assert_eq!(p.attributes.get("old"), Some(&None));
        let bad = serde_json::json!({"email": "nope", "annual_value": -1, "colour": "red", "region": 5});
        let err = CustomerPatch::from_json(bad.as_object().unwrap()).unwrap_err();
        let mut codes: Vec<&str> = err.0.iter().map(|e| e.code).collect();
        codes.sort();
        assert_eq!(codes, vec!["invalid_email", "invalid_type", "out_of_range", "unknown_field"]);
    }

    #[test]
    fn patch_keeps_clears_and_sets() {
        let now = Utc::now();
        let mut c = Customer::blank(OrgId(1), ExternalId::parse("C1").unwrap(), now);
        c.name = Some("Ana".into());
        c.phone = Some("+34 600".into());
        c.attributes.insert("plan".into(), "gold".into());
        c.attributes.insert("old".into(), "x".into());
        let patch = CustomerPatch {
            phone: Patch::Clear,
            region: Patch::Set(Label::parse("Norte").unwrap()),
            attributes: [("old".to_string(), None), ("tier".to_string(), Some("1".to_string()))].into_iter().collect(),
            ..Default::default()
        };
        let c = patch.apply_to(c, now);
        assert_eq!(c.name.as_deref(), Some("Ana"));
        assert_eq!(c.phone, None);
        assert_eq!(c.region.unwrap().as_str(), "Norte");
        assert_eq!(c.attributes.get("plan").map(String::as_str), Some("gold"));
        assert_eq!(c.attributes.get("tier").map(String::as_str), Some("1"));
        assert!(!c.attributes.contains_key("old"));
    }
}
