//! The PostgreSQL store: the production backend, shared by any number of `escucha serve`
//! processes. Nothing here relies on being the only process:
//! - jobs are claimed with `FOR UPDATE SKIP LOCKED`, so workers in many processes share the
//!   queue without taking the same job;
//! - a customer upsert reads the row `FOR UPDATE`, so two concurrent patches both apply;
//! - response writers take a transaction-level advisory lock, so response ids become visible
//!   in id order and the analytics feed (`id > last seen`) can never skip a response whose
//!   transaction committed late (identity values are handed out at insert, not at commit).

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use crate::rows::JobRow;

type Db = sqlx::Postgres;
type ThisStore = PostgresStore;

/// Generated multi-row statements number their placeholders `$1, $2, …`.
const PARAM_MARKER: Option<char> = Some('$');

const BACKEND: &str = "postgres";

/// Key of the advisory lock that serialises response writers (an arbitrary constant: "escucha"
/// in ASCII).
const RESPONSE_WRITE_LOCK: i64 = 0x0065_7363_7563_6861;

const CUSTOMER_FOR_UPDATE: &str = concat!(
    "SELECT ",
    crate::sql::customer_cols!(),
    " FROM customers WHERE org_id = $1 AND external_id = $2 FOR UPDATE"
);

/// Takes due jobs (and running jobs whose lease ran out), skipping rows another claimer holds.
const CLAIM_JOBS: &str = concat!(
    "UPDATE jobs SET status = 'running', attempts = attempts + 1, run_at = $2, updated_at = $1 \
     WHERE id IN (SELECT id FROM jobs WHERE status IN ('pending', 'running') AND run_at <= $1 \
     ORDER BY run_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) RETURNING ",
    crate::sql::job_cols!()
);

/// The PostgreSQL implementation of [`crate::Store`].
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
    /// Seals and opens customers' contact data.
    keys: std::sync::Arc<crate::crypto::KeyRing>,
}

/// Shows no connection options: they may hold a password.
impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore").finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects to the database a `postgres://` URL names and applies pending migrations
    /// (sqlx holds an advisory lock while migrating, so several processes may start at once).
    pub async fn connect(url: &str, keys: crate::crypto::KeyRing) -> crate::StoreResult<Self> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| crate::StoreError::Config(format!("bad PostgreSQL URL '{}': {e}", crate::redact_url(url))))?;
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        sqlx::migrate!("migrations/postgres").run(&pool).await?;
        check_key_ring(&pool, &keys).await?;
        Ok(Self { pool, keys: std::sync::Arc::new(keys) })
    }

    /// The connection pool, for tests and maintenance commands.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes every connection (tests call it before dropping their database).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Starts a write transaction (PostgreSQL locks rows as they are written).
    async fn begin_write(&self) -> crate::StoreResult<sqlx::Transaction<'static, Db>> {
        Ok(self.pool.begin().await?)
    }

    /// Starts a transaction writing responses, holding the response-writer lock until it ends.
    async fn begin_response_write(&self) -> crate::StoreResult<sqlx::Transaction<'static, Db>> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(RESPONSE_WRITE_LOCK).execute(&mut *tx).await?;
        Ok(tx)
    }

    async fn claim_jobs_impl(&self, now: Ts, lease_end: Ts, limit: i64) -> crate::StoreResult<Vec<JobRow>> {
        Ok(sqlx::query_as(CLAIM_JOBS).bind(now).bind(lease_end).bind(limit).fetch_all(&self.pool).await?)
    }
}

include!("shared_impl.rs");
