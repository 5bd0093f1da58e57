//! Data governance over real HTTP: the security policy, the incident register, retention rules
//! and their run (on SQLite and PostgreSQL), the audit CSV export, and the admin page.

use chrono::{Duration, Months, Utc};
use escucha_core::customer::CustomerPatch;
use escucha_core::org::{Role, UserFields};
use escucha_core::values::{Email, ExternalId};
use escucha_store::NewAuditEntry;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp};

fn policy_body(review: &str) -> Value {
    json!({
        "kind": "principle",
        "title": "Mínimo privilegio",
        "objective": "Solo quien lo necesita ve datos personales",
        "scope": "Todo el personal y sistemas",
        "owner_email": "dpo@acme.example",
        "review_date": review,
        "status": "active"
    })
}

async fn add_dpo(app: &TestApp) {
    let (s, _) = app.put("/api/v1/users/dpo@acme.example", json!({"role": "admin", "name": "DPO"})).await;
    assert_eq!(s, 201);
}

async fn audit_actions(app: &TestApp, action: &str) -> Vec<Value> {
    let (s, body) = app.get(&format!("/api/v1/audit?action={action}")).await;
    assert_eq!(s, 200, "{body}");
    body["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn security_policy_items_are_validated_audited_and_admin_only() {
    let app = TestApp::spawn().await;
    add_dpo(&app).await;
    // Every problem at once, field by field.
    let (s, body) = app.post("/api/v1/security/policy", json!({"kind": "rule", "review_date": "mañana"})).await;
    assert_eq!(s, 422, "{body}");
    let fields: Vec<&str> =
        body["error"]["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["kind", "title", "objective", "scope", "owner_email", "review_date"]);
    let (s, body) = app.post("/api/v1/security/policy", json!({"kind": "audit", "colour": "red"})).await;
    assert_eq!((s, body["error"]["code"].as_str()), (422, Some("invalid_body")));
    let mut stranger = policy_body("2030-01-01");
    stranger["owner_email"] = json!("nobody@acme.example");
    let (s, body) = app.post("/api/v1/security/policy", stranger).await;
    assert_eq!((s, body["error"]["code"].as_str()), (422, Some("unknown_owner")), "{body}");

    let (s, in_time) = app.post("/api/v1/security/policy", policy_body("2199-12-31")).await;
    assert_eq!(s, 201, "{in_time}");
    assert_eq!((in_time["review_overdue"].as_bool(), in_time["status"].as_str()), (Some(false), Some("active")));
    let (s, overdue) = app.post("/api/v1/security/policy", policy_body("2020-01-31")).await;
    assert_eq!(s, 201);
    assert_eq!(overdue["review_overdue"], json!(true));
    let id = overdue["id"].as_i64().unwrap();

    let (s, list) = app.get("/api/v1/security/policy").await;
    assert_eq!(s, 200);
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    assert_eq!(list["items"][0]["id"].as_i64(), Some(id), "newest first");
    assert_eq!(
        list["stats"],
        json!({"items": 2, "active": 2, "active_reviewed_in_time": 1, "overdue": 1, "kinds_covered": ["principle"]})
    );

    // Reviewing moves the date on; only the fields sent change.
    let (s, patched) = app.patch(&format!("/api/v1/security/policy/{id}"), json!({"review_date": "2199-01-01"})).await;
    assert_eq!(s, 200, "{patched}");
    assert_eq!(
        (patched["review_overdue"].as_bool(), patched["title"].as_str()),
        (Some(false), Some("Mínimo privilegio"))
    );
    let (s, body) = app.patch(&format!("/api/v1/security/policy/{id}"), json!({"status": "paused"})).await;
    assert_eq!((s, body["error"]["code"].as_str()), (422, Some("invalid_status")));
    let (s, _) = app.patch(&format!("/api/v1/security/policy/{id}"), json!({})).await;
    assert_eq!(s, 422);

    // Not an admin: 403 everywhere; unknown ids: 404.
    let analyst = app.token_for(Role::Analyst).await;
    for (method, path) in [
        (reqwest::Method::GET, "/api/v1/security/policy".to_string()),
        (reqwest::Method::POST, "/api/v1/security/policy".to_string()),
        (reqwest::Method::GET, format!("/api/v1/security/policy/{id}")),
        (reqwest::Method::DELETE, format!("/api/v1/security/policy/{id}")),
    ] {
        let req =
            app.client.request(method.clone(), app.url(&path)).bearer_auth(&analyst).json(&policy_body("2030-01-01"));
        let (s, body) = app.send(req).await;
        assert_eq!((s, body["error"]["code"].as_str()), (403, Some("forbidden")), "{method} {path}");
    }
    for path in ["/api/v1/security/policy/999999", "/api/v1/security/policy/abc"] {
        assert_eq!(app.get(path).await.0, 404, "{path}");
    }

    let (s, _) =
        app.send(app.client.delete(app.url(&format!("/api/v1/security/policy/{id}"))).bearer_auth(&app.token)).await;
    assert_eq!(s, 204);
    assert_eq!(app.get(&format!("/api/v1/security/policy/{id}")).await.0, 404);
    for action in ["security_policy.create", "security_policy.update", "security_policy.delete"] {
        let entries = audit_actions(&app, action).await;
        assert!(!entries.is_empty(), "{action} is audited");
        assert_eq!(entries[0]["actor"].as_str(), Some("token:admin"));
    }
    app.stop().await;
}

#[tokio::test]
async fn incidents_are_registered_closed_and_counted() {
    let app = TestApp::spawn().await;
    let detected = Utc::now() - Duration::hours(30);
    let body = |detected: chrono::DateTime<Utc>| {
        json!({
            "title": "Portátil perdido",
            "occurred_at": (detected - Duration::hours(2)).to_rfc3339(),
            "detected_at": detected.to_rfc3339(),
            "data_affected": "Nombres y correos de la región Norte",
            "customers_affected": 120,
            "severity": "high",
            "notified_to": ["DPO"]
        })
    };
    let (s, first) = app.post("/api/v1/security/incidents", body(detected)).await;
    assert_eq!(s, 201, "{first}");
    assert_eq!((first["open"].as_bool(), first["reported_by"].as_str()), (Some(true), Some("token:admin")));
    let (s, second) = app.post("/api/v1/security/incidents", body(detected)).await;
    assert_eq!(s, 201);
    let mut bad = body(detected);
    bad["detected_at"] = json!((detected - Duration::hours(5)).to_rfc3339());
    bad["customers_affected"] = json!(-3);
    let (s, err) = app.post("/api/v1/security/incidents", bad).await;
    assert_eq!(s, 422);
    let codes: Vec<&str> =
        err["error"]["details"].as_array().unwrap().iter().map(|d| d["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["out_of_range", "before_occurred"]);

    // Closing needs the actions taken; closed 10 hours after detection.
    let first_path = format!("/api/v1/security/incidents/{}", first["id"]);
    let closed_at = (detected + Duration::hours(10)).to_rfc3339();
    let (s, err) = app.patch(&first_path, json!({"closed_at": closed_at})).await;
    assert_eq!((s, err["error"]["code"].as_str()), (422, Some("actions_required")));
    let (s, closed) = app
        .patch(&first_path, json!({"closed_at": closed_at, "actions_taken": "Borrado remoto; aviso a la autoridad"}))
        .await;
    assert_eq!(s, 200, "{closed}");
    assert_eq!(closed["open"], json!(false));

    let (s, open) = app.get("/api/v1/security/incidents?status=open").await;
    assert_eq!(s, 200);
    let ids: Vec<i64> = open["items"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![second["id"].as_i64().unwrap()]);
    let (_, closed_list) = app.get("/api/v1/security/incidents?status=closed").await;
    assert_eq!(closed_list["items"].as_array().unwrap().len(), 1);
    assert_eq!(closed_list["stats"], json!({"total": 2, "open": 1, "closed": 1, "mean_hours_to_close": 10.0}));
    assert_eq!(app.get("/api/v1/security/incidents?status=maybe").await.0, 400);
    let (_, page) = app.get("/api/v1/security/incidents?limit=1").await;
    assert_eq!(page["next_cursor"].as_i64(), second["id"].as_i64());

    // Reopening with null.
    let (s, reopened) = app.patch(&first_path, json!({"closed_at": null})).await;
    assert_eq!((s, reopened["open"].as_bool()), (200, Some(true)));
    assert_eq!(audit_actions(&app, "security_incident.update").await.len(), 2);
    assert_eq!(audit_actions(&app, "security_incident.create").await.len(), 2);
    let viewer = app.token_for(Role::Viewer).await;
    let (s, _) = app.send(app.client.get(app.url("/api/v1/security/incidents")).bearer_auth(&viewer)).await;
    assert_eq!(s, 403);
    app.stop().await;
}

async fn nps_total(app: &TestApp) -> (i64, f64) {
    let (s, body) = app.get("/api/v1/metrics?metric=nps").await;
    assert_eq!(s, 200, "{body}");
    (body["total"]["n"].as_i64().unwrap(), body["total"]["value"].as_f64().unwrap())
}

/// Waits until the metric index holds `n` NPS answers.
async fn wait_for_answers(app: &TestApp, n: i64) {
    for _ in 0..100 {
        if nps_total(app).await.0 == n {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the index never reached {n} answers");
}

async fn retention_story(backend: Backend) {
    let Some(app) = TestApp::spawn_on(backend).await else { return };
    let now = Utc::now();
    let months_ago = |m: u32| now.checked_sub_months(Months::new(m)).unwrap();
    let survey = app.create_survey().await;
    // OLD: last touched 40 months ago (written through the store to backdate it).
    app.store
        .upsert_customers(
            app.org,
            vec![(
                ExternalId::parse("OLD").unwrap(),
                CustomerPatch {
                    name: escucha_core::customer::Patch::Set("Vieja Cliente".into()),
                    ..Default::default()
                },
            )],
            months_ago(40),
        )
        .await
        .unwrap();
    // NEW: updated now, but answered and called 30 months ago.
    let (s, _) = app.put("/api/v1/customers/NEW", json!({"name": "Nueva Cliente"})).await;
    assert_eq!(s, 201);
    for (customer, nps, at) in [("OLD", 3, months_ago(40)), ("NEW", 5, months_ago(30)), ("NEW", 10, now)] {
        let mut answers = json!({"nps": nps});
        if nps <= 6 {
            answers["why"] = json!(format!("Texto libre de {customer}"));
        }
        let (s, body) = app
            .post(
                "/api/v1/responses",
                json!({"survey_id": survey, "customer_external_id": customer, "answers": answers, "submitted_at": at.to_rfc3339()}),
            )
            .await;
        assert_eq!(s, 201, "{body}");
    }
    let (s, _) = app
        .post(
            "/api/v1/feedback",
            json!({"text": "Llamó por un cobro", "source": "call", "customer_external_id": "NEW", "occurred_at": months_ago(30).to_rfc3339()}),
        )
        .await;
    assert_eq!(s, 201);
    app.store
        .append_audit(
            app.org,
            NewAuditEntry {
                at: months_ago(30),
                actor: "system".into(),
                action: "old.entry".into(),
                target: None,
                detail: json!({}),
                ip: None,
            },
        )
        .await
        .unwrap();
    wait_for_answers(&app, 3).await;
    let before = nps_total(&app).await;

    // Rules: bounds checked, then set.
    let (s, err) = app.put("/api/v1/retention", json!({"rules": [{"kind": "audit_log", "months": 6}]})).await;
    assert_eq!((s, err["error"]["code"].as_str()), (422, Some("below_minimum")), "{err}");
    let rules = json!({"rules": [
        {"kind": "inactive_customer_contact", "months": 36},
        {"kind": "free_text", "months": 24},
        {"kind": "audit_log", "months": 24},
        {"kind": "closed_case_notes", "months": 12}
    ]});
    let (s, body) = app.put("/api/v1/retention", rules.clone()).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["rules"], rules["rules"]);
    assert_eq!(app.get("/api/v1/retention").await.1["rules"], rules["rules"]);

    // Dry run: OLD is inactive; both old texts (OLD's and NEW's), NEW's old call and the old
    // audit entry would go; nothing changes.
    let counts = |report: &Value| -> Vec<(String, Value)> {
        report["rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["kind"].as_str().unwrap().to_string(), r["counts"].clone()))
            .collect()
    };
    let (s, dry) = app.post("/api/v1/retention/run?dry_run=true", json!({})).await;
    assert_eq!(s, 200, "{dry}");
    let expected_dry = vec![
        ("inactive_customer_contact".to_string(), json!({"customers": 1})),
        ("free_text".to_string(), json!({"responses": 2, "feedback": 1})),
        ("audit_log".to_string(), json!({"audit_entries": 1})),
        ("closed_case_notes".to_string(), json!({"cases": 0})),
    ];
    assert_eq!(counts(&dry), expected_dry);
    assert_eq!(app.get("/api/v1/customers/OLD").await.0, 200, "a dry run changes nothing");
    assert!(audit_actions(&app, "retention.applied").await.is_empty(), "a dry run is not an applied run");

    // Applied: OLD is erased first, so only NEW's old text is left for the free-text rule.
    let (s, applied) = app.post("/api/v1/retention/run", json!({})).await;
    assert_eq!(s, 200, "{applied}");
    let mut expected = expected_dry.clone();
    expected[1].1 = json!({"responses": 1, "feedback": 1});
    assert_eq!(counts(&applied), expected);
    assert_eq!(app.get("/api/v1/customers/OLD").await.0, 404, "erased: the external id is gone");
    let (_, new) = app.get("/api/v1/customers/NEW").await;
    assert_eq!(new["name"].as_str(), Some("Nueva Cliente"), "an active customer keeps their contact data");
    let entries = audit_actions(&app, "retention.applied").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["detail"]["counts"]["free_text"], json!({"responses": 1, "feedback": 1}));
    assert!(audit_actions(&app, "old.entry").await.is_empty(), "the old audit entry is gone");
    // The erased and redacted customers' scores still count: the metrics do not move.
    assert_eq!(nps_total(&app).await, before);
    let export: Value = {
        let (s, body) = app.get("/api/v1/customers/NEW/export").await;
        assert_eq!(s, 200);
        body
    };
    let texts: Vec<&Value> =
        export["responses"].as_array().unwrap().iter().filter_map(|r| r["answers"].get("why")).collect();
    assert!(texts.is_empty(), "old free text is gone: {export}");
    assert_eq!(export["feedback"][0]["text"].as_str(), Some(escucha_store::REDACTED_TEXT));

    // A second run finds nothing left.
    let (_, again) = app.post("/api/v1/retention/run", json!({})).await;
    for (_, c) in counts(&again) {
        assert!(c.as_object().unwrap().values().all(|n| n == 0), "{again}");
    }
    let analyst = app.token_for(Role::Analyst).await;
    let (s, _) = app.send(app.client.get(app.url("/api/v1/retention")).bearer_auth(&analyst)).await;
    assert_eq!(s, 403);
    let (s, _) = app.send(app.client.post(app.url("/api/v1/retention/run")).bearer_auth(&analyst)).await;
    assert_eq!(s, 403);
    app.stop().await;
}

#[tokio::test]
async fn retention_rules_apply_with_hand_counted_effects_on_sqlite() {
    retention_story(Backend::Sqlite).await;
}

#[tokio::test]
async fn retention_rules_apply_with_hand_counted_effects_on_postgres() {
    retention_story(Backend::Postgres).await;
}

#[tokio::test]
async fn the_background_run_applies_every_organisations_rules() {
    let app = TestApp::spawn().await;
    let (s, _) = app.put("/api/v1/retention", json!({"rules": [{"kind": "audit_log", "months": 12}]})).await;
    assert_eq!(s, 200);
    let old = Utc::now().checked_sub_months(Months::new(13)).unwrap();
    let entry = NewAuditEntry {
        at: old,
        actor: "x".into(),
        action: "old.entry".into(),
        target: None,
        detail: json!({}),
        ip: None,
    };
    app.store.append_audit(app.org, entry).await.unwrap();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(escucha_server::service::retention::worker(
        app.store.clone(),
        std::time::Duration::from_millis(10),
        std::time::Duration::from_secs(3600),
        stop_rx,
    ));
    let mut applied = Vec::new();
    for _ in 0..200 {
        applied = audit_actions(&app, "retention.applied").await;
        if !applied.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    stop_tx.send(true).unwrap();
    worker.await.unwrap();
    assert_eq!(applied.len(), 1);
    assert_eq!(
        (applied[0]["actor"].as_str(), &applied[0]["detail"]["counts"]),
        (Some("system:retention"), &json!({"audit_log": {"audit_entries": 1}}))
    );
    app.stop().await;
}

#[tokio::test]
async fn the_audit_log_exports_as_csv_and_the_export_is_audited() {
    let app = TestApp::spawn().await;
    add_dpo(&app).await;
    for i in 0..3 {
        let (s, _) = app.put(&format!("/api/v1/users/u{i}@acme.example"), json!({"role": "viewer"})).await;
        assert_eq!(s, 201);
    }
    // A hostile token name does not become a spreadsheet formula.
    let evil = escucha_server::auth::new_secret(escucha_server::auth::TOKEN_PREFIX);
    app.store
        .create_token(
            app.org,
            escucha_store::NewToken {
                name: "=HYPERLINK(\"x\")".into(),
                role: Role::Admin,
                user_id: None,
                hash: escucha_server::auth::hash_secret(&evil),
                expires_at: None,
                scopes: vec![escucha_core::access::TokenScope::Admin],
            },
        )
        .await
        .unwrap();
    let (s, _) = app
        .send(
            app.client
                .put(app.url("/api/v1/users/u9@acme.example"))
                .bearer_auth(&evil)
                .json(&json!({"role": "viewer"})),
        )
        .await;
    assert_eq!(s, 201);

    let formula = NewAuditEntry {
        at: Utc::now(),
        actor: "=1+1".into(),
        action: "odd.actor".into(),
        target: Some("@x".into()),
        detail: json!({}),
        ip: None,
    };
    app.store.append_audit(app.org, formula).await.unwrap();
    let r =
        app.client.get(app.url("/api/v1/audit/export?action=odd.actor")).bearer_auth(&app.token).send().await.unwrap();
    let text = r.text().await.unwrap();
    assert!(text.contains(",'=1+1,odd.actor,'@x,"), "cells that start like formulas are neutralised: {text}");

    let r = app
        .client
        .get(app.url("/api/v1/audit/export?action=user.upsert"))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(r.headers()["content-disposition"].to_str().unwrap().starts_with("attachment; filename=\"audit-"));
    let text = r.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(reader.headers().unwrap(), vec!["id", "at", "actor", "action", "target", "detail", "ip"]);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 5, "dpo, u0–u2 and u9: {text}");
    assert!(rows.iter().all(|r| &r[3] == "user.upsert"));
    assert_eq!(&rows[0][2], "token:=HYPERLINK(\"x\")", "starts with a letter: kept as is");
    assert_eq!(&rows[0][4], "user:u9@acme.example");
    assert_eq!(&rows[4][4], "user:dpo@acme.example", "newest first");

    let exports = audit_actions(&app, "audit.export").await;
    assert_eq!(exports.len(), 2);
    assert_eq!(exports[0]["detail"], json!({"rows": 5, "filters": {"action": "user.upsert"}}));
    assert_eq!(app.get("/api/v1/audit/export?from=yesterday").await.0, 400);
    assert_eq!(app.get("/api/v1/audit/export?limit=5").await.0, 400);
    let analyst = app.token_for(Role::Analyst).await;
    let (s, _) = app.send(app.client.get(app.url("/api/v1/audit/export")).bearer_auth(&analyst)).await;
    assert_eq!(s, 403);
    app.stop().await;
}

/// Signs `email` in through the sign-in form; returns the cookies (session and CSRF) and the
/// CSRF token.
async fn sign_in(app: &TestApp, email: &str, role: Role) -> (String, String) {
    let e = Email::parse(email).unwrap();
    app.store.upsert_user(app.org, &e, UserFields { role: Some(role), ..Default::default() }).await.unwrap();
    let hash = escucha_server::auth::hash_password("una clave larga").unwrap();
    app.store.set_password_hash(app.org, &e, &hash).await.unwrap();
    let no_redirect = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = no_redirect.get(app.url("/login")).send().await.unwrap();
    let csrf_cookie = set_cookie(&r, "escucha_csrf=");
    let csrf = csrf_cookie.trim_start_matches("escucha_csrf=").to_string();
    let form = [("csrf", csrf.as_str()), ("org", "acme"), ("email", email), ("password", "una clave larga")];
    let r = no_redirect.post(app.url("/login")).header("cookie", &csrf_cookie).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let session = set_cookie(&r, "escucha_session=");
    (format!("{csrf_cookie}; {session}"), csrf)
}

fn set_cookie(r: &reqwest::Response, prefix: &str) -> String {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(prefix))
        .expect("cookie")
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn the_security_page_lists_flags_and_saves_with_csrf() {
    let app = TestApp::spawn().await;
    add_dpo(&app).await;
    let (s, _) = app.post("/api/v1/security/policy", policy_body("2020-01-31")).await;
    assert_eq!(s, 201);
    let (cookies, csrf) = sign_in(&app, "admin@acme.example", Role::Admin).await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let get = |lang: &'static str| {
        client.get(app.url(&format!("/admin/security?lang={lang}"))).header("cookie", &cookies).send()
    };
    let r = get("en").await.unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    for needle in [
        "Customer data security",
        "Mínimo privilegio",
        "review overdue",
        "Incident register",
        &format!("value=\"{csrf}\""),
    ] {
        assert!(html.contains(needle), "{needle} missing");
    }
    let html = get("es").await.unwrap().text().await.unwrap();
    assert!(html.contains("Seguridad de los datos de clientes") && html.contains("revisión vencida"));

    // A form without the CSRF token changes nothing.
    let item = [
        ("kind", "audit"),
        ("title", "Auditoría anual"),
        ("objective", "Verificar controles"),
        ("scope", "Sistemas con datos de clientes"),
        ("owner_email", "dpo@acme.example"),
        ("review_date", "2199-06-30"),
        ("status", "active"),
    ];
    let post = |path: &str, csrf: &str, fields: &[(&str, &str)]| {
        let mut form: Vec<(String, String)> = fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        form.push(("csrf".into(), csrf.into()));
        client.post(app.url(path)).header("cookie", &cookies).header("accept-language", "es").form(&form).send()
    };
    let r = post("/admin/security/policy", "csr_forged", &item).await.unwrap();
    assert_eq!(r.status(), 403);
    let r = post("/admin/security/policy", &csrf, &item).await.unwrap();
    assert_eq!(r.status(), 303);
    let (_, list) = app.get("/api/v1/security/policy").await;
    assert_eq!(list["items"][0]["title"].as_str(), Some("Auditoría anual"));
    assert_eq!(audit_actions(&app, "security_policy.create").await[0]["actor"].as_str(), Some("admin@acme.example"));

    // Invalid input comes back as a 422 page naming the fields, in Spanish.
    let r = post("/admin/security/policy", &csrf, &[("kind", "audit"), ("review_date", "2199-06-30")]).await.unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("Revise estos campos") && html.contains("Título: es obligatorio"), "{html}");

    // An incident from the form (datetime-local values, read as UTC), then closed from its edit form.
    let incident = [
        ("title", "Correo enviado al destinatario equivocado"),
        ("occurred_at", "2026-01-10T09:00"),
        ("detected_at", "2026-01-10T11:30"),
        ("data_affected", "Nombre y NPS de un cliente"),
        ("customers_affected", "1"),
        ("severity", "low"),
        ("notified_to", "DPO, cliente"),
    ];
    let r = post("/admin/security/incidents", &csrf, &incident).await.unwrap();
    assert_eq!(r.status(), 303);
    let (_, incidents) = app.get("/api/v1/security/incidents").await;
    let stored = &incidents["items"][0];
    assert_eq!(
        (stored["detected_at"].as_str(), &stored["notified_to"]),
        (Some("2026-01-10T11:30:00Z"), &json!(["DPO", "cliente"]))
    );
    let mut closing = incident.to_vec();
    closing.push(("actions_taken", "Se pidió borrar el correo"));
    closing.push(("closed_at", "2026-01-10T15:30"));
    let r = post(&format!("/admin/security/incidents/{}", stored["id"]), &csrf, &closing).await.unwrap();
    assert_eq!(r.status(), 303);
    let (_, closed) = app.get(&format!("/api/v1/security/incidents/{}", stored["id"])).await;
    assert_eq!(closed["open"], json!(false));
    let html = get("en").await.unwrap().text().await.unwrap();
    assert!(html.contains("Mean hours to close: 4.0"), "4 hours from detection to closing");

    // Without the permission: 403, and the forms refuse too.
    let (viewer_cookies, viewer_csrf) = sign_in(&app, "viewer@acme.example", Role::Viewer).await;
    let r = client.get(app.url("/admin/security")).header("cookie", &viewer_cookies).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let mut form: Vec<(&str, &str)> = item.to_vec();
    form.push(("csrf", &viewer_csrf));
    let r = client
        .post(app.url("/admin/security/policy"))
        .header("cookie", &viewer_cookies)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(app.get("/api/v1/security/policy").await.1["items"].as_array().unwrap().len(), 2);
    app.stop().await;
}
