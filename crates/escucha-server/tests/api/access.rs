//! The authorisation matrix, generated from the route table: every authenticated route × method
//! × caller (the five built-in roles, a custom role and a narrowly scoped token, all restricted
//! to the Norte region) × target (a record in scope, one out of scope, one of another
//! organisation). The expected answer comes from the permissions the route declares and the
//! caller's permission set as escucha-core computes it: 403 without them; with them, success in
//! scope and 404 out of scope or in another organisation. A route or method without a sample
//! request here fails the test, so no route ships without its rule being exercised.

use std::sync::atomic::{AtomicU32, Ordering};

use escucha_core::access::{
    CustomRole, DataScope, Permission, PermissionSet, TokenScope, role_permissions, token_permissions,
};
use escucha_core::org::{Role, UserFields};
use escucha_core::values::{Email, Label, Slug};
use escucha_store::NewToken;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, create_token, standard_survey};

/// Which record a request aims at.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Target {
    InScope,
    OutOfScope,
    OtherOrg,
}

/// What an allowed caller gets.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// This status.
    Status(u16),
    /// 200 with this many `items`.
    Items(usize),
}

/// One caller of the matrix: a token and the permissions it should have.
struct MatrixCaller {
    name: String,
    token: String,
    permissions: PermissionSet,
}

/// Records of both organisations the samples point at.
struct Fixture {
    survey: i64,
    other_survey: i64,
    response_in: i64,
    response_out: i64,
    response_other: i64,
    case_in: i64,
    case_out: i64,
    case_other: i64,
    other_token_id: i64,
    other_user: &'static str,
    other_role: &'static str,
    other_admin: String,
    policy_in: i64,
    policy_other: i64,
    incident_in: i64,
    incident_other: i64,
}

fn policy_body() -> Value {
    json!({
        "kind": "principle", "title": "Mínimo privilegio", "objective": "Solo quien lo necesita ve datos personales",
        "scope": "Todo el personal", "owner_email": "jefe@acme.example", "review_date": "2199-01-01", "status": "active"
    })
}

fn incident_body() -> Value {
    let detected = chrono::Utc::now() - chrono::Duration::hours(3);
    json!({
        "title": "Portátil perdido", "occurred_at": (detected - chrono::Duration::hours(2)).to_rfc3339(),
        "detected_at": detected.to_rfc3339(), "data_affected": "Nombres", "customers_affected": 3,
        "severity": "low", "notified_to": ["DPO"]
    })
}

static FRESH: AtomicU32 = AtomicU32::new(0);

fn fresh(prefix: &str) -> String {
    format!("{prefix}-{}", FRESH.fetch_add(1, Ordering::SeqCst))
}

async fn respond(app: &TestApp, token: &str, survey: i64, customer: &str, nps: u8) -> (i64, Option<i64>) {
    let body = json!({"survey_id": survey, "customer_external_id": customer, "answers": {"nps": nps}});
    let (s, r) = app.send(app.client.post(app.url("/api/v1/responses")).bearer_auth(token).json(&body)).await;
    assert_eq!(s, 201, "{r}");
    (r["id"].as_i64().unwrap(), r["case_id"].as_i64())
}

async fn put_as(app: &TestApp, token: &str, path: &str, body: Value) -> (u16, Value) {
    app.send(app.client.put(app.url(path)).bearer_auth(token).json(&body)).await
}

async fn fixture(app: &TestApp) -> Fixture {
    for (id, region, owner, email) in [
        ("C-IN", "Norte", "agent@acme.example", "in.cliente@example.com"),
        ("C-OUT", "Sur", "otro@acme.example", "out.cliente@example.com"),
    ] {
        let body = json!({"region": region, "owner_email": owner, "email": email, "name": "Cliente"});
        assert_eq!(app.put(&format!("/api/v1/customers/{id}"), body).await.0, 201);
    }
    let survey = app.create_survey().await;
    let (response_in, case_in) = respond(app, &app.token, survey, "C-IN", 2).await;
    let (response_out, case_out) = respond(app, &app.token, survey, "C-OUT", 1).await;

    // Another organisation with the same kinds of records.
    let store = app.store.as_ref();
    let other = store.create_org(&Slug::parse("otra").unwrap(), &Label::parse("Otra").unwrap()).await.unwrap();
    let other_admin = create_token(store, other.id, Role::Admin, "admin-b").await;
    let body = json!({"region": "Norte", "owner_email": "ae@otra.example", "email": "in.cliente@example.com"});
    assert_eq!(put_as(app, &other_admin, "/api/v1/customers/C-B", body).await.0, 201);
    let (s, b) =
        app.send(app.client.post(app.url("/api/v1/surveys")).bearer_auth(&other_admin).json(&standard_survey())).await;
    assert_eq!(s, 201, "{b}");
    let other_survey = b["id"].as_i64().unwrap();
    let (response_other, case_other) = respond(app, &other_admin, other_survey, "C-B", 0).await;
    assert_eq!(put_as(app, &other_admin, "/api/v1/users/jefa@otra.example", json!({"role": "viewer"})).await.0, 201);
    let role = json!({"permissions": ["read_metrics"]});
    assert_eq!(put_as(app, &other_admin, "/api/v1/roles/solo-b", role).await.0, 201);
    let other_token_id = store.list_tokens(other.id).await.unwrap()[0].id.0;
    let post_as = |token: &str, path: &str, body: Value| {
        app.send(app.client.post(app.url(path)).bearer_auth(token.to_string()).json(&body))
    };
    let (s, p) = post_as(&app.token, "/api/v1/security/policy", policy_body()).await;
    assert_eq!(s, 201, "{p}");
    let policy_in = p["id"].as_i64().unwrap();
    assert_eq!(put_as(app, &other_admin, "/api/v1/users/jefe@acme.example", json!({"role": "admin"})).await.0, 201);
    let (s, p) = post_as(&other_admin, "/api/v1/security/policy", policy_body()).await;
    assert_eq!(s, 201, "{p}");
    let policy_other = p["id"].as_i64().unwrap();
    let (s, i) = post_as(&app.token, "/api/v1/security/incidents", incident_body()).await;
    assert_eq!(s, 201, "{i}");
    let incident_in = i["id"].as_i64().unwrap();
    let (s, i) = post_as(&other_admin, "/api/v1/security/incidents", incident_body()).await;
    assert_eq!(s, 201, "{i}");
    let incident_other = i["id"].as_i64().unwrap();
    Fixture {
        survey,
        other_survey,
        response_in,
        response_out,
        response_other,
        case_in: case_in.expect("a detractor with an owner opens a case"),
        case_out: case_out.expect("case"),
        case_other: case_other.expect("case"),
        other_token_id,
        other_user: "jefa@otra.example",
        other_role: "solo-b",
        other_admin,
        policy_in,
        policy_other,
        incident_in,
        incident_other,
    }
}

/// A token acting as a new user restricted to Norte, with this role (or custom role) and
/// token scopes.
async fn norte_caller(app: &TestApp, role: Role, custom: Option<&CustomRole>, scopes: &[TokenScope]) -> MatrixCaller {
    let name = match (custom, scopes) {
        (Some(c), _) => c.name().to_string(),
        (None, [TokenScope::Admin]) => role.as_str().to_string(),
        (None, _) => format!("{}+{}", role.as_str(), scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",")),
    };
    let email = Email::parse(&format!("{}@acme.example", fresh("staff"))).unwrap();
    let fields = UserFields {
        role: Some(role),
        region: Some(Label::parse("Norte").unwrap()),
        custom_role: custom.map(|c| Some(c.name().to_string())),
        scope: Some(Some(DataScope::Regions(vec!["Norte".into()]))),
        ..Default::default()
    };
    let (user, _) = app.store.upsert_user(app.org, &email, fields).await.unwrap();
    let secret = escucha_server::auth::new_secret(escucha_server::auth::TOKEN_PREFIX);
    app.store
        .create_token(
            app.org,
            NewToken {
                name: name.clone(),
                role,
                user_id: Some(user.id),
                hash: escucha_server::auth::hash_secret(&secret),
                expires_at: None,
                scopes: scopes.to_vec(),
            },
        )
        .await
        .unwrap();
    let base = custom.map_or(role_permissions(role), |c| c.permissions);
    MatrixCaller { name, token: secret, permissions: token_permissions(base, scopes) }
}

/// The request a route × method × target is checked with, and what an allowed caller gets;
/// `None` when the target does not apply (lists and creations have no out-of-scope record).
/// Destructive samples make their own fresh record first.
async fn sample(app: &TestApp, fx: &Fixture, path: &str, method: &Method, target: Target) -> Option<Sample> {
    use Target::*;
    let m = method.clone();
    let s = |path: String, body: Option<Value>, expect: Expect| Some(Sample { method: m.clone(), path, body, expect });
    let only_in = target == InScope;
    match (path, method.as_str()) {
        ("/api/v1/customers", "GET") => match target {
            InScope => s("/api/v1/customers?email=in.cliente@example.com".into(), None, Expect::Items(1)),
            OutOfScope => s("/api/v1/customers?email=out.cliente@example.com".into(), None, Expect::Items(0)),
            // The other organisation's customer has this e-mail too, and stays invisible.
            OtherOrg => s("/api/v1/customers?email=IN.cliente@example.com".into(), None, Expect::Items(1)),
        },
        ("/api/v1/customers/{external_id}", "PUT") => match target {
            InScope => s("/api/v1/customers/C-IN".into(), Some(json!({"segment": "pyme"})), Expect::Status(200)),
            OutOfScope => s("/api/v1/customers/C-OUT".into(), Some(json!({"segment": "pyme"})), Expect::Status(404)),
            // The other organisation's C-B is not there: a PUT would create one here.
            OtherOrg => None,
        },
        ("/api/v1/customers/{external_id}", "GET") | ("/api/v1/customers/{external_id}/export", "GET") => {
            let id = match target {
                InScope => "C-IN",
                OutOfScope => "C-OUT",
                OtherOrg => "C-B",
            };
            let expect = if target == InScope { Expect::Status(200) } else { Expect::Status(404) };
            s(path.replace("{external_id}", id), None, expect)
        }
        ("/api/v1/customers/{external_id}", "DELETE") => {
            let (id, expect) = match target {
                OtherOrg => ("C-B".to_string(), 404),
                _ => {
                    let id = fresh("DEL");
                    let region = if target == InScope { "Norte" } else { "Sur" };
                    assert_eq!(app.put(&format!("/api/v1/customers/{id}"), json!({"region": region})).await.0, 201);
                    (id, if target == InScope { 204 } else { 404 })
                }
            };
            s(format!("/api/v1/customers/{id}"), None, Expect::Status(expect))
        }
        ("/api/v1/users/{email}", "PUT") if only_in => s(
            format!("/api/v1/users/{}@acme.example", fresh("new")),
            Some(json!({"role": "viewer"})),
            Expect::Status(201),
        ),
        ("/api/v1/users/{email}", "GET") => match target {
            // Staff records are not region-scoped.
            InScope => s("/api/v1/users/jefe@acme.example".into(), None, Expect::Status(200)),
            OutOfScope => None,
            OtherOrg => s(format!("/api/v1/users/{}", fx.other_user), None, Expect::Status(404)),
        },
        ("/api/v1/users", "GET")
        | ("/api/v1/roles", "GET")
        | ("/api/v1/teams", "GET")
        | ("/api/v1/audit", "GET")
        | ("/api/v1/tokens", "GET")
        | ("/api/v1/surveys", "GET")
        | ("/api/v1/cases", "GET")
            if only_in =>
        {
            s(path.into(), None, Expect::Status(200))
        }
        ("/api/v1/metrics", "GET") if only_in => s("/api/v1/metrics?metric=nps".into(), None, Expect::Status(200)),
        ("/api/v1/metrics/series", "GET") if only_in => {
            s("/api/v1/metrics/series?metric=nps&interval=month".into(), None, Expect::Status(200))
        }
        ("/api/v1/roles/{name}", "PUT") if only_in => s(
            format!("/api/v1/roles/{}", fresh("r")),
            Some(json!({"permissions": ["read_metrics"]})),
            Expect::Status(201),
        ),
        ("/api/v1/roles/{name}", "DELETE") => match target {
            InScope => {
                let name = fresh("gone");
                let body = json!({"permissions": ["read_metrics"]});
                assert_eq!(app.put(&format!("/api/v1/roles/{name}"), body).await.0, 201);
                s(format!("/api/v1/roles/{name}"), None, Expect::Status(204))
            }
            OutOfScope => None,
            OtherOrg => s(format!("/api/v1/roles/{}", fx.other_role), None, Expect::Status(404)),
        },
        ("/api/v1/teams/{name}", "PUT") if only_in => {
            s("/api/v1/teams/Ventas Norte".into(), Some(json!({"parent": "Ventas"})), Expect::Status(200))
        }
        ("/api/v1/tokens", "POST") if only_in => s(
            path.into(),
            Some(json!({"name": "bi", "role": "viewer", "scopes": ["read_metrics"]})),
            Expect::Status(201),
        ),
        ("/api/v1/tokens/{id}", "DELETE") => match target {
            InScope => {
                let (st, b) = app.post("/api/v1/tokens", json!({"name": "to-revoke", "role": "viewer"})).await;
                assert_eq!(st, 201, "{b}");
                s(format!("/api/v1/tokens/{}", b["id"]), None, Expect::Status(204))
            }
            OutOfScope => None,
            OtherOrg => s(format!("/api/v1/tokens/{}", fx.other_token_id), None, Expect::Status(404)),
        },
        ("/api/v1/surveys", "POST") if only_in => s(path.into(), Some(standard_survey()), Expect::Status(201)),
        ("/api/v1/surveys/{id}", "GET") => match target {
            InScope => s(format!("/api/v1/surveys/{}", fx.survey), None, Expect::Status(200)),
            OutOfScope => None,
            OtherOrg => s(format!("/api/v1/surveys/{}", fx.other_survey), None, Expect::Status(404)),
        },
        ("/api/v1/responses", "POST") if only_in => s(
            path.into(),
            Some(json!({"survey_id": fx.survey, "customer_external_id": "C-IN", "answers": {"nps": 9}})),
            Expect::Status(201),
        ),
        ("/api/v1/responses/{id}", "GET") => {
            let (id, expect) = match target {
                InScope => (fx.response_in, 200),
                OutOfScope => (fx.response_out, 404),
                OtherOrg => (fx.response_other, 404),
            };
            s(format!("/api/v1/responses/{id}"), None, Expect::Status(expect))
        }
        ("/api/v1/feedback", "POST") if only_in => s(
            path.into(),
            Some(json!({"text": "Llamó por el cobro", "source": "call", "customer_external_id": "C-IN"})),
            Expect::Status(201),
        ),
        ("/api/v1/cases/{id}", "GET") | ("/api/v1/cases/{id}", "PATCH") => {
            let (id, expect) = match target {
                InScope => (fx.case_in, 200),
                OutOfScope => (fx.case_out, 404),
                OtherOrg => (fx.case_other, 404),
            };
            let body = (method == Method::PATCH).then(|| json!({"note": "Llamado / called"}));
            s(format!("/api/v1/cases/{id}"), body, Expect::Status(expect))
        }
        ("/api/v1/security/policy", "GET")
        | ("/api/v1/security/incidents", "GET")
        | ("/api/v1/retention", "GET")
        | ("/api/v1/audit/export", "GET")
        | ("/api/v1/responses/export", "GET")
            if only_in =>
        {
            s(path.into(), None, Expect::Status(200))
        }
        ("/api/v1/security/policy", "POST") if only_in => s(path.into(), Some(policy_body()), Expect::Status(201)),
        ("/api/v1/security/incidents", "POST") if only_in => s(path.into(), Some(incident_body()), Expect::Status(201)),
        ("/api/v1/retention", "PUT") if only_in => {
            s(path.into(), Some(json!({"rules": [{"kind": "free_text", "months": 1200}]})), Expect::Status(200))
        }
        ("/api/v1/retention/run", "POST") if only_in => {
            s("/api/v1/retention/run?dry_run=true".into(), None, Expect::Status(200))
        }
        ("/api/v1/security/policy/{id}", "GET") | ("/api/v1/security/policy/{id}", "PATCH") => {
            let body = (method == Method::PATCH).then(|| json!({"title": "Mínimo privilegio (rev.)"}));
            match target {
                InScope => s(format!("/api/v1/security/policy/{}", fx.policy_in), body, Expect::Status(200)),
                OutOfScope => None,
                OtherOrg => s(format!("/api/v1/security/policy/{}", fx.policy_other), body, Expect::Status(404)),
            }
        }
        ("/api/v1/security/policy/{id}", "DELETE") => match target {
            InScope => {
                let (st, p) = app.post("/api/v1/security/policy", policy_body()).await;
                assert_eq!(st, 201, "{p}");
                s(format!("/api/v1/security/policy/{}", p["id"]), None, Expect::Status(204))
            }
            OutOfScope => None,
            OtherOrg => s(format!("/api/v1/security/policy/{}", fx.policy_other), None, Expect::Status(404)),
        },
        ("/api/v1/security/incidents/{id}", "GET") | ("/api/v1/security/incidents/{id}", "PATCH") => {
            let body = (method == Method::PATCH).then(|| json!({"severity": "medium"}));
            match target {
                InScope => s(format!("/api/v1/security/incidents/{}", fx.incident_in), body, Expect::Status(200)),
                OutOfScope => None,
                OtherOrg => s(format!("/api/v1/security/incidents/{}", fx.incident_other), body, Expect::Status(404)),
            }
        }
        _ if only_in => panic!("no authorisation-matrix sample for {method} {path}: add one to tests/api/access.rs"),
        _ => None,
    }
}

struct Sample {
    method: Method,
    path: String,
    body: Option<Value>,
    expect: Expect,
}

#[tokio::test]
async fn authorisation_matrix_covers_every_route() {
    let app = TestApp::spawn().await;
    assert_eq!(app.put("/api/v1/users/jefe@acme.example", json!({"role": "manager"})).await.0, 201);
    let fx = fixture(&app).await;
    let auditor = CustomRole::new(
        "auditor",
        PermissionSet::of(&[Permission::ReadAudit, Permission::ReadMetrics, Permission::ReadCustomers]),
    )
    .unwrap();
    app.store.upsert_role(app.org, &auditor).await.unwrap();
    let mut callers = Vec::new();
    for role in Role::ALL {
        callers.push(norte_caller(&app, role, None, &[TokenScope::Admin]).await);
    }
    callers.push(norte_caller(&app, Role::Manager, Some(&auditor), &[TokenScope::Admin]).await);
    callers.push(norte_caller(&app, Role::Admin, None, &[TokenScope::ReadMetrics]).await);
    callers.push(norte_caller(&app, Role::Analyst, None, &[TokenScope::WriteResponses]).await);

    let mut checked = 0;
    let mut covered = 0;
    for route in escucha_server::api::routes().into_iter().filter(|r| r.authenticated) {
        for method in route.methods {
            let declared = route
                .permissions
                .iter()
                .find(|(m, _)| m == method)
                .map(|(_, p)| PermissionSet::of(p))
                .unwrap_or_else(|| panic!("{method} {} declares no permissions", route.path));
            assert!(!declared.is_empty(), "{method} {} needs at least one permission", route.path);
            covered += 1;
            for caller in &callers {
                for target in [Target::InScope, Target::OutOfScope, Target::OtherOrg] {
                    let Some(sample) = sample(&app, &fx, route.path, method, target).await else { continue };
                    let mut req =
                        app.client.request(sample.method.clone(), app.url(&sample.path)).bearer_auth(&caller.token);
                    if let Some(body) = &sample.body {
                        req = req.json(body);
                    }
                    // Not every answer is JSON (the audit export is CSV).
                    let resp = req.send().await.expect("request sent");
                    let status = resp.status().as_u16();
                    let text = resp.text().await.expect("body read");
                    let body: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
                    let what = format!("{} {} as {} ({target:?})", sample.method, sample.path, caller.name);
                    if !caller.permissions.contains_all(declared) {
                        assert_eq!(
                            (status, body["error"]["code"].as_str()),
                            (403, Some("forbidden")),
                            "{what}: {body}"
                        );
                    } else {
                        match sample.expect {
                            Expect::Status(expected) => assert_eq!(status, expected, "{what}: {body}"),
                            Expect::Items(n) => {
                                assert_eq!(status, 200, "{what}: {body}");
                                assert_eq!(body["items"].as_array().map(Vec::len), Some(n), "{what}: {body}");
                            }
                        }
                    }
                    checked += 1;
                }
            }
        }
    }
    assert!(covered >= 40, "{covered} route × method pairs");
    assert!(checked >= covered * callers.len(), "{checked} requests");
    // Nothing of the other organisation moved.
    let (s, b) = app.send(app.client.get(app.url("/api/v1/customers/C-B")).bearer_auth(&fx.other_admin)).await;
    assert_eq!((s, b["segment"].clone()), (200, Value::Null), "{b}");
    app.stop().await;
}

/// A token never holds more than its scopes allow, and nobody mints a token, a role or a user
/// with permissions they lack.
#[tokio::test]
async fn token_scopes_and_no_privilege_escalation() {
    let app = TestApp::spawn().await;
    // A metrics-only token of an admin: metrics yes, surveys read yes, customers no.
    let (s, t) = app.post("/api/v1/tokens", json!({"name": "bi", "role": "admin", "scopes": ["read_metrics"]})).await;
    assert_eq!(s, 201, "{t}");
    assert_eq!(t["scopes"], json!(["read_metrics"]));
    let bi = t["secret"].as_str().unwrap().to_string();
    let get = |token: &str, path: &str| app.send(app.client.get(app.url(path)).bearer_auth(token.to_string()));
    assert_eq!(get(&bi, "/api/v1/metrics?metric=nps").await.0, 200);
    assert_eq!(get(&bi, "/api/v1/surveys").await.0, 200);
    let (s, b) = get(&bi, "/api/v1/cases").await;
    assert_eq!((s, b["error"]["message"].as_str()), (403, Some("this needs the 'read_cases' permission")));
    // Unknown and empty scopes are refused with the field named.
    let (s, b) = app.post("/api/v1/tokens", json!({"name": "x", "role": "viewer", "scopes": ["everything"]})).await;
    assert_eq!((s, b["error"]["code"].as_str()), (422, Some("unknown_scope")), "{b}");
    let (s, _) = app.post("/api/v1/tokens", json!({"name": "x", "role": "viewer", "scopes": []})).await;
    assert_eq!(s, 422);

    // A custom role that may manage tokens and users but read nothing else.
    let body = json!({"permissions": ["manage_tokens", "manage_users", "read_metrics", "read_surveys"]});
    assert_eq!(app.put("/api/v1/roles/porteria", body).await.0, 201);
    let (s, u) =
        app.put("/api/v1/users/porteria@acme.example", json!({"role": "viewer", "custom_role": "porteria"})).await;
    assert_eq!((s, u["custom_role"].as_str()), (201, Some("porteria")), "{u}");
    let (s, t) = app.post("/api/v1/tokens", json!({"name": "p", "user_email": "porteria@acme.example"})).await;
    assert_eq!(s, 201, "{t}");
    let porter = t["secret"].as_str().unwrap().to_string();
    let post = |token: &str, path: &str, body: Value| {
        app.send(app.client.post(app.url(path)).bearer_auth(token.to_string()).json(&body))
    };
    let put = |token: &str, path: &str, body: Value| {
        app.send(app.client.put(app.url(path)).bearer_auth(token.to_string()).json(&body))
    };
    // It may mint what it holds…
    let (s, b) =
        post(&porter, "/api/v1/tokens", json!({"name": "m", "role": "viewer", "scopes": ["read_metrics"]})).await;
    assert_eq!(s, 201, "{b}");
    // …but not an admin token, an admin user or a wider role.
    let (s, b) = post(&porter, "/api/v1/tokens", json!({"name": "x", "role": "admin"})).await;
    assert_eq!(s, 403, "{b}");
    let (s, b) = put(&porter, "/api/v1/users/evil@acme.example", json!({"role": "admin"})).await;
    assert_eq!(s, 403, "{b}");
    let (s, b) = put(&porter, "/api/v1/roles/wider", json!({"permissions": ["erase_data"]})).await;
    assert_eq!(s, 403, "{b}");
    let (s, b) = get(&porter, "/api/v1/customers/C-1").await;
    assert_eq!(s, 403, "{b}");
    // A role in use cannot be deleted; unknown permissions and names are refused.
    let (s, b) = app.send(app.client.delete(app.url("/api/v1/roles/porteria")).bearer_auth(&app.token)).await;
    assert_eq!((s, b["error"]["code"].as_str()), (409, Some("role_in_use")));
    let (s, b) = app.put("/api/v1/roles/x", json!({"permissions": ["fly"]})).await;
    assert_eq!((s, b["error"]["code"].as_str()), (422, Some("unknown_permission")));
    let (s, b) = app.put("/api/v1/roles/admin", json!({"permissions": []})).await;
    assert_eq!((s, b["error"]["code"].as_str()), (422, Some("invalid_role_name")));
    let (s, b) = app.put("/api/v1/users/z@acme.example", json!({"custom_role": "nadie"})).await;
    assert_eq!((s, b["error"]["code"].as_str()), (422, Some("unknown_role")), "{b}");
    // Changing a user's custom role is audited with what was granted.
    let (_, audit) = app.get("/api/v1/audit?action=user.upsert").await;
    assert!(audit["items"].as_array().unwrap().iter().any(|e| e["detail"]["custom_role"] == "porteria"), "{audit}");
    app.stop().await;
}

/// Team scopes reach sub-teams through the team tree, on cases, records and metrics; an analyst
/// without the personal-data permission gets customers and verbatims without personal data.
#[tokio::test]
async fn team_scopes_and_personal_data_permission() {
    let app = TestApp::spawn().await;
    for (team, parent) in [("Ventas", Value::Null), ("Ventas Norte", json!("Ventas")), ("Soporte", Value::Null)] {
        assert_eq!(app.put(&format!("/api/v1/teams/{team}"), json!({"parent": parent})).await.0, 200);
    }
    let (s, b) = app.put("/api/v1/teams/Ventas", json!({"parent": "Ventas Norte"})).await;
    assert_eq!((s, b["error"]["code"].as_str()), (409, Some("team_cycle")));
    for (email, body) in [
        ("jefa.ventas@acme.example", json!({"role": "manager", "team": "Ventas"})),
        ("ae.norte@acme.example", json!({"role": "agent", "team": "Ventas Norte"})),
        ("ae.soporte@acme.example", json!({"role": "agent", "team": "Soporte"})),
        ("analista@acme.example", json!({"role": "analyst"})),
    ] {
        assert_eq!(app.put(&format!("/api/v1/users/{email}"), body).await.0, 201);
    }
    for (id, owner) in [("C-V", "ae.norte@acme.example"), ("C-S", "ae.soporte@acme.example")] {
        let body = json!({"owner_email": owner, "name": "Marta Ruiz", "email": "marta@example.com", "phone": "+34 600 111 222"});
        assert_eq!(app.put(&format!("/api/v1/customers/{id}"), body).await.0, 201);
    }
    let survey = app.create_survey().await;
    let mut responses = std::collections::HashMap::new();
    for (customer, team, nps) in [("C-V", "Ventas Norte", 2), ("C-V", "Ventas Norte", 10), ("C-S", "Soporte", 0)] {
        let answers =
            if nps <= 6 { json!({"nps": nps, "why": "Escríbanme a marta@example.com"}) } else { json!({"nps": nps}) };
        let body = json!({"survey_id": survey, "customer_external_id": customer, "answers": answers, "context": {"team": team}});
        let (s, r) = app.post("/api/v1/responses", body).await;
        assert_eq!(s, 201, "{r}");
        responses.insert((customer, nps), r["id"].as_i64().unwrap());
    }
    let (s, t) = app.post("/api/v1/tokens", json!({"name": "jefa", "user_email": "jefa.ventas@acme.example"})).await;
    assert_eq!(s, 201);
    let lead = t["secret"].as_str().unwrap().to_string();
    let get = |token: &str, path: &str| app.send(app.client.get(app.url(path)).bearer_auth(token.to_string()));
    // The Ventas lead sees Ventas Norte's case, customer and answers, not Soporte's.
    let (_, cases) = get(&lead, "/api/v1/cases").await;
    let ids: Vec<&str> =
        cases["items"].as_array().unwrap().iter().map(|c| c["customer_external_id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec!["C-V"], "{cases}");
    assert_eq!(get(&lead, "/api/v1/customers/C-V").await.0, 200);
    assert_eq!(get(&lead, "/api/v1/customers/C-S").await.0, 404);
    // Metrics: the two Ventas Norte answers (2 and 10: NPS 0).
    let (_, m) = get(&lead, "/api/v1/metrics?metric=nps").await;
    assert_eq!((m["total"]["n"].as_u64(), m["total"]["value"].as_f64()), (Some(2), Some(0.0)), "{m}");
    let (s, _) = get(&lead, &format!("/api/v1/responses/{}", responses[&("C-S", 0)])).await;
    assert_eq!(s, 404);

    // The analyst reads customers and verbatims, without personal data.
    let (s, t) = app.post("/api/v1/tokens", json!({"name": "an", "user_email": "analista@acme.example"})).await;
    assert_eq!(s, 201);
    let analyst = t["secret"].as_str().unwrap().to_string();
    let (s, c) = get(&analyst, "/api/v1/customers/C-V").await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["personal_data_hidden"], true);
    assert!(c.get("name").is_none() && c.get("email").is_none() && c.get("phone").is_none(), "{c}");
    let (_, r) = get(&analyst, &format!("/api/v1/responses/{}", responses[&("C-V", 2)])).await;
    let why = r["answers"]["why"].as_str().unwrap();
    assert!(!why.contains("marta@example.com") && why.starts_with("Escríbanme a"), "{why}");
    assert_eq!(get(&analyst, "/api/v1/customers/C-V/export").await.0, 403, "export needs personal data");
    let csv = app.client.get(app.url("/api/v1/responses/export")).bearer_auth(&analyst).send().await.unwrap();
    assert_eq!(csv.status(), 200);
    let csv = csv.text().await.unwrap();
    assert_eq!(csv.lines().count(), 4, "header and three responses: {csv}");
    assert!(csv.contains("Escríbanme a") && !csv.contains("marta@example.com"), "verbatims redacted: {csv}");
    assert_eq!(get(&analyst, "/api/v1/customers?email=marta@example.com").await.0, 403);
    // Case notes too: staff write customers' details into them.
    let (_, cases) = app.get("/api/v1/cases").await;
    let case_id = cases["items"][0]["id"].as_i64().unwrap();
    let note = json!({"note": "Llamar al +34 600 111 222 o a marta@example.com"});
    assert_eq!(app.patch(&format!("/api/v1/cases/{case_id}"), note).await.0, 200);
    let (_, case) = get(&analyst, &format!("/api/v1/cases/{case_id}")).await;
    let text = case["notes"][0]["text"].as_str().unwrap();
    assert!(text.starts_with("Llamar al") && !text.contains("600 111 222") && !text.contains("marta@"), "{text}");
    let (_, listed) = get(&analyst, "/api/v1/cases").await;
    assert!(!listed.to_string().contains("marta@example.com"), "{listed}");
    let (_, full) = app.get(&format!("/api/v1/cases/{case_id}")).await;
    assert!(full["notes"][0]["text"].as_str().unwrap().contains("marta@example.com"));
    // The admin sees it all, and finds both customers by e-mail.
    let (_, c) = app.get("/api/v1/customers/C-V").await;
    assert_eq!(c["email"], "marta@example.com");
    let (_, r) = app.get(&format!("/api/v1/responses/{}", responses[&("C-V", 2)])).await;
    assert_eq!(r["answers"]["why"], "Escríbanme a marta@example.com");
    let (s, found) = app.get("/api/v1/customers?email=Marta@Example.com").await;
    assert_eq!((s, found["items"].as_array().map(Vec::len)), (200, Some(2)), "{found}");
    let (_, audit) = app.get("/api/v1/audit?action=customer.lookup").await;
    let entry = &audit["items"][0];
    assert_eq!(entry["detail"]["found"], json!(["C-V", "C-S"]));
    assert!(!entry.to_string().contains("marta@example.com"), "the audit log keeps no e-mail: {entry}");
    app.stop().await;
}
