//! Account pages around sign-in: password reset by e-mail (`/forgot`, `/reset`), the second
//! sign-in step (`/login/code`) and the account security page where a signed-in user turns the
//! TOTP second factor on or off (`/account/security`). Every form carries the CSRF token; the
//! use cases live in [`crate::service::sign_in`].
//!
//! Without a mail transport (`ESCUCHA_SMTP_URL` unset) `/forgot` says that mail cannot be sent
//! now and creates no token: a reset link cannot wait in a queue, since it would sit there in
//! clear.

use axum::Form;
use axum::Router;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Utc;
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;
use std::net::SocketAddr;

use escucha_core::ids::OrgId;
use escucha_core::org::User;

use super::i18n::Lang;
use super::pages::layout;
use super::{PageQuery, WebUser, cookie, locked_response, with_cookie, with_lang_cookie};
use crate::auth::hash_secret;
use crate::error::ApiError;
use crate::mail::OutgoingMail;
use crate::security;
use crate::service::sign_in::{self, ResetLink};
use crate::state::AppState;
use crate::totp::{TotpSecret, unix_now};

/// Cookie naming a pending second sign-in step (only its hash is stored).
pub const CHALLENGE_COOKIE: &str = "escucha_mfa";

/// The account pages' routes.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/forgot", get(forgot_page).post(forgot_submit))
        .route("/reset", get(reset_page).post(reset_submit))
        .route("/login/code", get(code_page).post(code_submit))
        .route("/account/security", get(security_page))
        .route("/account/security/totp/start", post(totp_start))
        .route("/account/security/totp/confirm", post(totp_confirm))
        .route("/account/security/totp/disable", post(totp_disable))
}

fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn see_other(to: &str) -> Response {
    let mut response = Redirect::to(to).into_response();
    *response.status_mut() = StatusCode::SEE_OTHER;
    response
}

/// A page with a heading, a message and a link onwards.
fn message_page(lang: Lang, title: &str, message: &str, alert: bool, link: (&str, &str)) -> Markup {
    layout(
        lang,
        title,
        None,
        html! {
            div.login {
                h1 { (title) }
                @if alert { p.error role="alert" { (message) } } @else { p.notice role="status" { (message) } }
                p { a href=(link.0) { (link.1) } }
            }
        },
    )
}

// --- password reset ----------------------------------------------------------------------------

fn forgot(lang: Lang, csrf: &str, org: &str, email: &str, error: Option<&str>, mail_ready: bool) -> Markup {
    let title = lang.t("reset_title");
    if !mail_ready {
        return message_page(lang, title, lang.t("mail_unavailable"), true, ("/login", lang.t("back_to_sign_in")));
    }
    layout(
        lang,
        title,
        None,
        html! {
            form.login method="post" action="/forgot" {
                h1 { (title) }
                p.help { (lang.t("reset_intro")) }
                input type="hidden" name="csrf" value=(csrf);
                label for="org" { (lang.t("organisation")) }
                input #org name="org" type="text" value=(org) required autocomplete="organization";
                label for="email" { (lang.t("email")) }
                input #email name="email" type="email" value=(email) required autocomplete="username";
                @if let Some(e) = error { p.error role="alert" { (e) } }
                button type="submit" id="send-reset" { (lang.t("send_reset_link")) }
                p.note { a href="/login" { (lang.t("back_to_sign_in")) } }
            }
        },
    )
}

async fn forgot_page(State(state): State<AppState>, Query(q): Query<PageQuery>, headers: HeaderMap) -> Response {
    let lang = Lang::negotiate(q.lang.as_deref(), &headers);
    let (csrf, set_cookie) = security::csrf_token(&headers);
    let ready = state.mailer.is_configured();
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let page = (status, forgot(lang, &csrf, "", "", None, ready)).into_response();
    with_cookie(with_lang_cookie(lang, &q, page), set_cookie)
}

/// The "forgot your password" form.
#[derive(Debug, Deserialize)]
pub struct ForgotForm {
    csrf: String,
    org: String,
    email: String,
}

async fn forgot_submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<ForgotForm>,
) -> Response {
    let lang = Lang::negotiate(None, &headers);
    let (csrf, set_cookie) = security::csrf_token(&headers);
    let ready = state.mailer.is_configured();
    let page = |status: StatusCode, error: Option<&str>| {
        with_cookie(
            (status, forgot(lang, &csrf, &form.org, &form.email, error, ready)).into_response(),
            set_cookie.clone(),
        )
    };
    if !security::csrf_ok(&headers, &form.csrf) {
        return page(StatusCode::FORBIDDEN, Some(lang.t("form_expired")));
    }
    if !ready {
        return page(StatusCode::SERVICE_UNAVAILABLE, None);
    }
    let ip = peer.ip().to_string();
    match sign_in::count_reset_request(&state, &form.org, &form.email, &ip).await {
        Ok(Ok(())) => {}
        Ok(Err(retry_after)) => {
            return locked_response(
                page(StatusCode::TOO_MANY_REQUESTS, Some(lang.t("too_many_requests"))),
                retry_after,
            );
        }
        Err(e) => return e.into_response(),
    }
    reset_in_background(&state, lang, form.org.clone(), form.email.clone(), ip);
    // The same answer, as fast, whether or not the account exists.
    let title = lang.t("reset_title");
    message_page(lang, title, lang.t("reset_sent"), false, ("/login", lang.t("back_to_sign_in"))).into_response()
}

/// Looks the account up, makes the token and sends the mail after the answer has gone: neither
/// its content nor its timing tells whether the account exists. Failures are logged.
fn reset_in_background(state: &AppState, lang: Lang, org: String, email: String, ip: String) {
    let state = state.clone();
    tokio::spawn(async move {
        let link = match sign_in::create_reset(&state, &org, &email, &ip).await {
            Ok(Some(link)) => link,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = ?e, "password-reset token not created");
                return;
            }
        };
        if let Err(e) = state.mailer.send(&reset_mail(lang, &state, &link)).await {
            tracing::warn!(error = %e, "password-reset mail not sent");
        }
    });
}

/// The reset mail in the language the request was made in: plain text and simple HTML.
fn reset_mail(lang: Lang, state: &AppState, link: &ResetLink) -> OutgoingMail {
    let base = state.config.public_url.as_deref().unwrap_or("");
    let url = format!("{base}/reset?token={}&lang={}", link.token, lang.tag());
    let text = format!(
        "{}\n\n{}\n\n{url}\n\n{}\n\n-- \nEscucha\n",
        lang.t("mail_greeting"),
        lang.t("mail_reset_body"),
        lang.t("mail_reset_ignore")
    );
    let html = html! {
        (maud::DOCTYPE)
        html lang=(lang.tag()) {
            head { meta charset="utf-8"; title { (lang.t("mail_reset_subject")) } }
            body {
                p { (lang.t("mail_greeting")) }
                p { (lang.t("mail_reset_body")) }
                p { a href=(url) { (lang.t("reset_title")) } }
                p { (url) }
                p { (lang.t("mail_reset_ignore")) }
                p { "Escucha" }
            }
        }
    };
    OutgoingMail {
        to: link.to.to_string(),
        subject: lang.t("mail_reset_subject").to_string(),
        text,
        html: html.into_string(),
    }
}

fn reset_form(lang: Lang, csrf: &str, token: &str, error: Option<&str>) -> Markup {
    layout(
        lang,
        lang.t("reset_title"),
        None,
        html! {
            form.login method="post" action="/reset" {
                h1 { (lang.t("reset_title")) }
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="token" value=(token);
                label for="password" { (lang.t("new_password")) }
                input #password name="password" type="password" required minlength="12" autocomplete="new-password";
                label for="confirm" { (lang.t("confirm_password")) }
                input #confirm name="confirm" type="password" required minlength="12" autocomplete="new-password";
                p.help { (lang.t("password_rules")) }
                @if let Some(e) = error { p.error role="alert" { (e) } }
                button type="submit" id="set-password" { (lang.t("set_password")) }
            }
        },
    )
}

fn reset_invalid(lang: Lang) -> Response {
    let page = message_page(
        lang,
        lang.t("reset_title"),
        lang.t("reset_link_invalid"),
        true,
        ("/forgot", lang.t("ask_new_link")),
    );
    no_store((StatusCode::BAD_REQUEST, page).into_response())
}

/// `/reset` query: the mailed token and an optional language.
#[derive(Debug, Deserialize)]
pub struct ResetQuery {
    token: Option<String>,
    lang: Option<String>,
}

async fn reset_page(State(state): State<AppState>, Query(q): Query<ResetQuery>, headers: HeaderMap) -> Response {
    let lang = Lang::negotiate(q.lang.as_deref(), &headers);
    let token = q.token.unwrap_or_default();
    match sign_in::reset_token_valid(&state, &token).await {
        Ok(true) => {}
        Ok(false) => return reset_invalid(lang),
        Err(e) => return e.into_response(),
    }
    let (csrf, set_cookie) = security::csrf_token(&headers);
    let page_query = PageQuery { lang: q.lang.clone() };
    let page = with_lang_cookie(lang, &page_query, reset_form(lang, &csrf, &token, None).into_response());
    no_store(with_cookie(page, set_cookie))
}

/// The new-password form.
#[derive(Debug, Deserialize)]
pub struct ResetForm {
    csrf: String,
    token: String,
    password: String,
    confirm: String,
}

async fn reset_submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<ResetForm>,
) -> Response {
    let lang = Lang::negotiate(None, &headers);
    let (csrf, set_cookie) = security::csrf_token(&headers);
    let again = |status: StatusCode, error: &str| {
        no_store(with_cookie(
            (status, reset_form(lang, &csrf, &form.token, Some(error))).into_response(),
            set_cookie.clone(),
        ))
    };
    if !security::csrf_ok(&headers, &form.csrf) {
        return again(StatusCode::FORBIDDEN, lang.t("form_expired"));
    }
    if let Some(problem) = sign_in::password_problem(&form.password, &form.confirm) {
        return again(StatusCode::BAD_REQUEST, lang.t(problem));
    }
    match sign_in::complete_reset(&state, &form.token, &form.password, &peer.ip().to_string()).await {
        Ok(Some(_)) => {
            let page = message_page(
                lang,
                lang.t("reset_title"),
                lang.t("password_changed"),
                false,
                ("/login", lang.t("sign_in")),
            );
            let mut response = no_store(page.into_response());
            response.headers_mut().append(header::SET_COOKIE, HeaderValue::from_static(CLEAR_SESSION));
            response
        }
        Ok(None) => reset_invalid(lang),
        Err(e) => e.into_response(),
    }
}

const CLEAR_SESSION: &str = "escucha_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0";
const CLEAR_CHALLENGE: &str = "escucha_mfa=; Path=/login; HttpOnly; SameSite=Strict; Max-Age=0";

// --- second sign-in step ------------------------------------------------------------------------

/// After a right password for a user with the second factor on: a short-lived challenge cookie
/// and the code page.
pub(super) async fn second_step(state: &AppState, org: OrgId, user: &User) -> Response {
    let secret = match sign_in::start_challenge(state, org, user.id).await {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let mut response = see_other("/login/code");
    let cookie = format!(
        "{CHALLENGE_COOKIE}={secret}; Path=/login; HttpOnly; SameSite=Strict; Max-Age={}",
        sign_in::CHALLENGE_MINUTES * 60
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

fn code_form(lang: Lang, csrf: &str, error: Option<&str>) -> Markup {
    layout(
        lang,
        lang.t("two_step"),
        None,
        html! {
            form.login method="post" action="/login/code" {
                h1 { (lang.t("two_step")) }
                input type="hidden" name="csrf" value=(csrf);
                label for="code" { (lang.t("code")) }
                input #code name="code" type="text" inputmode="numeric" pattern="[0-9 ]{6,7}" required
                    autocomplete="one-time-code" autofocus;
                p.help { (lang.t("code_help")) }
                @if let Some(e) = error { p.error role="alert" { (e) } }
                button type="submit" id="verify-code" { (lang.t("verify")) }
            }
        },
    )
}

async fn challenge(state: &AppState, headers: &HeaderMap) -> Result<Option<(OrgId, User, String)>, ApiError> {
    let Some(secret) = cookie(headers, CHALLENGE_COOKIE) else { return Ok(None) };
    let hash = hash_secret(&secret);
    Ok(state.store.sign_in_challenge(&hash, Utc::now()).await?.map(|(org, user)| (org, user, hash)))
}

async fn code_page(State(state): State<AppState>, Query(q): Query<PageQuery>, headers: HeaderMap) -> Response {
    let lang = Lang::negotiate(q.lang.as_deref(), &headers);
    match challenge(&state, &headers).await {
        Ok(Some(_)) => {}
        Ok(None) => return see_other("/login"),
        Err(e) => return e.into_response(),
    }
    let (csrf, set_cookie) = security::csrf_token(&headers);
    no_store(with_cookie(with_lang_cookie(lang, &q, code_form(lang, &csrf, None).into_response()), set_cookie))
}

/// The second-step form.
#[derive(Debug, Deserialize)]
pub struct CodeForm {
    csrf: String,
    code: String,
}

async fn code_submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Response {
    let lang = Lang::negotiate(None, &headers);
    let (csrf, set_cookie) = security::csrf_token(&headers);
    let again = |status: StatusCode, error: &str| {
        no_store(with_cookie((status, code_form(lang, &csrf, Some(error))).into_response(), set_cookie.clone()))
    };
    if !security::csrf_ok(&headers, &form.csrf) {
        return again(StatusCode::FORBIDDEN, lang.t("form_expired"));
    }
    let (org_id, user, hash) = match challenge(&state, &headers).await {
        Ok(Some(found)) => found,
        Ok(None) => {
            let page =
                super::pages::login(lang, Some(lang.t("sign_in_expired")), "", "", &csrf, super::sso_name(&state));
            return with_cookie((StatusCode::UNAUTHORIZED, page).into_response(), set_cookie);
        }
        Err(e) => return e.into_response(),
    };
    let slug = match state.store.org(org_id).await {
        Ok(Some(org)) => org.slug.to_string(),
        Ok(None) => return see_other("/login"),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let ip = peer.ip().to_string();
    let email = user.email.as_str();
    match sign_in::lock_in_force(&state, &slug, email, &ip).await {
        Ok(Some(locked)) => {
            return locked_response(
                again(StatusCode::TOO_MANY_REQUESTS, lang.t("too_many_attempts")),
                locked.retry_after,
            );
        }
        Ok(None) => {}
        Err(e) => return e.into_response(),
    }
    match sign_in::verify_code(&state, org_id, user.id, &form.code).await {
        Ok(true) => {}
        Ok(false) => {
            let entry = sign_in::audit(email, "sign_in.failure", serde_json::json!({"via": "totp"}), &ip);
            if let Err(e) = state.store.append_audit(org_id, entry).await {
                return ApiError::from(e).into_response();
            }
            if let Err(e) = sign_in::record_failure(&state, &slug, email, &ip).await {
                return e.into_response();
            }
            return again(StatusCode::UNAUTHORIZED, lang.t("wrong_code"));
        }
        Err(e) => return e.into_response(),
    }
    if let Err(e) = state.store.delete_sign_in_challenge(&hash).await {
        return ApiError::from(e).into_response();
    }
    let mut response = super::complete_sign_in(&state, org_id, &user, &slug, &ip, "password+totp").await;
    response.headers_mut().append(header::SET_COOKIE, HeaderValue::from_static(CLEAR_CHALLENGE));
    response
}

// --- account security page ----------------------------------------------------------------------

/// What the security page shows about the second factor.
enum TotpView {
    Off,
    Pending { secret: String, uri: String, qr: Option<String> },
    On,
}

/// The provisioning URI as an inline SVG QR code (no script, no inline style: CSP-safe).
fn qr_svg(uri: &str, label: &str) -> Option<String> {
    let code = qrcode::QrCode::new(uri.as_bytes()).ok()?;
    let svg = code.render::<qrcode::render::svg::Color>().min_dimensions(200, 200).quiet_zone(true).build();
    let svg = svg.split_once("?>").map(|(_, rest)| rest.to_string()).unwrap_or(svg);
    let label = maud::html! { (label) }.into_string();
    Some(svg.replacen("<svg ", &format!("<svg role=\"img\" aria-label=\"{label}\" "), 1))
}

fn grouped(secret: &str) -> String {
    secret.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join(" ")
}

fn security(lang: Lang, who: &str, csrf: &str, view: &TotpView, error: Option<&str>) -> Markup {
    let body = html! {
        main {
            h1 { (lang.t("security")) }
            section.panel #two-step {
                h2 { (lang.t("two_step")) }
                @match view {
                    TotpView::Off => {
                        p #totp-status { (lang.t("totp_off")) }
                        form.stack method="post" action="/account/security/totp/start" {
                            input type="hidden" name="csrf" value=(csrf);
                            button type="submit" id="totp-start" { (lang.t("totp_start")) }
                        }
                    }
                    TotpView::Pending { secret, uri, qr } => {
                        p { (lang.t("totp_scan")) }
                        @if let Some(svg) = qr { div.qr { (PreEscaped(svg)) } }
                        p { (lang.t("totp_secret")) ": " code.secret #totp-secret { (grouped(secret)) } }
                        p.note { a href=(uri) #totp-uri { (uri) } }
                        form.stack method="post" action="/account/security/totp/confirm" {
                            input type="hidden" name="csrf" value=(csrf);
                            label for="code" { (lang.t("code")) }
                            input #code name="code" type="text" inputmode="numeric" required autocomplete="one-time-code";
                            @if let Some(e) = error { p.error role="alert" { (e) } }
                            button type="submit" id="totp-confirm" { (lang.t("totp_confirm")) }
                        }
                    }
                    TotpView::On => {
                        p #totp-status { (lang.t("totp_on")) }
                        form.stack method="post" action="/account/security/totp/disable" {
                            input type="hidden" name="csrf" value=(csrf);
                            p.help { (lang.t("totp_disable_help")) }
                            label for="code" { (lang.t("code")) }
                            input #code name="code" type="text" inputmode="numeric" required autocomplete="one-time-code";
                            @if let Some(e) = error { p.error role="alert" { (e) } }
                            button type="submit" id="totp-disable" { (lang.t("totp_disable")) }
                        }
                    }
                }
            }
        }
    };
    layout(lang, lang.t("security"), Some((who, csrf)), body)
}

async fn totp_view(state: &AppState, web: &WebUser, lang: Lang) -> Result<TotpView, ApiError> {
    Ok(match state.store.totp_state(web.org_id, web.user.id).await? {
        None => TotpView::Off,
        Some(t) if t.enabled_at.is_some() => TotpView::On,
        Some(t) => {
            let secret = TotpSecret::from_base32(&t.secret_base32).map_err(|e| ApiError::internal(&e))?;
            let uri = secret.provisioning_uri("Escucha", web.user.email.as_str());
            let qr = qr_svg(&uri, lang.t("qr_code"));
            TotpView::Pending { secret: t.secret_base32, uri, qr }
        }
    })
}

async fn render_security(
    state: &AppState,
    web: &WebUser,
    lang: Lang,
    headers: &HeaderMap,
    status: StatusCode,
    error: Option<&str>,
) -> Response {
    let view = match totp_view(state, web, lang).await {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let (csrf, set_cookie) = security::csrf_token(headers);
    let page = security(lang, web.user.email.as_str(), &csrf, &view, error);
    no_store(with_cookie((status, page).into_response(), set_cookie))
}

async fn security_page(
    State(state): State<AppState>,
    web: WebUser,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(q.lang.as_deref(), &headers);
    with_lang_cookie(lang, &q, render_security(&state, &web, lang, &headers, StatusCode::OK, None).await)
}

/// A form of the security page: the CSRF token and, to confirm or turn off, a code.
#[derive(Debug, Deserialize)]
pub struct TotpForm {
    csrf: String,
    #[serde(default)]
    code: String,
}

async fn audit_self(state: &AppState, web: &WebUser, action: &str, ip: &str) -> Result<(), ApiError> {
    let entry = sign_in::audit(web.user.email.as_str(), action, serde_json::json!({}), ip);
    Ok(state.store.append_audit(web.org_id, entry).await?)
}

async fn totp_start(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    web: WebUser,
    headers: HeaderMap,
    Form(form): Form<TotpForm>,
) -> Response {
    let lang = Lang::negotiate(None, &headers);
    if !security::csrf_ok(&headers, &form.csrf) {
        return render_security(&state, &web, lang, &headers, StatusCode::FORBIDDEN, Some(lang.t("form_expired")))
            .await;
    }
    let secret = TotpSecret::generate();
    match state.store.begin_totp_enrolment(web.org_id, web.user.id, &secret.to_base32(), Utc::now()).await {
        // Already enabled (another tab): the page shows that.
        Ok(()) | Err(escucha_store::StoreError::Conflict(_)) => {}
        Err(e) => return ApiError::from(e).into_response(),
    }
    if let Err(e) = audit_self(&state, &web, "totp_enrolment_started", &peer.ip().to_string()).await {
        return e.into_response();
    }
    see_other("/account/security")
}

async fn totp_confirm(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    web: WebUser,
    headers: HeaderMap,
    Form(form): Form<TotpForm>,
) -> Response {
    let lang = Lang::negotiate(None, &headers);
    if !security::csrf_ok(&headers, &form.csrf) {
        return render_security(&state, &web, lang, &headers, StatusCode::FORBIDDEN, Some(lang.t("form_expired")))
            .await;
    }
    let pending = match state.store.totp_state(web.org_id, web.user.id).await {
        Ok(Some(t)) if t.enabled_at.is_none() => t,
        Ok(_) => return see_other("/account/security"),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let step =
        TotpSecret::from_base32(&pending.secret_base32).ok().and_then(|s| s.verify(&form.code, unix_now(), None));
    let Some(step) = step.and_then(|s| i64::try_from(s).ok()) else {
        return render_security(&state, &web, lang, &headers, StatusCode::BAD_REQUEST, Some(lang.t("wrong_code")))
            .await;
    };
    if let Err(e) = state.store.enable_totp(web.org_id, web.user.id, step, Utc::now()).await {
        return ApiError::from(e).into_response();
    }
    if let Err(e) = audit_self(&state, &web, "totp_enabled", &peer.ip().to_string()).await {
        return e.into_response();
    }
    see_other("/account/security")
}

async fn totp_disable(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    web: WebUser,
    headers: HeaderMap,
    Form(form): Form<TotpForm>,
) -> Response {
    let lang = Lang::negotiate(None, &headers);
    if !security::csrf_ok(&headers, &form.csrf) {
        return render_security(&state, &web, lang, &headers, StatusCode::FORBIDDEN, Some(lang.t("form_expired")))
            .await;
    }
    let ip = peer.ip().to_string();
    let slug = match state.store.org(web.org_id).await {
        Ok(org) => org.map(|o| o.slug.to_string()).unwrap_or_default(),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let email = web.user.email.as_str();
    match sign_in::lock_in_force(&state, &slug, email, &ip).await {
        Ok(Some(locked)) => {
            let page = render_security(
                &state,
                &web,
                lang,
                &headers,
                StatusCode::TOO_MANY_REQUESTS,
                Some(lang.t("too_many_attempts")),
            )
            .await;
            return locked_response(page, locked.retry_after);
        }
        Ok(None) => {}
        Err(e) => return e.into_response(),
    }
    match sign_in::verify_code(&state, web.org_id, web.user.id, &form.code).await {
        Ok(true) => {}
        Ok(false) => {
            if let Err(e) = sign_in::record_failure(&state, &slug, email, &ip).await {
                return e.into_response();
            }
            return render_security(&state, &web, lang, &headers, StatusCode::BAD_REQUEST, Some(lang.t("wrong_code")))
                .await;
        }
        Err(e) => return e.into_response(),
    }
    if let Err(e) = state.store.delete_totp(web.org_id, web.user.id).await {
        return ApiError::from(e).into_response();
    }
    if let Err(e) = audit_self(&state, &web, "totp_disabled", &ip).await {
        return e.into_response();
    }
    see_other("/account/security")
}
