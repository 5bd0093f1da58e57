//! The data security admin page (`/admin/security`): the customer-data security policy (items
//! with overdue reviews flagged) and the incident register, each with a create/edit form. Needs
//! the `manage_security` permission; every form carries the CSRF token; changes go through
//! [`crate::service::governance`], which validates and audits them.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use escucha_core::access::Permission;
use escucha_core::governance::{
    Incident, IncidentId, IncidentInput, IncidentStats, PolicyItem, PolicyItemId, PolicyItemInput, PolicyKind,
    PolicyStats, PolicyStatus, Severity,
};
use escucha_core::validation::{FieldError, ValidationErrors};
use escucha_store::IncidentFilter;

use super::i18n::{Lang, TEXTS};
use super::{WebUser, with_cookie, with_lang_cookie};
use crate::error::ApiError;
use crate::service::governance::{self as gov, Actor, GovernanceError};
use crate::state::AppState;

/// Query of the page: language, and which policy item or incident the forms edit.
#[derive(Debug, Default, Deserialize)]
pub struct SecurityQuery {
    /// Interface language switch.
    pub lang: Option<String>,
    /// Policy item to edit.
    pub edit: Option<i64>,
    /// Incident to edit.
    pub incident: Option<i64>,
}

/// A submitted form: every field as text.
type Fields = HashMap<String, String>;

/// The word for `key`, or `fallback`'s when there is none.
fn t_or(lang: Lang, key: &str, fallback: &str) -> &'static str {
    if TEXTS.iter().any(|(k, _, _)| *k == key) { lang.t(key) } else { lang.t(fallback) }
}

/// One localised line per field problem: "Field: what is wrong".
fn error_lines(lang: Lang, errors: &[FieldError]) -> Vec<String> {
    errors
        .iter()
        .map(|e| {
            let field = e.field.split(['[', '.']).next().unwrap_or("");
            format!(
                "{}: {}",
                t_or(lang, &format!("f_{field}"), "f_form"),
                t_or(lang, &format!("err_{}", e.code), "err_invalid")
            )
        })
        .collect()
}

fn forbidden(lang: Lang) -> Response {
    (
        StatusCode::FORBIDDEN,
        super::pages::layout(
            lang,
            lang.t("forbidden"),
            None,
            html! { main { p.error { (lang.t("forbidden_security")) } } },
        ),
    )
        .into_response()
}

/// True when the signed-in user holds `manage_security` (through their built-in or custom role).
async fn may_manage(state: &AppState, web: &WebUser) -> Result<bool, ApiError> {
    Ok(crate::auth::user_access(state, &web.user).await?.0.contains(Permission::ManageSecurity))
}

/// A stored time as a `datetime-local` value (UTC, minutes).
fn local_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M").to_string()
}

/// A `datetime-local` value (read as UTC) as RFC 3339; other text passes through to be refused.
fn rfc3339(raw: &str) -> String {
    let raw = raw.trim();
    match raw.len() {
        16 => format!("{raw}:00Z"),
        19 => format!("{raw}Z"),
        _ => raw.to_string(),
    }
}

fn opt(fields: &Fields, key: &str) -> Option<String> {
    fields.get(key).map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

fn policy_input(fields: &Fields) -> PolicyItemInput {
    PolicyItemInput {
        kind: opt(fields, "kind"),
        title: opt(fields, "title"),
        objective: opt(fields, "objective"),
        scope: opt(fields, "scope"),
        owner_email: opt(fields, "owner_email"),
        review_date: opt(fields, "review_date"),
        status: opt(fields, "status"),
    }
}

fn incident_input(fields: &Fields) -> Result<IncidentInput, ValidationErrors> {
    let customers_affected = match opt(fields, "customers_affected") {
        Some(n) => Some(n.parse::<i64>().map_err(|_| {
            ValidationErrors::one("customers_affected", "invalid_number", "customers_affected must be a whole number")
        })?),
        None => None,
    };
    Ok(IncidentInput {
        title: opt(fields, "title"),
        description: opt(fields, "description"),
        occurred_at: opt(fields, "occurred_at").map(|t| rfc3339(&t)),
        detected_at: opt(fields, "detected_at").map(|t| rfc3339(&t)),
        data_affected: opt(fields, "data_affected"),
        customers_affected,
        severity: opt(fields, "severity"),
        actions_taken: opt(fields, "actions_taken"),
        notified_to: opt(fields, "notified_to")
            .map(|n| n.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()),
        closed_at: opt(fields, "closed_at").map(|t| rfc3339(&t)),
    })
}

/// The form values of a stored policy item.
fn policy_values(item: &PolicyItem) -> Fields {
    let f = &item.fields;
    [
        ("kind", f.kind.as_str().to_string()),
        ("title", f.title.clone()),
        ("objective", f.objective.clone()),
        ("scope", f.scope.clone()),
        ("owner_email", f.owner_email.to_string()),
        ("review_date", f.review_date.format("%Y-%m-%d").to_string()),
        ("status", f.status.as_str().to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// The form values of a stored incident.
fn incident_values(i: &Incident) -> Fields {
    let f = &i.fields;
    [
        ("title", f.title.clone()),
        ("description", f.description.clone().unwrap_or_default()),
        ("occurred_at", local_time(f.occurred_at)),
        ("detected_at", local_time(f.detected_at)),
        ("data_affected", f.data_affected.clone()),
        ("customers_affected", f.customers_affected.to_string()),
        ("severity", f.severity.as_str().to_string()),
        ("actions_taken", f.actions_taken.clone().unwrap_or_default()),
        ("notified_to", f.notified_to.join(", ")),
        ("closed_at", f.closed_at.map(local_time).unwrap_or_default()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// What the page shows besides the stored data: which forms edit what, with which values and
/// problems.
#[derive(Default)]
struct FormState {
    policy_id: Option<PolicyItemId>,
    policy: Fields,
    policy_errors: Vec<String>,
    incident_id: Option<IncidentId>,
    incident: Fields,
    incident_errors: Vec<String>,
}

struct PageData {
    items: Vec<PolicyItem>,
    policy_stats: PolicyStats,
    incidents: Vec<Incident>,
    incident_stats: IncidentStats,
    users: Vec<String>,
}

async fn load(state: &AppState, web: &WebUser) -> Result<PageData, ApiError> {
    let store = state.store.as_ref();
    let items = store.list_policy_items(web.org_id).await?;
    let policy_stats = escucha_core::governance::policy_stats(&items, Utc::now().date_naive());
    let incidents = store.list_incidents(web.org_id, IncidentFilter { limit: 200, ..Default::default() }).await?;
    let incident_stats = store.incident_stats(web.org_id, None).await?;
    let users = store.list_users(web.org_id).await?.into_iter().map(|u| u.email.to_string()).collect();
    Ok(PageData { items, policy_stats, incidents, incident_stats, users })
}

fn select(name: &str, label: &str, options: &[(&str, &str)], current: Option<&str>) -> Markup {
    html! {
        label for={ "f-" (name) } { (label) }
        select id={ "f-" (name) } name=(name) {
            @for (value, text) in options {
                option value=(value) selected[current == Some(*value)] { (text) }
            }
        }
    }
}

fn input(name: &str, label: &str, kind: &str, values: &Fields, required: bool) -> Markup {
    html! {
        label for={ "f-" (name) } { (label) }
        input id={ "f-" (name) } name=(name) type=(kind) value=(values.get(name).map(String::as_str).unwrap_or("")) required[required];
    }
}

fn textarea(name: &str, label: &str, values: &Fields, required: bool) -> Markup {
    html! {
        label for={ "f-" (name) } { (label) }
        textarea id={ "f-" (name) } name=(name) rows="3" required[required] { (values.get(name).map(String::as_str).unwrap_or("")) }
    }
}

fn errors_box(lines: &[String], lang: Lang) -> Markup {
    html! {
        @if !lines.is_empty() {
            div.error role="alert" {
                p { (lang.t("form_has_errors")) }
                ul { @for l in lines { li { (l) } } }
            }
        }
    }
}

fn render(lang: Lang, web: &WebUser, csrf: &str, data: &PageData, form: &FormState) -> Markup {
    let today = Utc::now().date_naive();
    let kinds: Vec<(&str, &str)> =
        PolicyKind::ALL.iter().map(|k| (k.as_str(), lang.t(&format!("kind_{}", k.as_str())))).collect();
    let statuses: Vec<(&str, &str)> =
        PolicyStatus::ALL.iter().map(|s| (s.as_str(), lang.t(&format!("pstatus_{}", s.as_str())))).collect();
    let severities: Vec<(&str, &str)> =
        Severity::ALL.iter().map(|s| (s.as_str(), lang.t(&format!("sev_{}", s.as_str())))).collect();
    let ps = &data.policy_stats;
    let is = &data.incident_stats;
    let policy_action = match form.policy_id {
        Some(id) => format!("/admin/security/policy/{id}"),
        None => "/admin/security/policy".into(),
    };
    let incident_action = match form.incident_id {
        Some(id) => format!("/admin/security/incidents/{id}"),
        None => "/admin/security/incidents".into(),
    };
    let body = html! {
        main.admin {
            p { a href="/dashboard" { (lang.t("dashboard")) } }
            h1 { (lang.t("security_title")) }
            p.note { (lang.t("security_intro")) }
            section.panel #policy {
                h2 { (lang.t("security_policy")) }
                p.note #policy-stats {
                    (lang.t("policy_active")) ": " (ps.active) " · " (lang.t("policy_in_time")) ": " (ps.active_reviewed_in_time)
                    " · " (lang.t("policy_overdue")) ": " (ps.overdue) " · " (lang.t("policy_kinds_covered")) ": " (ps.kinds_covered.len()) "/" (PolicyKind::ALL.len())
                }
                @if data.items.is_empty() { p { (lang.t("no_policy_items")) } }
                @else {
                    table {
                        thead { tr {
                            th { (lang.t("f_kind")) } th { (lang.t("f_title")) } th { (lang.t("f_owner_email")) }
                            th { (lang.t("f_review_date")) } th { (lang.t("f_status")) } th {}
                        } }
                        tbody {
                            @for item in &data.items {
                                tr id={ "policy-" (item.id) } {
                                    td { (lang.t(&format!("kind_{}", item.fields.kind.as_str()))) }
                                    td { (item.fields.title) }
                                    td { (item.fields.owner_email) }
                                    td {
                                        (item.fields.review_date.format("%Y-%m-%d"))
                                        @if item.review_overdue(today) { " " span.overdue { (lang.t("review_overdue")) } }
                                    }
                                    td { (lang.t(&format!("pstatus_{}", item.fields.status.as_str()))) }
                                    td.actions {
                                        a href={ "/admin/security?edit=" (item.id) "#policy-form" } { (lang.t("edit")) }
                                        form.inline method="post" action={ "/admin/security/policy/" (item.id) "/delete" } {
                                            input type="hidden" name="csrf" value=(csrf);
                                            button.link type="submit" { (lang.t("delete")) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            section.panel #policy-form-panel {
                h2 { @if form.policy_id.is_some() { (lang.t("edit_policy_item")) } @else { (lang.t("new_policy_item")) } }
                (errors_box(&form.policy_errors, lang))
                form.admin #policy-form method="post" action=(policy_action) {
                    input type="hidden" name="csrf" value=(csrf);
                    (select("kind", lang.t("f_kind"), &kinds, form.policy.get("kind").map(String::as_str)))
                    (input("title", lang.t("f_title"), "text", &form.policy, true))
                    (textarea("objective", lang.t("f_objective"), &form.policy, true))
                    (textarea("scope", lang.t("f_scope"), &form.policy, true))
                    label for="f-owner_email" { (lang.t("f_owner_email")) }
                    input #f-owner_email name="owner_email" type="email" list="staff-users" required
                        value=(form.policy.get("owner_email").map(String::as_str).unwrap_or(""));
                    datalist #staff-users { @for u in &data.users { option value=(u) {} } }
                    (input("review_date", lang.t("f_review_date"), "date", &form.policy, true))
                    (select("status", lang.t("f_status"), &statuses, form.policy.get("status").map(String::as_str)))
                    button type="submit" #save-policy { (lang.t("save")) }
                }
            }
            section.panel #incidents {
                h2 { (lang.t("incident_register")) }
                p.note #incident-stats {
                    (lang.t("incidents_open")) ": " (is.open) " · " (lang.t("incidents_closed")) ": " (is.closed)
                    " · " (lang.t("mean_hours_to_close")) ": "
                    @match is.mean_hours_to_close { Some(h) => (format!("{h:.1}")), None => "—" }
                }
                @if data.incidents.is_empty() { p { (lang.t("no_incidents")) } }
                @else {
                    table {
                        thead { tr {
                            th { (lang.t("f_detected_at")) } th { (lang.t("f_title")) } th { (lang.t("f_severity")) }
                            th { (lang.t("f_customers_affected")) } th { (lang.t("f_status")) } th {}
                        } }
                        tbody {
                            @for i in &data.incidents {
                                tr id={ "incident-" (i.id) } {
                                    td { (i.fields.detected_at.format("%Y-%m-%d %H:%M")) }
                                    td { (i.fields.title) }
                                    td { span.badge.high[matches!(i.fields.severity, Severity::High | Severity::Critical)] { (lang.t(&format!("sev_{}", i.fields.severity.as_str()))) } }
                                    td { (i.fields.customers_affected) }
                                    td { @if i.fields.is_open() { (lang.t("incident_open")) } @else { (lang.t("incident_closed")) } }
                                    td { a href={ "/admin/security?incident=" (i.id) "#incident-form" } { (lang.t("edit")) } }
                                }
                            }
                        }
                    }
                }
            }
            section.panel #incident-form-panel {
                h2 { @if form.incident_id.is_some() { (lang.t("edit_incident")) } @else { (lang.t("new_incident")) } }
                (errors_box(&form.incident_errors, lang))
                form.admin #incident-form method="post" action=(incident_action) {
                    input type="hidden" name="csrf" value=(csrf);
                    (input("title", lang.t("f_title"), "text", &form.incident, true))
                    (textarea("description", lang.t("f_description"), &form.incident, false))
                    (input("occurred_at", lang.t("f_occurred_at"), "datetime-local", &form.incident, true))
                    (input("detected_at", lang.t("f_detected_at"), "datetime-local", &form.incident, true))
                    (textarea("data_affected", lang.t("f_data_affected"), &form.incident, true))
                    (input("customers_affected", lang.t("f_customers_affected"), "number", &form.incident, true))
                    (select("severity", lang.t("f_severity"), &severities, form.incident.get("severity").map(String::as_str)))
                    (textarea("actions_taken", lang.t("f_actions_taken"), &form.incident, false))
                    (input("notified_to", lang.t("f_notified_to"), "text", &form.incident, false))
                    (input("closed_at", lang.t("f_closed_at"), "datetime-local", &form.incident, false))
                    p.help { (lang.t("times_in_utc")) }
                    button type="submit" #save-incident { (lang.t("save")) }
                }
            }
        }
    };
    super::pages::layout(lang, lang.t("security_title"), Some((web.user.email.as_str(), csrf)), body)
}

/// Renders the page with `form`, answering `status`.
async fn respond(
    state: &AppState,
    web: &WebUser,
    lang: Lang,
    headers: &HeaderMap,
    form: FormState,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let data = load(state, web).await?;
    let (csrf, set_cookie) = crate::security::csrf_token(headers);
    let page = render(lang, web, &csrf, &data, &form);
    Ok(with_cookie((status, page).into_response(), set_cookie))
}

/// `GET /admin/security`.
pub async fn page(
    State(state): State<AppState>,
    web: WebUser,
    Query(q): Query<SecurityQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = Lang::negotiate(q.lang.as_deref(), &headers);
    if !may_manage(&state, &web).await? {
        return Ok(forbidden(lang));
    }
    let mut form = FormState::default();
    if let Some(id) = q.edit
        && let Some(item) = state.store.policy_item(web.org_id, PolicyItemId(id)).await?
    {
        form.policy = policy_values(&item);
        form.policy_id = Some(item.id);
    }
    if let Some(id) = q.incident
        && let Some(i) = state.store.incident(web.org_id, IncidentId(id)).await?
    {
        form.incident = incident_values(&i);
        form.incident_id = Some(i.id);
    }
    let page_query = super::PageQuery { lang: q.lang.clone() };
    let response = respond(&state, &web, lang, &headers, form, StatusCode::OK).await?;
    Ok(with_lang_cookie(lang, &page_query, response))
}

fn see_page(anchor: &str) -> Response {
    let mut r = Redirect::to(&format!("/admin/security#{anchor}")).into_response();
    *r.status_mut() = StatusCode::SEE_OTHER;
    r
}

/// What a form post needs before it changes anything: a matching CSRF token and the permission.
async fn guard(
    state: &AppState,
    web: &WebUser,
    headers: &HeaderMap,
    fields: &Fields,
    lang: Lang,
) -> Result<Option<Response>, ApiError> {
    if !crate::security::csrf_ok(headers, fields.get("csrf").map(String::as_str).unwrap_or("")) {
        return Ok(Some((StatusCode::FORBIDDEN, lang.t("form_expired")).into_response()));
    }
    if !may_manage(state, web).await? {
        return Ok(Some(forbidden(lang)));
    }
    Ok(None)
}

/// Splits a use-case failure into field problems (shown in the form, 422) and real errors.
fn problems(e: GovernanceError, lang: Lang) -> Result<Vec<String>, ApiError> {
    match e {
        GovernanceError::Invalid(v) => Ok(error_lines(lang, &v.0)),
        other => Err(other.into()),
    }
}

/// `POST /admin/security/policy` (new) and `POST /admin/security/policy/{id}` (edit).
pub async fn save_policy_item(
    State(state): State<AppState>,
    web: WebUser,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    id: Option<Path<i64>>,
    headers: HeaderMap,
    Form(fields): Form<Fields>,
) -> Result<Response, ApiError> {
    let lang = Lang::negotiate(None, &headers);
    if let Some(r) = guard(&state, &web, &headers, &fields, lang).await? {
        return Ok(r);
    }
    let ip = peer.ip().to_string();
    let actor = Actor { name: web.user.email.as_str(), ip: Some(&ip) };
    let store = state.store.as_ref();
    let id = id.map(|Path(id)| PolicyItemId(id));
    let result = match id {
        None => gov::create_policy_item(store, web.org_id, policy_input(&fields), actor).await.map(|_| ()),
        Some(id) => {
            let patch: Map<String, Value> =
                ["kind", "title", "objective", "scope", "owner_email", "review_date", "status"]
                    .into_iter()
                    .map(|k| (k.to_string(), opt(&fields, k).map_or(Value::Null, |v| json!(v))))
                    .collect();
            gov::update_policy_item(store, web.org_id, id, &patch, actor).await.map(|_| ())
        }
    };
    match result {
        Ok(()) => Ok(see_page("policy")),
        Err(e) => {
            let form =
                FormState { policy_id: id, policy: fields, policy_errors: problems(e, lang)?, ..Default::default() };
            respond(&state, &web, lang, &headers, form, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

/// `POST /admin/security/policy/{id}/delete`.
pub async fn delete_policy_item(
    State(state): State<AppState>,
    web: WebUser,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Form(fields): Form<Fields>,
) -> Result<Response, ApiError> {
    let lang = Lang::negotiate(None, &headers);
    if let Some(r) = guard(&state, &web, &headers, &fields, lang).await? {
        return Ok(r);
    }
    let ip = peer.ip().to_string();
    let actor = Actor { name: web.user.email.as_str(), ip: Some(&ip) };
    gov::delete_policy_item(state.store.as_ref(), web.org_id, PolicyItemId(id), actor).await?;
    Ok(see_page("policy"))
}

/// `POST /admin/security/incidents` (new) and `POST /admin/security/incidents/{id}` (edit).
pub async fn save_incident(
    State(state): State<AppState>,
    web: WebUser,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    id: Option<Path<i64>>,
    headers: HeaderMap,
    Form(fields): Form<Fields>,
) -> Result<Response, ApiError> {
    let lang = Lang::negotiate(None, &headers);
    if let Some(r) = guard(&state, &web, &headers, &fields, lang).await? {
        return Ok(r);
    }
    let ip = peer.ip().to_string();
    let actor = Actor { name: web.user.email.as_str(), ip: Some(&ip) };
    let store = state.store.as_ref();
    let id = id.map(|Path(id)| IncidentId(id));
    let result = match incident_input(&fields) {
        Err(v) => Err(GovernanceError::Invalid(v)),
        Ok(input) => match id {
            None => gov::create_incident(store, web.org_id, input, actor).await.map(|_| ()),
            Some(id) => match serde_json::to_value(&input) {
                Ok(Value::Object(patch)) => {
                    gov::update_incident(store, web.org_id, id, &patch, actor).await.map(|_| ())
                }
                _ => Err(GovernanceError::Invalid(ValidationErrors::one("", "invalid_body", "unreadable form"))),
            },
        },
    };
    match result {
        Ok(()) => Ok(see_page("incidents")),
        Err(e) => {
            let form = FormState {
                incident_id: id,
                incident: fields,
                incident_errors: problems(e, lang)?,
                ..Default::default()
            };
            respond(&state, &web, lang, &headers, form, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}
