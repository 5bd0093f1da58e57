//! Cost of the per-request permission check and data scoping on `GET /api/v1/metrics`
//! (issue 3, "Security" figures), over real HTTP on loopback with one keep-alive client.
//!
//! The analytics index is filled directly with synthetic responses (the analytics crate's
//! `benches/synthetic` module: 8 regions, 20 teams, 200 owners), `ESCUCHA_BENCH_ROWS` of them
//! (default 100,000 — the demo's size — and 1,000,000). Callers, each with a `read_metrics`
//! token:
//! - an organisation token (no user): one token lookup, whole organisation — the baseline;
//! - a token acting as an admin user: + the user's row, still the whole organisation;
//! - a token acting as a Norte manager: + the user, and the scan restricted to region Norte;
//! - a token acting as a manager of team-3 (team-4 is its sub-team in the team tree): + the user,
//!   the team tree, and the scan restricted to two teams;
//! - a token acting as a user with a custom role scoped to Norte: + the user and the custom
//!   roles;
//! - the organisation token asking `filter[region]=Norte` itself: the same scan as the Norte
//!   manager's without resolving a user, which separates the cost of resolving the caller from
//!   that of scanning a restricted set.
//!
//! Requests run interleaved (one per caller in turn, the first caller rotating), `ESCUCHA_BENCH_
//! REQUESTS` rounds (default 2,000); p50, p99 and mean per caller. Run with
//! `cargo bench -p escucha-server --bench scope`. Without `--bench` (test runners build bench
//! targets too) it does one small smoke run.

// Shared with escucha-analytics' `scope` bench; not every item is used here.
#[allow(dead_code)]
#[path = "../../escucha-analytics/benches/synthetic/mod.rs"]
mod synthetic;

use std::time::Instant;

use escucha_core::access::{CustomRole, Permission, PermissionSet, TokenScope};
use escucha_core::ids::{OrgId, UserId};
use escucha_core::org::{Role, UserFields};
use escucha_core::values::{Email, Label, Slug};
use escucha_server::{Application, Config};
use escucha_store::{NewToken, Store};

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

async fn token(store: &dyn Store, org: OrgId, name: &str, role: Role, user_id: Option<UserId>) -> String {
    let secret = escucha_server::auth::new_secret(escucha_server::auth::TOKEN_PREFIX);
    store
        .create_token(
            org,
            NewToken {
                name: name.into(),
                role,
                user_id,
                hash: escucha_server::auth::hash_secret(&secret),
                expires_at: None,
                scopes: vec![TokenScope::ReadMetrics],
            },
        )
        .await
        .expect("token");
    secret
}

async fn user(store: &dyn Store, org: OrgId, email: &str, fields: UserFields) -> UserId {
    store.upsert_user(org, &Email::parse(email).unwrap(), fields).await.expect("user").0.id
}

async fn bench(rows: u64, rounds: usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let app = Application::build(Config::for_tests(dir.path(), url)).await.expect("server builds");
    let base = format!("http://{}", app.local_addr());
    let store = app.state().store.clone();
    let org = store.create_org(&Slug::parse("bench").unwrap(), &Label::parse("Bench").unwrap()).await.unwrap().id;
    let t = Instant::now();
    synthetic::fill(&app.state().index, org.0, rows);
    let loaded = t.elapsed().as_secs_f64();

    // A team tree beside the users, as a real organisation has: team-4 under team-3, the rest
    // at the top.
    for i in 0..synthetic::TEAMS {
        let parent = (i == 4).then(|| synthetic::team(3));
        store.set_team(org, &synthetic::team(i), parent.as_deref()).await.expect("team");
    }
    store
        .upsert_role(org, &CustomRole::new("metricas-norte", PermissionSet::of(&[Permission::ReadMetrics])).unwrap())
        .await
        .expect("custom role");
    // Other users, so user lookups are not on a one-row table.
    for i in 0..200 {
        let fields = UserFields {
            role: Some(Role::Agent),
            region: Some(Label::parse(synthetic::REGIONS[i % 8]).unwrap()),
            ..Default::default()
        };
        user(store.as_ref(), org, &synthetic::owner(i), fields).await;
    }
    let admin =
        user(store.as_ref(), org, "admin@acme.example", UserFields { role: Some(Role::Admin), ..Default::default() })
            .await;
    let norte = user(
        store.as_ref(),
        org,
        "norte@acme.example",
        UserFields { role: Some(Role::Manager), region: Some(Label::parse("Norte").unwrap()), ..Default::default() },
    )
    .await;
    let team = user(
        store.as_ref(),
        org,
        "team3@acme.example",
        UserFields { role: Some(Role::Manager), team: Some(Label::parse("team-3").unwrap()), ..Default::default() },
    )
    .await;
    let custom = user(
        store.as_ref(),
        org,
        "custom@acme.example",
        UserFields {
            role: Some(Role::Viewer),
            region: Some(Label::parse("Norte").unwrap()),
            custom_role: Some(Some("metricas-norte".into())),
            ..Default::default()
        },
    )
    .await;
    let s = store.as_ref();
    let org_token = token(s, org, "org", Role::Analyst, None).await;
    let callers: Vec<(&str, String, &str)> = vec![
        ("organisation token", org_token.clone(), "metric=nps"),
        ("admin user (organisation scope)", token(s, org, "admin", Role::Admin, Some(admin)).await, "metric=nps"),
        ("Norte manager", token(s, org, "norte", Role::Manager, Some(norte)).await, "metric=nps"),
        ("team-3 manager (+ sub-team)", token(s, org, "team", Role::Manager, Some(team)).await, "metric=nps"),
        ("custom role, Norte", token(s, org, "custom", Role::Viewer, Some(custom)).await, "metric=nps"),
        ("organisation token, filter[region]=Norte", org_token, "metric=nps&filter%5Bregion%5D=Norte"),
    ];
    tokio::spawn(app.run_until(std::future::pending()));
    let client = reqwest::Client::new();
    let get = |secret: &str, query: &str| {
        let request = client.get(format!("{base}/api/v1/metrics?{query}")).bearer_auth(secret);
        async move {
            let r = request.send().await.expect("request");
            if r.status() != 200 {
                panic!("{}: {:?}", r.status(), r.text().await);
            }
            let body: serde_json::Value = r.json().await.expect("json");
            body["total"]["n"].as_u64().unwrap_or(0)
        }
    };
    // Warm-up (connection, caches) and what each caller counts.
    let mut counted = Vec::new();
    for (_, secret, query) in &callers {
        for _ in 0..20 {
            get(secret, query).await;
        }
        counted.push(get(secret, query).await);
    }
    let mut latencies: Vec<Vec<f64>> = vec![Vec::with_capacity(rounds); callers.len()];
    for round in 0..rounds {
        for k in 0..callers.len() {
            let i = (round + k) % callers.len();
            let (_, secret, query) = &callers[i];
            let t = Instant::now();
            get(secret, query).await;
            latencies[i].push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    println!(
        "\n### {rows} responses in the index (filled in {loaded:.1} s), {rounds} interleaved rounds of GET \
         /api/v1/metrics\n"
    );
    println!("| caller | responses counted | p50 ms | p99 ms | mean ms | p50 vs organisation token |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    let mut base_p50 = 0.0;
    for (i, (name, _, _)) in callers.iter().enumerate() {
        let l = &mut latencies[i];
        l.sort_by(f64::total_cmp);
        let (p50, p99) = (percentile(l, 0.50), percentile(l, 0.99));
        let mean = l.iter().sum::<f64>() / l.len() as f64;
        if i == 0 {
            base_p50 = p50;
        }
        let vs = if i == 0 { "—".to_string() } else { format!("{:+.0}%", (p50 / base_p50 - 1.0) * 100.0) };
        println!("| {name} | {} | {p50:.3} | {p99:.3} | {mean:.3} | {vs} |", counted[i]);
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        if !args.iter().any(|a| a == "--ignored") {
            println!("smoke: test");
        }
        return;
    }
    let full = args.iter().any(|a| a == "--bench");
    let sizes = std::env::var("ESCUCHA_BENCH_ROWS")
        .unwrap_or_else(|_| if full { "100000,1000000".into() } else { "5000".into() });
    let rounds = std::env::var("ESCUCHA_BENCH_REQUESTS").ok().and_then(|r| r.parse().ok()).unwrap_or(if full {
        2_000
    } else {
        20
    });
    for size in sizes.split(',').filter_map(|s| s.trim().parse::<u64>().ok()) {
        bench(size, rounds).await;
    }
}
