//! Page templates and the dashboard handler.

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use maud::{DOCTYPE, Markup, PreEscaped, html};

use escucha_analytics::{Cell, Dimension, MetricQuery};
use escucha_core::metrics::MetricKind;
use escucha_store::CaseFilter;

use super::chart::{Bar, horizontal_bars};
use super::i18n::Lang;
use super::{PageQuery, WebUser, with_lang_cookie};
use crate::error::ApiError;
use crate::state::AppState;

/// The one stylesheet of the staff pages.
pub const STYLESHEET: &str = r#"
:root { --ink:#1d2433; --muted:#5b6475; --line:#dde1e8; --bg:#f6f7f9; --accent:#0b6bcb; --good:#1a7f4b; --bad:#c0392b; }
* { box-sizing: border-box; }
body { margin:0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--ink); background:var(--bg); }
header.top { display:flex; align-items:center; gap:1rem; padding:.7rem 1.5rem; background:#fff; border-bottom:1px solid var(--line); }
header.top .brand { font-weight:700; font-size:1.2rem; color:var(--accent); margin-right:auto; }
header.top form { margin:0; }
main { max-width:1100px; margin:1.5rem auto; padding:0 1rem; }
h1 { font-size:1.5rem; margin:.2rem 0 1rem; }
h2 { font-size:1.1rem; margin:0 0 .8rem; }
.cards { display:grid; grid-template-columns:repeat(auto-fit, minmax(220px, 1fr)); gap:1rem; margin-bottom:1.5rem; }
.card, section.panel { background:#fff; border:1px solid var(--line); border-radius:8px; padding:1rem 1.2rem; }
.card .metric { font-size:.9rem; color:var(--muted); }
.card .value { font-size:2.2rem; font-weight:700; margin:.2rem 0; }
.card .ci, .card .n, .help, .note { font-size:.85rem; color:var(--muted); }
section.panel { margin-bottom:1.5rem; }
table { width:100%; border-collapse:collapse; font-size:.92rem; }
th, td { text-align:left; padding:.45rem .5rem; border-bottom:1px solid var(--line); }
th { color:var(--muted); font-weight:600; }
.badge { display:inline-block; padding:.1rem .5rem; border-radius:999px; font-size:.8rem; background:#eef2f7; }
.badge.high { background:#fde8e6; color:var(--bad); }
.overdue { color:var(--bad); font-weight:600; }
.chart .label, .chart .value, .chart .tick { font-size:12px; fill:var(--ink); }
.chart .n { fill:var(--muted); }
.chart .bar.pos { fill:#4c9be8; } .chart .bar.neg { fill:#e8794c; }
.chart .ci { stroke:#1d2433; stroke-width:1.2; } .chart .axis { stroke:#9aa3b2; }
form.login { max-width:360px; margin:4rem auto; background:#fff; border:1px solid var(--line); border-radius:8px; padding:1.5rem; }
form.login label { display:block; margin:.8rem 0 .3rem; font-size:.9rem; }
form.login input { width:100%; padding:.55rem; border:1px solid var(--line); border-radius:6px; font-size:1rem; }
button { background:var(--accent); color:#fff; border:0; border-radius:6px; padding:.55rem 1rem; font-size:.95rem; cursor:pointer; }
header.top button { background:transparent; color:var(--accent); padding:.3rem .5rem; }
form.login button { margin-top:1.2rem; width:100%; }
.error { color:var(--bad); margin:.8rem 0 0; }
a { color:var(--accent); }
form.admin { display:grid; grid-template-columns:1fr; gap:.3rem; max-width:640px; }
form.admin label { font-size:.9rem; margin-top:.5rem; }
form.admin input, form.admin select, form.admin textarea { padding:.45rem; border:1px solid var(--line); border-radius:6px; font-size:.95rem; font-family:inherit; }
form.admin button { margin-top:1rem; justify-self:start; }
form.inline { display:inline; margin-left:.6rem; }
button.link { background:transparent; color:var(--bad); padding:0; font-size:.9rem; }
td.actions { white-space:nowrap; }
div.login { max-width:420px; margin:4rem auto; background:#fff; border:1px solid var(--line); border-radius:8px; padding:1.5rem; }
.notice { color:var(--good); }
form.stack { max-width:360px; }
form.stack label { display:block; margin:.8rem 0 .3rem; font-size:.9rem; }
form.stack input { width:100%; padding:.55rem; border:1px solid var(--line); border-radius:6px; font-size:1rem; }
form.stack button { margin-top:1rem; }
.qr svg { width:200px; height:200px; }
code.secret { font-size:1.05rem; letter-spacing:.08em; word-break:break-all; }
form.login .or { text-align:center; color:var(--muted); margin:1rem 0 .6rem; font-size:.9rem; }
a.button { display:block; text-align:center; background:#fff; color:var(--accent); border:1px solid var(--accent); border-radius:6px; padding:.55rem 1rem; text-decoration:none; }
"#;

/// The frame of every staff page: header (sign-out and the account security link when signed in), language switch.
pub(crate) fn layout(lang: Lang, title: &str, signed_in: Option<(&str, &str)>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.tag()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Escucha" }
                link rel="stylesheet" href="/static/app.css";
            }
            body {
                header.top {
                    span.brand { "Escucha" }
                    @if let Some((who, _)) = signed_in {
                        span.note { (lang.t("signed_in_as")) " " (who) }
                        a href="/account/security" id="account-security" { (lang.t("security")) }
                    }
                    a href={ "?lang=" (lang.other().tag()) } hreflang=(lang.other().tag()) { (lang.t("switch_language")) }
                    @if let Some((_, csrf)) = signed_in {
                        form method="post" action="/logout" {
                            input type="hidden" name="csrf" value=(csrf);
                            button type="submit" id="sign-out" { (lang.t("sign_out")) }
                        }
                    }
                }
                (body)
            }
        }
    }
}

/// The sign-in page, with an optional error, the values to keep in the form, and the button of
/// the identity provider (`sso`: its name) when one is configured.
pub fn login(lang: Lang, error: Option<&str>, org: &str, email: &str, csrf: &str, sso: Option<&str>) -> Markup {
    layout(
        lang,
        lang.t("sign_in"),
        None,
        html! {
            form.login method="post" action="/login" {
                h1 { (lang.t("sign_in")) }
                input type="hidden" name="csrf" value=(csrf);
                label for="org" { (lang.t("organisation")) }
                input #org name="org" type="text" value=(org) required autocomplete="organization";
                label for="email" { (lang.t("email")) }
                input #email name="email" type="email" value=(email) required autocomplete="username";
                label for="password" { (lang.t("password")) }
                input #password name="password" type="password" required autocomplete="current-password";
                @if let Some(e) = error { p.error role="alert" { (e) } }
                button type="submit" id="sign-in" { (lang.t("sign_in")) }
                p.note { a href="/forgot" id="forgot-password" { (lang.t("forgot_password")) } }
                @if let Some(name) = sso {
                    p.or { (lang.t("or")) }
                    a.button #sign-in-oidc href="/oidc/start" { (lang.t("sign_in_with")) " " (name) }
                }
            }
        },
    )
}

fn metric_card(lang: Lang, id: &str, key: &str, cell: Option<&Cell>, decimals: usize) -> Markup {
    html! {
        div.card id=(id) {
            div.metric title=(lang.t(&format!("{key}_help"))) { (lang.t(key)) }
            @match cell.and_then(|c| c.value.map(|v| (c, v))) {
                Some((c, v)) => {
                    div.value { (format!("{v:.decimals$}")) }
                    @if let Some([lo, hi]) = c.ci95 {
                        div.ci { (lang.t("margin")) ": " (format!("{lo:.decimals$} – {hi:.decimals$}")) }
                    }
                    div.n { (c.n) " " (lang.t("answers")) }
                }
                None => { div.value { "—" } div.n { (lang.t("no_data")) } }
            }
            div.help { (lang.t(&format!("{key}_help"))) }
        }
    }
}

/// The first dashboard: NPS, CSAT and CES with margins of error, NPS by region, latest cases.
pub async fn dashboard(
    State(state): State<AppState>,
    web: WebUser,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = Lang::negotiate(q.lang.as_deref(), &headers);
    let org = web.org_id.0;
    let (permissions, scope) = crate::auth::user_access(&state, &web.user).await?;
    let mut restrict = crate::service::scope::index_restriction(&scope);
    if !permissions.contains(escucha_core::access::Permission::ReadMetrics) {
        // No metric permission: every figure reads as no data.
        restrict.push((Dimension::Region, Vec::new()));
    }
    let scoped = |m: MetricKind| MetricQuery { restrict: restrict.clone(), ..MetricQuery::new(m) };
    let total = |m: MetricKind| state.index.query(org, &scoped(m)).map(|r| r.total);
    let nps = total(MetricKind::Nps)?;
    let csat = total(MetricKind::Csat)?;
    let ces = total(MetricKind::Ces)?;
    let mut by_region = scoped(MetricKind::Nps);
    by_region.group_by = vec![Dimension::Region];
    let regions = state.index.query(org, &by_region)?;
    let mut bars: Vec<Bar> = regions
        .groups
        .iter()
        .filter_map(|g| {
            Some(Bar {
                label: g.key.get(&Dimension::Region).unwrap_or(lang.t("unknown")).to_string(),
                value: g.cell.value?,
                ci95: g.cell.ci95,
                n: g.cell.n,
            })
        })
        .collect();
    bars.sort_by(|a, b| b.value.total_cmp(&a.value));
    let case_filter = crate::service::scope::scope_case_filter(&scope, CaseFilter { limit: 10, ..Default::default() });
    let cases = if permissions.contains(escucha_core::access::Permission::ReadCases) {
        state.store.list_cases(web.org_id, case_filter).await?
    } else {
        Vec::new()
    };
    let now = Utc::now();
    let body = html! {
        main {
            h1 { (lang.t("dashboard")) }
            div.cards {
                (metric_card(lang, "card-nps", "nps", Some(&nps), 1))
                (metric_card(lang, "card-csat", "csat", Some(&csat), 1))
                (metric_card(lang, "card-ces", "ces", Some(&ces), 2))
            }
            section.panel #nps-by-region {
                h2 { (lang.t("nps_by_region")) }
                @if bars.is_empty() { p { (lang.t("no_data")) } }
                @else {
                    (PreEscaped(horizontal_bars(lang.t("nps_by_region"), &bars, -100.0, 100.0)))
                    p.note { (lang.t("chart_note")) }
                }
            }
            section.panel #latest-cases {
                h2 { (lang.t("latest_cases")) }
                @if cases.is_empty() { p { (lang.t("no_cases")) } }
                @else {
                    table {
                        thead { tr {
                            th { (lang.t("customer")) } th { (lang.t("reason")) } th { (lang.t("priority")) }
                            th { (lang.t("owner")) } th { (lang.t("manager")) } th { (lang.t("status")) } th { (lang.t("due")) }
                        } }
                        tbody {
                            @for c in &cases {
                                tr {
                                    td { (c.customer_external_id) }
                                    td { (lang.t(&format!("reason_{}", c.reason))) }
                                    td { span.badge.high[c.priority == escucha_core::case::Priority::High] { (lang.t(&format!("priority_{}", c.priority.as_str()))) } }
                                    td { (c.owner_email) }
                                    td { (c.manager_email.as_ref().map(|m| m.to_string()).unwrap_or_default()) }
                                    td { (lang.t(&format!("status_{}", c.status.as_str()))) }
                                    td {
                                        (c.due_at.format("%Y-%m-%d %H:%M"))
                                        @if c.status.is_active() && c.due_at < now { " " span.overdue { (lang.t("overdue")) } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    let (csrf, set_cookie) = crate::security::csrf_token(&headers);
    let page = layout(lang, lang.t("dashboard"), Some((web.user.email.as_str(), &csrf)), body);
    Ok(super::with_cookie(with_lang_cookie(lang, &q, page.into_response()), set_cookie))
}
