//! # escucha-server
//!
//! The HTTP face of Escucha: the JSON API of `API.md` (with its OpenAPI document), the staff web
//! pages, and the background work, all over one [`AppState`].
//!
//! Key decisions:
//! - Thin main, testable app: [`Application::build`] binds (port 0 in tests) and loads state;
//!   [`Application::run_until`] serves until a shutdown future resolves, finishing in-flight
//!   requests.
//! - Handlers are thin: they authenticate ([`auth::Caller`]), parse the body into domain types,
//!   call one application function in [`service`], and serialise. Errors are mapped to HTTP once,
//!   in [`error`].
//! - Metrics are answered from the in-memory analytics index, fed by the store's response
//!   sequence (polled, so several processes on one PostgreSQL stay current) and, for responses
//!   written by this process, right after their commit.

pub mod api;
pub mod auth;
pub mod config;
pub mod demo;
pub mod error;
pub mod mail;
pub mod openapi;
pub mod ratelimit;
pub mod security;
pub mod service;
pub mod state;
pub mod totp;
pub mod web;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use escucha_analytics::AnalyticsIndex;
use tokio::net::TcpListener;

pub use config::{Config, Overrides};
pub use state::AppState;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The store could not be opened or migrated.
    #[error("storage: {0}")]
    Store(#[from] escucha_store::StoreError),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The data folder could not be created.
    #[error("cannot create data folder {path}: {source}")]
    DataDir {
        /// The folder.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The personal-data key could not be loaded or created.
    #[error("secret key: {0}")]
    Keys(#[from] escucha_store::crypto::CryptoError),
    /// The demo could not be loaded.
    #[error("demo: {0}")]
    Demo(String),
    /// The mail settings cannot be used.
    #[error("mail: {0}")]
    Mail(#[from] mail::MailError),
    /// The OpenID Connect client could not be set up.
    #[error("OpenID Connect: {0}")]
    Oidc(#[from] web::oidc::SetupError),
}

/// A bound, loaded server, ready to run.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    feed: state::FeedCursor,
    oidc: Option<Arc<web::oidc::Oidc>>,
}

impl Application {
    /// Opens the store (applying migrations), loads the demo when asked and the database is
    /// empty, fills the analytics index and binds the address.
    pub async fn build(mut config: Config) -> Result<Application, StartError> {
        let mailer = Arc::new(mail::Mailer::from_config(&config)?);
        let store = open_store(&config).await?;
        if config.demo {
            demo_if_empty(store.as_ref()).await?;
        }
        let index = Arc::new(AnalyticsIndex::new());
        let mut feed = state::FeedCursor::at(0);
        state::catch_up_index(store.as_ref(), &index, &mut feed).await?;
        let listener =
            TcpListener::bind(config.addr).await.map_err(|source| StartError::Bind { addr: config.addr, source })?;
        let oidc = web::oidc::Oidc::from_config(&config)?;
        if config.public_url.is_none() {
            // Links in mail need an absolute base: the documented default is the bound address.
            let bound = listener.local_addr().map_err(|source| StartError::Bind { addr: config.addr, source })?;
            config.public_url = Some(format!("http://{bound}"));
        }
        let limits = Arc::new(state::Limits::from_config(&config));
        let state = AppState { store, index, config: Arc::new(config), limits, mailer };
        Ok(Application { listener, state, feed, oidc })
    }

    /// The bound address (the real port when 0 was asked).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// The shared state (tests use it to reach the store).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, then stops accepting and finishes in-flight requests.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let Application { listener, state, feed, oidc } = self;
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let follower = tokio::spawn(follow_store(state.clone(), feed, stop_rx.clone()));
        let retention = tokio::spawn(service::retention::worker(
            state.store.clone(),
            service::retention::FIRST_RUN_DELAY,
            service::retention::RUN_PERIOD,
            stop_rx.clone(),
        ));
        let housekeeping =
            tokio::spawn(service::housekeeping::worker(state.store.clone(), service::housekeeping::PERIOD, stop_rx));
        let app = api::router(state.clone())
            .merge(web::router(state.clone()))
            .merge(web::oidc::router(state.clone(), oidc))
            .fallback(api::not_found)
            .layer(axum::middleware::from_fn_with_state(state.clone(), security::headers));
        let result = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(shutdown)
            .await;
        let _ = stop_tx.send(true);
        let _ = follower.await;
        let _ = retention.await;
        let _ = housekeeping.await;
        result
    }
}

/// Loads the personal-data key ring (from `ESCUCHA_SECRET_KEY`, else the data folder's key
/// file, created on first run) and opens the store with it.
pub async fn open_store(config: &Config) -> Result<Arc<dyn escucha_store::Store>, StartError> {
    if config.secret_key.is_none() || config.database_url.starts_with("sqlite:") {
        std::fs::create_dir_all(&config.data_dir)
            .map_err(|source| StartError::DataDir { path: config.data_dir.display().to_string(), source })?;
    }
    let keys = escucha_store::crypto::KeyRing::load(config.secret_key.as_deref(), &config.data_dir)?;
    Ok(escucha_store::connect(&config.database_url, keys).await?)
}

/// Keeps the index current with responses committed by any process sharing the store.
async fn follow_store(state: AppState, mut cursor: state::FeedCursor, mut stop: tokio::sync::watch::Receiver<bool>) {
    let period = Duration::from_millis(state.config.index_poll_ms.max(10));
    loop {
        tokio::select! {
            _ = tokio::time::sleep(period) => {}
            _ = stop.changed() => return,
        }
        match state::catch_up_index(state.store.as_ref(), &state.index, &mut cursor).await {
            Ok(()) => {}
            Err(e) => tracing::warn!(error = %e, "analytics index could not read the response feed"),
        }
    }
}

/// The password printed for the demo's sign-in users.
pub const DEMO_PASSWORD: &str = "escucha-demo";

async fn demo_if_empty(store: &dyn escucha_store::Store) -> Result<(), StartError> {
    if store.org_by_slug("demo").await?.is_some() {
        tracing::info!("demo organisation already present; not loading it again");
        return Ok(());
    }
    let started = std::time::Instant::now();
    let data = demo::generate(chrono::Utc::now());
    let hash = auth::hash_password(DEMO_PASSWORD).map_err(|e| StartError::Demo(e.to_string()))?;
    let summary = demo::load(store, data, &hash).await?;
    tracing::info!(elapsed_ms = started.elapsed().as_millis() as u64, "demo organisation loaded");
    eprintln!(
        "Demo organisation 'demo' loaded in {:.1} s. Sign in with organisation 'demo', e-mail {} and password '{}'.",
        started.elapsed().as_secs_f64(),
        summary.admin_email,
        DEMO_PASSWORD
    );
    Ok(())
}
