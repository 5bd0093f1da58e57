//! `GET /api/v1/metrics` and `GET /api/v1/metrics/series`: a query parsed into data and answered
//! by the analytics index.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use serde_json::Value;

use escucha_analytics::{MetricQuery, QueryError, SeriesQuery};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

impl From<QueryError> for ApiError {
    fn from(e: QueryError) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, e.code(), e.to_string())
    }
}

/// Decodes a raw query string into ordered pairs (repeated keys kept); 400 when malformed.
pub(crate) fn query_pairs(raw: Option<String>) -> Result<Vec<(String, String)>, ApiError> {
    match raw {
        None => Ok(Vec::new()),
        Some(q) => serde_urlencoded::from_str(&q)
            .map_err(|e| ApiError::bad_request("invalid_query", format!("the query string cannot be decoded: {e}"))),
    }
}

/// One metric, total and by up to two dimensions.
pub async fn metric(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let mut query = MetricQuery::from_params(&query_pairs(raw)?)?;
    query.restrict = caller.index_restriction();
    let org = caller.org_id.0;
    // A scan can take milliseconds of CPU: keep it off the async workers.
    let result = tokio::task::spawn_blocking(move || state.index.query(org, &query))
        .await
        .map_err(|e| ApiError::internal(&e))??;
    Ok(Json(serde_json::to_value(result).map_err(|e| ApiError::internal(&e))?))
}

/// One metric as a time series.
pub async fn series(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let mut query = SeriesQuery::from_params(&query_pairs(raw)?)?;
    query.restrict = caller.index_restriction();
    let org = caller.org_id.0;
    let result = tokio::task::spawn_blocking(move || state.index.series(org, &query))
        .await
        .map_err(|e| ApiError::internal(&e))??;
    Ok(Json(serde_json::to_value(result).map_err(|e| ApiError::internal(&e))?))
}
