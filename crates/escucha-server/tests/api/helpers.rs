//! Spawning a test server and talking to it.

use std::sync::Arc;

use escucha_core::ids::OrgId;
use escucha_core::org::Role;
use escucha_core::values::{Label, Slug};
use escucha_server::{Application, Config};
use escucha_store::{NewToken, Store};
use serde_json::{Value, json};

/// Which database a test server runs on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database that exists for one test (a temp SQLite file, or a uniquely named PostgreSQL
/// database dropped on drop).
pub struct TestDb {
    pub url: String,
    pub dir: tempfile::TempDir,
    pg_admin: Option<(String, String)>,
}

impl TestDb {
    /// A fresh database, or `None` (printed loudly) when PostgreSQL is asked but not configured.
    pub async fn new(backend: Backend) -> Option<TestDb> {
        let dir = tempfile::tempdir().expect("temp dir");
        match backend {
            Backend::Sqlite => Some(TestDb {
                url: format!("sqlite://{}", dir.path().join("escucha.db").display()),
                dir,
                pg_admin: None,
            }),
            Backend::Postgres => {
                let Ok(admin) = std::env::var("ESCUCHA_TEST_POSTGRES_URL") else {
                    skip("PostgreSQL", "ESCUCHA_TEST_POSTGRES_URL is not set");
                    return None;
                };
                let name = format!("escucha_api_{}_{}", std::process::id(), rand_suffix());
                let conn = sqlx_admin(&admin).await;
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&conn)
                    .await
                    .expect("create test database");
                conn.close().await;
                let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap_or(admin.clone());
                Some(TestDb { url: format!("{base}/{name}"), dir, pg_admin: Some((admin, name)) })
            }
        }
    }
}

/// Says loudly that a test is skipped for want of a server; in CI
/// (`ESCUCHA_TEST_REQUIRE_SERVICES=1`) fails instead, so nothing is silently left untested.
pub fn skip(what: &str, why: &str) {
    if std::env::var("ESCUCHA_TEST_REQUIRE_SERVICES").is_ok_and(|v| v == "1") {
        panic!("{what} is required here (ESCUCHA_TEST_REQUIRE_SERVICES=1) but unavailable: {why}");
    }
    eprintln!("SKIPPED ({what}): {why}");
}

fn rand_suffix() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{}_{n}", SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0))
}

async fn sqlx_admin(url: &str) -> sqlx::PgPool {
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .expect("connect to the PostgreSQL test server")
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.pg_admin.take() {
            // Drop on a separate thread with its own runtime: Drop cannot be async.
            let _ = std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    rt.block_on(async {
                        if let Ok(conn) = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(&admin).await
                        {
                            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            )))
                            .execute(&conn)
                            .await;
                            conn.close().await;
                        }
                    });
                }
            })
            .join();
        }
    }
}

/// A running server with an organisation and an admin token.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub token: String,
    pub org: OrgId,
    pub store: Arc<dyn Store>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<()>>,
    _db: TestDb,
}

impl TestApp {
    /// A server on a fresh SQLite database.
    pub async fn spawn() -> TestApp {
        Self::spawn_on(Backend::Sqlite).await.expect("sqlite is always available")
    }

    /// A server on a fresh database of the given backend (`None` when it is not configured).
    pub async fn spawn_on(backend: Backend) -> Option<TestApp> {
        Self::spawn_with(backend, |_| {}).await
    }

    /// A server on a fresh database of the given backend, its configuration adjusted by
    /// `configure` first (`None` when the backend is not configured).
    pub async fn spawn_with(backend: Backend, configure: impl FnOnce(&mut Config)) -> Option<TestApp> {
        let db = TestDb::new(backend).await?;
        let mut config = Config::for_tests(db.dir.path(), db.url.clone());
        configure(&mut config);
        let app = Application::build(config).await.expect("server builds");
        let base = format!("http://{}", app.local_addr());
        let store = app.state().store.clone();
        let org = store.create_org(&Slug::parse("acme").unwrap(), &Label::parse("Acme").unwrap()).await.unwrap();
        let token = create_token(store.as_ref(), org.id, Role::Admin, "admin").await;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(async move {
            app.run_until(async move {
                let _ = rx.await;
            })
            .await
            .expect("server runs");
        });
        Some(TestApp {
            base,
            client: reqwest::Client::new(),
            token,
            org: org.id,
            store,
            shutdown: Some(tx),
            handle: Some(handle),
            _db: db,
        })
    }

    /// A token for another role in the same organisation.
    pub async fn token_for(&self, role: Role) -> String {
        create_token(self.store.as_ref(), self.org, role, role.as_str()).await
    }

    /// The test database's URL and data folder (for checks on what is at rest).
    pub fn db(&self) -> (&str, &std::path::Path) {
        (&self._db.url, self._db.dir.path())
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(self.client.get(self.url(path)).bearer_auth(&self.token)).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(self.client.post(self.url(path)).bearer_auth(&self.token).json(&body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(self.client.put(self.url(path)).bearer_auth(&self.token).json(&body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(self.client.patch(self.url(path)).bearer_auth(&self.token).json(&body)).await
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> (u16, Value) {
        let resp = req.send().await.expect("request sent");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("body read");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"))
        };
        (status, body)
    }

    /// Creates the standard test survey (NPS required, why text shown to detractors, CSAT, CES).
    pub async fn create_survey(&self) -> i64 {
        let (status, body) = self.post("/api/v1/surveys", standard_survey()).await;
        assert_eq!(status, 201, "{body}");
        body["id"].as_i64().expect("survey id")
    }

    /// Stops the server, waiting for in-flight requests.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            let _ = h.await;
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub async fn create_token(store: &dyn Store, org: OrgId, role: Role, name: &str) -> String {
    let secret = escucha_server::auth::new_secret(escucha_server::auth::TOKEN_PREFIX);
    store
        .create_token(
            org,
            NewToken {
                name: name.into(),
                role,
                user_id: None,
                hash: escucha_server::auth::hash_secret(&secret),
                expires_at: None,
                scopes: vec![escucha_core::access::TokenScope::Admin],
            },
        )
        .await
        .expect("token created");
    secret
}

pub fn standard_survey() -> Value {
    json!({
        "name": "Relacional",
        "languages": ["es", "en"],
        "questions": [
            {"id": "nps", "type": "nps", "text": {"es": "¿Recomendaría Acme?", "en": "Would you recommend Acme?"}, "required": true},
            {"id": "why", "type": "text", "text": {"es": "¿Qué falló?", "en": "What went wrong?"}, "show_if": {"question": "nps", "op": "lte", "value": 6}},
            {"id": "csat", "type": "csat", "text": {"es": "Satisfacción", "en": "Satisfaction"}},
            {"id": "ces", "type": "ces", "text": {"es": "Facilidad", "en": "Ease"}}
        ]
    })
}

/// Another server process's worth of server (own state, own in-memory limits) on the database of
/// a [`TestApp`], as when several processes share one database. Stops when dropped.
pub struct SiblingServer {
    pub base: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl TestApp {
    /// Starts a second server on this app's database and data folder (same key file).
    pub async fn spawn_sibling(&self) -> SiblingServer {
        let config = Config::for_tests(self._db.dir.path(), self._db.url.clone());
        let app = Application::build(config).await.expect("sibling server builds");
        let base = format!("http://{}", app.local_addr());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = app
                .run_until(async move {
                    let _ = rx.await;
                })
                .await;
        });
        SiblingServer { base, shutdown: Some(tx) }
    }
}

impl Drop for SiblingServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// One message an [`SmtpSink`] received.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    pub from: String,
    pub to: Vec<String>,
    /// The message as sent (headers and MIME body, dot-unstuffed).
    pub data: String,
}

/// A real SMTP server on a random loopback port that accepts every message and keeps it: just
/// enough of RFC 5321 (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) for a real client.
pub struct SmtpSink {
    pub port: u16,
    mails: Arc<std::sync::Mutex<Vec<ReceivedMail>>>,
    arrived: Arc<tokio::sync::Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the SMTP sink");
        let port = listener.local_addr().unwrap().port();
        let mails = Arc::new(std::sync::Mutex::new(Vec::new()));
        let arrived = Arc::new(tokio::sync::Notify::new());
        let (m, a) = (mails.clone(), arrived.clone());
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (m, a) = (m.clone(), a.clone());
                tokio::spawn(async move {
                    let _ = smtp_session(socket, m, a).await;
                });
            }
        });
        SmtpSink { port, mails, arrived, task }
    }

    /// `smtp://127.0.0.1:PORT`, for `ESCUCHA_SMTP_URL`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// What arrived so far.
    pub fn received(&self) -> Vec<ReceivedMail> {
        self.mails.lock().unwrap().clone()
    }

    /// Waits (up to 10 s) until at least `n` messages arrived; returns them all.
    pub async fn wait_for(&self, n: usize) -> Vec<ReceivedMail> {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let notified = self.arrived.notified();
            let now = self.received();
            if now.len() >= n {
                return now;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!("expected {n} mail(s) within 10 s, got {}", self.received().len());
            }
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn smtp_session(
    socket: tokio::net::TcpStream,
    mails: Arc<std::sync::Mutex<Vec<ReceivedMail>>>,
    arrived: Arc<tokio::sync::Notify>,
) -> std::io::Result<()> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read).lines();
    write.write_all(b"220 sink.test ESMTP ready\r\n").await?;
    let (mut from, mut to) = (String::new(), Vec::new());
    while let Some(line) = lines.next_line().await? {
        let upper = line.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-sink.test\r\n250 8BITMIME\r\n"
        } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
            b"250 OK\r\n"
        } else if upper.starts_with("RSET") {
            (from, to) = (String::new(), Vec::new());
            b"250 OK\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            from = line[10..].trim().trim_matches(['<', '>']).to_string();
            b"250 OK\r\n"
        } else if upper.starts_with("RCPT TO:") {
            to.push(line[8..].trim().trim_matches(['<', '>']).to_string());
            b"250 OK\r\n"
        } else if upper == "DATA" {
            write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
            let mut data = String::new();
            while let Some(l) = lines.next_line().await? {
                if l == "." {
                    break;
                }
                data.push_str(l.strip_prefix('.').filter(|_| l.starts_with("..")).unwrap_or(&l));
                data.push_str("\r\n");
            }
            mails.lock().unwrap().push(ReceivedMail {
                from: std::mem::take(&mut from),
                to: std::mem::take(&mut to),
                data,
            });
            arrived.notify_waiters();
            b"250 OK queued\r\n"
        } else if upper.starts_with("QUIT") {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            b"502 command not implemented\r\n"
        };
        write.write_all(reply).await?;
    }
    Ok(())
}
