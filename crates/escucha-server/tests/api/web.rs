//! The staff pages over plain HTTP: security headers, CSRF, sign-in failures.

use crate::helpers::TestApp;

#[tokio::test]
async fn pages_carry_security_headers_and_forms_need_their_csrf_token() {
    let app = TestApp::spawn().await;
    for path in ["/healthz", "/login", "/api/v1/openapi.json", "/nowhere"] {
        let r = app.client.get(app.url(path)).send().await.unwrap();
        let h = r.headers();
        let csp = h.get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or("");
        assert!(csp.contains("default-src 'self'") && !csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(h.get("x-frame-options").unwrap(), "DENY", "{path}");
        assert_eq!(h.get("x-content-type-options").unwrap(), "nosniff", "{path}");
    }
    // The sign-in page sets a CSRF cookie and repeats it in the form.
    let r = app.client.get(app.url("/login?lang=en")).send().await.unwrap();
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("escucha_csrf="))
        .expect("a CSRF cookie")
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let token = cookie.trim_start_matches("escucha_csrf=").to_string();
    let html = r.text().await.unwrap();
    assert!(html.contains(&format!("value=\"{token}\"")));
    assert!(html.contains("lang=\"en\""));

    // A post without the matching token is refused; with it, bad credentials are a 401 page.
    let no_redirect = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let form = |csrf: &str| {
        vec![
            ("csrf", csrf.to_string()),
            ("org", "acme".into()),
            ("email", "x@acme.example".into()),
            ("password", "nope nope nope".into()),
        ]
    };
    let r =
        no_redirect.post(app.url("/login")).header("cookie", &cookie).form(&form("csr_forged")).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let r = no_redirect.post(app.url("/login")).form(&form(&token)).send().await.unwrap();
    assert_eq!(r.status(), 403, "no cookie, no sign-in");
    let r = no_redirect
        .post(app.url("/login"))
        .header("cookie", &cookie)
        .header("accept-language", "es")
        .form(&form(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("Organización, correo o contraseña incorrectos."));
    // The dashboard without a session sends you to sign in.
    let r = no_redirect.get(app.url("/dashboard")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers().get("location").unwrap(), "/login");
    app.stop().await;
}

#[tokio::test]
async fn repeated_wrong_passwords_lock_the_account_for_a_while() {
    let app = TestApp::spawn().await;
    let r = app.client.get(app.url("/login")).send().await.unwrap();
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("escucha_csrf="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let token = cookie.trim_start_matches("escucha_csrf=").to_string();
    let form = vec![
        ("csrf", token),
        ("org", "acme".into()),
        ("email", "x@acme.example".into()),
        ("password", "wrong!".into()),
    ];
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let r = app.client.post(app.url("/login")).header("cookie", &cookie).form(&form).send().await.unwrap();
        statuses.push(r.status().as_u16());
        if r.status() == 429 {
            assert!(r.headers().get("retry-after").is_some());
        }
    }
    // Five failures are answered 401; the sixth attempt finds the account locked.
    assert_eq!(statuses, vec![401, 401, 401, 401, 401, 429]);
    // Each failed sign-in is in the audit log, with where it came from.
    let (_, log) = app.get("/api/v1/audit?action=sign_in.failure").await;
    let items = log["items"].as_array().unwrap();
    assert_eq!(items.len(), 5);
    assert_eq!((items[0]["actor"].as_str(), items[0]["ip"].as_str()), (Some("x@acme.example"), Some("127.0.0.1")));
    app.stop().await;
}

#[tokio::test]
async fn api_requests_over_the_rate_get_429_with_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let mut config =
        escucha_server::Config::for_tests(dir.path(), format!("sqlite://{}", dir.path().join("e.db").display()));
    config.api_requests_per_minute = Some(60); // burst 6
    let app = escucha_server::Application::build(config).await.unwrap();
    let base = format!("http://{}", app.local_addr());
    tokio::spawn(app.run_until(std::future::pending()));
    let client = reqwest::Client::new();
    let mut codes = Vec::new();
    for _ in 0..8 {
        let r = client.get(format!("{base}/api/v1/cases")).bearer_auth("esk_unknown").send().await.unwrap();
        codes.push(r.status().as_u16());
        if r.status() == 429 {
            assert!(r.headers().get("retry-after").is_some());
            let body: serde_json::Value = r.json().await.unwrap();
            assert_eq!(body["error"]["code"], "rate_limited");
        }
    }
    assert_eq!(codes, vec![401, 401, 401, 401, 401, 401, 429, 429]);
}
