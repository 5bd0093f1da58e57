//! `GET /api/v1/audit`: the audit log for admins, newest first, filtered and paged.

use axum::Json;
use axum::extract::{RawQuery, State};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Value, json};

use escucha_store::AuditFilter;

use super::metrics::query_pairs;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// A time bound: RFC 3339, or a date meaning its start (UTC).
fn parse_time(name: &str, raw: &str) -> Result<DateTime<Utc>, ApiError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| ApiError::bad_request("invalid_date", format!("{name} must be YYYY-MM-DD or an RFC 3339 time")))
}

/// The audit log: `action`, `actor`, `from` (inclusive), `to` (exclusive), `limit`, `cursor`.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let params = query_pairs(raw)?;
    super::only_params(&params, &["action", "actor", "from", "to", "limit", "cursor"])?;
    let (limit, cursor) = super::paging(&params)?;
    let mut filter = AuditFilter { limit: limit + 1, before_id: cursor, ..Default::default() };
    for (k, v) in &params {
        match k.as_str() {
            "action" => filter.action = Some(v.clone()),
            "actor" => filter.actor = Some(v.clone()),
            "from" => filter.from = Some(parse_time("from", v)?),
            "to" => filter.to = Some(parse_time("to", v)?),
            _ => {}
        }
    }
    let mut items = state.store.list_audit(caller.org_id, filter).await?;
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|e| e.id)
    } else {
        None
    };
    let items: Vec<Value> = items
        .iter()
        .map(|e| json!({"id": e.id, "at": e.at, "actor": e.actor, "action": e.action, "target": e.target, "detail": e.detail, "ip": e.ip}))
        .collect();
    Ok(Json(json!({"items": items, "next_cursor": next_cursor})))
}
