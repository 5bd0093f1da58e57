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
    /// Per-process request limits and sign-in throttling.
    pub limits: Arc<Limits>,
}

/// Per-process limits: a first line against floods and password guessing (see
/// [`crate::ratelimit`] for why the store must also keep lockouts when several processes run).
#[derive(Debug)]
pub struct Limits {
    /// API requests per token or client IP; `None` when turned off.
    pub api: Option<crate::ratelimit::RateLimiter>,
    /// Failed sign-ins per account and per IP.
    pub sign_in: crate::ratelimit::SignInThrottle,
}

impl Limits {
    /// Limits from the configuration.
    pub fn from_config(config: &Config) -> Limits {
        let api = config.api_requests_per_minute.and_then(|per_minute| {
            let quota = crate::ratelimit::Quota::per_minute(per_minute).ok()?;
            let quota = quota.with_burst((per_minute / 10).max(1)).ok()?;
            Some(crate::ratelimit::RateLimiter::new(quota, 100_000))
        });
        Limits { api, sign_in: crate::ratelimit::SignInThrottle::new(Default::default(), 100_000) }
    }
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
        owner: row.owner,
        attributes: row.attributes.into_iter().collect(),
        nps: row.scores.nps,
        csat: row.scores.csat,
        ces: row.scores.ces,
        cadv: row.scores.cadv,
    }
}

/// How long an id skipped by the feed is waited for before it is taken for a rolled-back
/// insert. On PostgreSQL ids come from a sequence: a transaction that took a lower id can commit
/// after one that took a higher id was already read, so the follower re-reads from the oldest
/// gap until it fills or this time passes.
pub const FEED_GAP_PATIENCE: std::time::Duration = std::time::Duration::from_secs(30);

/// Where the analytics follower is in the store's response feed, with the gaps it still waits for.
#[derive(Debug, Default, Clone)]
pub struct FeedCursor {
    /// Highest id read.
    pub position: i64,
    /// Ids below `position` not seen yet, with when they were first missed.
    missing: std::collections::BTreeMap<i64, std::time::Instant>,
}

impl FeedCursor {
    /// A cursor after `position` with no gaps.
    pub fn at(position: i64) -> Self {
        FeedCursor { position, missing: Default::default() }
    }

    /// Where the next read starts: just before the oldest gap, or at the position.
    pub fn read_after(&self) -> i64 {
        self.missing.keys().next().map(|first| first - 1).unwrap_or(self.position).min(self.position)
    }

    /// Records the ids of one read (in ascending order) at time `now`, and forgets gaps older
    /// than [`FEED_GAP_PATIENCE`].
    pub fn record(&mut self, ids: &[i64], now: std::time::Instant) {
        for &id in ids {
            if id > self.position {
                // Gaps are capped so a huge jump (e.g. after a bulk delete) cannot blow memory.
                let gap_start = (self.position + 1).max(id - 10_000);
                for missing in gap_start..id {
                    self.missing.entry(missing).or_insert(now);
                }
                self.position = id;
            } else {
                self.missing.remove(&id);
            }
        }
        self.missing.retain(|_, since| now.duration_since(*since) < FEED_GAP_PATIENCE);
    }
}

/// Reads the store's response feed from the cursor into the index until it is drained. Rows
/// arrive in id order; the index ignores ids it already holds.
pub async fn catch_up_index(
    store: &dyn Store,
    index: &AnalyticsIndex,
    cursor: &mut FeedCursor,
) -> Result<(), escucha_store::StoreError> {
    const BATCH: i64 = 20_000;
    let mut after = cursor.read_after();
    loop {
        let rows = store.index_feed(after, BATCH).await?;
        let n = rows.len() as i64;
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let facts: Vec<ResponseFacts> = rows.into_iter().map(facts_from_row).collect();
        index.insert_many(&facts);
        cursor.record(&ids, std::time::Instant::now());
        after = ids.last().copied().unwrap_or(after);
        if n < BATCH {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn late_commits_below_the_position_are_waited_for() {
        let t0 = Instant::now();
        let mut c = FeedCursor::at(0);
        // Ids 1, 2, 4 are visible; 3 belongs to a transaction still open.
        c.record(&[1, 2, 4], t0);
        assert_eq!(c.position, 4);
        assert_eq!(c.read_after(), 2, "re-read from just before the gap");
        // 3 commits: the gap closes and reads resume at the position.
        c.record(&[3, 4], t0 + Duration::from_secs(1));
        assert_eq!(c.read_after(), 4);
        // A rolled-back id (6) is given up after the patience.
        c.record(&[5, 7], t0 + Duration::from_secs(2));
        assert_eq!(c.read_after(), 5);
        c.record(&[7], t0 + Duration::from_secs(40));
        assert_eq!(c.read_after(), 7);
    }
}
