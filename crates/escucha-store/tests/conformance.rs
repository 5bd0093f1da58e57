//! Storage conformance: every story is written once, against `Arc<dyn Store>`, and run on a fresh
//! SQLite file and on a fresh PostgreSQL database (created from `ESCUCHA_TEST_POSTGRES_URL`,
//! dropped afterwards; skipped, loudly, when the variable is unset).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use serde_json::json;

use escucha_core::access::{CustomRole, DataScope, Permission, PermissionSet, TokenScope};
use escucha_core::case::{CaseStatus, CaseUpdate, NewCase, Priority};
use escucha_core::customer::{Customer, CustomerPatch, Patch};
use escucha_core::emotions::Emotion;
use escucha_core::feedback::{FeedbackSource, NewFeedback};
use escucha_core::governance::{
    IncidentFields, IncidentInput, PolicyItemFields, PolicyItemId, PolicyItemInput, PolicyKind, RetentionRulesInput,
};
use escucha_core::ids::{CaseId, CustomerId, JobId, OrgId, ResponseId, SurveyId, TokenId, UserId};
use escucha_core::job::{JobKind, JobStatus};
use escucha_core::journey::{Journey, Stage, Touchpoint};
use escucha_core::org::{Organisation, Role, UserFields};
use escucha_core::response::{NewResponse, ResponseContext};
use escucha_core::survey::{Survey, SurveyInput};
use escucha_core::values::{Email, ExternalId, Label, Language, Slug};
use escucha_store::postgres::PostgresStore;
use escucha_store::sqlite::SqliteStore;
use escucha_store::{
    AuditFilter, CaseFilter, IdempotencyRecord, IncidentFilter, JOB_LEASE_SECONDS, NewAuditEntry, NewSurvey, NewToken,
    ResponseFilter, ResponseWrite, RetentionSweep, Store, StoreError,
};

// ---------------------------------------------------------------------------------------------
// Backends

/// A fresh SQLite database in a temporary folder, removed when dropped.
struct SqliteDb {
    store: Arc<SqliteStore>,
    _dir: tempfile::TempDir,
}

impl SqliteDb {
    async fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("escucha.db").display());
        let store = Arc::new(SqliteStore::connect(&url, keys()).await.expect("connect to SQLite"));
        Self { store, _dir: dir }
    }
}

const PG_ENV: &str = "ESCUCHA_TEST_POSTGRES_URL";

/// A uniquely named PostgreSQL database, dropped (WITH (FORCE)) when this guard is dropped,
/// also when the story panicked.
struct PgDb {
    store: Arc<PostgresStore>,
    ring: escucha_store::crypto::KeyRing,
    admin_url: String,
    name: String,
}

static PG_COUNTER: AtomicU32 = AtomicU32::new(0);

/// `base` with its database name replaced by `name`.
fn with_database(base: &str, name: &str) -> String {
    let (head, query) = match base.split_once('?') {
        Some((h, q)) => (h, format!("?{q}")),
        None => (base, String::new()),
    };
    let after_scheme = head.find("://").map(|i| i + 3).unwrap_or(0);
    let root = match head[after_scheme..].find('/') {
        Some(slash) => &head[..after_scheme + slash],
        None => head,
    };
    format!("{root}/{name}{query}")
}

impl PgDb {
    /// Creates the database, or prints that PostgreSQL is skipped and returns `None`.
    async fn new() -> Option<Self> {
        let Ok(admin_url) = std::env::var(PG_ENV) else {
            // In CI a missing server is a failure, never a silent skip.
            if std::env::var("ESCUCHA_TEST_REQUIRE_SERVICES").is_ok_and(|v| v == "1") {
                panic!("{PG_ENV} must be set when ESCUCHA_TEST_REQUIRE_SERVICES=1");
            }
            eprintln!("\n*** SKIPPED: {PG_ENV} not set: PostgreSQL conformance story not run ***\n");
            return None;
        };
        let name = format!(
            "escucha_test_{}_{}_{}",
            std::process::id(),
            PG_COUNTER.fetch_add(1, Ordering::SeqCst),
            Utc::now().timestamp_micros() % 1_000_000_000
        );
        let admin = admin_pool(&admin_url).await;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&admin)
            .await
            .expect("create test database");
        admin.close().await;
        let ring = keys();
        let store = Arc::new(
            PostgresStore::connect(&with_database(&admin_url, &name), ring.clone())
                .await
                .expect("connect to PostgreSQL"),
        );
        Some(Self { store, ring, admin_url, name })
    }
}

/// A one-connection pool on the admin database, without migrations.
async fn admin_pool(url: &str) -> sqlx::PgPool {
    sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(url).await.expect("connect to the admin database")
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Async work cannot run in `drop`, and this thread may be the test runtime's only one:
        // drop the database from a helper thread with its own runtime. The store's connections
        // belong to the test runtime; `WITH (FORCE)` ends them.
        let done = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async move {
                let admin = admin_pool(&admin_url).await;
                sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")))
                    .execute(&admin)
                    .await
                    .expect("drop test database");
                admin.close().await;
            });
        })
        .join();
        if done.is_err() && !std::thread::panicking() {
            panic!("dropping the test database {} failed", self.name);
        }
    }
}

/// Generates one `#[tokio::test]` per story and backend.
macro_rules! stories {
    ($($story:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $story() {
                    let db = super::SqliteDb::new().await;
                    super::$story(db.store.clone()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $story() {
                    let Some(db) = super::PgDb::new().await else { return };
                    super::$story(db.store.clone()).await;
                }
            )*
        }
    };
}

stories!(
    orgs,
    tokens_and_sessions,
    users,
    customers,
    org_isolation,
    surveys_and_journeys,
    responses_cases_and_jobs_in_one_transaction,
    failed_writes_leave_nothing_behind,
    idempotency,
    feedback,
    index_feed,
    cases,
    jobs,
    concurrent_claimers,
    case_lists_scoped_by_region,
    audit_log,
    custom_roles_and_user_scopes,
    team_tree_and_team_scoped_cases,
    customers_found_by_email_blind_index,
    token_scopes_round_trip,
    response_pages_for_exports,
    security_policy_items,
    incident_register,
    retention_rules_and_sweeps,
    shared_sign_in_lockouts,
    password_reset_tokens,
    totp_second_factor,
);

// ---------------------------------------------------------------------------------------------
// Fixtures

/// A fresh key ring for a test store.
fn keys() -> escucha_store::crypto::KeyRing {
    escucha_store::crypto::KeyRing::generate().expect("random key")
}

fn email(s: &str) -> Email {
    Email::parse(s).expect("email")
}

fn label(s: &str) -> Label {
    Label::parse(s).expect("label")
}

fn ext(s: &str) -> ExternalId {
    ExternalId::parse(s).expect("external id")
}

/// A fixed instant plus `minutes`, in whole seconds so it reads back equal on both backends.
fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).single().expect("time") + Duration::minutes(minutes)
}

async fn org(store: &Arc<dyn Store>, slug: &str) -> Organisation {
    store.create_org(&Slug::parse(slug).expect("slug"), &label(&format!("Org {slug}"))).await.expect("create org")
}

async fn survey(store: &Arc<dyn Store>, org: OrgId) -> Survey {
    let input: SurveyInput = serde_json::from_value(json!({
        "name": "Relacional",
        "languages": ["es", "en"],
        "touchpoint": "billing",
        "questions": [
            {"id": "nps", "type": "nps", "text": {"es": "¿Recomendaría…?", "en": "Would you recommend…?"}, "required": true},
            {"id": "csat", "type": "csat", "text": "CSAT"},
            {"id": "why", "type": "text", "text": {"es": "¿Por qué?", "en": "Why?"}},
            {"id": "feel", "type": "emotions", "text": "Emotions", "options": ["pleased", "frustrated"]}
        ]
    }))
    .expect("survey shape");
    let (name, definition, touchpoint) = input.parse().expect("valid survey");
    store
        .create_survey(org, NewSurvey { name, definition, touchpoint, created_at: at(0) }, None)
        .await
        .expect("create survey")
}

async fn customer(store: &Arc<dyn Store>, org: OrgId, external_id: &str, owner: Option<&str>) -> Customer {
    let patch = CustomerPatch {
        name: Patch::Set(format!("Cliente {external_id}")),
        region: Patch::Set(label("Norte")),
        owner_email: owner.map(email).map_or(Patch::Keep, Patch::Set),
        attributes: [("plan".to_string(), Some("gold".to_string()))].into_iter().collect(),
        ..Default::default()
    };
    let mut out = store.upsert_customers(org, vec![(ext(external_id), patch)], at(0)).await.expect("upsert customer");
    out.pop().expect("one customer").0
}

fn new_response(
    survey: &Survey,
    customer: Option<&Customer>,
    nps: u8,
    verbatim: Option<&str>,
    minute: i64,
) -> NewResponse {
    let mut raw = json!({"nps": nps, "feel": ["frustrated"]});
    if let Some(v) = verbatim {
        raw["why"] = json!(v);
    }
    let answers = survey.definition.parse_answers(raw.as_object().expect("object")).expect("valid answers");
    NewResponse {
        survey_id: survey.id,
        survey_version: survey.version,
        customer_id: customer.map(|c| c.id),
        invitation_id: None,
        scores: survey.definition.metric_scores(&answers),
        emotions: survey.definition.emotions(&answers),
        verbatim: survey.definition.verbatim(&answers),
        answers,
        context: ResponseContext {
            product: Some(label("Fibra")),
            channel: Some(label("web")),
            employee_email: Some(email("agent@acme.com")),
            ..Default::default()
        }
        .with_defaults(customer, survey.touchpoint.as_deref()),
        segment: Some(label("pyme")),
        language: Some(Language::parse("es").expect("language")),
        submitted_at: at(minute),
    }
}

fn new_case(customer: &Customer, manager: Option<&str>, minute: i64) -> NewCase {
    NewCase {
        customer_id: customer.id,
        response_id: None,
        owner_email: customer.owner_email.clone().expect("owner"),
        manager_email: manager.map(email),
        reason: "nps_detractor".into(),
        priority: Priority::High,
        due_at: at(minute + 48 * 60),
        opened_at: at(minute),
    }
}

fn write(response: NewResponse, case: Option<NewCase>, queue_jobs: bool) -> ResponseWrite {
    ResponseWrite { response, case, queue_jobs }
}

fn idem(key: &str) -> IdempotencyRecord {
    IdempotencyRecord { key: key.into(), request_hash: format!("hash-of-{key}"), resource: "response".into() }
}

/// Writes one detractor response opening a case with queued jobs; returns the ids.
async fn detractor(
    store: &Arc<dyn Store>,
    org: OrgId,
    survey: &Survey,
    c: &Customer,
    minute: i64,
) -> (ResponseId, CaseId) {
    let ids = store
        .insert_responses(
            org,
            vec![write(
                new_response(survey, Some(c), 2, Some("Cobro doble"), minute),
                Some(new_case(c, Some("boss@acme.com"), minute)),
                true,
            )],
            None,
        )
        .await
        .expect("insert detractor");
    let (rid, cid) = ids[0];
    (rid, cid.expect("case opened"))
}

// ---------------------------------------------------------------------------------------------
// Stories

async fn case_lists_scoped_by_region(store: Arc<dyn Store>) {
    let acme = org(&store, "acme").await;
    let s = survey(&store, acme.id).await;
    let norte = customer(&store, acme.id, "C-N", Some("ana@acme.com")).await;
    let sur = customer(&store, acme.id, "C-S", Some("bob@acme.com")).await;
    let moved = CustomerPatch { region: Patch::Set(label("Sur")), ..Default::default() };
    store.upsert_customers(acme.id, vec![(ext("C-S"), moved)], at(1)).await.expect("move to Sur");
    let (_, n_case) = detractor(&store, acme.id, &s, &norte, 1).await;
    let (_, s_case) = detractor(&store, acme.id, &s, &sur, 2).await;
    let list = |regions: Option<Vec<&str>>| {
        let store = store.clone();
        let filter = CaseFilter {
            limit: 50,
            regions: regions.map(|r| r.into_iter().map(String::from).collect()),
            ..Default::default()
        };
        async move { store.list_cases(acme.id, filter).await.expect("list").iter().map(|c| c.id).collect::<Vec<_>>() }
    };
    assert_eq!(list(None).await, vec![s_case, n_case]);
    assert_eq!(list(Some(vec!["Norte"])).await, vec![n_case]);
    assert_eq!(list(Some(vec!["Sur", "Norte"])).await, vec![s_case, n_case]);
    assert_eq!(list(Some(vec!["Este"])).await, Vec::<CaseId>::new());
    assert_eq!(list(Some(vec![])).await, Vec::<CaseId>::new(), "an empty scope sees nothing");
}

async fn audit_log(store: Arc<dyn Store>) {
    let acme = org(&store, "acme").await;
    let other = org(&store, "other").await;
    let entry = |minute: i64, actor: &str, action: &str| NewAuditEntry {
        at: at(minute),
        actor: actor.into(),
        action: action.into(),
        target: Some("customer:C-1".into()),
        detail: json!({"fields": ["email"]}),
        ip: Some("127.0.0.1".into()),
    };
    store.append_audit(acme.id, entry(0, "ana@acme.com", "sign_in.success")).await.expect("append");
    store.append_audit(acme.id, entry(5, "ana@acme.com", "customer.view")).await.expect("append");
    store.append_audit(acme.id, entry(9, "token:crm", "customer.export")).await.expect("append");
    store.append_audit(other.id, entry(9, "eve@other.com", "customer.view")).await.expect("append");
    let all = store.list_audit(acme.id, AuditFilter { limit: 50, ..Default::default() }).await.expect("list");
    assert_eq!(
        all.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        vec!["customer.export", "customer.view", "sign_in.success"]
    );
    assert_eq!(all[1].detail, json!({"fields": ["email"]}));
    assert_eq!(
        (all[1].at, all[1].ip.as_deref(), all[1].target.as_deref()),
        (at(5), Some("127.0.0.1"), Some("customer:C-1"))
    );
    let views = store
        .list_audit(acme.id, AuditFilter { action: Some("customer.view".into()), limit: 50, ..Default::default() })
        .await
        .expect("list");
    assert_eq!(views.len(), 1, "the other organisation's entries never show");
    let by_actor = store
        .list_audit(acme.id, AuditFilter { actor: Some("token:crm".into()), limit: 50, ..Default::default() })
        .await
        .expect("list");
    assert_eq!(by_actor.len(), 1);
    let window = store
        .list_audit(acme.id, AuditFilter { from: Some(at(1)), to: Some(at(9)), limit: 50, ..Default::default() })
        .await
        .expect("list");
    assert_eq!(
        window.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        vec!["customer.view"],
        "from inclusive, to exclusive"
    );
    let page = store
        .list_audit(acme.id, AuditFilter { before_id: Some(all[0].id), limit: 1, ..Default::default() })
        .await
        .expect("list");
    assert_eq!(page.iter().map(|e| e.id).collect::<Vec<_>>(), vec![all[1].id]);
}

async fn orgs(store: Arc<dyn Store>) {
    let acme = org(&store, "acme").await;
    assert_eq!(acme.slug.as_str(), "acme");
    assert_eq!(acme.name.as_str(), "Org acme");
    let again = store.create_org(&Slug::parse("acme").unwrap(), &label("Other")).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "slug taken: {again:?}");
    assert_eq!(store.org_by_slug("acme").await.unwrap(), Some(acme.clone()));
    assert_eq!(store.org(acme.id).await.unwrap(), Some(acme.clone()));
    assert_eq!(store.org_by_slug("nobody").await.unwrap(), None);
    assert_eq!(store.org(OrgId(acme.id.0 + 1_000)).await.unwrap(), None);
    let other = org(&store, "other").await;
    assert_ne!(other.id, acme.id);
    assert!(["sqlite", "postgres"].contains(&store.backend()));
}

async fn tokens_and_sessions(store: Arc<dyn Store>) {
    let acme = org(&store, "acme").await;
    let other = org(&store, "other").await;
    let (ana, _) = store.upsert_user(acme.id, &email("ana@acme.com"), UserFields::default()).await.unwrap();
    let token = store
        .create_token(
            acme.id,
            NewToken {
                name: "crm".into(),
                role: Role::Analyst,
                user_id: Some(ana.id),
                hash: "h1".into(),
                expires_at: Some(at(60)),
                scopes: vec![TokenScope::ReadMetrics],
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (token.org_id, token.role, token.user_id, token.expires_at),
        (acme.id, Role::Analyst, Some(ana.id), Some(at(60)))
    );
    assert_eq!(token.last_used_at, None);
    assert_eq!(store.token_by_hash("h1").await.unwrap(), Some(token.clone()));
    assert_eq!(store.token_by_hash("nope").await.unwrap(), None);

    // Same hash again is refused; a token cannot act as another organisation's user.
    let dup = store
        .create_token(
            acme.id,
            NewToken {
                name: "x".into(),
                role: Role::Admin,
                user_id: None,
                hash: "h1".into(),
                expires_at: None,
                scopes: vec![TokenScope::Admin],
            },
        )
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    let foreign = store
        .create_token(
            other.id,
            NewToken {
                name: "x".into(),
                role: Role::Admin,
                user_id: Some(ana.id),
                hash: "h2".into(),
                expires_at: None,
                scopes: vec![TokenScope::Admin],
            },
        )
        .await;
    assert!(matches!(foreign, Err(StoreError::NotFound(_))), "{foreign:?}");

    store.touch_token(token.id, at(5)).await.unwrap();
    assert_eq!(store.token_by_hash("h1").await.unwrap().unwrap().last_used_at, Some(at(5)));
    assert_eq!(store.list_tokens(acme.id).await.unwrap().len(), 1);
    assert!(store.list_tokens(other.id).await.unwrap().is_empty());

    // Revocation is scoped and final.
    assert!(matches!(store.revoke_token(other.id, token.id, at(6)).await, Err(StoreError::NotFound(_))));
    assert!(store.token_by_hash("h1").await.unwrap().is_some());
    store.revoke_token(acme.id, token.id, at(6)).await.unwrap();
    assert_eq!(store.token_by_hash("h1").await.unwrap(), None);
    assert!(matches!(store.revoke_token(acme.id, token.id, at(7)).await, Err(StoreError::NotFound(_))));
    assert!(matches!(store.revoke_token(acme.id, TokenId(999_999), at(7)).await, Err(StoreError::NotFound(_))));

    // Sessions live until they expire.
    store.create_session(acme.id, ana.id, "s1", at(30)).await.unwrap();
    store.create_session(acme.id, ana.id, "s2", at(10)).await.unwrap();
    let (org_id, user) = store.session_by_hash("s1", at(29)).await.unwrap().expect("live session");
    assert_eq!((org_id, user.id, user.email.as_str()), (acme.id, ana.id, "ana@acme.com"));
    assert_eq!(store.session_by_hash("s1", at(30)).await.unwrap(), None, "expired at its expiry time");
    assert_eq!(store.session_by_hash("zzz", at(0)).await.unwrap(), None);
    let foreign = store.create_session(other.id, ana.id, "s3", at(30)).await;
    assert!(matches!(foreign, Err(StoreError::NotFound(_))), "{foreign:?}");
    assert_eq!(store.delete_expired_sessions(at(20)).await.unwrap(), 1);
    assert!(store.session_by_hash("s1", at(0)).await.unwrap().is_some());
    store.delete_session("s1").await.unwrap();
    assert_eq!(store.session_by_hash("s1", at(0)).await.unwrap(), None);
}

async fn users(store: Arc<dyn Store>) {
    let acme = org(&store, "acme").await;
    let ana = email("ana@acme.com");
    let (created, is_new) =
        store.upsert_user(acme.id, &ana, UserFields { name: Some(label("Ana")), ..Default::default() }).await.unwrap();
    assert!(is_new);
    assert_eq!(
        (created.role, created.name.as_ref().map(Label::as_str)),
        (Role::Viewer, Some("Ana")),
        "role defaults to viewer"
    );

    let (updated, is_new) = store
        .upsert_user(
            acme.id,
            &ana,
            UserFields {
                team: Some(label("Ventas")),
                manager_email: Some(email("boss@acme.com")),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(!is_new);
    assert_eq!(updated.id, created.id);
    assert_eq!(updated.name.as_ref().map(Label::as_str), Some("Ana"), "unset fields keep their value");
    assert_eq!(updated.role, Role::Viewer);
    assert_eq!(updated.team.as_ref().map(Label::as_str), Some("Ventas"));

    let (promoted, _) =
        store.upsert_user(acme.id, &ana, UserFields { role: Some(Role::Manager), ..Default::default() }).await.unwrap();
    assert_eq!(promoted.role, Role::Manager);
    assert_eq!(promoted.manager_email.as_ref().map(Email::as_str), Some("boss@acme.com"));

    let (bob, _) = store
        .upsert_user(acme.id, &email("bob@acme.com"), UserFields { role: Some(Role::Admin), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(bob.role, Role::Admin);
    assert_eq!(store.user_by_email(acme.id, &ana).await.unwrap(), Some(promoted.clone()));
    assert_eq!(store.user(acme.id, bob.id).await.unwrap(), Some(bob.clone()));
    assert_eq!(store.user(acme.id, UserId(bob.id.0 + 100)).await.unwrap(), None);
    let emails: Vec<String> =
        store.list_users(acme.id).await.unwrap().into_iter().map(|u| u.email.to_string()).collect();
    assert_eq!(emails, vec!["ana@acme.com", "bob@acme.com"]);

    assert_eq!(store.password_hash(acme.id, &ana).await.unwrap(), None, "no password yet");
    store.set_password_hash(acme.id, &ana, "$argon2id$x").await.unwrap();
    let (u, hash) = store.password_hash(acme.id, &ana).await.unwrap().expect("hash");
    assert_eq!((u.id, hash.as_str()), (created.id, "$argon2id$x"));
    let missing = store.set_password_hash(acme.id, &email("nobody@acme.com"), "x").await;
    assert!(matches!(missing, Err(StoreError::NotFound(_))), "{missing:?}");
}

async fn customers(store: Arc<dyn Store>) {
    let acme = org(&store, "acme").await;
    let first = CustomerPatch {
        name: Patch::Set("Ana Pérez".into()),
        email: Patch::Set(email("ana@cliente.es")),
        phone: Patch::Set("+34 600 000 000".into()),
        language: Patch::Set(Language::parse("es").unwrap()),
        region: Patch::Set(label("Norte")),
        segment: Patch::Set(label("pyme")),
        lifecycle_stage: Patch::Set(label("active")),
        annual_value: Patch::Set(1234.5),
        owner_email: Patch::Set(email("ae@acme.com")),
        attributes: [("plan".to_string(), Some("gold".to_string())), ("old".to_string(), Some("x".to_string()))]
            .into_iter()
            .collect(),
    };
    let out = store
        .upsert_customers(acme.id, vec![(ext("C-1"), first), (ext("C-2"), CustomerPatch::default())], at(0))
        .await
        .unwrap();
    assert_eq!(out.len(), 2);
    assert!(out[0].1 && out[1].1, "both created");
    let c1 = out[0].0.clone();
    assert_eq!(store.customer_by_external_id(acme.id, "C-1").await.unwrap(), Some(c1.clone()), "round trip");
    assert_eq!(store.customer(acme.id, c1.id).await.unwrap(), Some(c1.clone()));
    assert_eq!(c1.annual_value, Some(1234.5));
    assert_eq!(c1.attributes.get("plan").map(String::as_str), Some("gold"));

    // Keep, clear, set, and attribute removal; the same external id twice in one batch.
    let second = CustomerPatch {
        phone: Patch::Clear,
        region: Patch::Set(label("Sur")),
        attributes: [("old".to_string(), None), ("tier".to_string(), Some("1".to_string()))].into_iter().collect(),
        ..Default::default()
    };
    let third = CustomerPatch { segment: Patch::Set(label("enterprise")), ..Default::default() };
    let out = store
        .upsert_customers(
            acme.id,
            vec![(ext("C-1"), second), (ext("C-1"), third), (ext("C-3"), CustomerPatch::default())],
            at(10),
        )
        .await
        .unwrap();
    assert_eq!(out.iter().map(|(_, created)| *created).collect::<Vec<_>>(), vec![false, false, true]);
    let c1b = store.customer_by_external_id(acme.id, "C-1").await.unwrap().unwrap();
    assert_eq!(c1b, out[1].0, "the returned customer is what is stored");
    assert_eq!(c1b.id, c1.id);
    assert_eq!(c1b.name.as_deref(), Some("Ana Pérez"));
    assert_eq!(c1b.phone, None);
    assert_eq!(c1b.region.as_ref().map(Label::as_str), Some("Sur"));
    assert_eq!(c1b.segment.as_ref().map(Label::as_str), Some("enterprise"));
    let attrs: Vec<(&str, &str)> = c1b.attributes.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(attrs, vec![("plan", "gold"), ("tier", "1")]);
    assert_eq!((c1b.created_at, c1b.updated_at), (at(0), at(10)));
    assert_eq!(store.count_customers(acme.id).await.unwrap(), 3);
    assert_eq!(store.customer_by_external_id(acme.id, "C-404").await.unwrap(), None);
}

async fn org_isolation(store: Arc<dyn Store>) {
    let a = org(&store, "alpha").await;
    let b = org(&store, "beta").await;
    let a_survey = survey(&store, a.id).await;
    let a_customer = customer(&store, a.id, "C-1", Some("ae@alpha.com")).await;
    let (a_response, a_case) = detractor(&store, a.id, &a_survey, &a_customer, 1).await;
    store.upsert_user(a.id, &email("ana@alpha.com"), UserFields::default()).await.unwrap();
    store
        .insert_responses(a.id, vec![write(new_response(&a_survey, None, 9, None, 2), None, false)], Some(idem("k1")))
        .await
        .unwrap();

    // Reads by id or external id from the other organisation find nothing.
    assert_eq!(store.customer_by_external_id(b.id, "C-1").await.unwrap(), None);
    assert_eq!(store.customer(b.id, a_customer.id).await.unwrap(), None);
    assert_eq!(store.survey(b.id, a_survey.id).await.unwrap(), None);
    assert!(store.list_surveys(b.id).await.unwrap().is_empty());
    assert_eq!(store.response(b.id, a_response).await.unwrap(), None);
    assert_eq!(store.case(b.id, a_case).await.unwrap(), None);
    assert!(store.list_cases(b.id, CaseFilter { limit: 50, ..Default::default() }).await.unwrap().is_empty());
    assert!(store.list_jobs(b.id, 50).await.unwrap().is_empty());
    assert_eq!(store.user_by_email(b.id, &email("ana@alpha.com")).await.unwrap(), None);
    assert!(store.list_users(b.id).await.unwrap().is_empty());
    assert_eq!(store.idempotent_result(b.id, "k1").await.unwrap(), None);
    assert_eq!(
        (
            store.count_customers(b.id).await.unwrap(),
            store.count_responses(b.id).await.unwrap(),
            store.count_cases(b.id, None).await.unwrap()
        ),
        (0, 0, 0)
    );

    // Writes cannot reach across either.
    let mut stolen = store.case(a.id, a_case).await.unwrap().unwrap();
    let before = stolen.clone();
    stolen.apply(CaseUpdate { note: Some("hijack".into()), ..Default::default() }, "eve", at(3)).unwrap();
    assert!(matches!(store.save_case(b.id, &stolen, before.updated_at).await, Err(StoreError::NotFound(_))));
    assert_eq!(store.case(a.id, a_case).await.unwrap(), Some(before));
    assert!(matches!(store.set_password_hash(b.id, &email("ana@alpha.com"), "x").await, Err(StoreError::NotFound(_))));
    let cross =
        store.insert_responses(b.id, vec![write(new_response(&a_survey, None, 9, None, 4), None, true)], None).await;
    assert!(matches!(cross, Err(StoreError::NotFound(_))), "another org's survey: {cross:?}");
    let b_survey = survey(&store, b.id).await;
    let cross = store
        .insert_responses(b.id, vec![write(new_response(&b_survey, Some(&a_customer), 9, None, 4), None, true)], None)
        .await;
    assert!(matches!(cross, Err(StoreError::NotFound(_))), "another org's customer: {cross:?}");
    let feedback = NewFeedback {
        text: "x".into(),
        source: FeedbackSource::Call,
        customer_id: Some(a_customer.id),
        captured_by_email: None,
        touchpoint: None,
        occurred_at: at(0),
    };
    assert!(matches!(store.insert_feedback(b.id, feedback, None).await, Err(StoreError::NotFound(_))));
    assert_eq!(store.count_responses(b.id).await.unwrap(), 0);

    // The same external id in the other organisation is another customer.
    let b_customer = customer(&store, b.id, "C-1", None).await;
    assert_ne!(b_customer.id, a_customer.id);
    assert_eq!(store.customer_by_external_id(a.id, "C-1").await.unwrap(), Some(a_customer));
}

async fn surveys_and_journeys(store: Arc<dyn Store>) {
    let acme = org(&store, "acme").await;
    let first = survey(&store, acme.id).await;
    assert_eq!((first.version, first.name.as_str(), first.touchpoint.as_deref()), (1, "Relacional", Some("billing")));
    assert_eq!(store.survey(acme.id, first.id).await.unwrap(), Some(first.clone()), "definition JSON round trip");
    let nps = first.definition.question("nps").expect("nps question");
    assert_eq!(nps.text["es"], "¿Recomendaría…?");
    let second = survey(&store, acme.id).await;
    let ids: Vec<SurveyId> = store.list_surveys(acme.id).await.unwrap().into_iter().map(|s| s.id).collect();
    assert_eq!(ids, vec![second.id, first.id], "newest first");
    assert_eq!(store.survey(acme.id, SurveyId(second.id.0 + 100)).await.unwrap(), None);

    let journey = |name: &str, importance: f64| Journey {
        id: escucha_core::ids::JourneyId(0),
        org_id: acme.id,
        key: "support".into(),
        name: name.into(),
        stages: vec![Stage {
            key: "contact".into(),
            name: "Contacto".into(),
            touchpoints: vec![Touchpoint {
                key: "call".into(),
                name: "Llamada".into(),
                channel: "phone".into(),
                importance,
                moment_of_truth: true,
            }],
        }],
    };
    let j1 = store.upsert_journey(acme.id, journey("Soporte", 2.0)).await.unwrap();
    let j2 = store.upsert_journey(acme.id, journey("Soporte técnico", 3.5)).await.unwrap();
    assert_eq!(j1.id, j2.id, "replaced by key");
    assert_eq!(j2.name, "Soporte técnico");
    assert_eq!(j2.stages[0].touchpoints[0].importance, 3.5);
    assert_eq!(store.list_journeys(acme.id).await.unwrap(), vec![j2]);
}

async fn responses_cases_and_jobs_in_one_transaction(store: Arc<dyn Store>) {
    let acme = org(&store, "acme").await;
    let s = survey(&store, acme.id).await;
    let c = customer(&store, acme.id, "C-1", Some("ae@acme.com")).await;
    let detractor = new_response(&s, Some(&c), 2, Some("Cobro doble"), 1);
    let promoter = new_response(&s, Some(&c), 10, None, 2);
    let ids = store
        .insert_responses(
            acme.id,
            vec![
                write(detractor.clone(), Some(new_case(&c, Some("boss@acme.com"), 1)), true),
                write(promoter.clone(), None, true),
            ],
            None,
        )
        .await
        .unwrap();
    assert_eq!(ids.len(), 2);
    let (r1, case_id) = ids[0];
    assert_eq!(ids[1].1, None);
    assert!(ids[1].0 > r1, "ids increase in input order");

    let stored = store.response(acme.id, r1).await.unwrap().expect("stored response");
    assert_eq!(
        (stored.survey_id, stored.survey_version, stored.customer_id, stored.customer_external_id.as_deref()),
        (s.id, 1, Some(c.id), Some("C-1"))
    );
    assert_eq!(stored.answers, detractor.answers);
    assert_eq!(stored.scores, detractor.scores);
    assert_eq!(stored.scores.nps, Some(2));
    assert_eq!(stored.emotions, vec![Emotion::Frustrated]);
    assert_eq!(stored.verbatim.as_deref(), Some("Cobro doble"));
    assert_eq!(stored.context, detractor.context);
    assert_eq!(stored.context.region.as_ref().map(Label::as_str), Some("Norte"), "defaulted from the customer");
    assert_eq!(stored.context.touchpoint.as_ref().map(Label::as_str), Some("billing"));
    assert_eq!((stored.segment, stored.language, stored.submitted_at), (detractor.segment, detractor.language, at(1)));

    let case = store.case(acme.id, case_id.expect("case")).await.unwrap().expect("stored case");
    assert_eq!(case.response_id, Some(r1), "linked to the response written with it");
    assert_eq!((case.customer_id, case.customer_external_id.as_str()), (c.id, "C-1"));
    assert_eq!(
        (case.owner_email.as_str(), case.manager_email.as_ref().map(Email::as_str)),
        ("ae@acme.com", Some("boss@acme.com"))
    );
    assert_eq!(
        (case.status, case.priority, case.due_at, case.reason.as_str()),
        (CaseStatus::Open, Priority::High, at(1 + 48 * 60), "nps_detractor")
    );
    assert!(case.notes.is_empty());

    let mut kinds: Vec<JobKind> = store.list_jobs(acme.id, 50).await.unwrap().into_iter().map(|j| j.kind).collect();
    kinds.reverse();
    let cid = case.id;
    assert_eq!(
        kinds,
        vec![
            JobKind::AnalyzeResponseText { response_id: r1 },
            JobKind::NotifyCaseOwner { case_id: cid },
            JobKind::NotifyCaseManager { case_id: cid },
        ],
        "text analysis for the verbatim, owner and manager notified; nothing for the silent promoter"
    );

    // Historic imports queue nothing.
    store
        .insert_responses(
            acme.id,
            vec![write(new_response(&s, Some(&c), 1, Some("x"), 3), Some(new_case(&c, None, 3)), false)],
            None,
        )
        .await
        .unwrap();
    assert_eq!(store.list_jobs(acme.id, 50).await.unwrap().len(), 3);
    assert_eq!(
        (store.count_responses(acme.id).await.unwrap(), store.count_cases(acme.id, None).await.unwrap()),
        (3, 2)
    );
    assert_eq!(store.insert_responses(acme.id, vec![], Some(idem("empty"))).await.unwrap(), vec![]);
    assert_eq!(store.idempotent_result(acme.id, "empty").await.unwrap(), None);
}

async fn failed_writes_leave_nothing_behind(store: Arc<dyn Store>) {
    let acme = org(&store, "acme").await;
    let s = survey(&store, acme.id).await;
    let c = customer(&store, acme.id, "C-1", Some("ae@acme.com")).await;
    let batch = || {
        vec![write(new_response(&s, Some(&c), 0, Some("Mal"), 1), Some(new_case(&c, Some("boss@acme.com"), 1)), true)]
    };
    store.insert_responses(acme.id, batch(), Some(idem("k1"))).await.unwrap();
    let counts = |store: Arc<dyn Store>| async move {
        (
            store.count_responses(acme.id).await.unwrap(),
            store.count_cases(acme.id, None).await.unwrap(),
            store.list_jobs(acme.id, 100).await.unwrap().len(),
        )
    };
    assert_eq!(counts(store.clone()).await, (1, 1, 3));

    // The idempotency record is written last: its conflict rolls back responses, case and jobs.
    let again = store.insert_responses(acme.id, batch(), Some(idem("k1"))).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    assert_eq!(counts(store.clone()).await, (1, 1, 3));

    // A bad item late in a batch rolls back the good ones before it.
    let mut bad = new_response(&s, Some(&c), 5, None, 2);
    bad.survey_id = SurveyId(s.id.0 + 1_000);
    let mut items = batch();
    items.push(write(bad, None, true));
    let failed = store.insert_responses(acme.id, items, None).await;
    assert!(matches!(failed, Err(StoreError::NotFound(_))), "{failed:?}");
    assert_eq!(counts(store.clone()).await, (1, 1, 3));

    // A case for a customer that does not exist rolls back its response too.
    let mut ghost = c.clone();
    ghost.id = CustomerId(c.id.0 + 1_000);
    let failed = store
        .insert_responses(
            acme.id,
            vec![write(new_response(&s, None, 1, None, 3), Some(new_case(&ghost, None, 3)), true)],
            None,
        )
        .await;
    assert!(matches!(failed, Err(StoreError::NotFound(_))), "{failed:?}");
    assert_eq!(counts(store.clone()).await, (1, 1, 3));

    // A failed survey or feedback write leaves no idempotency record and no row.
    let dup_survey = store
        .create_survey(
            acme.id,
            NewSurvey { name: "x".into(), definition: s.definition.clone(), touchpoint: None, created_at: at(0) },
            Some(idem("k1")),
        )
        .await;
    assert!(matches!(dup_survey, Err(StoreError::Conflict(_))), "{dup_survey:?}");
    assert_eq!(store.list_surveys(acme.id).await.unwrap().len(), 1);
}

async fn idempotency(store: Arc<dyn Store>) {
    let acme = org(&store, "acme").await;
    let s = survey(&store, acme.id).await;
    assert_eq!(store.idempotent_result(acme.id, "k1").await.unwrap(), None);
    let ids = store
        .insert_responses(
            acme.id,
            vec![
                write(new_response(&s, None, 9, None, 1), None, true),
                write(new_response(&s, None, 8, None, 2), None, true),
            ],
            Some(idem("k1")),
        )
        .await
        .unwrap();
    let found = store.idempotent_result(acme.id, "k1").await.unwrap().expect("record");
    assert_eq!(
        (found.request_hash.as_str(), found.resource.as_str(), found.resource_id),
        ("hash-of-k1", "response", ids[0].0.0)
    );

    let record = IdempotencyRecord { key: "k2".into(), request_hash: "h2".into(), resource: "survey".into() };
    let created = store
        .create_survey(
            acme.id,
            NewSurvey { name: "Otra".into(), definition: s.definition.clone(), touchpoint: None, created_at: at(0) },
            Some(record),
        )
        .await
        .unwrap();
    let found = store.idempotent_result(acme.id, "k2").await.unwrap().expect("survey record");
    assert_eq!((found.resource.as_str(), found.resource_id), ("survey", created.id.0));
    assert_eq!(store.idempotent_result(acme.id, "k3").await.unwrap(), None);
}

async fn feedback(store: Arc<dyn Store>) {
    let acme = org(&store, "acme").await;
    let c = customer(&store, acme.id, "C-1", None).await;
    let item = NewFeedback {
        text: "Me cobraron dos veces".into(),
        source: FeedbackSource::Call,
        customer_id: Some(c.id),
        captured_by_email: Some(email("agent@acme.com")),
        touchpoint: Some(label("billing")),
        occurred_at: at(5),
    };
    let record = IdempotencyRecord { key: "f1".into(), request_hash: "h".into(), resource: "feedback".into() };
    let stored = store.insert_feedback(acme.id, item.clone(), Some(record.clone())).await.unwrap();
    assert_eq!(
        (
            stored.org_id,
            stored.text.as_str(),
            stored.source,
            stored.customer_id,
            stored.captured_by_email,
            stored.touchpoint,
            stored.occurred_at
        ),
        (
            acme.id,
            "Me cobraron dos veces",
            FeedbackSource::Call,
            Some(c.id),
            item.captured_by_email.clone(),
            item.touchpoint.clone(),
            at(5)
        )
    );
    assert_eq!(store.idempotent_result(acme.id, "f1").await.unwrap().map(|r| r.resource_id), Some(stored.id.0));
    let again = store.insert_feedback(acme.id, item, Some(record)).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
}

async fn index_feed(store: Arc<dyn Store>) {
    let a = org(&store, "alpha").await;
    let b = org(&store, "beta").await;
    let sa = survey(&store, a.id).await;
    let sb = survey(&store, b.id).await;
    let ca = customer(&store, a.id, "C-1", None).await;
    let mut expected = Vec::new();
    for i in 0..6 {
        let (org_id, s, c) = if i % 2 == 0 { (a.id, &sa, Some(&ca)) } else { (b.id, &sb, None) };
        let ids = store
            .insert_responses(org_id, vec![write(new_response(s, c, (i % 11) as u8, None, i), None, false)], None)
            .await
            .unwrap();
        expected.push((ids[0].0.0, org_id));
    }
    let feed = store.index_feed(0, 100).await.unwrap();
    assert_eq!(feed.iter().map(|r| (r.id, r.org_id)).collect::<Vec<_>>(), expected, "id order across organisations");
    let first = &feed[0];
    assert_eq!((first.survey_id, first.submitted_at, first.scores.nps), (sa.id.0, at(0), Some(0)));
    assert_eq!(
        (
            first.region.as_deref(),
            first.product.as_deref(),
            first.channel.as_deref(),
            first.employee.as_deref(),
            first.touchpoint.as_deref()
        ),
        (Some("Norte"), Some("Fibra"), Some("web"), Some("agent@acme.com"), Some("billing"))
    );
    assert_eq!((first.segment.as_deref(), first.language.as_deref()), (Some("pyme"), Some("es")));
    assert_eq!(
        first.attributes,
        BTreeMap::from([("plan".to_string(), "gold".to_string())]),
        "customer attributes joined"
    );
    assert!(feed[1].attributes.is_empty(), "no customer, no attributes");

    // Paging follows the sequence.
    let page1 = store.index_feed(0, 4).await.unwrap();
    let page2 = store.index_feed(page1.last().unwrap().id, 4).await.unwrap();
    assert_eq!(page1.len() + page2.len(), 6);
    assert_eq!(page2.first().unwrap().id, expected[4].0);
    assert!(store.index_feed(expected[5].0, 10).await.unwrap().is_empty());
}

async fn cases(store: Arc<dyn Store>) {
    let acme = org(&store, "acme").await;
    let s = survey(&store, acme.id).await;
    let ana = customer(&store, acme.id, "C-1", Some("ana@acme.com")).await;
    let bob = customer(&store, acme.id, "C-2", Some("bob@acme.com")).await;
    let mut ids = Vec::new();
    for i in 0..7 {
        let c = if i % 3 == 0 { &bob } else { &ana };
        ids.push(detractor(&store, acme.id, &s, c, i).await.1);
    }
    let all = store.list_cases(acme.id, CaseFilter { limit: 100, ..Default::default() }).await.unwrap();
    let mut newest_first = ids.clone();
    newest_first.reverse();
    assert_eq!(all.iter().map(|c| c.id).collect::<Vec<_>>(), newest_first);

    // Work one case through its life cycle.
    let mut case = store.case(acme.id, ids[1]).await.unwrap().unwrap();
    let (read_at, stale) = (case.updated_at, case.clone());
    case.apply(
        CaseUpdate {
            status: Some(CaseStatus::InProgress),
            note: Some("Llamé al cliente".into()),
            ..Default::default()
        },
        "ana@acme.com",
        at(100),
    )
    .unwrap();
    store.save_case(acme.id, &case, read_at).await.unwrap();
    // A second writer that read the case before the first save loses, and nothing is overwritten.
    let mut late = stale.clone();
    late.apply(CaseUpdate { note: Some("late note".into()), ..Default::default() }, "bob@acme.com", at(150)).unwrap();
    assert!(matches!(store.save_case(acme.id, &late, read_at).await, Err(StoreError::Conflict(_))));
    case.apply(
        CaseUpdate {
            status: Some(CaseStatus::Closed),
            root_cause: Some("Cobro doble".into()),
            resolution: Some("Reembolso".into()),
            note: None,
        },
        "ana@acme.com",
        at(200),
    )
    .unwrap();
    store.save_case(acme.id, &case, at(100)).await.unwrap();
    let saved = store.case(acme.id, ids[1]).await.unwrap().unwrap();
    assert_eq!(saved, case, "every field round-trips");
    assert_eq!((saved.status, saved.closed_at, saved.notes.len()), (CaseStatus::Closed, Some(at(200)), 1));
    assert_eq!(saved.notes[0].text, "Llamé al cliente");

    // Filters.
    let open = store
        .list_cases(acme.id, CaseFilter { status: Some(CaseStatus::Open), limit: 100, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(open.len(), 6);
    assert!(open.iter().all(|c| c.status == CaseStatus::Open));
    let bobs = store
        .list_cases(acme.id, CaseFilter { owner_email: Some(email("bob@acme.com")), limit: 100, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(bobs.iter().map(|c| c.id).collect::<Vec<_>>(), vec![ids[6], ids[3], ids[0]]);
    let both = CaseFilter {
        status: Some(CaseStatus::Closed),
        owner_email: Some(email("ana@acme.com")),
        limit: 100,
        before_id: None,
        regions: None,
        teams: None,
    };
    assert_eq!(store.list_cases(acme.id, both).await.unwrap().iter().map(|c| c.id).collect::<Vec<_>>(), vec![ids[1]]);

    // Cursor paging, newest first, without gaps or repeats.
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page =
            store.list_cases(acme.id, CaseFilter { before_id: cursor, limit: 3, ..Default::default() }).await.unwrap();
        assert!(page.len() <= 3);
        let Some(last) = page.last() else { break };
        cursor = Some(last.id.0);
        seen.extend(page.iter().map(|c| c.id));
    }
    assert_eq!(seen, newest_first);
    assert_eq!(
        store.list_cases(acme.id, CaseFilter { limit: 0, ..Default::default() }).await.unwrap().len(),
        1,
        "limit at least 1"
    );

    assert_eq!(store.count_cases(acme.id, None).await.unwrap(), 7);
    assert_eq!(store.count_cases(acme.id, Some(CaseStatus::Open)).await.unwrap(), 6);
    assert_eq!(store.count_cases(acme.id, Some(CaseStatus::Closed)).await.unwrap(), 1);
    let mut ghost = case.clone();
    ghost.id = CaseId(case.id.0 + 1_000);
    assert!(matches!(store.save_case(acme.id, &ghost, ghost.updated_at).await, Err(StoreError::NotFound(_))));
}

async fn jobs(store: Arc<dyn Store>) {
    let acme = org(&store, "acme").await;
    let s = survey(&store, acme.id).await;
    let c = customer(&store, acme.id, "C-1", Some("ae@acme.com")).await;
    let before = Utc::now() - Duration::seconds(1);
    detractor(&store, acme.id, &s, &c, 0).await;
    let now = Utc::now() + Duration::seconds(1);

    assert!(store.claim_jobs(before, 10).await.unwrap().is_empty(), "nothing due yet");
    let claimed = store.claim_jobs(now, 2).await.unwrap();
    assert_eq!(claimed.len(), 2, "limit respected");
    assert!(claimed.iter().all(|j| j.status == JobStatus::Running && j.attempts == 1 && j.org_id == acme.id));
    let rest = store.claim_jobs(now, 10).await.unwrap();
    assert_eq!(rest.len(), 1, "running jobs are not handed out again");
    assert!(store.claim_jobs(now, 10).await.unwrap().is_empty());

    // Done, retried, failed for good.
    let (done, retried, failed) = (claimed[0].id, claimed[1].id, rest[0].id);
    store.complete_job(done).await.unwrap();
    store.fail_job(retried, "smtp down", Some(now + Duration::minutes(5))).await.unwrap();
    store.fail_job(failed, "no such mailbox", None).await.unwrap();
    assert!(store.claim_jobs(now + Duration::minutes(4), 10).await.unwrap().is_empty(), "retry not due yet");
    let again = store.claim_jobs(now + Duration::minutes(5), 10).await.unwrap();
    assert_eq!(again.iter().map(|j| (j.id, j.attempts)).collect::<Vec<_>>(), vec![(retried, 2)]);
    assert_eq!(again[0].last_error.as_deref(), Some("smtp down"));

    // A worker that dies loses its lease; the job is claimed again after it.
    let lease_end = now + Duration::minutes(5) + Duration::seconds(JOB_LEASE_SECONDS);
    assert!(store.claim_jobs(lease_end - Duration::seconds(1), 10).await.unwrap().is_empty());
    let reclaimed = store.claim_jobs(lease_end, 10).await.unwrap();
    assert_eq!(reclaimed.iter().map(|j| (j.id, j.attempts)).collect::<Vec<_>>(), vec![(retried, 3)]);
    store.complete_job(retried).await.unwrap();

    let listed: BTreeMap<JobId, JobStatus> =
        store.list_jobs(acme.id, 10).await.unwrap().into_iter().map(|j| (j.id, j.status)).collect();
    assert_eq!(
        listed,
        BTreeMap::from([(done, JobStatus::Done), (retried, JobStatus::Done), (failed, JobStatus::Failed)])
    );
    assert!(matches!(store.complete_job(JobId(999_999)).await, Err(StoreError::NotFound(_))));
    assert!(matches!(store.fail_job(JobId(999_999), "x", None).await, Err(StoreError::NotFound(_))));
    assert!(store.claim_jobs(lease_end + Duration::days(1), 0).await.unwrap().is_empty());
}

async fn concurrent_claimers(store: Arc<dyn Store>) {
    let acme = org(&store, "acme").await;
    let s = survey(&store, acme.id).await;
    let items: Vec<ResponseWrite> =
        (0..450).map(|i| write(new_response(&s, None, 7, Some("texto"), i), None, true)).collect();
    store.insert_responses(acme.id, items, None).await.unwrap();
    let now = Utc::now() + Duration::seconds(1);
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let batch = store.claim_jobs(now, 13).await.expect("claim");
                    if batch.is_empty() {
                        return mine;
                    }
                    mine.extend(batch.into_iter().map(|j| j.id));
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut busy_workers = 0;
    for w in workers {
        let mine = w.await.expect("worker");
        busy_workers += usize::from(!mine.is_empty());
        all.extend(mine);
    }
    let unique: BTreeSet<JobId> = all.iter().copied().collect();
    assert_eq!(unique.len(), all.len(), "no job claimed twice");
    assert_eq!(all.len(), 450, "every job claimed once");
    eprintln!("{} claimers took jobs", busy_workers);
}

// ---------------------------------------------------------------------------------------------
// Governance: security policy, incidents, retention

/// Midnight plus `n` days after the fixed instant of [`at`].
fn day(n: i64) -> DateTime<Utc> {
    at(n * 24 * 60)
}

fn policy_fields(kind: &str, status: &str, review: &str) -> PolicyItemFields {
    PolicyItemInput {
        kind: Some(kind.into()),
        title: Some(format!("{kind} item")),
        objective: Some("Proteger los datos de clientes".into()),
        scope: Some("Todo el personal".into()),
        owner_email: Some("dpo@acme.com".into()),
        review_date: Some(review.into()),
        status: Some(status.into()),
    }
    .parse()
    .expect("valid policy item")
}

async fn security_policy_items(store: Arc<dyn Store>) {
    let acme = org(&store, "acme").await;
    let other = org(&store, "other").await;
    let principle =
        store.create_policy_item(acme.id, &policy_fields("principle", "active", "2026-06-30"), at(0)).await.unwrap();
    assert_eq!(
        (principle.org_id, principle.fields.kind, principle.created_at),
        (acme.id, PolicyKind::Principle, at(0))
    );
    let audit =
        store.create_policy_item(acme.id, &policy_fields("audit", "active", "2026-02-01"), at(1)).await.unwrap();
    let draft =
        store.create_policy_item(acme.id, &policy_fields("supervision", "draft", "2027-01-01"), at(2)).await.unwrap();
    store.create_policy_item(other.id, &policy_fields("audit", "active", "2026-01-01"), at(3)).await.unwrap();

    let listed: Vec<PolicyItemId> = store.list_policy_items(acme.id).await.unwrap().iter().map(|i| i.id).collect();
    assert_eq!(listed, vec![draft.id, audit.id, principle.id], "newest first, own organisation only");
    assert_eq!(store.policy_item(acme.id, audit.id).await.unwrap().as_ref(), Some(&audit), "reads back equal");
    assert_eq!(store.policy_item(other.id, audit.id).await.unwrap(), None, "another organisation's item is absent");

    // Reviewing the audit item moves its date on.
    let mut reviewed = audit.fields.clone();
    reviewed.review_date = NaiveDate::from_ymd_opt(2027, 2, 1).unwrap();
    let updated = store.update_policy_item(acme.id, audit.id, &reviewed, at(10)).await.unwrap();
    assert_eq!(
        (updated.fields.review_date, updated.created_at, updated.updated_at),
        (reviewed.review_date, at(1), at(10))
    );
    let missing = store.update_policy_item(other.id, audit.id, &reviewed, at(10)).await;
    assert!(matches!(missing, Err(StoreError::NotFound(_))), "{missing:?}");

    // On 2026-03-01: principle (active, due 2026-06-30) and audit (active, due 2027-02-01) are in
    // time; the draft is not in force; nothing is overdue.
    let today = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
    let stats = store.policy_stats(acme.id, today).await.unwrap();
    assert_eq!((stats.items, stats.active, stats.active_reviewed_in_time, stats.overdue), (3, 2, 2, 0), "{stats:?}");
    assert_eq!(stats.kinds_covered, vec![PolicyKind::Principle, PolicyKind::Audit]);
    // On 2026-07-01 the principle and… nothing else is overdue (the draft is due in 2027).
    let later = store.policy_stats(acme.id, NaiveDate::from_ymd_opt(2026, 7, 1).unwrap()).await.unwrap();
    assert_eq!((later.active_reviewed_in_time, later.overdue), (1, 1));

    assert!(matches!(store.delete_policy_item(other.id, draft.id).await, Err(StoreError::NotFound(_))));
    store.delete_policy_item(acme.id, draft.id).await.unwrap();
    assert!(matches!(store.delete_policy_item(acme.id, draft.id).await, Err(StoreError::NotFound(_))));
    assert_eq!(store.list_policy_items(acme.id).await.unwrap().len(), 2);
    assert_eq!(store.list_policy_items(other.id).await.unwrap().len(), 1);
}

fn incident_fields(detected: i64, closed: Option<i64>) -> IncidentFields {
    IncidentInput {
        title: Some("Portátil perdido".into()),
        description: Some("Olvidado en un taxi".into()),
        occurred_at: Some(at(detected - 60).to_rfc3339()),
        detected_at: Some(at(detected).to_rfc3339()),
        data_affected: Some("Nombres y correos".into()),
        customers_affected: Some(120),
        severity: Some("high".into()),
        actions_taken: closed.map(|_| "Borrado remoto".into()),
        notified_to: Some(vec!["DPO".into(), "Autoridad".into()]),
        closed_at: closed.map(|c| at(c).to_rfc3339()),
    }
    .parse(at(100_000))
    .expect("valid incident")
}

async fn incident_register(store: Arc<dyn Store>) {
    let acme = org(&store, "acme").await;
    let other = org(&store, "other").await;
    // Detected at minute 0, closed 10 h later; detected at day 1, closed 30 h later; one open.
    let first = store.create_incident(acme.id, &incident_fields(0, Some(600)), "ana@acme.com", at(5)).await.unwrap();
    assert_eq!(first.fields, incident_fields(0, Some(600)), "reads back equal");
    assert_eq!((first.reported_by.as_str(), first.created_at), ("ana@acme.com", at(5)));
    let second = store
        .create_incident(acme.id, &incident_fields(24 * 60, Some(24 * 60 + 1_800)), "ana@acme.com", at(24 * 60))
        .await
        .unwrap();
    let open = store.create_incident(acme.id, &incident_fields(3_000, None), "bob@acme.com", at(3_000)).await.unwrap();
    store.create_incident(other.id, &incident_fields(0, None), "x@other.com", at(0)).await.unwrap();

    let ids = |v: Vec<escucha_core::governance::Incident>| v.iter().map(|i| i.id).collect::<Vec<_>>();
    let all = store.list_incidents(acme.id, IncidentFilter { limit: 50, ..Default::default() }).await.unwrap();
    assert_eq!(ids(all), vec![open.id, second.id, first.id]);
    let only_open = store.list_incidents(acme.id, IncidentFilter { open: Some(true), limit: 50, ..Default::default() });
    assert_eq!(ids(only_open.await.unwrap()), vec![open.id]);
    let closed = store.list_incidents(acme.id, IncidentFilter { open: Some(false), limit: 50, ..Default::default() });
    assert_eq!(ids(closed.await.unwrap()), vec![second.id, first.id]);
    let page = store
        .list_incidents(acme.id, IncidentFilter { before_id: Some(second.id.0), limit: 50, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(ids(page), vec![first.id]);
    assert_eq!(store.incident(other.id, first.id).await.unwrap(), None);

    // Mean time to close: (10 h + 30 h) / 2 = 20 h.
    let stats = store.incident_stats(acme.id, None).await.unwrap();
    assert_eq!((stats.total, stats.open, stats.closed, stats.mean_hours_to_close), (3, 1, 2, Some(20.0)));
    let recent = store.incident_stats(acme.id, Some(at(60))).await.unwrap();
    assert_eq!((recent.total, recent.open, recent.closed, recent.mean_hours_to_close), (2, 1, 1, Some(30.0)));

    // Closing the open one 2 h after detection: mean (10 + 30 + 2) / 3 = 14 h.
    let closing = incident_fields(3_000, Some(3_120));
    let updated = store.update_incident(acme.id, open.id, &closing, at(3_120)).await.unwrap();
    assert_eq!(
        (updated.fields.closed_at, updated.created_at, updated.updated_at),
        (Some(at(3_120)), at(3_000), at(3_120))
    );
    let stats = store.incident_stats(acme.id, None).await.unwrap();
    assert_eq!((stats.open, stats.closed, stats.mean_hours_to_close), (0, 3, Some(14.0)));
    assert!(matches!(store.update_incident(other.id, open.id, &closing, at(1)).await, Err(StoreError::NotFound(_))));
    assert_eq!(store.incident_stats(other.id, None).await.unwrap().open, 1);
}

async fn retention_rules_and_sweeps(store: Arc<dyn Store>) {
    use RetentionSweep::*;
    let acme = org(&store, "acme").await;
    let other = org(&store, "other").await;

    // Rules: none, then set, then replaced; only organisations with rules are listed.
    assert!(store.retention_rules(acme.id).await.unwrap().is_empty());
    let rules = |v: serde_json::Value| serde_json::from_value::<RetentionRulesInput>(v).unwrap().parse().unwrap();
    let first = rules(json!({"rules": [{"kind": "audit_log", "months": 24}, {"kind": "free_text", "months": 6}]}));
    store.set_retention_rules(acme.id, &first, at(0)).await.unwrap();
    assert_eq!(store.retention_rules(acme.id).await.unwrap(), first);
    let second = rules(json!({"rules": [{"kind": "inactive_customer_contact", "months": 36}]}));
    store.set_retention_rules(acme.id, &second, at(1)).await.unwrap();
    assert_eq!(store.retention_rules(acme.id).await.unwrap(), second);
    assert_eq!(store.orgs_with_retention_rules().await.unwrap(), vec![acme.id]);
    assert!(store.retention_rules(other.id).await.unwrap().is_empty());

    // Data: cut-off at day 30. Every customer was last updated at minute 0.
    let cutoff = day(30);
    let now = day(60);
    let s = survey(&store, acme.id).await;
    let old = customer(&store, acme.id, "R-OLD", None).await;
    let answered = customer(&store, acme.id, "R-RESP", None).await;
    let told = customer(&store, acme.id, "R-FB", None).await;
    customer(&store, acme.id, "R-UPD", None).await;
    let with_case = customer(&store, acme.id, "R-CASE", Some("ana@acme.com")).await;
    store
        .upsert_customers(
            acme.id,
            vec![(ext("R-UPD"), CustomerPatch { segment: Patch::Set(label("pyme")), ..Default::default() })],
            day(40),
        )
        .await
        .unwrap();
    let old_response = store
        .insert_responses(
            acme.id,
            vec![
                write(new_response(&s, Some(&old), 2, Some("Cobro doble"), 10), None, false),
                write(new_response(&s, None, 9, None, 10), None, false),
                write(new_response(&s, Some(&answered), 3, Some("Lento"), 40 * 24 * 60), None, false),
            ],
            None,
        )
        .await
        .unwrap()[0]
        .0;
    let (case_response, case_id) = detractor(&store, acme.id, &s, &with_case, 10).await;
    for (customer, occurred) in [(&old, at(10)), (&told, day(40))] {
        let item = NewFeedback {
            text: "Llamó enfadado".into(),
            source: FeedbackSource::Call,
            customer_id: Some(customer.id),
            captured_by_email: None,
            touchpoint: None,
            occurred_at: occurred,
        };
        store.insert_feedback(acme.id, item, None).await.unwrap();
    }
    for (i, when) in [at(0), at(10), day(40)].into_iter().enumerate() {
        let entry = NewAuditEntry {
            at: when,
            actor: "ana@acme.com".into(),
            action: format!("test.{i}"),
            target: None,
            detail: json!({}),
            ip: None,
        };
        store.append_audit(acme.id, entry.clone()).await.unwrap();
        if i == 0 {
            store.append_audit(other.id, entry).await.unwrap();
        }
    }

    // Inactive since the cut-off: R-OLD only (R-RESP answered, R-FB was heard, R-UPD was updated
    // at day 40, R-CASE has an open case).
    assert_eq!(store.inactive_customers(acme.id, cutoff, None, 100).await.unwrap(), vec![old.id]);
    // Once its case is closed (day 5, before the cut-off) R-CASE is inactive too.
    let mut case = store.case(acme.id, case_id).await.unwrap().unwrap();
    let read_at = case.updated_at;
    case.apply(
        CaseUpdate {
            status: Some(CaseStatus::Closed),
            resolution: Some("Reembolso".into()),
            note: Some("Llamé al cliente".into()),
            ..Default::default()
        },
        "ana@acme.com",
        day(5),
    )
    .unwrap();
    store.save_case(acme.id, &case, read_at).await.unwrap();
    assert_eq!(store.inactive_customers(acme.id, cutoff, None, 100).await.unwrap(), vec![old.id, with_case.id]);
    assert_eq!(store.inactive_customers(acme.id, cutoff, Some(old.id), 100).await.unwrap(), vec![with_case.id]);
    assert_eq!(store.inactive_customers(acme.id, cutoff, None, 1).await.unwrap(), vec![old.id], "paged");
    assert!(store.inactive_customers(other.id, cutoff, None, 100).await.unwrap().is_empty());

    // Free text before the cut-off: R-OLD's and R-CASE's responses (R-RESP's is recent, the
    // anonymous promoter wrote nothing).
    let texts = store.responses_with_text_before(acme.id, cutoff, None, 100).await.unwrap();
    assert_eq!(texts.iter().map(|r| r.id).collect::<Vec<_>>(), vec![old_response, case_response]);
    let after_first = store.responses_with_text_before(acme.id, cutoff, Some(old_response), 100).await.unwrap();
    assert_eq!(after_first.len(), 1);

    // Dry runs count and change nothing: feedback 1 (R-OLD's), audit 2 (minutes 0 and 10),
    // closed case notes 1 (R-CASE's case, closed at day 5).
    for _ in 0..2 {
        assert_eq!(store.retention_sweep(acme.id, FeedbackText, cutoff, now, true).await.unwrap(), 1);
        assert_eq!(store.retention_sweep(acme.id, AuditLog, cutoff, now, true).await.unwrap(), 2);
        assert_eq!(store.retention_sweep(acme.id, ClosedCaseNotes, cutoff, now, true).await.unwrap(), 1);
    }
    // Applied: the same counts, then nothing left to do.
    assert_eq!(store.retention_sweep(acme.id, FeedbackText, cutoff, now, false).await.unwrap(), 1);
    assert_eq!(store.retention_sweep(acme.id, AuditLog, cutoff, now, false).await.unwrap(), 2);
    assert_eq!(store.retention_sweep(acme.id, ClosedCaseNotes, cutoff, now, false).await.unwrap(), 1);
    for sweep in [FeedbackText, AuditLog, ClosedCaseNotes] {
        assert_eq!(store.retention_sweep(acme.id, sweep, cutoff, now, false).await.unwrap(), 0, "{sweep:?} again");
    }
    let feedback = store.feedback_of_customer(acme.id, old.id, 10).await.unwrap();
    assert_eq!(feedback[0].text.as_str(), escucha_store::REDACTED_TEXT);
    assert_eq!(store.feedback_of_customer(acme.id, told.id, 10).await.unwrap()[0].text.as_str(), "Llamó enfadado");
    let audit = store.list_audit(acme.id, AuditFilter { limit: 10, ..Default::default() }).await.unwrap();
    assert_eq!(audit.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["test.2"]);
    assert_eq!(store.list_audit(other.id, AuditFilter { limit: 10, ..Default::default() }).await.unwrap().len(), 1);
    let case = store.case(acme.id, case_id).await.unwrap().unwrap();
    assert!(case.notes.is_empty());
    assert_eq!((case.updated_at, case.resolution.as_deref()), (now, Some("Reembolso")), "outcome kept, stamped");

    // Redacting free text keeps the scores.
    let redacted: Vec<_> = texts.iter().map(|r| (r.id, s.definition.without_free_text(&r.answers))).collect();
    assert_eq!(store.redact_responses(acme.id, redacted.clone()).await.unwrap(), 2);
    assert_eq!(store.redact_responses(acme.id, redacted).await.unwrap(), 0, "already redacted");
    assert!(store.responses_with_text_before(acme.id, cutoff, None, 100).await.unwrap().is_empty());
    let r = store.response(acme.id, old_response).await.unwrap().unwrap();
    assert_eq!((r.verbatim.as_deref(), r.answers.contains_key("why"), r.scores.nps), (None, false, Some(2)));

    // Erasing the inactive customers keeps their scores in the analytics feed.
    for c in [old.id, with_case.id] {
        store.erase_customer(acme.id, c, Vec::new(), now).await.unwrap();
    }
    assert!(store.inactive_customers(acme.id, cutoff, None, 100).await.unwrap().is_empty(), "erased ones are done");
    let feed = store.index_feed(0, 100).await.unwrap();
    let mut nps: Vec<u8> = feed.iter().filter(|row| row.org_id == acme.id).filter_map(|row| row.scores.nps).collect();
    nps.sort_unstable();
    assert_eq!(nps, vec![2, 2, 3, 9], "every score still counts");
}

// ---------------------------------------------------------------------------------------------
// Migrations and speed

/// Number of migration files of a backend.
fn migration_files(flavour: &str) -> i64 {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(flavour);
    std::fs::read_dir(dir)
        .expect("migrations folder")
        .filter(|e| e.as_ref().is_ok_and(|e| e.path().extension().is_some_and(|x| x == "sql")))
        .count() as i64
}

#[tokio::test]
async fn sqlite_migrations_apply_to_an_empty_database() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("nested/folder/escucha.db").display());
    let ring = keys();
    let store = SqliteStore::connect(&url, ring.clone()).await.expect("migrate an empty database, creating its folder");
    let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(applied, migration_files("sqlite"));
    let journal: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(store.pool()).await.unwrap();
    let fks: i64 = sqlx::query_scalar("PRAGMA foreign_keys").fetch_one(store.pool()).await.unwrap();
    let sync: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(store.pool()).await.unwrap();
    assert_eq!((journal.as_str(), fks, sync), ("wal", 1, 2), "WAL, foreign keys on, synchronous FULL");
    store.close().await;
    let again = SqliteStore::connect(&url, ring).await.expect("reconnecting applies nothing new");
    let applied: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations").fetch_one(again.pool()).await.unwrap();
    assert_eq!(applied, migration_files("sqlite"));
    assert_eq!(format!("{again:?}"), "SqliteStore { .. }", "Debug shows no connection options");
    let memory = SqliteStore::connect("sqlite::memory:", keys()).await.expect("in-memory database");
    assert_eq!(memory.count_customers(OrgId(1)).await.unwrap(), 0);
}

#[tokio::test]
async fn postgres_migrations_apply_to_an_empty_database() {
    let Some(db) = PgDb::new().await else { return };
    let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert_eq!(applied, migration_files("postgres"));
    let again = PostgresStore::connect(&with_database(&db.admin_url, &db.name), db.ring.clone())
        .await
        .expect("reconnecting applies nothing new");
    let applied: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations").fetch_one(again.pool()).await.unwrap();
    assert_eq!(applied, migration_files("postgres"));
    again.close().await;
}

#[test]
fn test_database_urls_keep_credentials_and_options() {
    assert_eq!(with_database("postgres://u:p@h:5432/test", "x"), "postgres://u:p@h:5432/x");
    assert_eq!(with_database("postgres://u@h/test?sslmode=disable", "x"), "postgres://u@h/x?sslmode=disable");
    assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
}

/// Loads `total` responses in batches, a fifth of them detractors opening cases, as the demo
/// loader does; returns responses per second.
async fn bulk_load(store: Arc<dyn Store>, total: usize, batch: usize) -> f64 {
    let acme = org(&store, "acme").await;
    let s = survey(&store, acme.id).await;
    let customers: Vec<Customer> = store
        .upsert_customers(
            acme.id,
            (0..1_000)
                .map(|i| {
                    (
                        ext(&format!("C-{i:05}")),
                        CustomerPatch {
                            owner_email: Patch::Set(email("ae@acme.com")),
                            region: Patch::Set(label("Norte")),
                            ..Default::default()
                        },
                    )
                })
                .collect(),
            at(0),
        )
        .await
        .unwrap()
        .into_iter()
        .map(|(c, _)| c)
        .collect();
    let template = new_response(&s, Some(&customers[0]), 9, Some("Todo bien, gracias"), 0);
    let mut written = Vec::new();
    let started = Instant::now();
    for start in (0..total).step_by(batch) {
        let items = (start..(start + batch).min(total))
            .map(|i| {
                let c = &customers[i % customers.len()];
                let mut r = template.clone();
                r.customer_id = Some(c.id);
                r.scores.nps = Some((i % 11) as u8);
                r.submitted_at = at(-((i % 1_000_000) as i64));
                let case = (i % 5 == 0).then(|| new_case(c, Some("boss@acme.com"), 0));
                write(r, case, false)
            })
            .collect();
        let ids = store.insert_responses(acme.id, items, None).await.unwrap();
        assert_eq!(ids.len(), (start + batch).min(total) - start);
        written.push((start, ids));
    }
    let secs = started.elapsed().as_secs_f64();
    // Ids come back in input order: spot-check responses and cases of every batch.
    for (start, ids) in &written {
        for offset in [0, 1, 5, ids.len() - 1] {
            let i = start + offset;
            let (rid, cid) = ids[offset];
            let r = store.response(acme.id, rid).await.unwrap().expect("response");
            assert_eq!(
                (r.scores.nps, r.customer_id),
                (Some((i % 11) as u8), Some(customers[i % customers.len()].id)),
                "item {i}"
            );
            assert_eq!(cid.is_some(), i % 5 == 0, "item {i}");
            if let Some(cid) = cid {
                assert_eq!(store.case(acme.id, cid).await.unwrap().expect("case").response_id, Some(rid));
            }
        }
    }
    assert_eq!(store.count_responses(acme.id).await.unwrap(), total as i64);
    assert_eq!(store.count_cases(acme.id, None).await.unwrap(), total.div_ceil(5) as i64);
    total as f64 / secs
}

/// The demo loader's load: 100,000 responses in batches of 5,000 into SQLite; prints the rate.
/// Run it with `cargo test --release -p escucha-store --test conformance bulk -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: run with --release --ignored"]
async fn bulk_insert_100k_responses_sqlite() {
    let db = SqliteDb::new().await;
    let rate = bulk_load(db.store.clone(), 100_000, 5_000).await;
    println!("SQLite: {rate:.0} responses/s ({:.1} s for 100,000 in batches of 5,000)", 100_000.0 / rate);
}

/// The same load on PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: run with --release --ignored"]
async fn bulk_insert_100k_responses_postgres() {
    let Some(db) = PgDb::new().await else { return };
    let rate = bulk_load(db.store.clone(), 100_000, 5_000).await;
    println!("PostgreSQL: {rate:.0} responses/s ({:.1} s for 100,000 in batches of 5,000)", 100_000.0 / rate);
}

/// A small bulk load in every test run, so the batch path is exercised on both backends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_insert_in_batches_sqlite() {
    let db = SqliteDb::new().await;
    let rate = bulk_load(db.store.clone(), 4_000, 1_000).await;
    eprintln!("SQLite (debug build): {rate:.0} responses/s");
}

/// The same small bulk load on PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_insert_in_batches_postgres() {
    let Some(db) = PgDb::new().await else { return };
    let rate = bulk_load(db.store.clone(), 4_000, 1_000).await;
    eprintln!("PostgreSQL (debug build): {rate:.0} responses/s");
}

async fn custom_roles_and_user_scopes(store: Arc<dyn Store>) {
    let acme = org(&store, "acme").await;
    let other = org(&store, "other").await;
    let auditor = CustomRole::new("auditor", PermissionSet::of(&[Permission::ReadAudit, Permission::ReadMetrics]))
        .expect("role name");
    assert!(store.upsert_role(acme.id, &auditor).await.unwrap(), "created");
    let wider = CustomRole::new("auditor", PermissionSet::of(&[Permission::ReadAudit])).unwrap();
    assert!(!store.upsert_role(acme.id, &wider).await.unwrap(), "replaced");
    assert_eq!(store.list_roles(acme.id).await.unwrap(), vec![wider.clone()]);
    assert!(store.list_roles(other.id).await.unwrap().is_empty(), "roles belong to one organisation");

    let scope = DataScope::Regions(vec!["Norte".into(), "Sur".into()]);
    let fields = UserFields {
        role: Some(Role::Manager),
        custom_role: Some(Some("auditor".into())),
        scope: Some(Some(scope.clone())),
        ..Default::default()
    };
    let (eva, created) = store.upsert_user(acme.id, &email("eva@acme.com"), fields).await.unwrap();
    assert!(created);
    assert_eq!((eva.custom_role.as_deref(), eva.scope.as_ref()), (Some("auditor"), Some(&scope)));
    // Absent fields keep their value…
    let (eva, _) = store
        .upsert_user(acme.id, &eva.email, UserFields { name: Some(label("Eva")), ..Default::default() })
        .await
        .unwrap();
    assert_eq!((eva.custom_role.as_deref(), eva.scope.as_ref()), (Some("auditor"), Some(&scope)));
    assert_eq!(store.user(acme.id, eva.id).await.unwrap().unwrap(), eva, "read back equal");
    // …and the role cannot go while Eva holds it.
    assert!(matches!(store.delete_role(acme.id, "auditor").await, Err(StoreError::Conflict(_))));
    // Explicit nulls clear them.
    let clear = UserFields { custom_role: Some(None), scope: Some(None), ..Default::default() };
    let (eva, _) = store.upsert_user(acme.id, &eva.email, clear).await.unwrap();
    assert_eq!((eva.custom_role, eva.scope), (None, None));
    store.delete_role(acme.id, "auditor").await.unwrap();
    assert!(store.list_roles(acme.id).await.unwrap().is_empty());
    assert!(matches!(store.delete_role(acme.id, "auditor").await, Err(StoreError::NotFound(_))));
}

async fn team_tree_and_team_scoped_cases(store: Arc<dyn Store>) {
    let acme = org(&store, "acme").await;
    store.set_team(acme.id, "Ventas", None).await.unwrap();
    store.set_team(acme.id, "Ventas Norte", Some("Ventas")).await.unwrap();
    store.set_team(acme.id, "Ventas Norte A", Some("Ventas Norte")).await.unwrap();
    assert!(
        matches!(store.set_team(acme.id, "Ventas", Some("Ventas Norte A")).await, Err(StoreError::Conflict(_))),
        "a team cannot go under its own sub-team"
    );
    let teams = store.list_teams(acme.id).await.unwrap();
    let pairs: Vec<(&str, Option<&str>)> = teams.iter().map(|t| (t.name.as_str(), t.parent.as_deref())).collect();
    assert_eq!(
        pairs,
        vec![("Ventas", None), ("Ventas Norte", Some("Ventas")), ("Ventas Norte A", Some("Ventas Norte"))]
    );
    // Case owners belong to teams; a team scope sees the cases its members own.
    for (who, team) in [("ana@acme.com", "Ventas Norte A"), ("bob@acme.com", "Soporte")] {
        let fields = UserFields { team: Some(label(team)), ..Default::default() };
        store.upsert_user(acme.id, &email(who), fields).await.unwrap();
    }
    let s = survey(&store, acme.id).await;
    let ana_customer = customer(&store, acme.id, "C-A", Some("ana@acme.com")).await;
    let bob_customer = customer(&store, acme.id, "C-B", Some("bob@acme.com")).await;
    let (_, ana_case) = detractor(&store, acme.id, &s, &ana_customer, 1).await;
    let (_, bob_case) = detractor(&store, acme.id, &s, &bob_customer, 2).await;
    let list = |teams: Option<Vec<&str>>, regions: Option<Vec<&str>>| {
        let store = store.clone();
        let filter = CaseFilter {
            limit: 50,
            teams: teams.map(|t| t.into_iter().map(String::from).collect()),
            regions: regions.map(|r| r.into_iter().map(String::from).collect()),
            ..Default::default()
        };
        async move { store.list_cases(acme.id, filter).await.expect("list").iter().map(|c| c.id).collect::<Vec<_>>() }
    };
    assert_eq!(list(Some(vec!["Ventas Norte A", "Ventas Norte"]), None).await, vec![ana_case]);
    assert_eq!(list(Some(vec!["Soporte"]), None).await, vec![bob_case]);
    assert_eq!(list(Some(vec!["Soporte"]), Some(vec!["Sur"])).await, Vec::<CaseId>::new(), "both must hold");
    assert_eq!(list(Some(vec!["Soporte"]), Some(vec!["Norte"])).await, vec![bob_case]);
    assert_eq!(list(Some(vec![]), None).await, Vec::<CaseId>::new(), "an empty scope sees nothing");
}

async fn customers_found_by_email_blind_index(store: Arc<dyn Store>) {
    let acme = org(&store, "acme").await;
    let other = org(&store, "other").await;
    let with_email = |e: &str| CustomerPatch { email: Patch::Set(email(e)), ..Default::default() };
    store
        .upsert_customers(
            acme.id,
            vec![
                (ext("A-1"), with_email("Maria.Lopez@Example.com")),
                (ext("A-2"), with_email("maria.lopez@example.com")),
                (ext("A-3"), with_email("otro@example.com")),
            ],
            at(0),
        )
        .await
        .unwrap();
    store.upsert_customers(other.id, vec![(ext("B-1"), with_email("maria.lopez@example.com"))], at(0)).await.unwrap();
    let found = store.customers_by_email(acme.id, &email(" MARIA.LOPEZ@example.com")).await.unwrap();
    let ids: Vec<&str> = found.iter().map(|c| c.external_id.as_str()).collect();
    assert_eq!(ids, vec!["A-1", "A-2"], "case-insensitive, this organisation only");
    assert_eq!(found[0].email.as_ref().map(Email::as_str), Some("maria.lopez@example.com"));
    // A changed e-mail moves the index; erasure removes it.
    store.upsert_customers(acme.id, vec![(ext("A-2"), with_email("nueva@example.com"))], at(1)).await.unwrap();
    assert_eq!(store.customers_by_email(acme.id, &email("maria.lopez@example.com")).await.unwrap().len(), 1);
    let a1 = store.customer_by_external_id(acme.id, "A-1").await.unwrap().unwrap();
    store.erase_customer(acme.id, a1.id, vec![], at(2)).await.unwrap();
    assert!(store.customers_by_email(acme.id, &email("maria.lopez@example.com")).await.unwrap().is_empty());
    assert_eq!(store.customers_by_email(acme.id, &email("nueva@example.com")).await.unwrap().len(), 1);
}

async fn token_scopes_round_trip(store: Arc<dyn Store>) {
    let acme = org(&store, "acme").await;
    let scopes = vec![TokenScope::ReadMetrics, TokenScope::WriteResponses];
    let token = store
        .create_token(
            acme.id,
            NewToken {
                name: "bi".into(),
                role: Role::Analyst,
                user_id: None,
                hash: "scoped".into(),
                expires_at: None,
                scopes: scopes.clone(),
            },
        )
        .await
        .unwrap();
    assert_eq!(token.scopes, scopes);
    assert_eq!(store.token_by_hash("scoped").await.unwrap().unwrap().scopes, scopes);
    // One read gives the token and, for a token acting as a user, the user.
    let (found, user) = store.token_and_user_by_hash("scoped").await.unwrap().unwrap();
    assert_eq!((found, user), (token.clone(), None));
    let fields = UserFields {
        role: Some(Role::Manager),
        region: Some(label("Norte")),
        custom_role: Some(Some("auditor".into())),
        scope: Some(Some(DataScope::Teams(vec!["Ventas".into()]))),
        ..Default::default()
    };
    let (eva, _) = store.upsert_user(acme.id, &email("eva@acme.com"), fields).await.unwrap();
    let acting = NewToken {
        name: "eva".into(),
        role: Role::Manager,
        user_id: Some(eva.id),
        hash: "acting".into(),
        expires_at: None,
        scopes: vec![TokenScope::Admin],
    };
    let acting = store.create_token(acme.id, acting).await.unwrap();
    assert_eq!(store.token_and_user_by_hash("acting").await.unwrap(), Some((acting, Some(eva))));
    assert_eq!(store.token_and_user_by_hash("nope").await.unwrap(), None);
    let listed = store.list_tokens(acme.id).await.unwrap();
    assert_eq!(listed.iter().find(|t| t.name == "bi").map(|t| t.scopes.clone()), Some(scopes));
}

/// Key rotation and the key-ring check, on one database reopened with different rings:
/// `open(ring)` connects to the same database each time.
async fn key_rotation<F, Fut>(first: escucha_store::crypto::KeyRing, open: F)
where
    F: Fn(escucha_store::crypto::KeyRing) -> Fut,
    Fut: std::future::Future<Output = Result<Arc<dyn Store>, StoreError>>,
{
    let store = open(first.clone()).await.expect("open with the first key");
    let acme = org(&store, "acme").await;
    let patch = CustomerPatch {
        name: Patch::Set("Marta Ruiz".into()),
        email: Patch::Set(email("marta@example.com")),
        phone: Patch::Set("+34 600 111 222".into()),
        ..Default::default()
    };
    store.upsert_customers(acme.id, vec![(ext("K-1"), patch)], at(0)).await.unwrap();
    customer(&store, acme.id, "K-2", None).await;
    drop(store);

    // Another key altogether: refused at start, before anything is written with it.
    let stranger = open(keys()).await.err().expect("a foreign key ring is refused");
    assert!(matches!(stranger, StoreError::Config(ref m) if m.contains("does not match")), "{stranger}");

    // Rotation: the ring gains a key, everything is re-sealed under it, lookups still work.
    let rotated = first.with_new_key().unwrap();
    let store = open(rotated.clone()).await.expect("open with the rotated ring");
    assert_eq!(store.reseal_personal_data().await.unwrap(), 2, "both customers have contact data");
    let k1 = store.customer_by_external_id(acme.id, "K-1").await.unwrap().unwrap();
    assert_eq!((k1.name.as_deref(), k1.phone.as_deref()), (Some("Marta Ruiz"), Some("+34 600 111 222")));
    assert_eq!(store.customers_by_email(acme.id, &email("marta@example.com")).await.unwrap().len(), 1);
    drop(store);

    // Data is now sealed under the new key: a process still on the old ring alone is refused.
    let stale = open(first).await.err().expect("a ring without the current key is refused");
    assert!(matches!(stale, StoreError::Config(ref m) if m.contains("lacks")), "{stale}");
    let store = open(rotated).await.expect("the rotated ring still opens");
    assert_eq!(
        store.customer_by_external_id(acme.id, "K-1").await.unwrap().unwrap().name.as_deref(),
        Some("Marta Ruiz")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_rotation_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("escucha.db").display());
    key_rotation(keys(), |ring| {
        let url = url.clone();
        async move { SqliteStore::connect(&url, ring).await.map(|s| Arc::new(s) as Arc<dyn Store>) }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_rotation_postgres() {
    let Some(db) = PgDb::new().await else { return };
    let url = with_database(&db.admin_url, &db.name);
    key_rotation(db.ring.clone(), |ring| {
        let url = url.clone();
        async move { PostgresStore::connect(&url, ring).await.map(|s| Arc::new(s) as Arc<dyn Store>) }
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// Sign-in security

fn lockout_policy() -> escucha_core::lockout::LockoutPolicy {
    escucha_core::lockout::LockoutPolicy {
        max_failures: 3,
        window: Duration::minutes(15),
        base_lockout: Duration::minutes(1),
        max_lockout: Duration::hours(1),
        forget_after: Duration::hours(24),
    }
}

async fn shared_sign_in_lockouts(store: Arc<dyn Store>) {
    let p = lockout_policy();
    assert_eq!(store.record_failed_attempt("acct:a", &p, at(0)).await.unwrap(), None);
    assert_eq!(store.record_failed_attempt("acct:a", &p, at(0)).await.unwrap(), None);
    assert_eq!(store.attempt_lock("acct:a", at(0)).await.unwrap(), None);
    assert_eq!(
        store.record_failed_attempt("acct:a", &p, at(1)).await.unwrap(),
        Some(at(2)),
        "third failure locks 1 min"
    );
    assert_eq!(store.attempt_lock("acct:a", at(1)).await.unwrap(), Some(at(2)));
    assert_eq!(store.attempt_lock("acct:b", at(1)).await.unwrap(), None, "keys are independent");
    assert_eq!(store.attempt_lock("acct:a", at(2)).await.unwrap(), None, "unlocked at its end");
    // The next lockout is twice as long: the history is kept in the database.
    for _ in 0..2 {
        store.record_failed_attempt("acct:a", &p, at(3)).await.unwrap();
    }
    assert_eq!(store.record_failed_attempt("acct:a", &p, at(3)).await.unwrap(), Some(at(5)));
    // Success clears the account.
    store.clear_failed_attempts("acct:a").await.unwrap();
    assert_eq!(store.attempt_lock("acct:a", at(3)).await.unwrap(), None);

    // Many concurrent failures on one key (as from several server processes) each count once:
    // 9 failures with a limit of 3 make exactly three lockouts, of 1, 2 and 4 minutes.
    let tasks: Vec<_> = (0..9)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.record_failed_attempt("ip:1.2.3.4", &lockout_policy(), at(10)).await })
        })
        .collect();
    let mut ends = Vec::new();
    for t in tasks {
        if let Some(end) = t.await.unwrap().unwrap() {
            ends.push(end);
        }
    }
    ends.sort();
    assert_eq!(ends, vec![at(11), at(12), at(14)]);
    assert!(store.attempt_lock("ip:1.2.3.4", at(10)).await.unwrap().is_some());

    // Housekeeping keeps locked and recent keys.
    store.record_failed_attempt("old", &p, at(0)).await.unwrap();
    assert_eq!(store.purge_failed_attempts(at(11), at(5)).await.unwrap(), 1, "only 'old' is quiet and unlocked");
    assert!(store.attempt_lock("ip:1.2.3.4", at(11)).await.unwrap().is_some());
}

async fn password_reset_tokens(store: Arc<dyn Store>) {
    let acme = org(&store, "acme").await;
    let other = org(&store, "other").await;
    let ana_email = email("ana@acme.com");
    let (ana, _) = store.upsert_user(acme.id, &ana_email, UserFields::default()).await.unwrap();
    store.set_password_hash(acme.id, &ana_email, "old-hash").await.unwrap();
    store.create_session(acme.id, ana.id, "sess-1", at(600)).await.unwrap();
    store.create_session(acme.id, ana.id, "sess-2", at(600)).await.unwrap();
    store.create_sign_in_challenge(acme.id, ana.id, "chal-1", at(600)).await.unwrap();

    store.create_password_reset(acme.id, ana.id, "r1", at(30)).await.unwrap();
    store.create_password_reset(acme.id, ana.id, "r2", at(30)).await.unwrap();
    store.create_password_reset(acme.id, ana.id, "expired", at(5)).await.unwrap();
    store.create_password_reset(acme.id, ana.id, "old", at(1)).await.unwrap();
    store.create_sign_in_challenge(acme.id, ana.id, "chal-old", at(2)).await.unwrap();
    // Housekeeping removes what expired by then, nothing else.
    assert_eq!(store.delete_expired_sign_in_state(at(3)).await.unwrap(), 2);
    assert_eq!(store.delete_expired_sign_in_state(at(3)).await.unwrap(), 0);
    let foreign = store.create_password_reset(other.id, ana.id, "r3", at(30)).await;
    assert!(matches!(foreign, Err(StoreError::NotFound(_))), "{foreign:?}");
    let dup = store.create_password_reset(acme.id, ana.id, "r1", at(30)).await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");

    let (org_id, user) = store.password_reset_user("r1", at(10)).await.unwrap().expect("valid token");
    assert_eq!((org_id, user.id), (acme.id, ana.id));
    assert_eq!(store.password_reset_user("r1", at(30)).await.unwrap(), None, "expired at its expiry time");
    assert_eq!(store.password_reset_user("nope", at(10)).await.unwrap(), None);
    assert_eq!(store.reset_password("expired", "x", at(10)).await.unwrap(), None);
    assert_eq!(store.reset_password("nope", "x", at(10)).await.unwrap(), None);
    assert_eq!(store.password_hash(acme.id, &ana_email).await.unwrap().unwrap().1, "old-hash");

    // Using a token sets the password and ends every session, pending sign-in and other token.
    let (org_id, user) = store.reset_password("r1", "new-hash", at(10)).await.unwrap().expect("consumed");
    assert_eq!((org_id, user.email.as_str()), (acme.id, "ana@acme.com"));
    assert_eq!(store.password_hash(acme.id, &ana_email).await.unwrap().unwrap().1, "new-hash");
    assert_eq!(store.session_by_hash("sess-1", at(11)).await.unwrap(), None);
    assert_eq!(store.session_by_hash("sess-2", at(11)).await.unwrap(), None);
    assert_eq!(store.sign_in_challenge("chal-1", at(11)).await.unwrap(), None);
    assert_eq!(store.reset_password("r1", "again", at(11)).await.unwrap(), None, "single use");
    assert_eq!(store.reset_password("r2", "again", at(11)).await.unwrap(), None, "other tokens are void too");
    assert_eq!(store.password_hash(acme.id, &ana_email).await.unwrap().unwrap().1, "new-hash");

    // Two requests racing for one token: exactly one wins.
    store.create_password_reset(acme.id, ana.id, "race", at(60)).await.unwrap();
    let (a, b) = tokio::join!(store.reset_password("race", "h-a", at(12)), store.reset_password("race", "h-b", at(12)));
    assert_eq!(u8::from(a.unwrap().is_some()) + u8::from(b.unwrap().is_some()), 1);
}

async fn totp_second_factor(store: Arc<dyn Store>) {
    let acme = org(&store, "acme").await;
    let other = org(&store, "other").await;
    let (ana, _) = store.upsert_user(acme.id, &email("ana@acme.com"), UserFields::default()).await.unwrap();
    assert_eq!(store.totp_state(acme.id, ana.id).await.unwrap(), None);
    assert!(!store.accept_totp_step(acme.id, ana.id, 1).await.unwrap(), "nothing enabled");
    assert!(matches!(store.enable_totp(acme.id, ana.id, 1, at(0)).await, Err(StoreError::NotFound(_))));

    // Enrolment is pending until a code confirms it; restarting replaces the secret.
    store.begin_totp_enrolment(acme.id, ana.id, "AAAABBBBCCCCDDDD", at(0)).await.unwrap();
    store.begin_totp_enrolment(acme.id, ana.id, "JBSWY3DPEHPK3PXP", at(1)).await.unwrap();
    let state = store.totp_state(acme.id, ana.id).await.unwrap().expect("pending");
    assert_eq!((state.secret_base32.as_str(), state.enabled_at, state.last_step), ("JBSWY3DPEHPK3PXP", None, None));
    assert!(!format!("{state:?}").contains("JBSWY3DP"), "Debug hides the secret");
    assert!(!store.accept_totp_step(acme.id, ana.id, 5).await.unwrap(), "pending is not enabled");
    assert_eq!(store.totp_state(other.id, ana.id).await.unwrap(), None, "scoped to the organisation");

    store.enable_totp(acme.id, ana.id, 100, at(2)).await.unwrap();
    let state = store.totp_state(acme.id, ana.id).await.unwrap().unwrap();
    assert_eq!((state.enabled_at, state.last_step), (Some(at(2)), Some(100)));
    let again = store.begin_totp_enrolment(acme.id, ana.id, "AAAABBBBCCCCDDDD", at(3)).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    assert_eq!(store.totp_state(acme.id, ana.id).await.unwrap().unwrap().secret_base32, "JBSWY3DPEHPK3PXP");

    // A step is accepted once, and never an older one.
    assert!(!store.accept_totp_step(acme.id, ana.id, 100).await.unwrap());
    assert!(!store.accept_totp_step(acme.id, ana.id, 99).await.unwrap());
    assert!(store.accept_totp_step(acme.id, ana.id, 101).await.unwrap());
    let (a, b) =
        tokio::join!(store.accept_totp_step(acme.id, ana.id, 102), store.accept_totp_step(acme.id, ana.id, 102));
    assert_eq!(u8::from(a.unwrap()) + u8::from(b.unwrap()), 1, "a replay racing the original loses");

    store.delete_totp(acme.id, ana.id).await.unwrap();
    assert_eq!(store.totp_state(acme.id, ana.id).await.unwrap(), None);

    // Pending second-step sign-ins live until they expire or are used.
    store.create_sign_in_challenge(acme.id, ana.id, "c1", at(5)).await.unwrap();
    assert_eq!(store.sign_in_challenge("c1", at(4)).await.unwrap().map(|(o, u)| (o, u.id)), Some((acme.id, ana.id)));
    assert_eq!(store.sign_in_challenge("c1", at(5)).await.unwrap(), None);
    store.delete_sign_in_challenge("c1").await.unwrap();
    assert_eq!(store.sign_in_challenge("c1", at(0)).await.unwrap(), None);
    let foreign = store.create_sign_in_challenge(other.id, ana.id, "c2", at(5)).await;
    assert!(matches!(foreign, Err(StoreError::NotFound(_))), "{foreign:?}");
}

#[tokio::test]
async fn totp_secrets_are_sealed_at_rest_sqlite() {
    let db = SqliteDb::new().await;
    let store: Arc<dyn Store> = db.store.clone();
    let acme = org(&store, "acme").await;
    let (ana, _) = store.upsert_user(acme.id, &email("ana@acme.com"), UserFields::default()).await.unwrap();
    store.begin_totp_enrolment(acme.id, ana.id, "JBSWY3DPEHPK3PXP", at(0)).await.unwrap();
    let stored: String =
        sqlx::query_scalar("SELECT secret_sealed FROM user_totp").fetch_one(db.store.pool()).await.unwrap();
    assert!(!stored.contains("JBSWY3DPEHPK3PXP") && escucha_store::crypto::is_encrypted(&stored), "{stored}");
    // Sealed for this user: copied to another user's row it does not open.
    let (bea, _) = store.upsert_user(acme.id, &email("bea@acme.com"), UserFields::default()).await.unwrap();
    sqlx::query("INSERT INTO user_totp (org_id, user_id, secret_sealed, created_at) VALUES ($1, $2, $3, 'x')")
        .bind(acme.id.0)
        .bind(bea.id.0)
        .bind(&stored)
        .execute(db.store.pool())
        .await
        .unwrap();
    assert!(matches!(store.totp_state(acme.id, bea.id).await, Err(StoreError::Crypto(_))));
}

async fn response_pages_for_exports(store: Arc<dyn Store>) {
    let acme = org(&store, "acme").await;
    let other = org(&store, "other").await;
    let s = survey(&store, acme.id).await;
    let norte = customer(&store, acme.id, "C-N", Some("ana@acme.com")).await;
    let sur = customer(&store, acme.id, "C-S", Some("bob@acme.com")).await;
    let moved = CustomerPatch { region: Patch::Set(label("Sur")), ..Default::default() };
    store.upsert_customers(acme.id, vec![(ext("C-S"), moved)], at(0)).await.unwrap();
    let sur = store.customer(acme.id, sur.id).await.unwrap().unwrap();
    let mut writes = Vec::new();
    for (c, team, minute) in [(&norte, "Ventas", 1), (&sur, "Soporte", 2), (&norte, "Soporte", 3), (&sur, "Ventas", 4)]
    {
        let mut r = new_response(&s, Some(c), 9, None, minute);
        r.context.team = Some(label(team));
        writes.push(write(r, None, false));
    }
    let ids: Vec<ResponseId> =
        store.insert_responses(acme.id, writes, None).await.unwrap().into_iter().map(|(id, _)| id).collect();
    let other_s = survey(&store, other.id).await;
    store
        .insert_responses(other.id, vec![write(new_response(&other_s, None, 1, None, 1), None, false)], None)
        .await
        .unwrap();
    let page = |filter: ResponseFilter| {
        let store = store.clone();
        async move {
            store
                .responses_page(acme.id, ResponseFilter { limit: 100, ..filter })
                .await
                .unwrap()
                .iter()
                .map(|r| r.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(page(ResponseFilter::default()).await, ids, "oldest first, this organisation only");
    let norte_only = ResponseFilter { regions: Some(vec!["Norte".into()]), ..Default::default() };
    assert_eq!(page(norte_only).await, vec![ids[0], ids[2]]);
    let ventas = ResponseFilter { teams: Some(vec!["Ventas".into()]), ..Default::default() };
    assert_eq!(page(ventas).await, vec![ids[0], ids[3]]);
    let both =
        ResponseFilter { regions: Some(vec!["Sur".into()]), teams: Some(vec!["Ventas".into()]), ..Default::default() };
    assert_eq!(page(both).await, vec![ids[3]]);
    let bobs = ResponseFilter { owner_email: Some(email("bob@acme.com")), ..Default::default() };
    assert_eq!(page(bobs).await, vec![ids[1], ids[3]]);
    assert!(page(ResponseFilter { regions: Some(vec![]), ..Default::default() }).await.is_empty(), "empty scope");
    let window = ResponseFilter { from: Some(at(2)), to: Some(at(4)), ..Default::default() };
    assert_eq!(page(window).await, vec![ids[1], ids[2]], "from inclusive, to exclusive");
    let after = ResponseFilter { after_id: ids[1].0, limit: 1, ..Default::default() };
    assert_eq!(
        store.responses_page(acme.id, after).await.unwrap().iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![ids[2]]
    );
    assert_eq!(
        page(ResponseFilter { survey_id: Some(other_s.id.0), ..Default::default() }).await,
        Vec::<ResponseId>::new()
    );
}
