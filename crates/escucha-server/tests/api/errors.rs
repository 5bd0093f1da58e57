//! Bad input: every malformed body, wrong type, out-of-range score, unknown question, unknown
//! survey, missing required answer, bad date, unknown metric or dimension gets a 4xx with a
//! stable code and a message; never a 500.

use serde_json::{Value, json};

use escucha_core::org::Role;

use crate::helpers::TestApp;

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_else(|| panic!("no error code in {body}"))
}

#[tokio::test]
async fn bad_response_bodies_get_clear_errors() {
    let app = TestApp::spawn().await;
    let survey = app.create_survey().await;
    let cases: Vec<(Value, u16, &str)> = vec![
        (json!({"survey_id": survey, "answers": {"nps": 11}}), 422, "out_of_range"),
        (json!({"survey_id": survey, "answers": {"nps": -1}}), 422, "out_of_range"),
        (json!({"survey_id": survey, "answers": {"nps": "diez"}}), 422, "invalid_type"),
        (json!({"survey_id": survey, "answers": {"nps": 9, "color": "azul"}}), 422, "unknown_question"),
        (json!({"survey_id": survey, "answers": {"csat": 4}}), 422, "missing_answer"),
        (json!({"survey_id": survey, "answers": {"nps": 9, "why": "hidden"}}), 422, "not_shown"),
        (json!({"survey_id": 999_999, "answers": {"nps": 9}}), 422, "unknown_survey"),
        (json!({"survey_id": "uno", "answers": {"nps": 9}}), 422, "invalid_body"),
        (json!({"survey_id": survey, "answers": {"nps": 9}, "submitted_at": "ayer"}), 422, "invalid_body"),
        (json!({"survey_id": survey, "answers": {"nps": 9}, "submitted_at": "2999-01-01T00:00:00Z"}), 422, "in_future"),
        (json!({"survey_id": survey, "answers": {"nps": 9}, "extra": 1}), 422, "invalid_body"),
        (json!({"survey_id": survey, "answers": {"nps": 9}, "context": {"planet": "Mars"}}), 422, "invalid_body"),
        (
            json!({"survey_id": survey, "answers": {"nps": 9}, "context": {"employee_email": "nope"}}),
            422,
            "invalid_email",
        ),
        (json!({"survey_id": survey, "answers": {"nps": 9}, "customer_external_id": "ghost"}), 422, "unknown_customer"),
        (json!({"survey_id": survey, "answers": {"nps": 9}, "language": "fr"}), 422, "unsupported_language"),
        (json!({"survey_id": survey}), 422, "invalid_body"),
        (json!([1, 2]), 422, "invalid_body"),
    ];
    for (body, status, expected) in cases {
        let (s, b) = app.post("/api/v1/responses", body.clone()).await;
        assert_eq!((s, code(&b)), (status, expected), "{body} → {b}");
        assert!(b["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // Not JSON at all, and an empty body.
    let (s, b) = app
        .send(
            app.client
                .post(app.url("/api/v1/responses"))
                .bearer_auth(&app.token)
                .header("content-type", "application/json")
                .body("{nope"),
        )
        .await;
    assert_eq!((s, code(&b)), (400, "invalid_json"));
    let (s, b) = app.send(app.client.post(app.url("/api/v1/responses")).bearer_auth(&app.token)).await;
    assert_eq!((s, code(&b)), (400, "empty_body"));
    // Too large.
    let big = "x".repeat(2 << 20);
    let (s, b) = app.send(app.client.post(app.url("/api/v1/responses")).bearer_auth(&app.token).body(big)).await;
    assert_eq!((s, code(&b)), (413, "body_too_large"));
    assert_eq!(app.store.count_responses(app.org).await.unwrap(), 0, "nothing was stored");
    app.stop().await;
}

#[tokio::test]
async fn bad_surveys_report_every_problem() {
    let app = TestApp::spawn().await;
    let (s, b) = app
        .post(
            "/api/v1/surveys",
            json!({"name": "X", "languages": ["es"], "questions": [
                {"id": "a", "type": "stars", "text": "¿?"},
                {"id": "b", "type": "nps", "text": {"en": "only English"}}
            ]}),
        )
        .await;
    assert_eq!((s, code(&b)), (422, "unknown_question_type"));
    let details = b["error"]["details"].as_array().unwrap();
    assert_eq!(details.len(), 2);
    assert_eq!(details[1]["field"], "questions[1].text");
    assert_eq!(details[1]["code"], "missing_translation");
    let (s, b) = app.post("/api/v1/surveys", json!({"name": "X", "languages": ["es"], "questions": []})).await;
    assert_eq!((s, code(&b)), (422, "empty"));
}

#[tokio::test]
async fn bad_metric_queries_and_routes() {
    let app = TestApp::spawn().await;
    for (path, status, expected) in [
        ("/api/v1/metrics?metric=happiness", 400, "unknown_metric"),
        ("/api/v1/metrics", 400, "missing_metric"),
        ("/api/v1/metrics?metric=nps&by=planet", 400, "unknown_dimension"),
        ("/api/v1/metrics?metric=nps&by=region,product,channel", 400, "too_many_dimensions"),
        ("/api/v1/metrics?metric=nps&from=2026-13-01", 400, "invalid_date"),
        ("/api/v1/metrics?metric=nps&from=2026-02-01&to=2026-01-01", 400, "invalid_range"),
        ("/api/v1/metrics?metric=nps&colour=red", 400, "unknown_parameter"),
        ("/api/v1/metrics/series?metric=nps&interval=fortnight", 400, "unknown_interval"),
        ("/api/v1/cases?status=lost", 400, "invalid_parameter"),
        ("/api/v1/cases?limit=0", 400, "invalid_parameter"),
        ("/api/v1/cases/abc", 404, "not_found"),
        ("/api/v1/cases/424242", 404, "not_found"),
        ("/api/v1/surveys/77", 404, "not_found"),
        ("/api/v1/customers/nobody", 404, "not_found"),
        ("/api/v1/nothing-here", 404, "unknown_route"),
        // Path parameters that do not decode to UTF-8 (found by the API fuzz test: axum answered
        // them in plain text).
        ("/api/v1/users/%FF", 400, "invalid_path"),
        ("/api/v1/customers/%C3%28", 400, "invalid_path"),
        ("/api/v1/security/policy/%80", 400, "invalid_path"),
    ] {
        let (s, b) = app.get(path).await;
        assert_eq!((s, code(&b)), (status, expected), "{path} → {b}");
    }
    let (s, b) = app.send(app.client.delete(app.url("/api/v1/surveys"))).await;
    assert_eq!((s, code(&b)), (405, "method_not_allowed"));
    let (s, b) = app.patch("/api/v1/cases/1", json!({"status": "lost"})).await;
    assert_eq!(s, 404, "{b}");
}

#[tokio::test]
async fn authentication_and_roles() {
    let app = TestApp::spawn().await;
    let (s, b) = app.send(app.client.get(app.url("/api/v1/cases"))).await;
    assert_eq!((s, code(&b)), (401, "unauthorized"));
    let (s, b) = app.send(app.client.get(app.url("/api/v1/cases")).bearer_auth("esk_wrong")).await;
    assert_eq!((s, code(&b)), (401, "unauthorized"));
    let (s, b) = app.send(app.client.get(app.url("/api/v1/cases")).header("authorization", "Basic abc")).await;
    assert_eq!((s, code(&b)), (401, "unauthorized"));
    let viewer = app.token_for(Role::Viewer).await;
    let (s, b) = app
        .send(app.client.post(app.url("/api/v1/surveys")).bearer_auth(&viewer).json(&crate::helpers::standard_survey()))
        .await;
    assert_eq!((s, code(&b)), (403, "forbidden"));
    let agent = app.token_for(Role::Agent).await;
    let (s, _) = app
        .send(
            app.client.put(app.url("/api/v1/users/x@acme.example")).bearer_auth(&agent).json(&json!({"role": "admin"})),
        )
        .await;
    assert_eq!(s, 403);
    let (s, b) = app.send(app.client.get(app.url("/api/v1/metrics?metric=nps")).bearer_auth(&viewer)).await;
    assert_eq!(s, 200, "{b}");
    // Public endpoints.
    let (s, doc) = app.send(app.client.get(app.url("/api/v1/openapi.json"))).await;
    assert_eq!(s, 200);
    assert_eq!(doc["openapi"], "3.0.3");
}

#[tokio::test]
async fn bad_customer_and_user_bodies() {
    let app = TestApp::spawn().await;
    for (body, expected) in [
        (json!({"email": "not-an-email"}), "invalid_email"),
        (json!({"annual_value": -5}), "out_of_range"),
        (json!({"annual_value": "mucho"}), "invalid_type"),
        (json!({"favourite": "x"}), "unknown_field"),
        (json!({"attributes": {"Bad Name": "x"}}), "invalid_key"),
    ] {
        let (s, b) = app.put("/api/v1/customers/C-9", body.clone()).await;
        assert_eq!((s, code(&b)), (422, expected), "{body} → {b}");
    }
    let (s, b) = app.put("/api/v1/users/u@acme.example", json!({"role": "boss"})).await;
    assert_eq!((s, code(&b)), (422, "invalid_role"));
    let (s, b) = app.put("/api/v1/users/not-an-email", json!({})).await;
    assert_eq!((s, code(&b)), (422, "invalid_email"));
    let (s, b) = app.post("/api/v1/feedback", json!({"text": "  ", "source": "pigeon"})).await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["error"]["details"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn admins_create_list_and_revoke_tokens() {
    let app = TestApp::spawn().await;
    let (s, created) = app.post("/api/v1/tokens", json!({"name": "CRM", "role": "analyst"})).await;
    assert_eq!(s, 201, "{created}");
    let secret = created["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("esk_"));
    let id = created["id"].as_i64().unwrap();
    let (s, _) = app.send(app.client.get(app.url("/api/v1/metrics?metric=nps")).bearer_auth(&secret)).await;
    assert_eq!(s, 200);
    let (s, e) = app.send(app.client.get(app.url("/api/v1/tokens")).bearer_auth(&secret)).await;
    assert_eq!((s, code(&e)), (403, "forbidden"), "an analyst cannot manage tokens");
    let (_, list) = app.get("/api/v1/tokens").await;
    let names: Vec<&str> = list["items"].as_array().unwrap().iter().filter_map(|t| t["name"].as_str()).collect();
    assert!(names.contains(&"CRM"));
    assert!(!list.to_string().contains(&secret), "secrets are never listed");
    let (s, _) = app.send(app.client.delete(app.url(&format!("/api/v1/tokens/{id}"))).bearer_auth(&app.token)).await;
    assert_eq!(s, 204);
    let (s, e) = app.send(app.client.get(app.url("/api/v1/metrics?metric=nps")).bearer_auth(&secret)).await;
    assert_eq!((s, code(&e)), (401, "unauthorized"), "a revoked token stops working at once");
    let (s, _) = app.send(app.client.delete(app.url(&format!("/api/v1/tokens/{id}"))).bearer_auth(&app.token)).await;
    assert_eq!(s, 404);
    for (body, expected) in [
        (json!({"name": "x"}), "role_or_user"),
        (json!({"name": "", "role": "admin"}), "invalid_name"),
        (json!({"name": "x", "role": "god"}), "invalid_role"),
        (json!({"name": "x", "user_email": "nobody@acme.example"}), "unknown_user"),
        (json!({"name": "x", "role": "viewer", "expires_at": "2000-01-01T00:00:00Z"}), "in_past"),
    ] {
        let (s, b) = app.post("/api/v1/tokens", body.clone()).await;
        assert_eq!((s, code(&b)), (422, expected), "{body} → {b}");
    }
    // An expiring token works until it expires.
    let soon = (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339();
    let (_, t) = app.post("/api/v1/tokens", json!({"name": "short", "role": "viewer", "expires_at": soon})).await;
    let short = t["secret"].as_str().unwrap().to_string();
    assert_eq!(app.send(app.client.get(app.url("/api/v1/surveys")).bearer_auth(&short)).await.0, 200);
    tokio::time::sleep(std::time::Duration::from_millis(2_200)).await;
    let (s, e) = app.send(app.client.get(app.url("/api/v1/surveys")).bearer_auth(&short)).await;
    assert_eq!((s, e["error"]["message"].as_str()), (401, Some("the token has expired")));
    app.stop().await;
}

#[tokio::test]
async fn audited_actions_are_in_the_log_when_the_call_returns() {
    let app = TestApp::spawn().await;
    let (s, _) = app.put("/api/v1/users/ana@acme.example", json!({"role": "manager", "region": "Norte"})).await;
    assert_eq!(s, 201);
    let (s, _) = app.put("/api/v1/customers/C-1", json!({"name": "Ana", "region": "Norte"})).await;
    assert_eq!(s, 201);
    assert_eq!(app.get("/api/v1/customers/C-1").await.0, 200);
    let (_, t) = app.post("/api/v1/tokens", json!({"name": "CRM", "role": "viewer"})).await;
    let (s, _) =
        app.send(app.client.delete(app.url(&format!("/api/v1/tokens/{}", t["id"]))).bearer_auth(&app.token)).await;
    assert_eq!(s, 204);
    let (s, log) = app.get("/api/v1/audit").await;
    assert_eq!(s, 200, "{log}");
    let actions: Vec<&str> = log["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, vec!["token.revoke", "token.create", "customer.view", "user.upsert"]);
    let view = &log["items"][2];
    assert_eq!((view["actor"].as_str(), view["target"].as_str()), (Some("token:admin"), Some("customer:C-1")));
    assert_eq!(view["ip"], "127.0.0.1");
    assert!(!log.to_string().contains(t["secret"].as_str().unwrap()), "no secret in the log");
    let (_, views) = app.get("/api/v1/audit?action=customer.view").await;
    assert_eq!(views["items"].as_array().unwrap().len(), 1);
    let (_, page) = app.get("/api/v1/audit?limit=2").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let (_, rest) = app.get(&format!("/api/v1/audit?limit=2&cursor={}", page["next_cursor"])).await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 2);
    assert!(rest["next_cursor"].is_null());
    let (s, e) = app.get("/api/v1/audit?from=yesterday").await;
    assert_eq!((s, code(&e)), (400, "invalid_date"));
    let viewer = app.token_for(Role::Viewer).await;
    let (s, _) = app.send(app.client.get(app.url("/api/v1/audit")).bearer_auth(&viewer)).await;
    assert_eq!(s, 403, "admins only");
    app.stop().await;
}

/// Generated from the route table: every authenticated route refuses a request without a
/// token, and a viewer can never write. A new route is covered the moment it is declared.
#[tokio::test]
async fn every_route_requires_a_token_and_viewers_cannot_write() {
    let app = TestApp::spawn().await;
    let viewer = app.token_for(Role::Viewer).await;
    let mut checked = 0;
    for route in escucha_server::api::routes() {
        let path = route.path.replace("{external_id}", "C-1").replace("{email}", "a@acme.example").replace("{id}", "1");
        for method in route.methods {
            let url = app.url(&path);
            let (s, b) = app.send(app.client.request(method.clone(), &url).json(&json!({}))).await;
            if route.authenticated {
                assert_eq!((s, code(&b)), (401, "unauthorized"), "{method} {path} without a token");
            } else {
                assert_eq!(s, 200, "{method} {path} is public");
            }
            if route.authenticated && *method != reqwest::Method::GET {
                let (s, b) =
                    app.send(app.client.request(method.clone(), &url).bearer_auth(&viewer).json(&json!({}))).await;
                assert_eq!((s, code(&b)), (403, "forbidden"), "{method} {path} as a viewer");
            }
            checked += 1;
        }
    }
    assert!(checked >= 20, "{checked} route × method pairs checked");
    app.stop().await;
}
