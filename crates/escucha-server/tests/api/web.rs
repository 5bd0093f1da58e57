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
