//! `GET /api/v1/audit`: the audit log for admins, newest first, filtered and paged;
//! `GET /api/v1/audit/export`: the same entries as CSV (itself audited).

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
pub(crate) fn parse_time(name: &str, raw: &str) -> Result<DateTime<Utc>, ApiError> {
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
    let filter = AuditFilter { limit: limit + 1, before_id: cursor, ..filter_from(&params)? };
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

/// The `action`, `actor`, `from` and `to` filters of a query.
fn filter_from(params: &[(String, String)]) -> Result<AuditFilter, ApiError> {
    let mut filter = AuditFilter::default();
    for (k, v) in params {
        match k.as_str() {
            "action" => filter.action = Some(v.clone()),
            "actor" => filter.actor = Some(v.clone()),
            "from" => filter.from = Some(parse_time("from", v)?),
            "to" => filter.to = Some(parse_time("to", v)?),
            _ => {}
        }
    }
    Ok(filter)
}

/// The most entries one export holds; a larger log is exported in date ranges.
pub const MAX_EXPORT_ROWS: usize = 200_000;

/// A CSV cell that a spreadsheet will not run as a formula: text starting with `=`, `+`, `-`,
/// `@`, tab or carriage return gets a leading apostrophe.
pub(crate) fn csv_cell(raw: &str) -> std::borrow::Cow<'_, str> {
    if raw.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{raw}").into() } else { raw.into() }
}

/// The audit log as CSV (`id, at, actor, action, target, detail, ip`), newest first, with the
/// filters of the list (`action`, `actor`, `from`, `to`); the export is recorded as
/// `audit.export` with its row count and filters.
pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<axum::response::Response, ApiError> {
    let params = query_pairs(raw)?;
    super::only_params(&params, &["action", "actor", "from", "to"])?;
    let filter = filter_from(&params)?;
    let mut out = csv::Writer::from_writer(Vec::new());
    let csv_error = |e: csv::Error| ApiError::internal(&e);
    out.write_record(["id", "at", "actor", "action", "target", "detail", "ip"]).map_err(csv_error)?;
    let mut rows = 0usize;
    let mut before_id = None;
    loop {
        let page = AuditFilter { limit: 500, before_id, ..filter.clone() };
        let entries = state.store.list_audit(caller.org_id, page).await?;
        let Some(last) = entries.last() else { break };
        before_id = Some(last.id);
        for e in &entries {
            let at = e.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
            let detail = e.detail.to_string();
            out.write_record([
                e.id.to_string().as_str(),
                &at,
                &csv_cell(&e.actor),
                &csv_cell(&e.action),
                &csv_cell(e.target.as_deref().unwrap_or("")),
                &csv_cell(&detail),
                &csv_cell(e.ip.as_deref().unwrap_or("")),
            ])
            .map_err(csv_error)?;
            rows += 1;
        }
        if rows >= MAX_EXPORT_ROWS {
            return Err(ApiError::new(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "export_too_large",
                format!("more than {MAX_EXPORT_ROWS} entries match; narrow the export with from and to"),
            ));
        }
    }
    let body = out.into_inner().map_err(|e| ApiError::internal(e.error()))?;
    let filters: serde_json::Map<String, Value> = params.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    caller.audit(&state, "audit.export", None, json!({"rows": rows, "filters": filters})).await?;
    Ok(csv_attachment("audit", body))
}

/// A CSV download: `PREFIX-YYYYMMDD-HHMMSS.csv`, never cached.
pub(crate) fn csv_attachment(prefix: &str, body: Vec<u8>) -> axum::response::Response {
    use axum::response::IntoResponse;
    let filename = format!("{prefix}-{}.csv", chrono::Utc::now().format("%Y%m%d-%H%M%S"));
    (
        [
            (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (axum::http::header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
            (axum::http::header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response()
}
