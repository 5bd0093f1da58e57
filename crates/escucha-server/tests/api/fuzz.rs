//! Fuzzing the API (issue 3, "a fuzz target on every parser of outside input"): one server, and
//! for every authenticated route × method of the route table a few random requests — random
//! path parameters, random query strings, and random bodies (near misses of real bodies, any
//! JSON, wrong types, huge numbers, deep nesting, Unicode, bytes that are not JSON). Whatever
//! comes in, the server answers without a 5xx, and every 4xx is the JSON error shape
//! `{"error": {"code", "message"}}`.
//!
//! The cases come from proptest strategies drawn by a seeded runner before anything is sent, so
//! a run is repeatable (`PROPTEST_RNG_SEED` picks another seed, `ESCUCHA_FUZZ_PER_ROUTE` more
//! cases).

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use reqwest::Method;
use serde_json::{Value, json};

use escucha_core::org::Role;

use crate::helpers::TestApp;

/// What to send: a body that is JSON, raw bytes, or nothing.
#[derive(Debug, Clone)]
enum Body {
    Json(Value),
    Raw(Vec<u8>),
    Empty,
}

/// One request: path parameters, query string and body.
#[derive(Debug, Clone)]
struct Case {
    params: Vec<String>,
    query: String,
    body: Body,
}

fn nasty_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => ".{0,20}",
        2 => "[a-z0-9_ -]{0,12}",
        1 => Just(String::new()),
        1 => "[\u{0}-\u{1f}\u{7f}\u{feff}\u{202e}]{1,4}",
        1 => "(İ|ß|é|e\u{301}|🙂|👩‍👩‍👧|あ|Ω){1,12}",
        1 => prop::sample::select(vec![1usize, 201, 501, 2_001, 10_001]).prop_map(|n| "x".repeat(n)),
    ]
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-3i64..12).prop_map(Value::from),
        prop_oneof![Just(0.5), Just(1e308), Just(-1e308), Just(-0.0), any::<f64>()]
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        nasty_text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(nasty_text(), inner, 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Bodies the routes accept when right, to be bent into near misses.
fn real_bodies() -> Vec<Value> {
    vec![
        crate::helpers::standard_survey(),
        json!({"survey_id": 1, "answers": {"nps": 9, "why": "Muy bien", "csat": 4}, "customer_external_id": "C-1",
               "context": {"region": "Norte", "employee_email": "ana@acme.example"}, "language": "es",
               "submitted_at": "2026-01-02T03:04:05Z"}),
        json!({"name": "Ana", "email": "ana@acme.example", "phone": "+34 600 000 000", "language": "es",
               "region": "Norte", "segment": "pyme", "annual_value": 1200.5, "owner_email": "luis@acme.example",
               "attributes": {"plan": "oro", "seats": 3}}),
        json!({"text": "El técnico no vino", "source": "call", "customer_external_id": "C-1",
               "captured_by_email": "ana@acme.example", "touchpoint": "support", "occurred_at": "2026-01-02T03:04:05Z"}),
        json!({"name": "Luis", "role": "manager", "manager_email": "ana@acme.example", "team": "Ventas",
               "region": "Norte", "custom_role": "auditor", "scope": {"kind": "regions", "values": ["Norte"]}}),
        json!({"permissions": ["read_metrics", "read_audit"], "description": "Auditoría"}),
        json!({"parent": "Comercial"}),
        json!({"name": "crm", "role": "agent", "scopes": ["read_metrics", "write_responses"],
               "expires_at": "2030-01-01T00:00:00Z"}),
        json!({"status": "resolved", "root_cause": "Retraso", "resolution": "Llamada", "note": "Hecho"}),
        json!({"kind": "principle", "title": "Mínimo privilegio", "objective": "Solo quien lo necesita",
               "scope": "Todo", "owner_email": "admin@acme.example", "review_date": "2026-12-31", "status": "active"}),
        json!({"title": "Portátil perdido", "occurred_at": "2026-01-01T10:00:00Z", "detected_at": "2026-01-01T12:00:00+02:00",
               "data_affected": "correos", "customers_affected": 12, "severity": "medium", "actions_taken": "Borrado remoto",
               "notified_to": ["DPO"], "closed_at": "2026-01-02T00:00:00Z"}),
        json!({"rules": [{"kind": "free_text", "months": 24}, {"kind": "audit_log", "months": 12}]}),
    ]
}

#[derive(Debug, Clone)]
enum Edit {
    Replace(Value),
    Drop(prop::sample::Index),
    Add(String, Value),
}

fn count_nodes(v: &Value) -> usize {
    1 + match v {
        Value::Array(a) => a.iter().map(count_nodes).sum(),
        Value::Object(m) => m.values().map(count_nodes).sum(),
        _ => 0,
    }
}

fn apply_edit(v: &mut Value, k: &mut usize, edit: &Edit) -> bool {
    if *k == 0 {
        match (edit, &mut *v) {
            (Edit::Replace(r), _) => *v = r.clone(),
            (Edit::Drop(i), Value::Array(a)) if !a.is_empty() => {
                a.remove(i.index(a.len()));
            }
            (Edit::Drop(i), Value::Object(m)) if !m.is_empty() => {
                let key = m.keys().nth(i.index(m.len())).cloned().expect("index in range");
                m.remove(&key);
            }
            (Edit::Drop(_), _) => *v = Value::Null,
            (Edit::Add(_, x), Value::Array(a)) => a.push(x.clone()),
            (Edit::Add(key, x), Value::Object(m)) => {
                m.insert(key.clone(), x.clone());
            }
            (Edit::Add(_, x), _) => *v = x.clone(),
        }
        return true;
    }
    *k -= 1;
    match v {
        Value::Array(a) => a.iter_mut().any(|x| apply_edit(x, k, edit)),
        Value::Object(m) => m.values_mut().any(|x| apply_edit(x, k, edit)),
        _ => false,
    }
}

/// A real body with one to three random edits.
fn near_miss() -> impl Strategy<Value = Value> {
    let edit = prop_oneof![
        any_json().prop_map(Edit::Replace),
        any::<prop::sample::Index>().prop_map(Edit::Drop),
        (nasty_text(), any_json()).prop_map(|(k, v)| Edit::Add(k, v)),
    ];
    (prop::sample::select(real_bodies()), prop::collection::vec((any::<prop::sample::Index>(), edit), 0..4)).prop_map(
        |(mut v, edits)| {
            for (at, edit) in edits {
                let mut k = at.index(count_nodes(&v));
                apply_edit(&mut v, &mut k, &edit);
            }
            v
        },
    )
}

/// Raw bodies that are not (quite) JSON.
fn raw_body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..200),
        (1usize..5_000).prop_map(|n| format!("{}{}", "[".repeat(n), "]".repeat(n)).into_bytes()),
        (1usize..5_000).prop_map(|n| format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n)).into_bytes()),
        prop::sample::select(vec![
            "{\"survey_id\": 1e400}",
            "{\"annual_value\": 184467440737095516160000}",
            "{\"survey_id\": -9223372036854775809}",
            "{\"name\": \"\\ud800\"}",
            "{\"name\": \"a\" \"b\"}",
            "null",
            "\"text\"",
            "{\"a\":1,\"a\":2}",
            "{",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
    ]
}

fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        5 => near_miss().prop_map(Body::Json),
        2 => any_json().prop_map(Body::Json),
        2 => raw_body().prop_map(Body::Raw),
        1 => Just(Body::Empty),
    ]
}

/// Percent-encodes everything but unreserved characters.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn path_param() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => nasty_text().prop_map(|s| encode(&s)),
        2 => prop::sample::select(vec!["1", "0", "-1", "2", "C-1", "ana@acme.example", "auditor", "Norte",
                                       "9223372036854775807", "9223372036854775808", "1e3", ".", "..",
                                       "%00", "%FF", "%zz", "admin"])
            .prop_map(str::to_string),
        1 => (1usize..4).prop_map(|n| "%2F..".repeat(n)),
    ]
}

fn query() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        4 => prop::sample::select(vec![
            "metric", "from", "to", "survey_id", "by", "compare", "interval", "limit", "cursor", "status",
            "owner_email", "email", "action", "actor", "region", "team", "segment", "touchpoint", "format",
        ])
        .prop_map(str::to_string),
        1 => nasty_text(),
    ];
    let value = prop_oneof![
        prop::sample::select(vec![
            "nps",
            "csat",
            "ces",
            "nev",
            "dsat",
            "region",
            "region,team",
            "2026-01-01",
            "2025-13-45",
            "0000-01-01",
            "9999-12-31",
            "-1",
            "0",
            "501",
            "99999999999999999999",
            "previous",
            "month",
            "week",
            "open",
            "closed",
            "ana@acme.example",
            "sign_in",
        ])
        .prop_map(str::to_string),
        nasty_text(),
    ];
    prop_oneof![
        4 => prop::collection::vec((key, value), 0..5).prop_map(|pairs| {
            pairs.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&")
        }),
        1 => prop::sample::select(vec!["%", "%zz=1", "a=%FF%FE", "&&&", "=", "limit", "limit=1&limit=2", "a=b=c"])
            .prop_map(str::to_string),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (prop::collection::vec(path_param(), 2), query(), body()).prop_map(|(params, query, body)| Case {
        params,
        query,
        body,
    })
}

/// A short account of a case for failure messages (long bodies clipped).
fn describe(case: &Case) -> String {
    let body = match &case.body {
        Body::Json(v) => v.to_string(),
        Body::Raw(bytes) => format!("raw {:?}", String::from_utf8_lossy(bytes)),
        Body::Empty => "empty".to_string(),
    };
    let clipped: String = body.chars().take(400).collect();
    format!("params {:?}, body ({} chars) {clipped}", case.params, body.chars().count())
}

/// Replaces each `{param}` of an axum path with the next random value.
fn fill(path: &str, params: &[String]) -> String {
    let mut out = String::new();
    let mut rest = path;
    let mut values = params.iter().cycle();
    while let Some(start) = rest.find('{') {
        let end = rest[start..].find('}').expect("closing brace") + start;
        out.push_str(&rest[..start]);
        let value = values.next().expect("params");
        out.push_str(if value.is_empty() { "x" } else { value });
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

#[tokio::test]
async fn random_requests_to_every_route_get_no_5xx_and_json_errors() {
    let started = std::time::Instant::now();
    let app = TestApp::spawn().await;
    app.create_survey().await;
    let (status, _) = app.put("/api/v1/customers/C-1", json!({"name": "Ana", "region": "Norte"})).await;
    assert_eq!(status, 201);

    let per_route: usize = std::env::var("ESCUCHA_FUZZ_PER_ROUTE").ok().and_then(|v| v.parse().ok()).unwrap_or(12);
    let seed: u64 = std::env::var("PROPTEST_RNG_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0x0a91_f022);
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let mut runner = TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes));
    let strategy = case();

    // A case may revoke the test's own token (`DELETE /api/v1/tokens/1`); a new one is minted
    // when a 401 says so, so the rest of the run still reaches the handlers.
    let mut token = app.token.clone();
    let mut sent = 0;
    let mut statuses: std::collections::BTreeMap<u16, usize> = Default::default();
    for route in escucha_server::api::routes().into_iter().filter(|r| r.authenticated) {
        for method in route.methods {
            for _ in 0..per_route {
                let case = strategy.new_tree(&mut runner).expect("case generated").current();
                let mut url = app.url(&fill(route.path, &case.params));
                if !case.query.is_empty() {
                    url.push('?');
                    url.push_str(&case.query);
                }
                let method = Method::from_bytes(method.as_str().as_bytes()).expect("method");
                let mut request = app.client.request(method.clone(), &url).bearer_auth(&token);
                if method != Method::GET && method != Method::DELETE {
                    request = match &case.body {
                        Body::Json(v) => request.json(v),
                        Body::Raw(bytes) => request.header("content-type", "application/json").body(bytes.clone()),
                        Body::Empty => request,
                    };
                }
                let response =
                    request.send().await.unwrap_or_else(|e| panic!("{method} {url} {}: {e}", describe(&case)));
                let status = response.status().as_u16();
                let text = response.text().await.expect("body read");
                *statuses.entry(status).or_default() += 1;
                sent += 1;
                assert!(status < 500, "{method} {url} {} → {status}: {text}", describe(&case));
                if (400..500).contains(&status) {
                    let body: Value = serde_json::from_str(&text)
                        .unwrap_or_else(|_| panic!("{method} {url} {} → {status}, not JSON: {text}", describe(&case)));
                    let error = body.get("error").and_then(Value::as_object).cloned().unwrap_or_default();
                    assert!(
                        error.get("code").and_then(Value::as_str).is_some_and(|c| !c.is_empty())
                            && error.get("message").and_then(Value::as_str).is_some_and(|m| !m.is_empty()),
                        "{method} {url} {} → {status}, not the error shape: {text}",
                        describe(&case)
                    );
                }
                if status == 401 {
                    token = crate::helpers::create_token(app.store.as_ref(), app.org, Role::Admin, "fuzz").await;
                }
            }
        }
    }
    eprintln!("fuzz: {sent} requests in {:?}, statuses {statuses:?}", started.elapsed());
    assert!(sent >= 200, "a few hundred requests, not {sent}");
    // Not everything was refused: the near misses reach the handlers.
    assert!(statuses.range(200..300).map(|(_, n)| n).sum::<usize>() > 0, "{statuses:?}");
}
