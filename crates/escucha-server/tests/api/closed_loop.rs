//! The walking skeleton end to end: survey → responses → exact metrics → a detractor opens a
//! case for the owner with their manager named, with its notification jobs queued — on both
//! backends.

use serde_json::json;

use crate::helpers::{Backend, TestApp};

async fn closed_loop_story(backend: Backend) {
    let Some(app) = TestApp::spawn_on(backend).await else { return };
    let (s, body) = app.get("/healthz").await;
    assert_eq!((s, body), (200, json!({"status": "ok"})));

    // People: a manager and the account executive who reports to them.
    let (s, _) = app
        .put("/api/v1/users/jefa@acme.example", json!({"name": "Jefa Norte", "role": "manager", "region": "Norte"}))
        .await;
    assert_eq!(s, 201);
    let (s, ae) = app
        .put(
            "/api/v1/users/ae@acme.example",
            json!({"name": "Ejecutivo", "role": "agent", "manager_email": "jefa@acme.example", "region": "Norte"}),
        )
        .await;
    assert_eq!(s, 201);
    assert_eq!(ae["manager_email"], "jefa@acme.example");

    // A customer owned by that executive; upsert again keeps fields and answers 200.
    let (s, c) = app
        .put("/api/v1/customers/C-1", json!({"name": "Ana Pérez", "email": "ana@cliente.example", "region": "Norte", "owner_email": "ae@acme.example", "attributes": {"plan": "oro"}}))
        .await;
    assert_eq!(s, 201, "{c}");
    let (s, c) = app.put("/api/v1/customers/C-1", json!({"segment": "pyme"})).await;
    assert_eq!(s, 200);
    assert_eq!(
        (c["name"].as_str(), c["segment"].as_str(), c["region"].as_str()),
        (Some("Ana Pérez"), Some("pyme"), Some("Norte"))
    );

    let survey = app.create_survey().await;
    let (s, got) = app.get(&format!("/api/v1/surveys/{survey}")).await;
    assert_eq!(s, 200);
    assert_eq!(got["questions"].as_array().unwrap().len(), 4);

    // A promoter: no case.
    let (s, r) = app
        .post(
            "/api/v1/responses",
            json!({"survey_id": survey, "customer_external_id": "C-1", "answers": {"nps": 9, "csat": 5}}),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    assert!(r["case_id"].is_null());
    // A detractor: a case for the owner, naming the manager.
    let (s, r) = app
        .post(
            "/api/v1/responses",
            json!({"survey_id": survey, "customer_external_id": "C-1", "answers": {"nps": 3, "why": "Me cobraron dos veces"}, "context": {"product": "Fibra", "channel": "web"}}),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    let case_id = r["case_id"].as_i64().expect("a detractor opens a case");
    let (s, profile) = app.get("/api/v1/customers/C-1").await;
    assert_eq!(s, 200);
    assert_eq!(profile["latest_scores"]["nps"]["value"], 3, "the detractor answer is the latest NPS");
    assert_eq!(profile["latest_scores"]["nps"]["response_id"], r["id"]);
    assert_eq!(profile["latest_scores"]["csat"]["value"], 5, "CSAT comes from the earlier response");
    assert!(profile["latest_scores"]["ces"].is_null());
    let (s, stored) = app.get(&format!("/api/v1/responses/{}", r["id"])).await;
    assert_eq!(s, 200);
    assert_eq!(stored["context"]["region"], "Norte", "region falls back to the customer's");

    let (s, cases) = app.get("/api/v1/cases").await;
    assert_eq!(s, 200);
    let items = cases["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    let case = &items[0];
    assert_eq!(case["id"], case_id);
    assert_eq!(case["customer_external_id"], "C-1");
    assert_eq!(case["owner_email"], "ae@acme.example");
    assert_eq!(case["manager_email"], "jefa@acme.example");
    assert_eq!(case["reason"], "nps_detractor");
    assert_eq!(case["priority"], "high");
    assert_eq!(case["status"], "open");
    let created = chrono::DateTime::parse_from_rfc3339(case["created_at"].as_str().unwrap()).unwrap();
    let due = chrono::DateTime::parse_from_rfc3339(case["due_at"].as_str().unwrap()).unwrap();
    assert_eq!(due - created, chrono::Duration::hours(48), "due 48 h after the case was opened");
    let (s, mine) = app.get("/api/v1/cases?owner_email=ae@acme.example&status=open").await;
    assert_eq!((s, mine["items"].as_array().unwrap().len()), (200, 1));

    // The notification jobs were queued with the case, in the same transaction.
    let jobs = app.store.list_jobs(app.org, 50).await.unwrap();
    let names: Vec<String> = jobs.iter().map(|j| j.kind.name().to_string()).collect();
    assert!(names.contains(&"notify_case_owner".to_string()), "{names:?}");
    assert!(names.contains(&"notify_case_manager".to_string()), "{names:?}");
    assert!(names.contains(&"analyze_response_text".to_string()), "{names:?}");

    // Exact metrics: NPS over {9, 3} = 100 × (1 − 1) / 2 = 0; p = d = 0.5;
    // ci95 = ± 196 × sqrt((0.5 + 0.5 − 0) / 2) = ± 196 × 0.70711 = ± 138.59 → clipped to [−100, 100].
    let (s, m) = app.get("/api/v1/metrics?metric=nps").await;
    assert_eq!(s, 200, "{m}");
    assert_eq!(m["total"]["n"], 2);
    assert_eq!(m["total"]["value"].as_f64(), Some(0.0));
    assert_eq!(m["total"]["ci95"], json!([-100.0, 100.0]));
    assert_eq!((m["total"]["promoters"].as_u64(), m["total"]["detractors"].as_u64()), (Some(1), Some(1)));

    // The case moves along: resolving needs a resolution.
    let (s, e) = app.patch(&format!("/api/v1/cases/{case_id}"), json!({"status": "resolved"})).await;
    assert_eq!((s, e["error"]["code"].as_str()), (422, Some("resolution_required")));
    let (s, c) = app
        .patch(&format!("/api/v1/cases/{case_id}"), json!({"status": "resolved", "root_cause": "Doble cargo", "resolution": "Reembolso", "note": "Llamé a la clienta"}))
        .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["status"], "resolved");
    let (_, again) = app.get(&format!("/api/v1/cases/{case_id}")).await;
    assert_eq!(again["resolution"], "Reembolso");
    assert_eq!(again["notes"][0]["text"], "Llamé a la clienta");

    // Feedback logged by staff.
    let (s, f) = app
        .post("/api/v1/feedback", json!({"text": "Llamó molesto por la factura", "source": "call", "customer_external_id": "C-1", "captured_by_email": "ae@acme.example"}))
        .await;
    assert_eq!(s, 201, "{f}");
    assert!(f["id"].as_i64().is_some());

    // Data-subject access: everything held about C-1, and the export is audited.
    let (s, export) = app.get("/api/v1/customers/C-1/export").await;
    assert_eq!(s, 200, "{export}");
    assert_eq!(export["customer"]["email"], "ana@cliente.example");
    assert_eq!(export["responses"].as_array().unwrap().len(), 2);
    assert_eq!(export["cases"][0]["resolution"], "Reembolso");
    assert_eq!(export["feedback"][0]["text"], "Llamó molesto por la factura");
    assert!(export["responses"].as_array().unwrap().iter().any(|r| r["answers"]["why"] == "Me cobraron dos veces"));
    let (_, log) = app.get("/api/v1/audit?action=customer.export").await;
    assert_eq!(log["items"][0]["target"], "customer:C-1");
    assert_eq!(log["items"][0]["detail"], json!({"responses": 2, "cases": 1, "feedback": 1}));
    assert_eq!(app.get("/api/v1/customers/nobody/export").await.0, 404);

    // Personal data is unreadable at rest: no name, e-mail or phone in plain text in the
    // database, only sealed values, while the API shows them to those allowed.
    assert_personal_data_sealed(&app, &["Ana Pérez", "ana@cliente.example"]).await;

    // Erasure: the person is gone, the scores stay and the metrics do not move.
    let c1 = app.store.customer_by_external_id(app.org, "C-1").await.unwrap().unwrap();
    let (s, _) = app.send(app.client.delete(app.url("/api/v1/customers/C-1")).bearer_auth(&app.token)).await;
    assert_eq!(s, 204);
    assert_eq!(app.get("/api/v1/customers/C-1").await.0, 404);
    let erased = app.store.customer(app.org, c1.id).await.unwrap().unwrap();
    assert_eq!((erased.name, erased.email, erased.phone), (None, None, None));
    assert!(erased.erased_at.is_some());
    assert_eq!(erased.external_id.as_str(), format!("erased-{}", c1.id));
    let left = app.store.responses_of_customer(app.org, c1.id, 10).await.unwrap();
    assert_eq!(left.len(), 2);
    for r in &left {
        assert!(r.verbatim.is_none());
        assert!(!serde_json::to_string(&r.answers).unwrap().contains("dos veces"));
    }
    assert_eq!(left.iter().filter_map(|r| r.scores.nps).collect::<Vec<_>>().len(), 2, "scores kept");
    let fb = app.store.feedback_of_customer(app.org, c1.id, 10).await.unwrap();
    assert_eq!(fb[0].text, escucha_store::ERASED_TEXT);
    assert!(app.store.cases_of_customer(app.org, c1.id, 10).await.unwrap()[0].notes.is_empty());
    let (_, m) = app.get("/api/v1/metrics?metric=nps").await;
    assert_eq!(m["total"]["n"], 2);
    let (_, log) = app.get("/api/v1/audit?action=customer.erase").await;
    assert_eq!(log["items"][0]["target"], format!("customer_id:{}", c1.id));
    app.stop().await;
}

#[tokio::test]
async fn closed_loop_on_sqlite() {
    closed_loop_story(Backend::Sqlite).await;
}

#[tokio::test]
async fn closed_loop_on_postgres() {
    closed_loop_story(Backend::Postgres).await;
}

async fn idempotency_story(backend: Backend) {
    let Some(app) = TestApp::spawn_on(backend).await else { return };
    let survey = app.create_survey().await;
    let body = json!({"survey_id": survey, "answers": {"nps": 10}});
    let send = |key: &'static str, body: serde_json::Value| {
        app.send(
            app.client
                .post(app.url("/api/v1/responses"))
                .bearer_auth(&app.token)
                .header("Idempotency-Key", key)
                .json(&body),
        )
    };
    let (s1, r1) = send("k-1", body.clone()).await;
    let (s2, r2) = send("k-1", body.clone()).await;
    assert_eq!((s1, s2), (201, 201));
    assert_eq!(r1["id"], r2["id"], "a replay returns the first result");
    let (s3, e) = send("k-1", json!({"survey_id": survey, "answers": {"nps": 0}})).await;
    assert_eq!((s3, e["error"]["code"].as_str()), (422, Some("idempotency_key_reused")));
    let (s4, r4) = send("k-2", body).await;
    assert_eq!(s4, 201);
    assert_ne!(r4["id"], r1["id"]);
    let (_, m) = app.get("/api/v1/metrics?metric=nps").await;
    assert_eq!(m["total"]["n"], 2, "the replay was not counted twice");
    // Concurrent requests with one key: exactly one response is stored.
    let key_body = json!({"survey_id": survey, "answers": {"nps": 5}});
    let (a, b) = tokio::join!(send("k-race", key_body.clone()), send("k-race", key_body.clone()));
    assert_eq!((a.0, b.0), (201, 201), "{a:?} {b:?}");
    assert_eq!(a.1["id"], b.1["id"]);
    assert_eq!(app.store.count_responses(app.org).await.unwrap(), 3);
    app.stop().await;
}

#[tokio::test]
async fn idempotency_on_sqlite() {
    idempotency_story(Backend::Sqlite).await;
}

#[tokio::test]
async fn idempotency_on_postgres() {
    idempotency_story(Backend::Postgres).await;
}

async fn assert_personal_data_sealed(app: &TestApp, secrets: &[&str]) {
    let (url, dir) = app.db();
    if url.starts_with("sqlite:") {
        // Every file of the database (main file, WAL, shared memory), byte for byte.
        let mut checked = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("escucha.db")) {
                let bytes = std::fs::read(&path).unwrap();
                for s in secrets {
                    assert!(
                        !bytes.windows(s.len()).any(|w| w == s.as_bytes()),
                        "{s} is readable in {}",
                        path.display()
                    );
                }
                checked += 1;
            }
        }
        assert!(checked >= 1);
        let key = dir.join("secret.key");
        assert!(key.exists(), "the key was generated into the data folder");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
    } else {
        let pool = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(url).await.unwrap();
        let rows: Vec<(Option<String>, Option<String>)> =
            sqlx::query_as("SELECT name, email FROM customers").fetch_all(&pool).await.unwrap();
        let dump: Vec<(Option<String>, Option<String>)> =
            sqlx::query_as("SELECT name, email::text FROM customers WHERE name IS NOT NULL")
                .fetch_all(&pool)
                .await
                .unwrap();
        assert!(!rows.is_empty() && !dump.is_empty());
        for (name, email) in rows {
            for v in [name, email].into_iter().flatten() {
                assert!(v.starts_with("v1:"), "stored sealed: {v}");
                assert!(secrets.iter().all(|s| !v.contains(s)));
            }
        }
        pool.close().await;
    }
}
