//! The SQLite store: the embedded default, one process, zero set-up.
//!
//! Connection settings, chosen at connect for every pooled connection:
//! - WAL journal, so readers never block the writer and the writer never blocks readers;
//! - `synchronous = FULL`: every commit fsyncs the WAL before it returns. With NORMAL a
//!   committed transaction survives a killed process (SIGKILL) but not a power cut or a kernel
//!   crash; Escucha promises that an acknowledged response is on disk, so we pay the one fsync
//!   per commit (batches amortise it: a bulk load commits once per batch);
//! - foreign keys on (SQLite's default is off), so cross-organisation references are refused;
//! - a 5 s busy timeout, so a writer waits for another instead of failing at once;
//! - write transactions start with `BEGIN IMMEDIATE`, taking the write lock up front: a deferred
//!   transaction that reads and then writes can fail with `SQLITE_BUSY` when another writer
//!   committed in between, and the busy timeout does not help there.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

use crate::rows::JobRow;

type Db = sqlx::Sqlite;
type ThisStore = SqliteStore;

/// Generated multi-row statements use anonymous `?` placeholders (see `sql::multi_row`).
const PARAM_MARKER: Option<char> = None;

const BACKEND: &str = "sqlite";

/// SQLite serialises writers (every write transaction is `BEGIN IMMEDIATE`), so the plain read
/// is already protected.
const CUSTOMER_FOR_UPDATE: &str =
    concat!("SELECT ", crate::sql::customer_cols!(), " FROM customers WHERE org_id = $1 AND external_id = $2");

/// Takes due jobs (and running jobs whose lease ran out) in one statement inside a
/// `BEGIN IMMEDIATE` transaction: the write lock is held from before the read, so two claimers
/// can never take the same job.
const CLAIM_JOBS: &str = concat!(
    "UPDATE jobs SET status = 'running', attempts = attempts + 1, run_at = $2, updated_at = $1 \
     WHERE id IN (SELECT id FROM jobs WHERE status IN ('pending', 'running') AND run_at <= $1 \
     ORDER BY run_at, id LIMIT $3) RETURNING ",
    crate::sql::job_cols!()
);

/// The SQLite implementation of [`crate::Store`].
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// Seals and opens customers' contact data.
    keys: std::sync::Arc<crate::crypto::KeyRing>,
}

/// Shows no connection options: they may hold a password.
impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating when missing, with its folder) the database a `sqlite:` URL names, sets
    /// the connection pragmas described in the module docs and applies pending migrations.
    /// `sqlite::memory:` gives a private in-memory database held by a single connection.
    pub async fn connect(url: &str, keys: crate::crypto::KeyRing) -> crate::StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| crate::StoreError::Config(format!("bad SQLite URL '{}': {e}", crate::redact_url(url))))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let parent = options.get_filename().parent().filter(|p| !in_memory && !p.as_os_str().is_empty());
        if let Some(parent) = parent {
            std::fs::create_dir_all(parent).map_err(|e| {
                crate::StoreError::Config(format!("cannot create the folder {}: {e}", parent.display()))
            })?;
        }
        let pool_options = if in_memory {
            // Each connection to `:memory:` is its own database: keep exactly one, forever.
            SqlitePoolOptions::new().max_connections(1).min_connections(1).idle_timeout(None).max_lifetime(None)
        } else {
            SqlitePoolOptions::new().max_connections(8)
        };
        let pool = pool_options.connect_with(options).await?;
        sqlx::migrate!("migrations/sqlite").run(&pool).await?;
        check_key_ring(&pool, &keys).await?;
        Ok(Self { pool, keys: std::sync::Arc::new(keys) })
    }

    /// The connection pool, for tests and maintenance commands.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Closes every connection, checkpointing the WAL into the database file.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Starts a write transaction holding the write lock from the start.
    async fn begin_write(&self) -> crate::StoreResult<sqlx::Transaction<'static, Db>> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// Starts a transaction writing responses; SQLite commits writers one at a time, so ids
    /// are committed in order without more.
    async fn begin_response_write(&self) -> crate::StoreResult<sqlx::Transaction<'static, Db>> {
        self.begin_write().await
    }

    async fn claim_jobs_impl(&self, now: Ts, lease_end: Ts, limit: i64) -> crate::StoreResult<Vec<JobRow>> {
        let mut tx = self.begin_write().await?;
        let rows: Vec<JobRow> =
            sqlx::query_as(CLAIM_JOBS).bind(now).bind(lease_end).bind(limit).fetch_all(&mut *tx).await?;
        tx.commit().await?;
        Ok(rows)
    }
}

include!("shared_impl.rs");
