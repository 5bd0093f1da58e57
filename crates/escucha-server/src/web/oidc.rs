//! OpenID Connect sign-in against one configured identity provider: the authorization code flow
//! with PKCE (S256), state and nonce, and a fully verified ID token.
//!
//! Key decisions:
//! - **One provider, one organisation.** The provider is configured for the server
//!   (`[oidc]` in `escucha.toml` or `ESCUCHA_OIDC_*`) and signs into the organisation named by
//!   its slug (`ESCUCHA_OIDC_ORG`): a company's identity provider vouches for that company's
//!   staff only, so a person never chooses the organisation and a provider can never reach
//!   another tenant.
//! - **No accounts are created.** The verified `email` claim must belong to an existing staff
//!   user of that organisation (an admin adds users and their roles and scopes, as for password
//!   sign-in); otherwise the sign-in is refused. Creating users from whatever the provider sends
//!   would hand out access (and a default role) that nobody granted.
//! - **No migration, several processes.** Between the start and the callback the login state
//!   (state, nonce, PKCE verifier, redirect URI, start time) lives in a ten-minute cookie
//!   sealed with the server's key ring (XChaCha20-Poly1305, bound to its purpose), so any
//!   process sharing `ESCUCHA_SECRET_KEY` can finish a flow another started, and nothing is
//!   stored.
//! - **The session is the password sign-in's**: same cookie, same lifetime, same CSRF, audited
//!   as `sign_in.success` / `sign_in.failure` with `"via": "oidc"` and a reason code (never a
//!   token or code).
//! - **Outbound HTTP** uses reqwest on rustls with the ring provider and the compiled-in webpki
//!   roots (nothing is downloaded at run time, no OpenSSL), with timeouts on every call, no
//!   redirects followed, capped response sizes, and https only (http is accepted for a
//!   loopback issuer, for development and tests). The discovery document and the key set are
//!   cached for an hour; an unknown `kid` downloads the key set again (such downloads at most
//!   every 30 s), so key rotation at the provider needs no restart.

pub mod jwt;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use maud::html;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use escucha_core::ids::OrgId;
use escucha_core::org::User;
use escucha_core::values::{Email, Slug};
use escucha_store::crypto::KeyRing;

use super::i18n::Lang;
use super::{PageQuery, cookie, with_lang_cookie};
use crate::config::{Config, ConfigError};
use crate::error::ApiError;
use crate::state::AppState;
use jwt::{Jws, JwtError};

/// Cookie holding the sealed login state between the start and the callback.
pub const STATE_COOKIE: &str = "escucha_oidc";
/// How long a sign-in at the provider may take, seconds.
pub const LOGIN_STATE_SECONDS: i64 = 600;
/// Allowed clock difference with the provider when checking `exp`, `iat` and `nbf`, seconds.
pub const CLOCK_LEEWAY_SECONDS: i64 = 60;
/// Timeout of each call to the provider.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the discovery document and the key set are reused.
pub const CACHE_TTL: Duration = Duration::from_secs(3600);
/// Shortest time between two key-set downloads caused by an unknown key id.
pub const JWKS_MIN_REFRESH: Duration = Duration::from_secs(30);
/// Largest document accepted from the provider, bytes.
const MAX_BODY: usize = 512 * 1024;
/// Associated data sealing the login state cookie to this one purpose.
const STATE_AAD: &str = "escucha oidc login state v1";

/// The identity provider's settings.
#[derive(Clone, PartialEq)]
pub struct OidcConfig {
    /// Issuer identifier, exactly as the provider states it (`iss`); its discovery document is
    /// at `{issuer}/.well-known/openid-configuration`.
    pub issuer: String,
    /// This application's client id at the provider.
    pub client_id: String,
    /// This application's client secret. Never printed.
    pub client_secret: String,
    /// Name shown on the button ("Sign in with {name}").
    pub name: String,
    /// Slug of the organisation the provider signs into.
    pub org: String,
    /// Scopes asked for: `openid email` and the configured extra ones.
    pub scopes: Vec<String>,
}

impl std::fmt::Debug for OidcConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcConfig")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"***")
            .field("name", &self.name)
            .field("org", &self.org)
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// The `[oidc]` table of `escucha.toml`; every key optional (the environment may give it).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcFileLayer {
    issuer: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    name: Option<String>,
    org: Option<String>,
    scopes: Option<Vec<String>>,
}

fn invalid(key: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { key, reason: reason.into() }
}

/// True for `localhost` and loopback addresses.
fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host_str() {
        Some("localhost") => true,
        Some(host) => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}

/// Checks a provider URL: https, or http on a loopback host when `allow_http` (tests and
/// development).
fn check_url(raw: &str, allow_http: bool) -> Result<reqwest::Url, String> {
    let url = reqwest::Url::parse(raw).map_err(|e| format!("'{raw}' is not a URL ({e})"))?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if allow_http && is_loopback(&url) => Ok(url),
        _ => Err(format!("'{raw}' must use https:// (http:// only for localhost)")),
    }
}

impl OidcConfig {
    /// The provider settings from the file's `[oidc]` table and `ESCUCHA_OIDC_*` variables
    /// (these win, key by key); `None` when no issuer is configured.
    pub fn load(file: Option<OidcFileLayer>, env: &HashMap<String, String>) -> Result<Option<OidcConfig>, ConfigError> {
        let file = file.unwrap_or_default();
        let env_get = |k: &str| env.get(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let pick = |key: &str, file: Option<String>| env_get(key).or(file.filter(|v| !v.trim().is_empty()));
        let Some(issuer) = pick("ESCUCHA_OIDC_ISSUER", file.issuer) else {
            return Ok(None);
        };
        let issuer_url = check_url(&issuer, true).map_err(|r| invalid("oidc.issuer", r))?;
        if issuer_url.query().is_some() || issuer_url.fragment().is_some() {
            return Err(invalid("oidc.issuer", "an issuer has no query or fragment"));
        }
        let required = |key: &'static str, env_key: &str, file: Option<String>| {
            pick(env_key, file).ok_or_else(|| invalid(key, format!("set {env_key} (or {key} in escucha.toml) too")))
        };
        let client_id = required("oidc.client_id", "ESCUCHA_OIDC_CLIENT_ID", file.client_id)?;
        let client_secret = required("oidc.client_secret", "ESCUCHA_OIDC_CLIENT_SECRET", file.client_secret)?;
        let org = required("oidc.org", "ESCUCHA_OIDC_ORG", file.org)?;
        let org = Slug::parse(&org).map_err(|e| invalid("oidc.org", e.to_string()))?.as_str().to_string();
        let name = pick("ESCUCHA_OIDC_NAME", file.name)
            .unwrap_or_else(|| issuer_url.host_str().unwrap_or("OpenID Connect").to_string());
        let extra: Vec<String> = match env_get("ESCUCHA_OIDC_SCOPES") {
            Some(text) => text.split([' ', ',']).filter(|s| !s.is_empty()).map(str::to_string).collect(),
            None => file.scopes.unwrap_or_default(),
        };
        let mut scopes = vec!["openid".to_string(), "email".to_string()];
        for scope in extra {
            let scope = scope.trim().to_string();
            if scope.is_empty() || !scope.chars().all(|c| c.is_ascii_graphic() && c != '"' && c != '\\') {
                return Err(invalid("oidc.scopes", format!("'{scope}' is not a scope name")));
            }
            if !scopes.contains(&scope) {
                scopes.push(scope);
            }
        }
        Ok(Some(OidcConfig { issuer, client_id, client_secret, name, org, scopes }))
    }

    fn allows_http(&self) -> bool {
        reqwest::Url::parse(&self.issuer).is_ok_and(|u| u.scheme() == "http")
    }
}

/// Why the OpenID Connect client could not be set up at start.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The key ring sealing the login state could not be loaded.
    #[error("key ring: {0}")]
    Keys(#[from] escucha_store::crypto::CryptoError),
    /// The HTTP client could not be built.
    #[error("HTTP client: {0}")]
    Http(String),
}

/// The provider's discovery document (the fields used).
#[derive(Debug, Clone, Deserialize)]
pub struct Discovery {
    /// Issuer; must equal the configured one.
    pub issuer: String,
    /// Where the browser is sent to sign in.
    pub authorization_endpoint: String,
    /// Where the code is exchanged.
    pub token_endpoint: String,
    /// The provider's public keys.
    pub jwks_uri: String,
    /// Client authentication methods at the token endpoint.
    #[serde(default)]
    pub token_endpoint_auth_methods_supported: Vec<String>,
    /// ID token signing algorithms the provider uses.
    #[serde(default)]
    pub id_token_signing_alg_values_supported: Vec<String>,
}

/// A cached download.
struct Cached<T> {
    at: Instant,
    source: String,
    value: Arc<T>,
    /// Downloaded because a key was missing (such downloads are rate-limited).
    forced: bool,
}

/// The OpenID Connect client of one provider: settings, HTTP client, caches, and the key ring
/// sealing login state. Built once at start.
pub struct Oidc {
    config: OidcConfig,
    public_url: Option<String>,
    keys: KeyRing,
    http: reqwest::Client,
    discovery: tokio::sync::Mutex<Option<Cached<Discovery>>>,
    jwks: tokio::sync::Mutex<Option<Cached<Vec<jwt::Jwk>>>>,
}

impl std::fmt::Debug for Oidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oidc").field("config", &self.config).finish_non_exhaustive()
    }
}

/// A failed call to the provider (logged; never shown in detail to the person).
#[derive(Debug, thiserror::Error)]
enum FetchError {
    #[error("{0}")]
    Http(#[from] reqwest::Error),
    #[error("HTTP status {0}")]
    Status(u16),
    #[error("response larger than {MAX_BODY} bytes")]
    TooLarge,
    #[error("invalid document: {0}")]
    Document(String),
}

impl Oidc {
    /// The client for the configured provider, or `None` when none is configured. Loads the
    /// key ring the same way the store does (environment, else the data folder's key file).
    pub fn from_config(config: &Config) -> Result<Option<Arc<Oidc>>, SetupError> {
        let Some(oidc) = &config.oidc else {
            return Ok(None);
        };
        let keys = KeyRing::load(config.secret_key.as_deref(), &config.data_dir)?;
        let http = reqwest::Client::builder()
            .timeout(HTTP_TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .https_only(!oidc.allows_http())
            .user_agent(concat!("escucha/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SetupError::Http(e.to_string()))?;
        Ok(Some(Arc::new(Oidc {
            config: oidc.clone(),
            public_url: config.public_url.clone(),
            keys,
            http,
            discovery: Default::default(),
            jwks: Default::default(),
        })))
    }

    async fn get_bytes(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        let response = self.http.get(url).header(header::ACCEPT, "application/json").send().await?;
        match read_capped(response).await? {
            (status, body) if status.is_success() => Ok(body),
            (status, _) => Err(FetchError::Status(status.as_u16())),
        }
    }

    /// The discovery document, from the cache when fresh; checked against the configuration.
    async fn discovery(&self) -> Result<Arc<Discovery>, FetchError> {
        let mut cache = self.discovery.lock().await;
        if let Some(c) = cache.as_ref().filter(|c| c.at.elapsed() < CACHE_TTL) {
            return Ok(c.value.clone());
        }
        let url = format!("{}/.well-known/openid-configuration", self.config.issuer.trim_end_matches('/'));
        let bytes = self.get_bytes(&url).await?;
        let doc: Discovery = serde_json::from_slice(&bytes).map_err(|e| FetchError::Document(e.to_string()))?;
        if doc.issuer != self.config.issuer {
            return Err(FetchError::Document(format!(
                "the document's issuer '{}' is not the configured '{}'",
                doc.issuer, self.config.issuer
            )));
        }
        for endpoint in [&doc.authorization_endpoint, &doc.token_endpoint, &doc.jwks_uri] {
            check_url(endpoint, self.config.allows_http()).map_err(FetchError::Document)?;
        }
        let value = Arc::new(doc);
        *cache = Some(Cached { at: Instant::now(), source: url, value: value.clone(), forced: false });
        Ok(value)
    }

    /// The provider's keys; `refresh` (a key was missing) downloads them again, unless the
    /// cached set is itself such a download of the last [`JWKS_MIN_REFRESH`].
    async fn jwks(&self, discovery: &Discovery, refresh: bool) -> Result<Arc<Vec<jwt::Jwk>>, FetchError> {
        let mut cache = self.jwks.lock().await;
        if let Some(c) = cache.as_ref().filter(|c| c.source == discovery.jwks_uri) {
            let fresh =
                if refresh { c.forced && c.at.elapsed() < JWKS_MIN_REFRESH } else { c.at.elapsed() < CACHE_TTL };
            if fresh {
                return Ok(c.value.clone());
            }
        }
        let bytes = self.get_bytes(&discovery.jwks_uri).await?;
        let keys = jwt::parse_jwk_set(&bytes).map_err(|e| FetchError::Document(e.to_string()))?;
        let value = Arc::new(keys);
        let source = discovery.jwks_uri.clone();
        *cache = Some(Cached { at: Instant::now(), source, value: value.clone(), forced: refresh });
        Ok(value)
    }

    /// Exchanges the code at the token endpoint; returns the ID token.
    async fn exchange(&self, discovery: &Discovery, code: &str, login: &LoginState) -> Result<String, Refusal> {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", login.redirect_uri.as_str()),
            ("code_verifier", login.verifier.as_str()),
        ];
        let mut request = self.http.post(&discovery.token_endpoint).header(header::ACCEPT, "application/json");
        // client_secret_basic is the default; client_secret_post only when it is all the
        // provider announces.
        let methods = &discovery.token_endpoint_auth_methods_supported;
        let post = !methods.is_empty()
            && !methods.iter().any(|m| m == "client_secret_basic")
            && methods.iter().any(|m| m == "client_secret_post");
        if post {
            form.push(("client_id", &self.config.client_id));
            form.push(("client_secret", &self.config.client_secret));
        } else {
            // RFC 6749 §2.3.1: both parts are form-encoded before the Basic scheme.
            request =
                request.basic_auth(form_encode(&self.config.client_id), Some(form_encode(&self.config.client_secret)));
        }
        let response = request.form(&form).send().await.map_err(|e| {
            tracing::warn!(error = %e, "OpenID Connect token endpoint unreachable");
            Refusal::unavailable()
        })?;
        let (status, body) = read_capped(response).await.map_err(|e| {
            tracing::warn!(error = %e, "OpenID Connect token response unreadable");
            Refusal::unavailable()
        })?;
        #[derive(Deserialize)]
        struct TokenResponse {
            id_token: Option<String>,
            error: Option<String>,
        }
        let parsed: Option<TokenResponse> = serde_json::from_slice(&body).ok();
        if !status.is_success() {
            let error = parsed.as_ref().and_then(|p| p.error.as_deref()).map(clip_code).unwrap_or_default();
            tracing::warn!(status = status.as_u16(), error, "OpenID Connect token endpoint refused the code");
            return Err(Refusal::new("token_exchange_failed", StatusCode::BAD_REQUEST, "oidc_failed"));
        }
        parsed
            .and_then(|p| p.id_token)
            .ok_or_else(|| Refusal::new("no_id_token", StatusCode::BAD_GATEWAY, "oidc_failed"))
    }

    /// Verifies an ID token fully: algorithm, key, signature, then the claims.
    async fn verify(&self, discovery: &Discovery, id_token: &str, nonce: &str) -> Result<jwt::IdTokenClaims, Refusal> {
        let jws = Jws::parse(id_token).map_err(Refusal::token)?;
        let announced = &discovery.id_token_signing_alg_values_supported;
        if !announced.is_empty() && !announced.iter().any(|a| a == jws.alg.name()) {
            return Err(Refusal::token(JwtError::UnsupportedAlgorithm));
        }
        let unavailable = |e: FetchError| {
            tracing::warn!(error = %e, "OpenID Connect key set unavailable");
            Refusal::unavailable()
        };
        let keys = self.jwks(discovery, false).await.map_err(unavailable)?;
        let key = match jwt::select_key(&keys, &jws) {
            Some(key) => key.clone(),
            None => {
                let keys = self.jwks(discovery, true).await.map_err(unavailable)?;
                jwt::select_key(&keys, &jws).cloned().ok_or(Refusal::token(JwtError::UnknownKey))?
            }
        };
        jws.verify(&key).map_err(Refusal::token)?;
        let claims = jws.claims().map_err(Refusal::token)?;
        let expected = jwt::Expected {
            issuer: &self.config.issuer,
            client_id: &self.config.client_id,
            nonce,
            now: Utc::now().timestamp(),
            leeway: CLOCK_LEEWAY_SECONDS,
        };
        jwt::validate_claims(&claims, &expected).map_err(Refusal::token)?;
        Ok(claims)
    }

    /// Where the provider sends the browser back: under `ESCUCHA_PUBLIC_URL` when set (register
    /// that exact URL at the provider), else under the request's `Host` (development).
    fn redirect_uri(&self, headers: &HeaderMap) -> Option<String> {
        if let Some(base) = &self.public_url {
            return Some(format!("{base}/oidc/callback"));
        }
        let host = headers.get(header::HOST)?.to_str().ok()?;
        let plausible = !host.is_empty()
            && host.len() <= 255
            && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
        plausible.then(|| format!("http://{host}/oidc/callback"))
    }

    fn secure_cookies(&self) -> bool {
        self.public_url.as_deref().is_some_and(|u| u.starts_with("https://"))
    }

    fn seal(&self, login: &LoginState) -> Option<String> {
        let json = serde_json::to_string(login).ok()?;
        self.keys.encrypt(&json, STATE_AAD).ok()
    }

    fn unseal(&self, sealed: &str) -> Option<LoginState> {
        let json = self.keys.decrypt(sealed, STATE_AAD).ok()?;
        serde_json::from_str(&json).ok()
    }
}

/// Reads a response's status and body, the body up to [`MAX_BODY`].
async fn read_capped(mut response: reqwest::Response) -> Result<(StatusCode, Vec<u8>), FetchError> {
    let status = response.status();
    if response.content_length().is_some_and(|n| n > MAX_BODY as u64) {
        return Err(FetchError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(FetchError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok((status, body))
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn form_encode(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A provider error code cut to something safe to log and audit (`[a-z_]`, 40 characters).
fn clip_code(raw: &str) -> String {
    raw.chars().filter(|c| c.is_ascii_lowercase() || *c == '_').take(40).collect()
}

/// What the callback needs to finish the flow, sealed in [`STATE_COOKIE`].
#[derive(Debug, Serialize, Deserialize)]
struct LoginState {
    state: String,
    nonce: String,
    verifier: String,
    redirect_uri: String,
    started: i64,
}

fn random_b64(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// Why a sign-in was refused: an audit reason code, the status and the text shown.
#[derive(Debug, Clone)]
struct Refusal {
    reason: &'static str,
    status: StatusCode,
    message: &'static str,
    email: Option<Email>,
    detail: Option<String>,
}

impl Refusal {
    fn new(reason: &'static str, status: StatusCode, message: &'static str) -> Refusal {
        Refusal { reason, status, message, email: None, detail: None }
    }

    fn unavailable() -> Refusal {
        Refusal::new("provider_unavailable", StatusCode::BAD_GATEWAY, "oidc_unavailable")
    }

    fn token(e: JwtError) -> Refusal {
        Refusal::new(e.code(), StatusCode::UNAUTHORIZED, "oidc_failed")
    }
}

/// The routes' state: the application's, plus the client when a provider is configured.
#[derive(Clone)]
struct Routes {
    app: AppState,
    oidc: Option<Arc<Oidc>>,
}

/// `/oidc/start` and `/oidc/callback`. Without a configured provider both answer a 404 page.
pub fn router(app: AppState, oidc: Option<Arc<Oidc>>) -> Router {
    Router::new()
        .route("/oidc/start", get(start))
        .route("/oidc/callback", get(callback))
        .with_state(Routes { app, oidc })
}

fn state_cookie(value: &str, max_age: i64, secure: bool) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!(
        "{STATE_COOKIE}={value}; Path=/oidc; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    ))
    .ok()
}

/// The friendly refusal page, in the person's language.
fn refusal_page(lang: Lang, status: StatusCode, message: &str, retry: Option<&str>) -> Response {
    let body = html! {
        main {
            section.panel #oidc-refused {
                h1 { (lang.t("oidc_refused")) }
                p.error role="alert" { (message) }
                p {
                    @if let Some(name) = retry {
                        a #oidc-retry href="/oidc/start" { (lang.t("sign_in_with")) " " (name) }
                        " · "
                    }
                    a href="/login" { (lang.t("oidc_back_to_sign_in")) }
                }
            }
        }
    };
    (status, super::pages::layout(lang, lang.t("oidc_refused"), None, body)).into_response()
}

/// Sends the browser to the provider with a fresh state, nonce and PKCE challenge.
async fn start(State(routes): State<Routes>, Query(q): Query<PageQuery>, headers: HeaderMap) -> Response {
    let lang = Lang::negotiate(q.lang.as_deref(), &headers);
    let Some(oidc) = routes.oidc else {
        return with_lang_cookie(
            lang,
            &q,
            refusal_page(lang, StatusCode::NOT_FOUND, lang.t("oidc_not_configured"), None),
        );
    };
    let refuse = |status, key| with_lang_cookie(lang, &q, refusal_page(lang, status, lang.t(key), None));
    let discovery = match oidc.discovery().await {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "OpenID Connect discovery failed");
            return refuse(StatusCode::BAD_GATEWAY, "oidc_unavailable");
        }
    };
    let Some(redirect_uri) = oidc.redirect_uri(&headers) else {
        return refuse(StatusCode::BAD_REQUEST, "oidc_failed");
    };
    let login = LoginState {
        state: random_b64(32),
        nonce: random_b64(32),
        verifier: random_b64(32),
        redirect_uri,
        started: Utc::now().timestamp(),
    };
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(login.verifier.as_bytes()));
    let Ok(mut url) = reqwest::Url::parse(&discovery.authorization_endpoint) else {
        return refuse(StatusCode::BAD_GATEWAY, "oidc_unavailable");
    };
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &oidc.config.client_id)
        .append_pair("redirect_uri", &login.redirect_uri)
        .append_pair("scope", &oidc.config.scopes.join(" "))
        .append_pair("state", &login.state)
        .append_pair("nonce", &login.nonce)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    let Some(cookie) = oidc.seal(&login).and_then(|s| state_cookie(&s, LOGIN_STATE_SECONDS, oidc.secure_cookies()))
    else {
        return refuse(StatusCode::INTERNAL_SERVER_ERROR, "oidc_failed");
    };
    let mut response = Redirect::to(url.as_str()).into_response();
    response.headers_mut().append(header::SET_COOKIE, cookie);
    with_lang_cookie(lang, &q, response)
}

/// The provider's answer.
#[derive(Debug, Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// Finishes the flow: checks the state, exchanges the code, verifies the ID token, finds the
/// user and opens a session; or shows why not. Every outcome is audited.
async fn callback(
    State(routes): State<Routes>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    Query(q): Query<CallbackQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(None, &headers);
    let Some(oidc) = routes.oidc else {
        return refusal_page(lang, StatusCode::NOT_FOUND, lang.t("oidc_not_configured"), None);
    };
    let state = routes.app;
    let ip = peer.ip().to_string();
    let org = match Slug::parse(&oidc.config.org) {
        Ok(slug) => state.store.org_by_slug(slug.as_str()).await,
        Err(_) => Ok(None),
    };
    let org = match org {
        Ok(Some(org)) => org,
        Ok(None) => {
            tracing::error!(org = %oidc.config.org, "the OpenID Connect organisation does not exist");
            return refusal_page(lang, StatusCode::SERVICE_UNAVAILABLE, lang.t("oidc_unavailable"), None);
        }
        Err(e) => return ApiError::from(e).into_response(),
    };
    let clear = state_cookie("", 0, oidc.secure_cookies());
    let outcome = authenticate(&state, &oidc, org.id, &q, &headers, &ip).await;
    let (action, actor, target, detail) = match &outcome {
        Ok(user) => (
            "sign_in.success",
            user.email.to_string(),
            Some(format!("user:{}", user.email)),
            serde_json::json!({"via": "oidc"}),
        ),
        Err(r) => {
            tracing::info!(reason = r.reason, "OpenID Connect sign-in refused");
            let mut detail = serde_json::json!({"via": "oidc", "reason": r.reason});
            if let Some(d) = &r.detail {
                detail["provider_error"] = serde_json::Value::String(d.clone());
            }
            let actor = r.email.as_ref().map(|e| e.to_string()).unwrap_or_else(|| "oidc".to_string());
            ("sign_in.failure", actor, r.email.as_ref().map(|e| format!("user:{e}")), detail)
        }
    };
    let entry = escucha_store::NewAuditEntry {
        at: Utc::now(),
        actor,
        action: action.to_string(),
        target,
        detail,
        ip: Some(ip),
    };
    if let Err(e) = state.store.append_audit(org.id, entry).await {
        return ApiError::from(e).into_response();
    }
    let response = match outcome {
        Ok(user) => match super::open_session(&state, org.id, &user).await {
            Ok(response) => response,
            Err(e) => e.into_response(),
        },
        Err(r) => refusal_page(lang, r.status, lang.t(r.message), Some(&oidc.config.name)),
    };
    super::with_cookie(response, clear)
}

/// The checks of the callback, in order; the user to sign in, or why not.
async fn authenticate(
    state: &AppState,
    oidc: &Oidc,
    org: OrgId,
    q: &CallbackQuery,
    headers: &HeaderMap,
    ip: &str,
) -> Result<User, Refusal> {
    if let Err(_locked) = state.limits.sign_in.check(&oidc.config.org, "", ip) {
        return Err(Refusal::new("too_many_attempts", StatusCode::TOO_MANY_REQUESTS, "too_many_attempts"));
    }
    let login = cookie(headers, STATE_COOKIE).and_then(|sealed| oidc.unseal(&sealed)).ok_or(Refusal::new(
        "login_state_missing",
        StatusCode::BAD_REQUEST,
        "oidc_expired",
    ))?;
    if Utc::now().timestamp() - login.started > LOGIN_STATE_SECONDS {
        return Err(Refusal::new("login_state_expired", StatusCode::BAD_REQUEST, "oidc_expired"));
    }
    let state_ok = q.state.as_deref().is_some_and(|s| jwt::constant_time_eq(s.as_bytes(), login.state.as_bytes()));
    if !state_ok {
        return Err(Refusal::new("state_mismatch", StatusCode::BAD_REQUEST, "oidc_failed"));
    }
    if let Some(error) = &q.error {
        let mut refusal = Refusal::new("provider_error", StatusCode::FORBIDDEN, "oidc_denied");
        refusal.detail = Some(clip_code(error));
        return Err(refusal);
    }
    let code = q.code.as_deref().filter(|c| !c.is_empty() && c.len() <= 4096).ok_or(Refusal::new(
        "no_code",
        StatusCode::BAD_REQUEST,
        "oidc_failed",
    ))?;
    let discovery = oidc.discovery().await.map_err(|e| {
        tracing::warn!(error = %e, "OpenID Connect discovery failed");
        Refusal::unavailable()
    })?;
    let id_token = oidc.exchange(&discovery, code, &login).await?;
    let claims = oidc.verify(&discovery, &id_token, &login.nonce).await?;
    let email = claims.email.as_deref().and_then(|e| Email::parse(e).ok()).ok_or(Refusal::new(
        "no_email",
        StatusCode::FORBIDDEN,
        "oidc_no_email",
    ))?;
    let with_email = |mut r: Refusal| {
        r.email = Some(email.clone());
        r
    };
    if claims.email_verified == Some(false) {
        return Err(with_email(Refusal::new("email_not_verified", StatusCode::FORBIDDEN, "oidc_email_not_verified")));
    }
    // Users have no deactivation flag yet: a user who must lose access is deleted or loses
    // their sessions. When one exists, it is checked here.
    match state.store.user_by_email(org, &email).await {
        Ok(Some(user)) => Ok(user),
        Ok(None) => Err(with_email(Refusal::new("unknown_user", StatusCode::FORBIDDEN, "oidc_unknown_user"))),
        Err(e) => {
            tracing::error!(error = %e, "user lookup failed during OpenID Connect sign-in");
            Err(Refusal::new("store_error", StatusCode::INTERNAL_SERVER_ERROR, "oidc_unavailable"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn configuration_layers_and_validation() {
        assert_eq!(OidcConfig::load(None, &env(&[])).unwrap(), None);
        let file: OidcFileLayer = toml::from_str(
            "issuer = \"https://login.acme.example\"\nclient_id = \"file-id\"\nclient_secret = \"s3cret\"\n\
             org = \"acme\"\nscopes = [\"profile\", \"openid\"]\n",
        )
        .unwrap();
        let c = OidcConfig::load(Some(file), &env(&[("ESCUCHA_OIDC_CLIENT_ID", "env-id")])).unwrap().unwrap();
        assert_eq!(c.client_id, "env-id", "the environment wins");
        assert_eq!(c.name, "login.acme.example", "the name defaults to the issuer's host");
        assert_eq!(c.scopes, ["openid", "email", "profile"]);
        assert!(!format!("{c:?}").contains("s3cret"));
        let base = [
            ("ESCUCHA_OIDC_ISSUER", "https://idp.example/realms/acme"),
            ("ESCUCHA_OIDC_CLIENT_ID", "escucha"),
            ("ESCUCHA_OIDC_CLIENT_SECRET", "x"),
            ("ESCUCHA_OIDC_ORG", "acme"),
            ("ESCUCHA_OIDC_NAME", "Acme SSO"),
            ("ESCUCHA_OIDC_SCOPES", "groups, offline_access"),
        ];
        let c = OidcConfig::load(None, &env(&base)).unwrap().unwrap();
        assert_eq!((c.name.as_str(), c.scopes.len()), ("Acme SSO", 4));
        let with = |k: &str, v: &str| {
            let mut e = env(&base);
            e.insert(k.to_string(), v.to_string());
            OidcConfig::load(None, &e)
        };
        for (k, v, key) in [
            ("ESCUCHA_OIDC_ISSUER", "http://idp.example", "oidc.issuer"),
            ("ESCUCHA_OIDC_ISSUER", "https://idp.example/?tenant=1", "oidc.issuer"),
            ("ESCUCHA_OIDC_ISSUER", "not a url", "oidc.issuer"),
            ("ESCUCHA_OIDC_ORG", "Not A Slug!", "oidc.org"),
            ("ESCUCHA_OIDC_SCOPES", "ok bad\"scope", "oidc.scopes"),
        ] {
            assert!(matches!(with(k, v), Err(ConfigError::Invalid { key: k2, .. }) if k2 == key), "{k}={v}");
        }
        assert!(with("ESCUCHA_OIDC_ISSUER", "http://127.0.0.1:9000").unwrap().is_some(), "loopback http is fine");
        let mut e = env(&base);
        e.remove("ESCUCHA_OIDC_CLIENT_SECRET");
        assert!(matches!(OidcConfig::load(None, &e), Err(ConfigError::Invalid { key: "oidc.client_secret", .. })));
    }

    #[test]
    fn client_credentials_are_form_encoded_and_codes_clipped() {
        assert_eq!(form_encode("a b:c/ñ~"), "a%20b%3Ac%2F%C3%B1~");
        assert_eq!(clip_code("access_denied<script>"), "access_deniedscript");
    }

    #[test]
    fn an_https_client_builds_with_the_ring_provider() {
        // Building the client sets up rustls; without a crypto provider this would panic.
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::for_tests(dir.path(), "sqlite://unused".into());
        config.secret_key = Some("00".repeat(32));
        config.oidc = OidcConfig::load(
            None,
            &env(&[
                ("ESCUCHA_OIDC_ISSUER", "https://idp.example"),
                ("ESCUCHA_OIDC_CLIENT_ID", "escucha"),
                ("ESCUCHA_OIDC_CLIENT_SECRET", "x"),
                ("ESCUCHA_OIDC_ORG", "acme"),
            ]),
        )
        .unwrap();
        let oidc = Oidc::from_config(&config).unwrap().expect("configured");
        let login = LoginState {
            state: "s".into(),
            nonce: "n".into(),
            verifier: "v".into(),
            redirect_uri: "https://escucha.example/oidc/callback".into(),
            started: 1,
        };
        let sealed = oidc.seal(&login).unwrap();
        assert!(!sealed.contains("oidc/callback"), "the login state is encrypted");
        assert_eq!(oidc.unseal(&sealed).unwrap().redirect_uri, login.redirect_uri);
        assert!(oidc.unseal(&sealed.replace(':', ";")).is_none());
        assert!(oidc.keys.decrypt(&sealed, "another purpose").is_err());
    }
}
