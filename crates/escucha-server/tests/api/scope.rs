//! Data scopes through the API: a regional manager's token sees their region only, in metrics,
//! case lists and single records; an agent without a region sees their own accounts.

use escucha_core::values::Email;
use escucha_store::NewToken;
use serde_json::json;

use crate::helpers::{Backend, TestApp};

async fn token_as(app: &TestApp, email: &str) -> String {
    let user = app.store.user_by_email(app.org, &Email::parse(email).unwrap()).await.unwrap().expect("user");
    let secret = escucha_server::auth::new_secret(escucha_server::auth::TOKEN_PREFIX);
    app.store
        .create_token(
            app.org,
            NewToken {
                name: email.into(),
                role: user.role,
                user_id: Some(user.id),
                hash: escucha_server::auth::hash_secret(&secret),
                expires_at: None,
                scopes: vec![escucha_core::access::TokenScope::Admin],
            },
        )
        .await
        .unwrap();
    secret
}

async fn regional_scope_story(backend: Backend) {
    let Some(app) = TestApp::spawn_on(backend).await else { return };
    for (email, body) in [
        ("jefe.norte@acme.example", json!({"role": "manager", "region": "Norte"})),
        (
            "ae.norte@acme.example",
            json!({"role": "agent", "region": "Norte", "manager_email": "jefe.norte@acme.example"}),
        ),
        ("ae.sur@acme.example", json!({"role": "agent", "region": "Sur"})),
        ("ae.libre@acme.example", json!({"role": "agent"})),
    ] {
        let (s, _) = app.put(&format!("/api/v1/users/{email}"), body).await;
        assert_eq!(s, 201);
    }
    for (id, region, owner) in [
        ("C-N", "Norte", "ae.norte@acme.example"),
        ("C-S", "Sur", "ae.sur@acme.example"),
        ("C-L", "Sur", "ae.libre@acme.example"),
    ] {
        let (s, _) = app.put(&format!("/api/v1/customers/{id}"), json!({"region": region, "owner_email": owner})).await;
        assert_eq!(s, 201);
    }
    let survey = app.create_survey().await;
    let mut ids = std::collections::HashMap::new();
    for (customer, nps) in [("C-N", 10), ("C-N", 2), ("C-S", 0), ("C-S", 1), ("C-L", 3)] {
        let (s, r) = app
            .post(
                "/api/v1/responses",
                json!({"survey_id": survey, "customer_external_id": customer, "answers": {"nps": nps}}),
            )
            .await;
        assert_eq!(s, 201);
        ids.insert((customer, nps), (r["id"].as_i64().unwrap(), r["case_id"].as_i64()));
    }
    let manager = token_as(&app, "jefe.norte@acme.example").await;
    let get = |token: &str, path: &str| {
        let req = app.client.get(app.url(path)).bearer_auth(token.to_string());
        app.send(req)
    };

    // Metrics: only Norte's two answers (10 and 2 → NPS 0), in the total and by region.
    let (s, m) = get(&manager, "/api/v1/metrics?metric=nps&by=region").await;
    assert_eq!(s, 200, "{m}");
    assert_eq!(m["total"]["n"], 2);
    assert_eq!(m["groups"].as_array().unwrap().len(), 1);
    assert_eq!(m["groups"][0]["key"]["region"], "Norte");
    let (_, series) = get(&manager, "/api/v1/metrics/series?metric=nps&interval=month").await;
    assert_eq!(series["points"].as_array().unwrap().iter().map(|p| p["n"].as_u64().unwrap()).sum::<u64>(), 2);
    // The CSV export holds Norte's two responses only, and is audited with the scope.
    let csv = app
        .client
        .get(app.url("/api/v1/responses/export"))
        .bearer_auth(&manager)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{csv}");
    assert!(rows.iter().all(|r| r.contains(",C-N,Norte,")), "{csv}");
    let (_, audit) = app.get("/api/v1/audit?action=responses.export").await;
    assert_eq!(audit["items"][0]["detail"]["rows"], 2);
    assert_eq!(audit["items"][0]["detail"]["scope"], json!({"kind": "regions", "values": ["Norte"]}));
    // The admin token sees everything.
    let (_, all) = app.get("/api/v1/metrics?metric=nps").await;
    assert_eq!(all["total"]["n"], 5);

    // Cases: only the Norte detractor's.
    let (_, cases) = get(&manager, "/api/v1/cases").await;
    let items = cases["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{cases}");
    assert_eq!(items[0]["customer_external_id"], "C-N");
    let sur_case = ids[&("C-S", 0)].1.unwrap();
    let (s, _) = get(&manager, &format!("/api/v1/cases/{sur_case}")).await;
    assert_eq!(s, 404);
    let (s, _) = app
        .send(
            app.client
                .patch(app.url(&format!("/api/v1/cases/{sur_case}")))
                .bearer_auth(&manager)
                .json(&json!({"note": "x"})),
        )
        .await;
    assert_eq!(s, 404, "out-of-scope cases cannot be changed either");

    // Single records.
    assert_eq!(get(&manager, "/api/v1/customers/C-N").await.0, 200);
    assert_eq!(get(&manager, "/api/v1/customers/C-S").await.0, 404);
    assert_eq!(get(&manager, &format!("/api/v1/responses/{}", ids[&("C-N", 10)].0)).await.0, 200);
    assert_eq!(get(&manager, &format!("/api/v1/responses/{}", ids[&("C-S", 1)].0)).await.0, 404);

    // An agent without region or team sees their own accounts: their case, nobody else's, and
    // only their customers' answers in the metrics (C-L's single 3: one detractor, NPS −100).
    let free = token_as(&app, "ae.libre@acme.example").await;
    let (_, cases) = get(&free, "/api/v1/cases").await;
    let items = cases["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["customer_external_id"], "C-L");
    let (_, none) = get(&free, "/api/v1/cases?owner_email=ae.sur@acme.example").await;
    assert_eq!(none["items"].as_array().unwrap().len(), 0);
    let (_, m) = get(&free, "/api/v1/metrics?metric=nps").await;
    assert_eq!((m["total"]["n"].as_u64(), m["total"]["detractors"].as_u64()), (Some(1), Some(1)), "{m}");
    assert_eq!(m["total"]["value"].as_f64(), Some(-100.0));
    assert_eq!(get(&free, "/api/v1/customers/C-L").await.0, 200);
    assert_eq!(get(&free, "/api/v1/customers/C-S").await.0, 404);
    app.stop().await;
}

#[tokio::test]
async fn a_regional_manager_sees_their_region_only_on_sqlite() {
    regional_scope_story(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_regional_manager_sees_their_region_only_on_postgres() {
    regional_scope_story(Backend::Postgres).await;
}
