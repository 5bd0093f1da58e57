//! How values cross the database boundary the same way on both backends: timestamps ([`Ts`]),
//! JSON documents (`sqlx::types::Json`) and the parsing of stored text back into validated
//! domain values (anything that fails is [`StoreError::Corrupt`], never a panic).

use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::decode::Decode;
use sqlx::encode::{Encode, IsNull};
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef};
use sqlx::sqlite::{SqliteArgumentsBuffer, SqliteTypeInfo, SqliteValueRef};
use sqlx::types::Type;
use sqlx::{Postgres, Sqlite};

use escucha_core::validation::ValidationErrors;

use crate::StoreError;

/// A UTC timestamp as stored: `TIMESTAMPTZ` on PostgreSQL; on SQLite RFC 3339 text with exactly
/// six fractional digits and `Z` (`2026-01-31T09:15:00.000000Z`), so that text order is time
/// order and indexes and range comparisons work. Both keep microseconds (truncated), so a value
/// reads back the same on either backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Ts(pub DateTime<Utc>);

impl Ts {
    /// The SQLite text form.
    fn to_sqlite_text(self) -> String {
        self.0.to_rfc3339_opts(SecondsFormat::Micros, true)
    }
}

impl From<DateTime<Utc>> for Ts {
    fn from(t: DateTime<Utc>) -> Self {
        Ts(t)
    }
}

impl Type<Sqlite> for Ts {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }

    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <String as Type<Sqlite>>::compatible(ty) || <DateTime<Utc> as Type<Sqlite>>::compatible(ty)
    }
}

impl Encode<'_, Sqlite> for Ts {
    fn encode_by_ref(&self, buf: &mut SqliteArgumentsBuffer) -> Result<IsNull, BoxDynError> {
        Encode::<Sqlite>::encode(self.to_sqlite_text(), buf)
    }
}

impl<'r> Decode<'r, Sqlite> for Ts {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <&str as Decode<Sqlite>>::decode(value)?;
        let t = DateTime::parse_from_rfc3339(text).map_err(|e| format!("invalid timestamp '{text}': {e}"))?;
        Ok(Ts(t.with_timezone(&Utc)))
    }
}

impl Type<Postgres> for Ts {
    fn type_info() -> PgTypeInfo {
        <DateTime<Utc> as Type<Postgres>>::type_info()
    }

    fn compatible(ty: &PgTypeInfo) -> bool {
        <DateTime<Utc> as Type<Postgres>>::compatible(ty)
    }
}

impl Encode<'_, Postgres> for Ts {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        Encode::<Postgres>::encode(self.0, buf)
    }
}

impl<'r> Decode<'r, Postgres> for Ts {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(Ts(<DateTime<Utc> as Decode<Postgres>>::decode(value)?))
    }
}

/// Converts an optional timestamp for binding.
pub(crate) fn ts_opt(t: Option<DateTime<Utc>>) -> Option<Ts> {
    t.map(Ts)
}

/// Parses a stored value with a domain parser, turning a refusal into `Corrupt`.
pub(crate) fn parse_stored<T>(
    what: &str,
    raw: &str,
    parse: impl FnOnce(&str) -> Result<T, ValidationErrors>,
) -> Result<T, StoreError> {
    parse(raw).map_err(|e| StoreError::Corrupt(format!("stored {what} '{raw}' is invalid: {e}")))
}

/// Parses an optional stored value with a domain parser.
pub(crate) fn parse_stored_opt<T>(
    what: &str,
    raw: Option<String>,
    parse: impl FnOnce(&str) -> Result<T, ValidationErrors>,
) -> Result<Option<T>, StoreError> {
    raw.map(|r| parse_stored(what, &r, parse)).transpose()
}

/// Narrows a stored score to the domain's `u8`.
pub(crate) fn score(what: &str, raw: Option<i16>) -> Result<Option<u8>, StoreError> {
    raw.map(|v| u8::try_from(v).map_err(|_| StoreError::Corrupt(format!("stored {what} score {v} is out of range"))))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn sqlite_timestamps_have_a_fixed_width_so_text_order_is_time_order() {
        let a = Ts(Utc.with_ymd_and_hms(2026, 1, 31, 9, 15, 0).unwrap());
        let b = Ts(a.0 + chrono::Duration::nanoseconds(1_500));
        assert_eq!(a.to_sqlite_text(), "2026-01-31T09:15:00.000000Z");
        assert_eq!(b.to_sqlite_text(), "2026-01-31T09:15:00.000001Z");
        assert!(a.to_sqlite_text() < b.to_sqlite_text());
    }
}
