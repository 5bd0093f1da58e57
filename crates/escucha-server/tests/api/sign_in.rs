//! Sign-in security over real HTTP: password reset through a real SMTP server, the TOTP second
//! factor, lockouts shared by two server processes, and the session cookie's attributes.

use std::time::Duration;

use base64::Engine;
use escucha_core::org::{Role, UserFields};
use escucha_core::values::Email;
use escucha_server::totp::{STEP_SECONDS, TotpSecret, unix_now};

use crate::helpers::{Backend, SmtpSink, TestApp};

const OLD_PASSWORD: &str = "old password 123";
const NEW_PASSWORD: &str = "a brand new passphrase";

fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// The `name=value` part of every `Set-Cookie` of a response named `name`.
fn set_cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    set_cookie_line(r, name).map(|c| c.split(';').next().unwrap().to_string())
}

fn set_cookie_line(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(str::to_string)
}

/// A browser-like visitor: a CSRF cookie and its token, plus whatever cookies it collects.
struct Visitor {
    http: reqwest::Client,
    base: String,
    cookies: Vec<String>,
    csrf: String,
    lang: &'static str,
}

impl Visitor {
    async fn new(base: &str, lang: &'static str) -> Visitor {
        let http = client();
        let r = http.get(format!("{base}/login")).send().await.unwrap();
        let csrf_cookie = set_cookie(&r, "escucha_csrf").expect("a CSRF cookie");
        let csrf = csrf_cookie.trim_start_matches("escucha_csrf=").to_string();
        Visitor { http, base: base.to_string(), cookies: vec![csrf_cookie], csrf, lang }
    }

    fn cookie_header(&self) -> String {
        self.cookies.join("; ")
    }

    /// Keeps the cookies a response sets (a `Max-Age=0` one removes it).
    fn absorb(&mut self, r: &reqwest::Response) {
        for line in r.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()) {
            let pair = line.split(';').next().unwrap().to_string();
            let name = pair.split('=').next().unwrap().to_string();
            self.cookies.retain(|c| !c.starts_with(&format!("{name}=")));
            if !line.contains("Max-Age=0") {
                self.cookies.push(pair);
            }
        }
    }

    /// Gets a page; returns the status and the body (or, for a redirect, the location).
    async fn get(&mut self, path: &str) -> (u16, String) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .header("accept-language", self.lang)
            .send()
            .await
            .unwrap();
        self.absorb(&r);
        let status = r.status().as_u16();
        let location = r.headers().get("location").map(|l| l.to_str().unwrap().to_string()).unwrap_or_default();
        let text = r.text().await.unwrap();
        (status, if status == 303 { location } else { text })
    }

    /// Posts a form with the CSRF token; returns the status and the body (or, for a redirect,
    /// the location), keeping cookies.
    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
        let mut form: Vec<(String, String)> = vec![("csrf".into(), self.csrf.clone())];
        form.extend(fields.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .header("accept-language", self.lang)
            .form(&form)
            .send()
            .await
            .unwrap();
        self.absorb(&r);
        let status = r.status().as_u16();
        let location = r.headers().get("location").map(|l| l.to_str().unwrap().to_string()).unwrap_or_default();
        let text = r.text().await.unwrap();
        (status, if status == 303 { location } else { text })
    }

    fn has_cookie(&self, name: &str) -> bool {
        self.cookies.iter().any(|c| c.starts_with(&format!("{name}=")))
    }

    async fn sign_in(&mut self, email: &str, password: &str) -> (u16, String) {
        self.post("/login", &[("org", "acme"), ("email", email), ("password", password)]).await
    }
}

async fn user_with_password(app: &TestApp, email: &str, password: &str) {
    let email = Email::parse(email).unwrap();
    app.store
        .upsert_user(app.org, &email, UserFields { role: Some(Role::Analyst), ..Default::default() })
        .await
        .unwrap();
    let hash = escucha_server::auth::hash_password(password).unwrap();
    app.store.set_password_hash(app.org, &email, &hash).await.unwrap();
}

async fn audit_actions(app: &TestApp, action: &str) -> Vec<serde_json::Value> {
    let (status, log) = app.get(&format!("/api/v1/audit?action={action}")).await;
    assert_eq!(status, 200, "{log}");
    log["items"].as_array().unwrap().clone()
}

/// The decoded text of each MIME part of a mail: (content type, body).
fn mime_parts(raw: &str) -> Vec<(String, String)> {
    let boundary = raw
        .split("boundary=")
        .nth(1)
        .map(|b| b.trim_start_matches('"').split(['"', '\r', ';']).next().unwrap().to_string())
        .expect("a multipart mail");
    raw.split(&format!("--{boundary}"))
        .skip(1)
        .filter(|p| !p.starts_with("--"))
        .map(|part| {
            let (head, body) = part.trim_start_matches("\r\n").split_once("\r\n\r\n").unwrap_or((part, ""));
            let header = |name: &str| {
                head.lines()
                    .find(|l| l.to_ascii_lowercase().starts_with(name))
                    .map(|l| l.split_once(':').unwrap().1.trim().to_ascii_lowercase())
                    .unwrap_or_default()
            };
            let decoded = match header("content-transfer-encoding").as_str() {
                "base64" => String::from_utf8(
                    base64::engine::general_purpose::STANDARD
                        .decode(body.split_whitespace().collect::<String>())
                        .unwrap(),
                )
                .unwrap(),
                "quoted-printable" => quoted_printable(body),
                _ => body.to_string(),
            };
            (header("content-type"), decoded)
        })
        .collect()
}

fn quoted_printable(body: &str) -> String {
    let joined = body.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let hex = joined.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'=', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

/// The path and query of the reset link in a text.
fn reset_path(text: &str) -> String {
    let start = text.find("/reset?token=").expect("a reset link");
    text[start..].split(|c: char| c.is_whitespace() || c == '"' || c == '<').next().unwrap().to_string()
}

async fn password_reset_by_mail(backend: Backend) {
    let sink = SmtpSink::start().await;
    let smtp = sink.url();
    let Some(app) = TestApp::spawn_with(backend, |c| {
        c.smtp_url = Some(smtp);
        c.mail_from = "Escucha <no-reply@acme.example>".into();
    })
    .await
    else {
        return;
    };
    user_with_password(&app, "ana@acme.example", OLD_PASSWORD).await;

    // A session from before the reset.
    let mut before = Visitor::new(&app.base, "es").await;
    assert_eq!(before.sign_in("ana@acme.example", OLD_PASSWORD).await, (303, "/dashboard".into()));
    assert_eq!(before.get("/dashboard").await.0, 200);

    // The sign-in page offers the reset, in Spanish and English.
    let mut ana = Visitor::new(&app.base, "es").await;
    let (_, login) = ana.get("/login").await;
    assert!(login.contains("¿Olvidaste tu contraseña?") && login.contains("href=\"/forgot\""), "{login}");
    let (_, login_en) = ana.get("/login?lang=en").await;
    assert!(login_en.contains("Forgot your password?"));
    let (status, forgot) = ana.get("/forgot?lang=es").await;
    assert_eq!(status, 200);
    assert!(forgot.contains("Restablecer la contraseña"), "{forgot}");

    // The same answer for a known and an unknown e-mail; only the known one gets mail.
    let (status, known) = ana.post("/forgot", &[("org", "acme"), ("email", "ana@acme.example")]).await;
    assert_eq!(status, 200, "{known}");
    assert!(known.contains("le hemos enviado un enlace"), "{known}");
    let (status, unknown) = ana.post("/forgot", &[("org", "acme"), ("email", "nobody@acme.example")]).await;
    assert_eq!((status, &unknown), (200, &known), "no account enumeration");
    let (status, _) = ana.post("/forgot", &[("org", "nowhere"), ("email", "ana@acme.example")]).await;
    assert_eq!(status, 200);
    let mails = sink.wait_for(1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sink.received().len(), 1, "unknown accounts get nothing");
    let mail = &mails[0];
    assert_eq!(
        (mail.from.as_str(), mail.to.as_slice()),
        ("no-reply@acme.example", &["ana@acme.example".to_string()][..])
    );
    let parts = mime_parts(&mail.data);
    let text = parts.iter().find(|(t, _)| t.starts_with("text/plain")).map(|(_, b)| b.clone()).expect("plain text");
    let html = parts.iter().find(|(t, _)| t.starts_with("text/html")).map(|(_, b)| b.clone()).expect("html");
    assert!(text.contains("Hola:") && text.contains("30 minutos"), "Spanish, as the request: {text}");
    assert!(html.contains("<a href=\"") && html.contains("/reset?token="), "{html}");
    let link = reset_path(&text);
    assert!(text.contains(&format!("{}{link}", app.base)), "an absolute link to this server: {text}");
    assert_eq!(reset_path(&html).replace("&amp;", "&"), link);

    // The link opens the new-password form, over real HTTP.
    let mut reset = Visitor::new(&app.base, "es").await;
    let (status, page) = reset.get(&link).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Contraseña nueva"));
    let token = link.split("token=").nth(1).unwrap().split('&').next().unwrap().to_string();
    let short = reset.post("/reset", &[("token", &token), ("password", "short"), ("confirm", "short")]).await;
    assert_eq!(short.0, 400);
    assert!(short.1.contains("al menos 12 caracteres"), "{}", short.1);
    let differ =
        reset.post("/reset", &[("token", &token), ("password", NEW_PASSWORD), ("confirm", "something else!")]).await;
    assert_eq!(differ.0, 400);
    let forged = Visitor { csrf: "csr_forged".into(), ..Visitor::new(&app.base, "es").await }
        .post("/reset", &[("token", &token), ("password", NEW_PASSWORD), ("confirm", NEW_PASSWORD)])
        .await;
    assert_eq!(forged.0, 403, "CSRF");
    let (status, done) =
        reset.post("/reset", &[("token", &token), ("password", NEW_PASSWORD), ("confirm", NEW_PASSWORD)]).await;
    assert_eq!(status, 200, "{done}");
    assert!(done.contains("Su contraseña se ha cambiado"), "{done}");

    // Every session of the user ended; the old password fails, the new one works.
    assert_eq!(before.get("/dashboard").await, (303, "/login".into()));
    let mut again = Visitor::new(&app.base, "es").await;
    assert_eq!(again.sign_in("ana@acme.example", OLD_PASSWORD).await.0, 401);
    assert_eq!(again.sign_in("ana@acme.example", NEW_PASSWORD).await, (303, "/dashboard".into()));

    // The token is single-use; unknown and expired tokens get a friendly page.
    let (status, used) = reset.get(&link).await;
    assert_eq!(status, 400);
    assert!(used.contains("no es válido") && used.contains("href=\"/forgot\""), "{used}");
    let replay = reset
        .post(
            "/reset",
            &[("token", &token), ("password", "yet another passphrase"), ("confirm", "yet another passphrase")],
        )
        .await;
    assert_eq!(replay.0, 400);
    assert_eq!(reset.get("/reset?token=esr_unknown").await.0, 400);
    assert_eq!(reset.get("/reset").await.0, 400);
    let ana_user = app.store.user_by_email(app.org, &Email::parse("ana@acme.example").unwrap()).await.unwrap().unwrap();
    let expired = "esr_expired_for_the_test";
    let hash = escucha_server::auth::hash_secret(expired);
    app.store
        .create_password_reset(app.org, ana_user.id, &hash, chrono::Utc::now() - chrono::Duration::minutes(1))
        .await
        .unwrap();
    let mut en = Visitor::new(&app.base, "en").await;
    let (status, page) = en.get(&format!("/reset?token={expired}")).await;
    assert_eq!(status, 400);
    assert!(page.contains("This link is not valid, was already used or has expired."), "{page}");

    // Audited.
    let requested = audit_actions(&app, "password_reset_requested").await;
    assert_eq!(requested.len(), 1);
    assert_eq!(requested[0]["actor"], "ana@acme.example");
    let reset_done = audit_actions(&app, "password_reset").await;
    assert_eq!(reset_done.len(), 1);
    assert_eq!(reset_done[0]["ip"], "127.0.0.1");
    app.stop().await;
}

#[tokio::test]
async fn password_reset_by_mail_sqlite() {
    password_reset_by_mail(Backend::Sqlite).await;
}

#[tokio::test]
async fn password_reset_by_mail_postgres() {
    password_reset_by_mail(Backend::Postgres).await;
}

#[tokio::test]
async fn without_a_mail_transport_the_reset_page_says_so() {
    let app = TestApp::spawn().await;
    user_with_password(&app, "ana@acme.example", OLD_PASSWORD).await;
    let mut en = Visitor::new(&app.base, "en").await;
    let (status, page) = en.get("/forgot").await;
    assert_eq!(status, 503);
    assert!(page.contains("This server cannot send mail right now"), "{page}");
    let mut es = Visitor::new(&app.base, "es").await;
    let (status, page) = es.post("/forgot", &[("org", "acme"), ("email", "ana@acme.example")]).await;
    assert_eq!(status, 503);
    assert!(page.contains("no puede enviar correo"), "{page}");
    assert!(audit_actions(&app, "password_reset_requested").await.is_empty(), "no token was made");
    app.stop().await;
}

#[tokio::test]
async fn reset_requests_are_throttled_per_email() {
    let sink = SmtpSink::start().await;
    let smtp = sink.url();
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.smtp_url = Some(smtp)).await.unwrap();
    let mut v = Visitor::new(&app.base, "en").await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(v.post("/forgot", &[("org", "acme"), ("email", "someone@acme.example")]).await.0);
    }
    assert_eq!(statuses, vec![200, 200, 200, 429]);
    assert_eq!(v.post("/forgot", &[("org", "acme"), ("email", "other@acme.example")]).await.0, 200, "per e-mail");
    app.stop().await;
}

/// The next code to type: the earliest step after the last accepted one still inside the
/// verification window (so a test never waits for the clock).
fn next_code(secret: &TotpSecret, last: &mut u64) -> String {
    let now = unix_now() / STEP_SECONDS;
    let step = (*last + 1).max(now - 1);
    assert!(step <= now + 1, "no fresh step left in the window");
    *last = step;
    escucha_server::totp::format_code(secret.code_at(step * STEP_SECONDS))
}

#[tokio::test]
async fn totp_enrolment_then_sign_in_needs_a_fresh_code() {
    let app = TestApp::spawn().await;
    user_with_password(&app, "ana@acme.example", OLD_PASSWORD).await;
    let mut ana = Visitor::new(&app.base, "en").await;
    assert_eq!(ana.sign_in("ana@acme.example", OLD_PASSWORD).await, (303, "/dashboard".into()));
    let (_, dashboard) = ana.get("/dashboard").await;
    assert!(dashboard.contains("href=\"/account/security\""));
    let (status, page) = ana.get("/account/security").await;
    assert_eq!(status, 200);
    assert!(page.contains("Two-step verification is off."), "{page}");
    assert_eq!(client().get(app.url("/account/security")).send().await.unwrap().status(), 303, "signed-in only");

    // Enrol: a secret shown as text, otpauth URI and an inline SVG QR code.
    assert_eq!(ana.post("/account/security/totp/start", &[]).await, (303, "/account/security".into()));
    let (_, page) = ana.get("/account/security").await;
    let secret_text = page.split("id=\"totp-secret\">").nth(1).unwrap().split('<').next().unwrap().to_string();
    let secret = TotpSecret::from_base32(&secret_text).expect("a base32 secret");
    assert!(
        page.contains(&format!("otpauth://totp/Escucha:ana%40acme.example?secret={}", secret.to_base32())),
        "{page}"
    );
    assert!(page.contains("<svg role=\"img\"") && !page.contains("style="), "inline SVG, CSP-safe");
    // Not yet enabled: sign-in still needs only the password.
    let mut other = Visitor::new(&app.base, "en").await;
    assert_eq!(other.sign_in("ana@acme.example", OLD_PASSWORD).await, (303, "/dashboard".into()));

    // A wrong code does not confirm; a current one does.
    let (status, page) = ana.post("/account/security/totp/confirm", &[("code", "000000")]).await;
    assert_eq!(status, 400);
    assert!(page.contains("The code is wrong or was already used."));
    let mut last = 0;
    let code = next_code(&secret, &mut last);
    assert_eq!(ana.post("/account/security/totp/confirm", &[("code", &code)]).await, (303, "/account/security".into()));
    let (_, page) = ana.get("/account/security").await;
    assert!(page.contains("Two-step verification is on."), "{page}");

    // Sign-in now has a second step; the password alone opens no session.
    let mut signer = Visitor::new(&app.base, "en").await;
    assert_eq!(signer.sign_in("ana@acme.example", OLD_PASSWORD).await, (303, "/login/code".into()));
    assert!(signer.has_cookie("escucha_mfa") && !signer.has_cookie("escucha_session"));
    assert_eq!(signer.get("/dashboard").await.1, "/login", "no session before the code");
    let (status, page) = signer.get("/login/code").await;
    assert_eq!(status, 200);
    assert!(page.contains("Verification code") && page.contains("autocomplete=\"one-time-code\""));
    // A wrong code fails; the confirmation code (already used) is refused as a replay.
    assert_eq!(signer.post("/login/code", &[("code", "123456")]).await.0, 401);
    assert_eq!(signer.post("/login/code", &[("code", &code)]).await.0, 401, "replayed code");
    let code = next_code(&secret, &mut last);
    assert_eq!(signer.post("/login/code", &[("code", &code)]).await, (303, "/dashboard".into()));
    assert!(signer.has_cookie("escucha_session") && !signer.has_cookie("escucha_mfa"));
    assert_eq!(signer.get("/dashboard").await.0, 200);

    // The same code again, in a new sign-in, is refused.
    let mut replayer = Visitor::new(&app.base, "en").await;
    assert_eq!(replayer.sign_in("ana@acme.example", OLD_PASSWORD).await.1, "/login/code");
    assert_eq!(replayer.post("/login/code", &[("code", &code)]).await.0, 401);
    // Without the challenge cookie there is nothing to complete.
    let mut stranger = Visitor::new(&app.base, "en").await;
    assert_eq!(stranger.post("/login/code", &[("code", &code)]).await.0, 401);
    assert_eq!(stranger.get("/login/code").await.1, "/login");

    // Turning it off needs a current code.
    assert_eq!(signer.post("/account/security/totp/disable", &[("code", "000000")]).await.0, 400);
    let code = next_code(&secret, &mut last);
    assert_eq!(
        signer.post("/account/security/totp/disable", &[("code", &code)]).await,
        (303, "/account/security".into())
    );
    let (_, page) = signer.get("/account/security").await;
    assert!(page.contains("Two-step verification is off."));
    let mut plain = Visitor::new(&app.base, "en").await;
    assert_eq!(plain.sign_in("ana@acme.example", OLD_PASSWORD).await, (303, "/dashboard".into()));

    // All of it is in the audit log.
    for action in ["totp_enrolment_started", "totp_enabled", "totp_disabled"] {
        assert_eq!(audit_actions(&app, action).await.len(), 1, "{action}");
    }
    let successes = audit_actions(&app, "sign_in.success").await;
    assert!(successes.iter().any(|e| e["detail"]["via"] == "password+totp"), "{successes:?}");
    let failures = audit_actions(&app, "sign_in.failure").await;
    assert_eq!(failures.iter().filter(|e| e["detail"]["via"] == "totp").count(), 3, "{failures:?}");
    app.stop().await;
}

#[tokio::test]
async fn lockouts_are_shared_by_server_processes() {
    let app = TestApp::spawn().await;
    let sibling = app.spawn_sibling().await;
    let mut a = Visitor::new(&app.base, "en").await;
    let mut b = Visitor::new(&sibling.base, "en").await;
    let mut statuses = Vec::new();
    for i in 0..5 {
        let v = if i % 2 == 0 { &mut a } else { &mut b };
        statuses.push(v.sign_in("x@acme.example", "wrong password").await.0);
    }
    assert_eq!(statuses, vec![401; 5]);
    // Neither process saw five failures itself, yet both refuse now.
    assert_eq!(a.sign_in("x@acme.example", "wrong password").await.0, 429);
    assert_eq!(b.sign_in("x@acme.example", "wrong password").await.0, 429);
    drop(sibling);
    app.stop().await;
}

#[tokio::test]
async fn session_cookies_are_http_only_same_site_and_secure_behind_https() {
    let app =
        TestApp::spawn_with(Backend::Sqlite, |c| c.public_url = Some("https://escucha.example".into())).await.unwrap();
    user_with_password(&app, "ana@acme.example", OLD_PASSWORD).await;
    let http = client();
    let r = http.get(app.url("/login")).send().await.unwrap();
    let csrf_line = set_cookie_line(&r, "escucha_csrf").unwrap();
    assert!(csrf_line.contains("HttpOnly") && csrf_line.contains("SameSite=Strict") && csrf_line.contains("Secure"));
    let csrf = set_cookie(&r, "escucha_csrf").unwrap();
    let token = csrf.trim_start_matches("escucha_csrf=");
    let r = http
        .post(app.url("/login"))
        .header("cookie", &csrf)
        .form(&[("csrf", token), ("org", "acme"), ("email", "ana@acme.example"), ("password", OLD_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let session = set_cookie_line(&r, "escucha_session").unwrap();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age="] {
        assert!(session.contains(attribute), "{attribute} in {session}");
    }
    assert_eq!(session.matches("Secure").count(), 1, "{session}");
    app.stop().await;

    // Over plain HTTP the cookie cannot be Secure (the browser would drop it), the rest stays.
    let app = TestApp::spawn().await;
    user_with_password(&app, "ana@acme.example", OLD_PASSWORD).await;
    let mut v = Visitor::new(&app.base, "en").await;
    let r = v
        .http
        .post(app.url("/login"))
        .header("cookie", v.cookie_header())
        .form(&[("csrf", v.csrf.as_str()), ("org", "acme"), ("email", "ana@acme.example"), ("password", OLD_PASSWORD)])
        .send()
        .await
        .unwrap();
    let session = set_cookie_line(&r, "escucha_session").unwrap();
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Lax") && !session.contains("Secure"));
    v.absorb(&r);
    app.stop().await;
}

/// A regional manager's web session sees their region only: the dashboard's figures, its chart
/// and its case list, as their API token does.
#[tokio::test]
async fn a_regional_managers_session_sees_their_region_only() {
    let app = TestApp::spawn().await;
    for (email, body) in [
        ("jefe.norte@acme.example", serde_json::json!({"role": "manager", "region": "Norte"})),
        ("ae.norte@acme.example", serde_json::json!({"role": "agent", "region": "Norte"})),
        ("ae.sur@acme.example", serde_json::json!({"role": "agent", "region": "Sur"})),
    ] {
        assert_eq!(app.put(&format!("/api/v1/users/{email}"), body).await.0, 201);
    }
    for (id, region, owner) in [("C-N", "Norte", "ae.norte@acme.example"), ("C-S", "Sur", "ae.sur@acme.example")] {
        let body = serde_json::json!({"region": region, "owner_email": owner});
        assert_eq!(app.put(&format!("/api/v1/customers/{id}"), body).await.0, 201);
    }
    let survey = app.create_survey().await;
    for (customer, nps) in [("C-N", 10), ("C-N", 2), ("C-S", 0), ("C-S", 1), ("C-S", 3)] {
        let body = serde_json::json!({"survey_id": survey, "customer_external_id": customer, "answers": {"nps": nps}});
        assert_eq!(app.post("/api/v1/responses", body).await.0, 201);
    }
    let hash = escucha_server::auth::hash_password(OLD_PASSWORD).unwrap();
    app.store.set_password_hash(app.org, &Email::parse("jefe.norte@acme.example").unwrap(), &hash).await.unwrap();
    let mut manager = Visitor::new(&app.base, "en").await;
    assert_eq!(manager.sign_in("jefe.norte@acme.example", OLD_PASSWORD).await, (303, "/dashboard".into()));
    let (status, page) = manager.get("/dashboard").await;
    assert_eq!(status, 200);
    let nps_card = page.split("id=\"card-nps\"").nth(1).unwrap().split("</div></div>").next().unwrap().to_string();
    assert!(nps_card.contains("2 answers"), "Norte's two answers only: {nps_card}");
    let chart = page.split("id=\"nps-by-region\"").nth(1).unwrap().split("</section>").next().unwrap().to_string();
    assert!(chart.contains("Norte") && !chart.contains("Sur"), "{chart}");
    let cases = page.split("id=\"latest-cases\"").nth(1).unwrap().split("</section>").next().unwrap().to_string();
    assert!(cases.contains("C-N") && !cases.contains("C-S"), "{cases}");
    app.stop().await;
}

/// Housekeeping deletes expired sessions, challenges and reset tokens, and keeps live ones.
#[tokio::test]
async fn housekeeping_deletes_only_what_expired() {
    let app = TestApp::spawn().await;
    let email = Email::parse("ana@acme.example").unwrap();
    let (ana, _) = app.store.upsert_user(app.org, &email, UserFields::default()).await.unwrap();
    let now = chrono::Utc::now();
    let past = now - chrono::Duration::minutes(5);
    let future = now + chrono::Duration::hours(1);
    app.store.create_session(app.org, ana.id, "old-session", past).await.unwrap();
    app.store.create_session(app.org, ana.id, "live-session", future).await.unwrap();
    app.store.create_password_reset(app.org, ana.id, "old-reset", past).await.unwrap();
    app.store.create_sign_in_challenge(app.org, ana.id, "old-challenge", past).await.unwrap();
    app.store.create_password_reset(app.org, ana.id, "live-reset", future).await.unwrap();
    let deleted = escucha_server::service::housekeeping::run_once(app.store.as_ref()).await.unwrap();
    assert_eq!(deleted, 3);
    assert!(app.store.session_by_hash("live-session", now).await.unwrap().is_some());
    assert!(app.store.password_reset_user("live-reset", now).await.unwrap().is_some());
    assert_eq!(escucha_server::service::housekeeping::run_once(app.store.as_ref()).await.unwrap(), 0);
    app.stop().await;
}
