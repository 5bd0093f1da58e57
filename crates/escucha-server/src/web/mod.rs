//! Staff web pages: sign-in and the dashboard, server-rendered HTML (maud) with SVG charts, in
//! Spanish and English. No JavaScript is needed; styles come from one stylesheet (no inline
//! styles, ready for a strict Content-Security-Policy).

mod account;
pub mod chart;
mod governance;
pub mod i18n;
pub mod oidc;
mod pages;

use axum::Form;
use axum::Router;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono::{Duration, Utc};
use serde::Deserialize;

use escucha_core::ids::OrgId;
use escucha_core::org::User;

use crate::auth::{hash_secret, new_secret};
use crate::security;
use crate::service::sign_in;
use crate::state::AppState;
use i18n::{LANG_COOKIE, Lang};

/// Cookie holding the web session secret.
pub const SESSION_COOKIE: &str = "escucha_session";
/// How long a web session lasts.
pub const SESSION_HOURS: i64 = 12;

/// The pages' router.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to("/dashboard") }))
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", axum::routing::post(logout))
        .route("/dashboard", get(pages::dashboard))
        .route("/static/app.css", get(stylesheet))
        // Governance: security policy and incident register.
        .route("/admin/security", get(governance::page))
        .route("/admin/security/policy", axum::routing::post(governance::save_policy_item))
        .route("/admin/security/policy/{id}", axum::routing::post(governance::save_policy_item))
        .route("/admin/security/policy/{id}/delete", axum::routing::post(governance::delete_policy_item))
        .route("/admin/security/incidents", axum::routing::post(governance::save_incident))
        .route("/admin/security/incidents/{id}", axum::routing::post(governance::save_incident))
        .merge(account::routes())
        .with_state(state)
}

/// Reads one cookie from the request headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// Query parameters every page accepts.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    /// Interface language switch.
    pub lang: Option<String>,
}

/// A signed-in staff user, from the session cookie; pages without one redirect to sign-in.
pub struct WebUser {
    /// Their organisation.
    pub org_id: OrgId,
    /// The user.
    pub user: User,
}

impl FromRequestParts<AppState> for WebUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let to_login = || Redirect::to("/login").into_response();
        let secret = cookie(&parts.headers, SESSION_COOKIE).ok_or_else(to_login)?;
        match state.store.session_by_hash(&hash_secret(&secret), Utc::now()).await {
            Ok(Some((org_id, user))) => Ok(WebUser { org_id, user }),
            Ok(None) => Err(to_login()),
            Err(e) => Err(crate::error::ApiError::from(e).into_response()),
        }
    }
}

/// Sets the language cookie when the page was asked for in a given language.
pub(crate) fn with_lang_cookie(lang: Lang, query: &PageQuery, mut response: Response) -> Response {
    if query.lang.is_some()
        && let Ok(v) =
            HeaderValue::from_str(&format!("{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax", lang.tag()))
    {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// The name of the configured identity provider, for the sign-in page's button.
fn sso_name(state: &AppState) -> Option<&str> {
    state.config.oidc.as_ref().map(|o| o.name.as_str())
}

async fn login_page(State(state): State<AppState>, Query(q): Query<PageQuery>, headers: HeaderMap) -> Response {
    let lang = Lang::negotiate(q.lang.as_deref(), &headers);
    let (csrf, set_cookie) = security::csrf_token(&headers);
    let page = pages::login(lang, None, "demo", "", &csrf, sso_name(&state));
    let response = with_lang_cookie(lang, &q, page.into_response());
    with_cookie(response, set_cookie)
}

/// Appends a `Set-Cookie` header when there is one.
pub(crate) fn with_cookie(mut response: Response, cookie: Option<HeaderValue>) -> Response {
    if let Some(c) = cookie {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    response
}

/// The sign-in form.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    csrf: String,
    org: String,
    email: String,
    password: String,
}

async fn login_submit(
    State(state): State<AppState>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let lang = Lang::negotiate(None, &headers);
    let (csrf, set_cookie) = security::csrf_token(&headers);
    let fail = |status: StatusCode, message: &str| {
        with_cookie(
            (status, pages::login(lang, Some(message), &form.org, &form.email, &csrf, sso_name(&state)))
                .into_response(),
            set_cookie.clone(),
        )
    };
    if !security::csrf_ok(&headers, &form.csrf) {
        return fail(StatusCode::FORBIDDEN, lang.t("form_expired"));
    }
    let ip = peer.ip().to_string();
    match sign_in::lock_in_force(&state, &form.org, &form.email, &ip).await {
        Ok(Some(locked)) => {
            return locked_response(
                fail(StatusCode::TOO_MANY_REQUESTS, lang.t("too_many_attempts")),
                locked.retry_after,
            );
        }
        Ok(None) => {}
        Err(e) => return e.into_response(),
    }
    let (org_id, user) = match sign_in::check_password(&state, &form.org, &form.email, &form.password, &ip).await {
        Ok(Some(found)) => found,
        Ok(None) => return fail(StatusCode::UNAUTHORIZED, lang.t("bad_credentials")),
        Err(e) => return e.into_response(),
    };
    match sign_in::second_factor_required(&state, org_id, user.id).await {
        Ok(true) => account::second_step(&state, org_id, &user).await,
        Ok(false) => complete_sign_in(&state, org_id, &user, form.org.trim(), &ip, "password").await,
        Err(e) => e.into_response(),
    }
}

/// Adds `Retry-After` to a refusal.
pub(crate) fn locked_response(mut response: Response, retry_after: std::time::Duration) -> Response {
    if let Ok(v) = HeaderValue::from_str(&retry_after.as_secs().max(1).to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}

/// Ends a successful sign-in: audits it, clears the account's failures and opens a session
/// (HttpOnly, SameSite=Lax, and Secure when the public URL is https), going to the dashboard.
pub(crate) async fn complete_sign_in(
    state: &AppState,
    org_id: OrgId,
    user: &User,
    org_slug: &str,
    ip: &str,
    via: &str,
) -> Response {
    let email = user.email.as_str();
    let audited = state
        .store
        .append_audit(org_id, sign_in::audit(email, "sign_in.success", serde_json::json!({"via": via}), ip))
        .await;
    if let Err(e) = audited {
        return crate::error::ApiError::from(e).into_response();
    }
    if let Err(e) = sign_in::record_success(state, org_slug, email, ip).await {
        return e.into_response();
    }
    let secret = new_secret("ess_");
    let expires = Utc::now() + Duration::hours(SESSION_HOURS);
    if let Err(e) = state.store.create_session(org_id, user.id, &hash_secret(&secret), expires).await {
        return crate::error::ApiError::from(e).into_response();
    }
    let secure = state.config.public_url.as_deref().is_some_and(|u| u.starts_with("https://"));
    let cookie = format!(
        "{SESSION_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
        SESSION_HOURS * 3600,
        if secure { "; Secure" } else { "" }
    );
    let mut response = Redirect::to("/dashboard").into_response();
    *response.status_mut() = StatusCode::SEE_OTHER;
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// The sign-out form.
#[derive(Debug, Deserialize)]
pub struct LogoutForm {
    csrf: String,
}

async fn logout(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<LogoutForm>) -> Response {
    if !security::csrf_ok(&headers, &form.csrf) {
        return (StatusCode::FORBIDDEN, "CSRF").into_response();
    }
    if let Some(secret) = cookie(&headers, SESSION_COOKIE)
        && let Err(e) = state.store.delete_session(&hash_secret(&secret)).await
    {
        tracing::warn!(error = %e, "could not delete a session");
    }
    let mut response = Redirect::to("/login").into_response();
    *response.status_mut() = StatusCode::SEE_OTHER;
    response.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_static("escucha_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
    );
    response
}

async fn stylesheet() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        pages::STYLESHEET,
    )
}

/// Opens a web session for a signed-in user and answers with the redirect to the dashboard
/// carrying its cookie (HttpOnly, SameSite=Lax, Secure behind TLS): how OpenID Connect sign-in
/// ends, identical to the password sign-in's ending.
pub(crate) async fn open_session(
    state: &AppState,
    org: OrgId,
    user: &User,
) -> Result<Response, crate::error::ApiError> {
    let secret = new_secret("ess_");
    let expires = Utc::now() + Duration::hours(SESSION_HOURS);
    state.store.create_session(org, user.id, &hash_secret(&secret), expires).await?;
    let secure = state.config.public_url.as_deref().is_some_and(|u| u.starts_with("https://"));
    let cookie = format!(
        "{SESSION_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
        SESSION_HOURS * 3600,
        if secure { "; Secure" } else { "" }
    );
    let mut response = Redirect::to("/dashboard").into_response();
    *response.status_mut() = StatusCode::SEE_OTHER;
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
}
