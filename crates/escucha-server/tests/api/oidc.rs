//! OpenID Connect sign-in end to end: a fake identity provider served by the test on a random
//! port (discovery, key set, an authorize endpoint that signs the person in at once, a token
//! endpoint that checks the client's secret and the PKCE verifier), signing ID tokens with an
//! ES256 key made at test time and an RS256 test-only key fixture, and a cookie-keeping client
//! that follows every redirect over real HTTP like a browser.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use escucha_core::org::{Role, UserFields};
use escucha_core::values::{Email, Label, Slug};
use ring::rand::SystemRandom;
use ring::signature::{self, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair, RsaKeyPair};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{Backend, TestApp};

const CLIENT_ID: &str = "escucha-test";
/// Has characters that client_secret_basic must form-encode.
const CLIENT_SECRET: &str = "s3cret:with/odd chars";
const TEST_ONLY_RSA_KEY_PEM: &str = include_str!("fixtures/TEST_ONLY_oidc_rsa_key.pem");

fn enc(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// What the fake provider puts in (or does to) the next ID token.
#[derive(Debug, Clone)]
struct Behaviour {
    alg: &'static str,
    email: Option<String>,
    email_verified: Value,
    aud: Option<Value>,
    iss: Option<String>,
    nonce: Option<String>,
    exp_in: i64,
    /// Sign with a key the provider does not publish (under a published kid).
    forged: bool,
    /// Sign with a key the provider does not publish, under its own kid.
    unpublished_kid: bool,
    auth_methods: Vec<&'static str>,
    /// Answer the authorize request with this error instead of a code.
    authorize_error: Option<&'static str>,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            alg: "ES256",
            email: Some("Ana@Acme.example".into()),
            email_verified: json!(true),
            aud: None,
            iss: None,
            nonce: None,
            exp_in: 300,
            forged: false,
            unpublished_kid: false,
            auth_methods: vec!["client_secret_basic", "client_secret_post"],
            authorize_error: None,
        }
    }
}

struct Grant {
    redirect_uri: String,
    nonce: String,
    challenge: String,
}

struct IdpState {
    issuer: String,
    rng: SystemRandom,
    /// Published EC keys by kid; the last one signs.
    ec_keys: Mutex<Vec<(String, EcdsaKeyPair)>>,
    rsa: RsaKeyPair,
    behaviour: Mutex<Behaviour>,
    grants: Mutex<HashMap<String, Grant>>,
    /// How the client authenticated at the token endpoint, one entry per exchange.
    client_auth: Mutex<Vec<&'static str>>,
    jwks_downloads: Mutex<u32>,
}

fn new_ec_key(rng: &SystemRandom) -> EcdsaKeyPair {
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, rng).unwrap();
    EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), rng).unwrap()
}

fn rsa_test_key() -> RsaKeyPair {
    let body: String = TEST_ONLY_RSA_KEY_PEM
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    RsaKeyPair::from_pkcs8(&STANDARD.decode(body).unwrap()).unwrap()
}

/// The fake identity provider.
struct Idp {
    issuer: String,
    state: Arc<IdpState>,
}

impl Idp {
    async fn start() -> Idp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let rng = SystemRandom::new();
        let first = new_ec_key(&rng);
        let state = Arc::new(IdpState {
            issuer: issuer.clone(),
            ec_keys: Mutex::new(vec![("ec-1".into(), first)]),
            rng,
            rsa: rsa_test_key(),
            behaviour: Mutex::new(Behaviour::default()),
            grants: Mutex::new(HashMap::new()),
            client_auth: Mutex::new(Vec::new()),
            jwks_downloads: Mutex::new(0),
        });
        let app = axum::Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Idp { issuer, state }
    }

    fn set(&self, change: impl FnOnce(&mut Behaviour)) {
        let mut b = self.state.behaviour.lock().unwrap();
        *b = Behaviour::default();
        change(&mut b);
    }

    /// Publishes a new signing key (and keeps the old one published).
    fn rotate_key(&self, kid: &str) {
        let key = new_ec_key(&self.state.rng);
        self.state.ec_keys.lock().unwrap().push((kid.into(), key));
    }
}

async fn discovery(State(s): State<Arc<IdpState>>) -> Response {
    let methods = s.behaviour.lock().unwrap().auth_methods.clone();
    axum::Json(json!({
        "issuer": s.issuer,
        "authorization_endpoint": format!("{}/authorize", s.issuer),
        "token_endpoint": format!("{}/token", s.issuer),
        "jwks_uri": format!("{}/jwks", s.issuer),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        "token_endpoint_auth_methods_supported": methods,
        "code_challenge_methods_supported": ["S256"],
    }))
    .into_response()
}

async fn jwks(State(s): State<Arc<IdpState>>) -> Response {
    *s.jwks_downloads.lock().unwrap() += 1;
    let mut keys: Vec<Value> = s
        .ec_keys
        .lock()
        .unwrap()
        .iter()
        .map(|(kid, key)| {
            let point = key.public_key().as_ref();
            json!({"kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "alg": "ES256",
                   "x": enc(&point[1..33]), "y": enc(&point[33..65])})
        })
        .collect();
    let rsa = signature::RsaPublicKeyComponents::<Vec<u8>>::from(s.rsa.public());
    keys.push(json!({"kty": "RSA", "kid": "rsa-1", "use": "sig", "n": enc(&rsa.n), "e": enc(&rsa.e)}));
    axum::Json(json!({ "keys": keys })).into_response()
}

/// Signs the person in at once: straight back to the client with a code (or an error).
async fn authorize(State(s): State<Arc<IdpState>>, Query(q): Query<HashMap<String, String>>) -> Response {
    let p = |k: &str| q.get(k).cloned().unwrap_or_default();
    assert_eq!(p("response_type"), "code");
    assert_eq!(p("client_id"), CLIENT_ID);
    assert_eq!(p("code_challenge_method"), "S256");
    assert!(p("scope").split(' ').any(|s| s == "openid") && p("scope").contains("email"), "{}", p("scope"));
    assert!(!p("state").is_empty() && !p("nonce").is_empty() && p("code_challenge").len() == 43);
    let redirect_uri = p("redirect_uri");
    let mut back = reqwest::Url::parse(&redirect_uri).unwrap();
    if let Some(error) = s.behaviour.lock().unwrap().authorize_error {
        back.query_pairs_mut().append_pair("error", error).append_pair("state", &p("state"));
        return Redirect::to(back.as_str()).into_response();
    }
    let code = enc(&rand_bytes());
    s.grants
        .lock()
        .unwrap()
        .insert(code.clone(), Grant { redirect_uri, nonce: p("nonce"), challenge: p("code_challenge") });
    back.query_pairs_mut().append_pair("code", &code).append_pair("state", &p("state"));
    Redirect::to(back.as_str()).into_response()
}

fn rand_bytes() -> [u8; 16] {
    let mut b = [0u8; 16];
    ring::rand::SecureRandom::fill(&SystemRandom::new(), &mut b).unwrap();
    b
}

fn token_error(error: &str) -> Response {
    (StatusCode::BAD_REQUEST, axum::Json(json!({ "error": error }))).into_response()
}

/// Checks the client and the PKCE verifier, then mints the ID token the behaviour asks for.
async fn token(
    State(s): State<Arc<IdpState>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let f = |k: &str| form.get(k).cloned().unwrap_or_default();
    // Client authentication, either way, with the secret form-encoded inside Basic.
    let basic = headers.get(header::AUTHORIZATION).and_then(|h| h.to_str().ok()).and_then(|h| h.strip_prefix("Basic "));
    let (id, secret, how) = match basic {
        Some(b64) => {
            let text = String::from_utf8(STANDARD.decode(b64).unwrap()).unwrap();
            let (id, secret) = text.split_once(':').unwrap();
            let decode = |v: &str| form_urlencoded_decode(v);
            (decode(id), decode(secret), "basic")
        }
        None => (f("client_id"), f("client_secret"), "post"),
    };
    if id != CLIENT_ID || secret != CLIENT_SECRET {
        return token_error("invalid_client");
    }
    s.client_auth.lock().unwrap().push(how);
    let Some(grant) = s.grants.lock().unwrap().remove(&f("code")) else {
        return token_error("invalid_grant");
    };
    let verifier_ok = enc(&Sha256::digest(f("code_verifier").as_bytes())) == grant.challenge;
    if f("grant_type") != "authorization_code" || f("redirect_uri") != grant.redirect_uri || !verifier_ok {
        return token_error("invalid_grant");
    }
    let b = s.behaviour.lock().unwrap().clone();
    let mut claims = json!({
        "iss": b.iss.clone().unwrap_or_else(|| s.issuer.clone()),
        "sub": "248289761001",
        "aud": b.aud.clone().unwrap_or(json!(CLIENT_ID)),
        "exp": now() + b.exp_in,
        "iat": now().min(now() + b.exp_in - 60),
        "nonce": b.nonce.clone().unwrap_or(grant.nonce),
        "email_verified": b.email_verified,
    });
    if let Some(email) = &b.email {
        claims["email"] = json!(email);
    }
    let id_token = match b.alg {
        "RS256" => {
            let input = signing_input(json!({"alg": "RS256", "kid": "rsa-1", "typ": "JWT"}), &claims);
            let mut sig = vec![0; s.rsa.public().modulus_len()];
            s.rsa.sign(&signature::RSA_PKCS1_SHA256, &s.rng, input.as_bytes(), &mut sig).unwrap();
            format!("{input}.{}", enc(&sig))
        }
        _ => {
            let keys = s.ec_keys.lock().unwrap();
            let (kid, key) = keys.last().unwrap();
            let kid = if b.unpublished_kid { "never-published" } else { kid.as_str() };
            let input = signing_input(json!({"alg": "ES256", "kid": kid, "typ": "JWT"}), &claims);
            let forger = new_ec_key(&s.rng);
            let signer = if b.forged || b.unpublished_kid { &forger } else { key };
            format!("{input}.{}", enc(signer.sign(&s.rng, input.as_bytes()).unwrap().as_ref()))
        }
    };
    axum::Json(json!({"access_token": "at", "token_type": "Bearer", "expires_in": 300, "id_token": id_token}))
        .into_response()
}

fn signing_input(header: Value, claims: &Value) -> String {
    format!("{}.{}", enc(header.to_string().as_bytes()), enc(claims.to_string().as_bytes()))
}

fn form_urlencoded_decode(v: &str) -> String {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&format!("v={v}")).unwrap();
    pairs.into_iter().next().unwrap().1
}

/// A minimal browser: keeps cookies, follows redirects one hop at a time, records the hops.
struct Browser {
    http: reqwest::Client,
    cookies: Mutex<HashMap<String, String>>,
    lang: &'static str,
}

/// The end of a navigation.
struct Landing {
    url: String,
    status: u16,
    body: String,
    hops: Vec<String>,
}

impl Browser {
    fn new(lang: &'static str) -> Browser {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Browser { http, cookies: Mutex::new(HashMap::new()), lang }
    }

    fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.lock().unwrap().get(name).cloned()
    }

    async fn go(&self, start: &str) -> Landing {
        let mut url = start.to_string();
        let mut hops = Vec::new();
        for _ in 0..10 {
            hops.push(url.clone());
            let jar: String =
                self.cookies.lock().unwrap().iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
            let mut req = self.http.get(&url).header("accept-language", self.lang);
            if !jar.is_empty() {
                req = req.header("cookie", jar);
            }
            let r = req.send().await.unwrap();
            for set in r.headers().get_all("set-cookie") {
                let set = set.to_str().unwrap();
                let (pair, attributes) = set.split_once(';').unwrap_or((set, ""));
                let (k, v) = pair.split_once('=').unwrap();
                if attributes.contains("Max-Age=0") {
                    self.cookies.lock().unwrap().remove(k);
                } else {
                    self.cookies.lock().unwrap().insert(k.to_string(), v.to_string());
                }
            }
            let status = r.status().as_u16();
            match r.headers().get("location").map(|l| l.to_str().unwrap().to_string()) {
                Some(location) if r.status().is_redirection() => {
                    url = reqwest::Url::parse(&url).unwrap().join(&location).unwrap().to_string();
                }
                _ => return Landing { url, status, body: r.text().await.unwrap(), hops },
            }
        }
        panic!("too many redirects: {hops:?}");
    }
}

/// An app whose identity provider is `idp`, signing into `acme`, with Ana (analyst) in it and
/// Olga in another organisation only.
async fn app_with(idp: &Idp, backend: Backend) -> Option<TestApp> {
    let issuer = idp.issuer.clone();
    let app = TestApp::spawn_with(backend, move |c| {
        let env: HashMap<String, String> = [
            ("ESCUCHA_OIDC_ISSUER", issuer.as_str()),
            ("ESCUCHA_OIDC_CLIENT_ID", CLIENT_ID),
            ("ESCUCHA_OIDC_CLIENT_SECRET", CLIENT_SECRET),
            ("ESCUCHA_OIDC_NAME", "Acme SSO"),
            ("ESCUCHA_OIDC_ORG", "acme"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        c.oidc = escucha_server::web::oidc::OidcConfig::load(None, &env).unwrap();
    })
    .await?;
    let fields = UserFields { role: Some(Role::Analyst), ..Default::default() };
    app.store.upsert_user(app.org, &Email::parse("ana@acme.example").unwrap(), fields.clone()).await.unwrap();
    let globex = app.store.create_org(&Slug::parse("globex").unwrap(), &Label::parse("Globex").unwrap()).await.unwrap();
    app.store.upsert_user(globex.id, &Email::parse("olga@globex.example").unwrap(), fields).await.unwrap();
    Some(app)
}

/// The newest audit entry with `action`.
async fn last_audit(app: &TestApp, action: &str) -> Value {
    let (status, log) = app.get(&format!("/api/v1/audit?action={action}")).await;
    assert_eq!(status, 200, "{log}");
    log["items"][0].clone()
}

async fn signs_in_with_the_provider_on(backend: Backend) {
    let idp = Idp::start().await;
    let Some(app) = app_with(&idp, backend).await else { return };
    let browser = Browser::new("en");

    // The sign-in page offers the provider.
    let page = browser.go(&app.url("/login")).await;
    assert!(page.body.contains("Sign in with Acme SSO") && page.body.contains("href=\"/oidc/start\""), "{}", page.body);

    // ES256, client_secret_basic: start → provider → callback → dashboard, signed in.
    let end = browser.go(&app.url("/oidc/start")).await;
    assert_eq!((end.status, end.url.as_str()), (200, app.url("/dashboard").as_str()), "{:?}", end.hops);
    assert!(end.hops[1].starts_with(&format!("{}/authorize?", idp.issuer)), "{:?}", end.hops);
    assert!(end.hops[2].starts_with(&app.url("/oidc/callback?code=")), "{:?}", end.hops);
    assert!(end.body.contains("ana@acme.example"), "signed in as Ana");
    assert!(browser.cookie("escucha_session").is_some_and(|s| s.starts_with("ess_")));
    assert!(browser.cookie("escucha_oidc").is_none(), "the login state is cleared");
    assert_eq!(*idp.state.client_auth.lock().unwrap(), ["basic"]);
    let entry = last_audit(&app, "sign_in.success").await;
    assert_eq!((entry["actor"].as_str(), entry["detail"]["via"].as_str()), (Some("ana@acme.example"), Some("oidc")));
    assert_eq!(entry["ip"], "127.0.0.1");

    // The session is a normal one: its CSRF token signs out.
    let dashboard = browser.go(&app.url("/dashboard")).await;
    let csrf = browser.cookie("escucha_csrf").expect("a CSRF cookie");
    assert!(dashboard.body.contains(&csrf));
    let jar = format!("escucha_session={}; escucha_csrf={csrf}", browser.cookie("escucha_session").unwrap());
    let r = browser.http.post(app.url("/logout")).header("cookie", jar).form(&[("csrf", &csrf)]).send().await.unwrap();
    assert_eq!(r.status(), 303);

    // RS256, in Spanish.
    idp.set(|b| b.alg = "RS256");
    let end = Browser::new("es").go(&app.url("/oidc/start")).await;
    assert_eq!((end.status, end.url.as_str()), (200, app.url("/dashboard").as_str()), "{}", end.body);
    assert!(end.body.contains("Sesión de"));

    // The provider rotates its key: the unknown kid makes Escucha download the key set again.
    idp.set(|_| {});
    let downloads = *idp.state.jwks_downloads.lock().unwrap();
    idp.rotate_key("ec-2");
    let end = Browser::new("en").go(&app.url("/oidc/start")).await;
    assert_eq!((end.status, end.url.as_str()), (200, app.url("/dashboard").as_str()), "{}", end.body);
    assert_eq!(*idp.state.jwks_downloads.lock().unwrap(), downloads + 1);
    // A token naming a key nobody published, right after, is refused without another download.
    idp.set(|b| b.unpublished_kid = true);
    refused(&app, "en", 401, "unknown_key").await;
    assert_eq!(*idp.state.jwks_downloads.lock().unwrap(), downloads + 1);
    app.stop().await;
}

#[tokio::test]
async fn signs_in_with_the_provider_es256_rs256_and_after_key_rotation() {
    signs_in_with_the_provider_on(Backend::Sqlite).await;
}

#[tokio::test]
async fn signs_in_with_the_provider_on_postgres() {
    signs_in_with_the_provider_on(Backend::Postgres).await;
}

#[tokio::test]
async fn the_client_posts_its_secret_when_the_provider_only_takes_that() {
    let idp = Idp::start().await;
    idp.set(|b| b.auth_methods = vec!["client_secret_post"]);
    let app = app_with(&idp, Backend::Sqlite).await.unwrap();
    let end = Browser::new("en").go(&app.url("/oidc/start")).await;
    assert_eq!((end.status, end.url.as_str()), (200, app.url("/dashboard").as_str()), "{}", end.body);
    assert_eq!(*idp.state.client_auth.lock().unwrap(), ["post"]);
    app.stop().await;
}

/// Runs one sign-in that must be refused; returns the refusal page and the audit entry.
async fn refused(app: &TestApp, browser_lang: &'static str, status: u16, reason: &str) -> (Landing, Value) {
    let browser = Browser::new(browser_lang);
    let end = browser.go(&app.url("/oidc/start")).await;
    assert_eq!(end.status, status, "{reason}: {} {}", end.url, end.body);
    assert!(end.url.starts_with(&app.url("/oidc/callback")), "{reason}: {:?}", end.hops);
    assert!(browser.cookie("escucha_session").is_none(), "{reason}: no session");
    assert!(browser.cookie("escucha_oidc").is_none(), "{reason}: the login state is cleared");
    let entry = last_audit(app, "sign_in.failure").await;
    assert_eq!(entry["detail"]["reason"], reason, "{entry}");
    assert_eq!(entry["detail"]["via"], "oidc");
    let text = entry.to_string();
    assert!(!text.contains("eyJ") && !text.contains("code="), "no token or code in the audit log: {text}");
    (end, entry)
}

#[tokio::test]
async fn tokens_that_fail_verification_are_refused_and_audited() {
    let idp = Idp::start().await;
    let app = app_with(&idp, Backend::Sqlite).await.unwrap();
    type Change = Box<dyn Fn(&mut Behaviour)>;
    let cases: Vec<(&str, Change)> = vec![
        ("bad_signature", Box::new(|b| b.forged = true)),
        ("wrong_audience", Box::new(|b| b.aud = Some(json!("another-client")))),
        ("wrong_authorized_party", Box::new(|b| b.aud = Some(json!([CLIENT_ID, "another-client"])))),
        ("wrong_issuer", Box::new(|b| b.iss = Some("https://evil.example".into()))),
        ("wrong_nonce", Box::new(|b| b.nonce = Some("replayed".into()))),
        ("expired", Box::new(|b| b.exp_in = -600)),
    ];
    for (reason, change) in cases {
        idp.set(change);
        let (page, entry) = refused(&app, "en", 401, reason).await;
        assert!(page.body.contains("answer is not valid"), "{reason}: {}", page.body);
        assert_eq!(entry["actor"], "oidc");
    }
    app.stop().await;
}

#[tokio::test]
async fn people_the_organisation_does_not_know_are_refused() {
    let idp = Idp::start().await;
    let app = app_with(&idp, Backend::Sqlite).await.unwrap();
    // Nobody of that address in Acme.
    idp.set(|b| b.email = Some("mallory@acme.example".into()));
    let (page, entry) = refused(&app, "es", 403, "unknown_user").await;
    assert!(page.body.contains("Su cuenta no tiene acceso a Escucha"), "{}", page.body);
    assert_eq!(entry["actor"], "mallory@acme.example");
    // A user of another organisation is not let into this one.
    idp.set(|b| b.email = Some("olga@globex.example".into()));
    refused(&app, "en", 403, "unknown_user").await;
    // An address the provider has not verified (as a boolean or as a string).
    idp.set(|b| b.email_verified = json!(false));
    let (page, _) = refused(&app, "en", 403, "email_not_verified").await;
    assert!(page.body.contains("not verified at the identity provider"), "{}", page.body);
    idp.set(|b| b.email_verified = json!("false"));
    refused(&app, "en", 403, "email_not_verified").await;
    // No address at all.
    idp.set(|b| b.email = None);
    refused(&app, "en", 403, "no_email").await;
    // The person cancels at the provider.
    idp.set(|b| b.authorize_error = Some("access_denied"));
    let (_, entry) = refused(&app, "en", 403, "provider_error").await;
    assert_eq!(entry["detail"]["provider_error"], "access_denied");
    // Users are never created by a sign-in.
    let users = app.store.list_users(app.org).await.unwrap();
    assert_eq!(users.iter().map(|u| u.email.as_str()).collect::<Vec<_>>(), ["ana@acme.example"]);
    app.stop().await;
}

#[tokio::test]
async fn a_callback_must_belong_to_the_sign_in_this_browser_started() {
    let idp = Idp::start().await;
    let app = app_with(&idp, Backend::Sqlite).await.unwrap();
    let no_redirect = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();

    // Start, then let the provider answer, but stop before the callback.
    let browser = Browser::new("en");
    let r = browser.http.get(app.url("/oidc/start")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let sealed = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("escucha_oidc="))
        .expect("a login state cookie")
        .to_string();
    assert!(sealed.contains("HttpOnly") && sealed.contains("SameSite=Lax") && sealed.contains("Path=/oidc"));
    let state_cookie = sealed.split(';').next().unwrap().to_string();
    let to_idp = r.headers()["location"].to_str().unwrap().to_string();
    let r = no_redirect.get(&to_idp).send().await.unwrap();
    let callback = reqwest::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    let param = |k: &str| callback.query_pairs().find(|(n, _)| n == k).unwrap().1.to_string();
    let (code, state) = (param("code"), param("state"));
    let callback_with = |state: &str| app.url(&format!("/oidc/callback?code={code}&state={state}"));

    // Another state than the one sealed in the cookie (a forged or crossed callback).
    let r = no_redirect.get(callback_with("forged")).header("cookie", &state_cookie).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(last_audit(&app, "sign_in.failure").await["detail"]["reason"], "state_mismatch");
    // The right state but no cookie: a callback this browser did not start (login CSRF).
    let r = no_redirect.get(callback_with(&state)).header("accept-language", "en").send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("expired or was started in another window"));
    assert_eq!(last_audit(&app, "sign_in.failure").await["detail"]["reason"], "login_state_missing");
    // A tampered cookie is no cookie.
    let tampered = format!("{}A", state_cookie);
    let r = no_redirect.get(callback_with(&state)).header("cookie", tampered).send().await.unwrap();
    assert_eq!(r.status(), 400);
    // The genuine pair still works once; the code cannot be used twice.
    let r = no_redirect.get(callback_with(&state)).header("cookie", &state_cookie).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/dashboard");
    let r = no_redirect.get(callback_with(&state)).header("cookie", &state_cookie).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(last_audit(&app, "sign_in.failure").await["detail"]["reason"], "token_exchange_failed");
    app.stop().await;
}

#[tokio::test]
async fn without_a_provider_there_is_no_button_and_no_flow() {
    let app = TestApp::spawn().await;
    let browser = Browser::new("es");
    let page = browser.go(&app.url("/login")).await;
    assert!(!page.body.contains("/oidc/start"));
    let end = browser.go(&app.url("/oidc/start")).await;
    assert_eq!(end.status, 404);
    assert!(end.body.contains("no está configurado"), "{}", end.body);
    let end = browser.go(&app.url("/oidc/callback?code=x&state=y")).await;
    assert_eq!(end.status, 404);
    app.stop().await;
}

#[tokio::test]
async fn an_unreachable_provider_gets_a_friendly_page() {
    // A port with nothing listening.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        let env: HashMap<String, String> = [
            ("ESCUCHA_OIDC_ISSUER", issuer.as_str()),
            ("ESCUCHA_OIDC_CLIENT_ID", CLIENT_ID),
            ("ESCUCHA_OIDC_CLIENT_SECRET", CLIENT_SECRET),
            ("ESCUCHA_OIDC_ORG", "acme"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        c.oidc = escucha_server::web::oidc::OidcConfig::load(None, &env).unwrap();
    })
    .await
    .unwrap();
    let end = Browser::new("en").go(&app.url("/oidc/start")).await;
    assert_eq!(end.status, 502);
    assert!(end.body.contains("could not be reached"), "{}", end.body);
    app.stop().await;
}
