//! Layered configuration: defaults, then `escucha.toml` in the data folder, then `ESCUCHA_*`
//! environment variables (these win), then explicit command-line values. Nothing global: each
//! caller (and each test) builds its own [`Config`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Everything the server needs to start.
#[derive(Clone, PartialEq)]
pub struct Config {
    /// Address to listen on; port 0 picks a free port (tests).
    pub addr: SocketAddr,
    /// Folder for the SQLite file, the generated secret key and `escucha.toml`.
    pub data_dir: PathBuf,
    /// Database URL; defaults to a SQLite file in the data folder.
    pub database_url: String,
    /// Base of links in mail; defaults to `http://ADDR`.
    pub public_url: Option<String>,
    /// Mail transport; `None` keeps mail queued.
    pub smtp_url: Option<String>,
    /// Sender of outgoing mail.
    pub mail_from: String,
    /// Load the demo organisation when the database has none.
    pub demo: bool,
    /// How often the analytics index polls the store for responses written by other processes.
    pub index_poll_ms: u64,
    /// Key material for personal data (`ESCUCHA_SECRET_KEY`); when absent a key file is
    /// generated in the data folder on first run. Never printed.
    pub secret_key: Option<String>,
    /// API requests allowed per minute per token (or per client IP without a token), with a
    /// burst of a tenth of it; `None` turns the limit off.
    pub api_requests_per_minute: Option<u32>,
    /// OpenID Connect sign-in (`[oidc]` in the file, `ESCUCHA_OIDC_*`); `None` when no issuer
    /// is configured. See [`crate::web::oidc`].
    pub oidc: Option<crate::web::oidc::OidcConfig>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("addr", &self.addr)
            .field("data_dir", &self.data_dir)
            .field("database_url", &escucha_store::redact_url(&self.database_url))
            .field("public_url", &self.public_url)
            .field("smtp_url", &self.smtp_url.as_deref().map(escucha_store::redact_url))
            .field("mail_from", &self.mail_from)
            .field("demo", &self.demo)
            .field("secret_key", &self.secret_key.as_ref().map(|_| "***"))
            .field("oidc", &self.oidc)
            .finish()
    }
}

/// Values given explicitly (command line); each overrides every other layer.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--addr`.
    pub addr: Option<String>,
    /// `--database-url`.
    pub database_url: Option<String>,
    /// `--demo`.
    pub demo: bool,
}

/// What can be wrong with the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file could not be read or parsed.
    #[error("cannot read {path}: {reason}")]
    File {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// A value is malformed.
    #[error("invalid {key}: {reason}")]
    Invalid {
        /// Which setting.
        key: &'static str,
        /// Why.
        reason: String,
    },
}

/// The file layer: every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLayer {
    addr: Option<String>,
    database_url: Option<String>,
    public_url: Option<String>,
    smtp_url: Option<String>,
    mail_from: Option<String>,
    oidc: Option<crate::web::oidc::OidcFileLayer>,
}

impl Config {
    /// Builds the configuration for `data_dir` from the layers, reading the environment from
    /// `env` (pass `std::env::vars().collect()` in the program, a map in tests).
    pub fn load(data_dir: &Path, env: &HashMap<String, String>, overrides: Overrides) -> Result<Config, ConfigError> {
        let file_path = data_dir.join("escucha.toml");
        let file: FileLayer = match std::fs::read_to_string(&file_path) {
            Ok(text) => toml::from_str(&text)
                .map_err(|e| ConfigError::File { path: file_path.display().to_string(), reason: e.to_string() })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => FileLayer::default(),
            Err(e) => {
                return Err(ConfigError::File { path: file_path.display().to_string(), reason: e.to_string() });
            }
        };
        let env_get = |k: &str| env.get(k).filter(|v| !v.is_empty()).cloned();
        let pick = |over: Option<String>, key: &str, file: Option<String>| over.or_else(|| env_get(key)).or(file);

        let addr_text = pick(overrides.addr, "ESCUCHA_ADDR", file.addr).unwrap_or_else(|| "127.0.0.1:8080".into());
        let addr: SocketAddr = addr_text.parse().map_err(|_| ConfigError::Invalid {
            key: "addr",
            reason: format!("'{addr_text}' is not an address like 127.0.0.1:8080"),
        })?;
        let database_url = pick(overrides.database_url, "ESCUCHA_DATABASE_URL", file.database_url)
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("escucha.db").display()));
        let public_url = pick(None, "ESCUCHA_PUBLIC_URL", file.public_url).map(|u| u.trim_end_matches('/').to_string());
        let smtp_url = pick(None, "ESCUCHA_SMTP_URL", file.smtp_url);
        if let Some(url) = &smtp_url
            && !(url.starts_with("smtp://") || url.starts_with("smtps://"))
        {
            return Err(ConfigError::Invalid {
                key: "smtp_url",
                reason: "use smtp://host:port or smtps://user:pass@host:port".into(),
            });
        }
        let mail_from = pick(None, "ESCUCHA_MAIL_FROM", file.mail_from).unwrap_or_else(|| "escucha@localhost".into());
        Ok(Config {
            addr,
            data_dir: data_dir.to_path_buf(),
            database_url,
            public_url,
            smtp_url,
            mail_from,
            demo: overrides.demo,
            index_poll_ms: 250,
            api_requests_per_minute: Some(6_000),
            secret_key: env_get("ESCUCHA_SECRET_KEY"),
            oidc: crate::web::oidc::OidcConfig::load(file.oidc, env)?,
        })
    }

    /// A configuration for tests: port 0, the given database, nothing else.
    pub fn for_tests(data_dir: &Path, database_url: String) -> Config {
        Config {
            addr: "127.0.0.1:0".parse().expect("literal address"),
            data_dir: data_dir.to_path_buf(),
            database_url,
            public_url: None,
            smtp_url: None,
            mail_from: "escucha@localhost".into(),
            demo: false,
            index_poll_ms: 100,
            api_requests_per_minute: None,
            secret_key: None,
            oidc: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_beats_file_and_flags_beat_environment() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("escucha.toml"),
            "addr = \"127.0.0.1:7000\"\nmail_from = \"file@x.com\"\npublic_url = \"http://file/\"\n",
        )
        .unwrap();
        let mut env = HashMap::new();
        let c = Config::load(dir.path(), &env, Overrides::default()).unwrap();
        assert_eq!(c.addr.port(), 7000);
        assert_eq!(c.public_url.as_deref(), Some("http://file"));
        assert!(c.database_url.ends_with("escucha.db"));
        env.insert("ESCUCHA_ADDR".to_string(), "127.0.0.1:7001".to_string());
        env.insert("ESCUCHA_MAIL_FROM".to_string(), "env@x.com".to_string());
        let c = Config::load(dir.path(), &env, Overrides::default()).unwrap();
        assert_eq!(c.addr.port(), 7001);
        assert_eq!(c.mail_from, "env@x.com");
        let c = Config::load(dir.path(), &env, Overrides { addr: Some("127.0.0.1:7002".into()), ..Default::default() })
            .unwrap();
        assert_eq!(c.addr.port(), 7002);
    }

    #[test]
    fn bad_values_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let env: HashMap<String, String> = [("ESCUCHA_ADDR".to_string(), "nowhere".to_string())].into();
        assert!(matches!(
            Config::load(dir.path(), &env, Overrides::default()),
            Err(ConfigError::Invalid { key: "addr", .. })
        ));
        std::fs::write(dir.path().join("escucha.toml"), "bogus = 1\n").unwrap();
        assert!(matches!(
            Config::load(dir.path(), &HashMap::new(), Overrides::default()),
            Err(ConfigError::File { .. })
        ));
    }

    #[test]
    fn mail_settings_come_from_the_file_or_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let c = Config::load(dir.path(), &HashMap::new(), Overrides::default()).unwrap();
        assert_eq!(
            (c.smtp_url.as_deref(), c.mail_from.as_str()),
            (None, "escucha@localhost"),
            "no transport by default"
        );
        std::fs::write(
            dir.path().join("escucha.toml"),
            "smtp_url = \"smtp://127.0.0.1:2525\"\nmail_from = \"Escucha <no-reply@file.example>\"\n",
        )
        .unwrap();
        let c = Config::load(dir.path(), &HashMap::new(), Overrides::default()).unwrap();
        assert_eq!(c.smtp_url.as_deref(), Some("smtp://127.0.0.1:2525"));
        assert_eq!(c.mail_from, "Escucha <no-reply@file.example>");
        let env: HashMap<String, String> =
            [("ESCUCHA_SMTP_URL".to_string(), "smtps://u:secret@mail.example:465".to_string())].into();
        let c = Config::load(dir.path(), &env, Overrides::default()).unwrap();
        assert_eq!(c.smtp_url.as_deref(), Some("smtps://u:secret@mail.example:465"), "environment wins");
        assert!(!format!("{c:?}").contains("u:secret@"), "the SMTP password is not printed");
        let env: HashMap<String, String> = [("ESCUCHA_SMTP_URL".to_string(), "mail.example:25".to_string())].into();
        assert!(matches!(
            Config::load(dir.path(), &env, Overrides::default()),
            Err(ConfigError::Invalid { key: "smtp_url", .. })
        ));
    }

    #[test]
    fn debug_output_hides_passwords() {
        let dir = tempfile::tempdir().unwrap();
        let c = Config::for_tests(dir.path(), "postgres://u:hunter2@h/db".into());
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
