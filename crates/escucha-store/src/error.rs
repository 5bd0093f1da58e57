//! The store's error type.

/// What can go wrong in a store call.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record asked for does not exist in this organisation.
    #[error("not found: {0}")]
    NotFound(String),
    /// A uniqueness rule was broken (slug taken, idempotency key raced…).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database URL or options are unusable.
    #[error("configuration: {0}")]
    Config(String),
    /// A stored value could not be read back into the domain (a bug or a manual edit).
    #[error("corrupt data: {0}")]
    Corrupt(String),
    /// Personal data could not be sealed or opened (wrong or missing key, tampered value).
    #[error("personal data cannot be read or written: {0}")]
    Crypto(String),
    /// Migrations failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    /// Unique violations become `Conflict`; a reference to a row that does not exist in the
    /// organisation (a foreign-key violation) becomes `NotFound`; a stored value that cannot be
    /// decoded becomes `Corrupt`; everything else is a `Database` error.
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(db.message().to_string()),
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                StoreError::NotFound(format!("a referenced record ({})", db.message()))
            }
            sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => StoreError::Corrupt(e.to_string()),
            _ => StoreError::Database(e),
        }
    }
}
