//! Single-client sequential `POST /api/v1/responses` latency on SQLite, over real HTTP on
//! loopback: prints p50, p99 and the rate. Run with `cargo bench -p escucha-server --bench ingest`.

use std::time::Instant;

use escucha_core::org::Role;
use escucha_core::values::{Label, Slug};
use escucha_server::{Application, Config};
use escucha_store::NewToken;
use serde_json::json;

const REQUESTS: usize = 3_000;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let app = Application::build(Config::for_tests(dir.path(), url)).await.expect("server builds");
    let base = format!("http://{}", app.local_addr());
    let store = app.state().store.clone();
    let org = store.create_org(&Slug::parse("bench").unwrap(), &Label::parse("Bench").unwrap()).await.unwrap();
    let secret = escucha_server::auth::new_secret(escucha_server::auth::TOKEN_PREFIX);
    store
        .create_token(
            org.id,
            NewToken {
                name: "bench".into(),
                role: Role::Admin,
                user_id: None,
                hash: escucha_server::auth::hash_secret(&secret),
                expires_at: None,
                scopes: vec![escucha_core::access::TokenScope::Admin],
            },
        )
        .await
        .unwrap();
    tokio::spawn(app.run_until(std::future::pending()));
    let client = reqwest::Client::new();
    let survey: serde_json::Value = client
        .post(format!("{base}/api/v1/surveys"))
        .bearer_auth(&secret)
        .json(&json!({"name": "Bench", "languages": ["es", "en"], "questions": [
            {"id": "nps", "type": "nps", "text": "NPS", "required": true},
            {"id": "csat", "type": "csat", "text": "CSAT"},
            {"id": "why", "type": "text", "text": "¿Por qué?"}
        ]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let survey_id = survey["id"].as_i64().unwrap();
    let mut latencies = Vec::with_capacity(REQUESTS);
    let started = Instant::now();
    for i in 0..REQUESTS {
        let region = ["Norte", "Sur", "Centro"][i % 3];
        let body = json!({"survey_id": survey_id, "answers": {"nps": i % 11, "csat": 1 + i % 5, "why": "La atención fue rápida pero la factura llegó mal"},
            "context": {"region": region, "product": "Fibra", "channel": "web"}});
        let t = Instant::now();
        let r = client.post(format!("{base}/api/v1/responses")).bearer_auth(&secret).json(&body).send().await.unwrap();
        assert_eq!(r.status(), 201);
        let _ = r.bytes().await;
        latencies.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let total = started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    println!(
        "POST /api/v1/responses on SQLite, 1 client, {REQUESTS} sequential requests: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, {:.0} responses/s",
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        latencies[latencies.len() - 1],
        REQUESTS as f64 / total
    );
}
