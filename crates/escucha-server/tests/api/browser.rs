//! The web pages in a real headless Chromium, driven over the W3C WebDriver protocol
//! (chromedriver) with plain HTTP: sign in, see the dashboard, switch language.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use escucha_core::org::UserFields;
use escucha_core::values::Email;

use crate::helpers::TestApp;

const CHROMIUM: &str = "/usr/bin/chromium";

/// The chromedriver process, killed and reaped when dropped (also when starting a session fails).
struct DriverProcess(Child);

impl Drop for DriverProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Driver {
    _process: DriverProcess,
    base: String,
    session: String,
    http: reqwest::Client,
    _profile: tempfile::TempDir,
}

impl Driver {
    /// Starts chromedriver and a headless Chromium session; `None` (said loudly) when the
    /// machine lacks them.
    async fn start() -> Option<Driver> {
        let chromedriver = which("chromedriver");
        if chromedriver.is_none() || !std::path::Path::new(CHROMIUM).exists() {
            crate::helpers::skip(
                "browser",
                "chromium and chromedriver are not installed (apt-get install chromium chromium-driver)",
            );
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
        let process = DriverProcess(
            Command::new(chromedriver?)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("chromedriver starts"),
        );
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = http.get(format!("{base}/status")).send().await
                && r.json::<Value>().await.is_ok_and(|v| v["value"]["ready"] == true)
            {
                break;
            }
            assert!(Instant::now() < deadline, "chromedriver did not become ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().expect("profile dir");
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                "--window-size=1280,1000", format!("--user-data-dir={}", profile.path().display())
            ]}
        }}});
        // Installed but unable to open a session is a failure, not a skip.
        let resp: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .expect("webdriver session request")
            .json()
            .await
            .expect("webdriver session JSON");
        let session = resp["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {resp}")).to_string();
        Some(Driver { _process: process, base, session, http, _profile: profile })
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{}", self.base, self.session, path);
        let mut req = self.http.request(method, url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let v: Value = req.send().await.expect("webdriver call").json().await.expect("webdriver JSON");
        assert!(v["value"]["error"].is_null(), "webdriver error on {path}: {v}");
        v["value"].clone()
    }

    async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({"url": url}))).await;
    }

    async fn find(&self, css: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let url = format!("{}/session/{}/element", self.base, self.session);
            let v: Value = self
                .http
                .post(url)
                .json(&json!({"using": "css selector", "value": css}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if let Some(obj) = v["value"].as_object()
                && let Some(id) = obj.values().next().and_then(Value::as_str)
                && !obj.contains_key("error")
            {
                return id.to_string();
            }
            assert!(Instant::now() < deadline, "element {css} never appeared");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn type_into(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        self.call(reqwest::Method::POST, &format!("/element/{el}/clear"), Some(json!({}))).await;
        self.call(reqwest::Method::POST, &format!("/element/{el}/value"), Some(json!({"text": text}))).await;
    }

    async fn click(&self, css: &str) {
        let el = self.find(css).await;
        self.call(reqwest::Method::POST, &format!("/element/{el}/click"), Some(json!({}))).await;
    }

    async fn text(&self, css: &str) -> String {
        let el = self.find(css).await;
        self.call(reqwest::Method::GET, &format!("/element/{el}/text"), None).await.as_str().unwrap_or("").to_string()
    }

    async fn screenshot(&self, name: &str) {
        if let Ok(dir) = std::env::var("ESCUCHA_SCREENSHOT_DIR") {
            use base64_decode::decode;
            let png = self.call(reqwest::Method::GET, "/screenshot", None).await;
            if let Some(bytes) = png.as_str().and_then(decode) {
                let _ = std::fs::write(std::path::Path::new(&dir).join(format!("{name}.png")), bytes);
            }
        }
    }
}

fn which(name: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH")?.to_str()?.split(':').map(|d| std::path::Path::new(d).join(name)).find(|p| p.exists())
}

/// A tiny standard base64 decoder, for saving screenshots (tests only).
mod base64_decode {
    pub fn decode(s: &str) -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(s.len() * 3 / 4);
        let mut buf = 0u32;
        let mut bits = 0;
        for c in s.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=') {
            let v = match c {
                b'A'..=b'Z' => c - b'A',
                b'a'..=b'z' => c - b'a' + 26,
                b'0'..=b'9' => c - b'0' + 52,
                b'+' => 62,
                b'/' => 63,
                _ => return None,
            };
            buf = (buf << 6) | u32::from(v);
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push((buf >> bits) as u8);
            }
        }
        Some(out)
    }
}

#[tokio::test]
async fn sign_in_and_see_the_dashboard_in_chromium() {
    let app = TestApp::spawn().await;
    // A user with a password, a customer they own and a detractor to open a case.
    let email = Email::parse("analista@acme.example").unwrap();
    app.store
        .upsert_user(app.org, &email, UserFields { role: Some(escucha_core::org::Role::Admin), ..Default::default() })
        .await
        .unwrap();
    let hash = escucha_server::auth::hash_password("una clave larga").unwrap();
    app.store.set_password_hash(app.org, &email, &hash).await.unwrap();
    let (s, _) =
        app.put("/api/v1/customers/C-7", json!({"region": "Norte", "owner_email": "analista@acme.example"})).await;
    assert_eq!(s, 201);
    let survey = app.create_survey().await;
    for (nps, region) in [(10, "Norte"), (9, "Norte"), (2, "Sur"), (8, "Sur")] {
        let (s, _) = app.post("/api/v1/responses", json!({"survey_id": survey, "answers": {"nps": nps, "csat": 4, "ces": 6}, "context": {"region": region}})).await;
        assert_eq!(s, 201);
    }
    let (s, _) = app
        .post("/api/v1/responses", json!({"survey_id": survey, "customer_external_id": "C-7", "answers": {"nps": 1}}))
        .await;
    assert_eq!(s, 201);

    let Some(driver) = Driver::start().await else { return };
    driver.goto(&app.url("/dashboard?lang=en")).await;
    // Not signed in: sent to the sign-in page.
    driver.find("form.login").await;
    driver.type_into("#org", "acme").await;
    driver.type_into("#email", "analista@acme.example").await;
    driver.type_into("#password", "wrong password").await;
    driver.click("#sign-in").await;
    assert!(driver.text(".error").await.contains("Wrong organisation, e-mail or password"));
    driver.type_into("#password", "una clave larga").await;
    driver.click("#sign-in").await;

    // NPS over {10, 9, 2, 8, 1}: promoters 2, detractors 2 → 0.0, shown with its margin.
    let nps = driver.text("#card-nps").await;
    // ci95 = ± 196 × sqrt((0.4 + 0.4) / 5) = ± 78.4 → shown as the interval.
    assert!(
        nps.contains("NPS") && nps.contains("0.0") && nps.contains("95% CI: -78.4 – 78.4") && nps.contains("5 answers"),
        "{nps}"
    );
    let csat = driver.text("#card-csat").await;
    assert!(csat.contains("100.0"), "{csat}");
    let chart = driver.text("#nps-by-region").await;
    assert!(chart.contains("NPS by region") && chart.contains("Norte") && chart.contains("Sur"), "{chart}");
    let cases = driver.text("#latest-cases").await;
    assert!(cases.contains("C-7") && cases.contains("NPS detractor") && cases.contains("High"), "{cases}");
    driver.screenshot("dashboard-en").await;

    // Switch to Spanish.
    driver.goto(&app.url("/dashboard?lang=es")).await;
    assert_eq!(driver.text("h1").await, "Panel");
    assert!(driver.text("#latest-cases").await.contains("Detractor NPS"));
    driver.screenshot("dashboard-es").await;

    // Sign out: back to the sign-in page, and the dashboard is closed again.
    driver.click("#sign-out").await;
    driver.find("form.login").await;
    driver.goto(&app.url("/dashboard")).await;
    driver.find("form.login").await;
    driver.call(reqwest::Method::DELETE, "", None).await;
    app.stop().await;
}
