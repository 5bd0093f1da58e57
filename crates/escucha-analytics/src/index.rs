//! [`AnalyticsIndex`]: the shared, thread-safe index of every organisation's responses.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use crate::columns::OrgIndex;
use crate::engine;
use crate::facts::ResponseFacts;
use crate::query::{MetricQuery, QueryError, SeriesQuery};
use crate::result::{MetricResult, SeriesResult};

/// The in-memory columnar index of committed responses, per organisation, answering metric
/// queries without touching the database.
///
/// Share it in an `Arc`: inserts take one organisation's write lock for a few microseconds,
/// queries take that organisation's read lock for the duration of a scan, so organisations
/// never wait for each other and queries of one organisation run in parallel. A query over
/// millions of rows takes milliseconds of CPU (and uses up to all cores for big scans): from
/// async code, call it inside `tokio::task::spawn_blocking`.
#[derive(Debug)]
pub struct AnalyticsIndex {
    orgs: RwLock<HashMap<i64, Arc<RwLock<OrgIndex>>>>,
    max_seq: AtomicI64,
}

/// Size figures of one organisation's part of the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IndexStats {
    /// Rows (responses) held.
    pub rows: usize,
    /// Approximate heap bytes held.
    pub bytes: usize,
}

impl Default for AnalyticsIndex {
    fn default() -> Self {
        AnalyticsIndex::new()
    }
}

impl AnalyticsIndex {
    /// An empty index.
    pub fn new() -> Self {
        AnalyticsIndex { orgs: RwLock::new(HashMap::new()), max_seq: AtomicI64::new(i64::MIN) }
    }

    fn org(&self, org_id: i64) -> Option<Arc<RwLock<OrgIndex>>> {
        let orgs = self.orgs.read().unwrap_or_else(PoisonError::into_inner);
        orgs.get(&org_id).cloned()
    }

    fn org_or_create(&self, org_id: i64) -> Arc<RwLock<OrgIndex>> {
        if let Some(org) = self.org(org_id) {
            return org;
        }
        let mut orgs = self.orgs.write().unwrap_or_else(PoisonError::into_inner);
        orgs.entry(org_id).or_default().clone()
    }

    /// Adds one committed response; returns false when its `seq` is already held for its
    /// organisation (a replay), in which case nothing changes. Sequences may arrive in any order.
    pub fn insert(&self, facts: &ResponseFacts) -> bool {
        let org = self.org_or_create(facts.org_id);
        let inserted = org.write().unwrap_or_else(PoisonError::into_inner).insert(facts);
        if inserted {
            self.max_seq.fetch_max(facts.seq, Ordering::Relaxed);
        }
        inserted
    }

    /// Adds many responses (e.g. the initial load from the store), taking each organisation's
    /// lock once per run of consecutive rows of that organisation; returns how many were new.
    pub fn insert_many<'a>(&self, rows: impl IntoIterator<Item = &'a ResponseFacts>) -> usize {
        let mut inserted = 0;
        let mut rows = rows.into_iter().peekable();
        while let Some(first) = rows.next() {
            let org_id = first.org_id;
            let org = self.org_or_create(org_id);
            let mut guard = org.write().unwrap_or_else(PoisonError::into_inner);
            let mut max = i64::MIN;
            let mut add = |facts: &ResponseFacts| {
                if guard.insert(facts) {
                    inserted += 1;
                    max = max.max(facts.seq);
                }
            };
            add(first);
            while let Some(next) = rows.next_if(|r| r.org_id == org_id) {
                add(next);
            }
            drop(guard);
            self.max_seq.fetch_max(max, Ordering::Relaxed);
        }
        inserted
    }

    /// The highest sequence number inserted so far (over all organisations), where a follower
    /// of the store's feed can resume; `None` when empty. Replaying from an earlier point is
    /// harmless since inserts are idempotent.
    pub fn max_seq(&self) -> Option<i64> {
        let seq = self.max_seq.load(Ordering::Relaxed);
        (seq != i64::MIN).then_some(seq)
    }

    /// Rows and approximate memory held for an organisation (zero when unknown).
    pub fn stats(&self, org_id: i64) -> IndexStats {
        self.org(org_id).map_or_else(IndexStats::default, |org| {
            let org = org.read().unwrap_or_else(PoisonError::into_inner);
            IndexStats { rows: org.len(), bytes: org.memory_bytes() }
        })
    }

    /// Answers a metric report for an organisation (an unknown organisation has n = 0).
    pub fn query(&self, org_id: i64, query: &MetricQuery) -> Result<MetricResult, QueryError> {
        match self.org(org_id) {
            Some(org) => {
                let org = org.read().unwrap_or_else(PoisonError::into_inner);
                engine::metric(Some(&org), query)
            }
            None => engine::metric(None, query),
        }
    }

    /// Answers a time series for an organisation.
    pub fn series(&self, org_id: i64, query: &SeriesQuery) -> Result<SeriesResult, QueryError> {
        match self.org(org_id) {
            Some(org) => {
                let org = org.read().unwrap_or_else(PoisonError::into_inner);
                engine::series(Some(&org), query)
            }
            None => engine::series(None, query),
        }
    }
}
