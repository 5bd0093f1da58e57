//! What every handler and worker shares: the store, the analytics index and the configuration.

use std::sync::Arc;

use escucha_analytics::{AnalyticsIndex, ResponseFacts};
use escucha_store::{IndexRow, Store};

use crate::config::Config;

/// Shared application state; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// Storage.
    pub store: Arc<dyn Store>,
    /// In-memory metric index, fed from the store's response sequence.
    pub index: Arc<AnalyticsIndex>,
    /// Configuration.
    pub config: Arc<Config>,
}

/// Converts a store feed row into the index's input.
pub fn facts_from_row(row: IndexRow) -> ResponseFacts {
    ResponseFacts {
        seq: row.id,
        org_id: row.org_id.0,
        survey_id: row.survey_id,
        submitted_at: row.submitted_at,
        region: row.region,
        product: row.product,
        channel: row.channel,
        team: row.team,
        employee: row.employee,
        touchpoint: row.touchpoint,
        journey_stage: row.journey_stage,
        segment: row.segment,
        language: row.language,
        attributes: row.attributes.into_iter().collect(),
        nps: row.scores.nps,
        csat: row.scores.csat,
        ces: row.scores.ces,
        cadv: row.scores.cadv,
    }
}

/// Reads the store's response feed after `after` into the index until it is drained; returns the
/// last sequence seen. Rows arrive in id order; the index ignores ids it already holds.
pub async fn catch_up_index(
    store: &dyn Store,
    index: &AnalyticsIndex,
    mut after: i64,
) -> Result<i64, escucha_store::StoreError> {
    const BATCH: i64 = 20_000;
    loop {
        let rows = store.index_feed(after, BATCH).await?;
        let n = rows.len() as i64;
        for row in rows {
            after = after.max(row.id);
            index.insert(&facts_from_row(row));
        }
        if n < BATCH {
            return Ok(after);
        }
    }
}
