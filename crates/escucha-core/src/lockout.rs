//! Exponential lockout after repeated failures, as pure data: the rules ([`LockoutPolicy`]) and
//! one key's history ([`FailureRecord`]). The store keeps one record per key (an account, a
//! client IP, a password-reset requester) so every server process sharing the database applies
//! the same lockouts; this module only decides.
//!
//! After [`LockoutPolicy::max_failures`] failures within [`LockoutPolicy::window`] (counted from
//! the first one) the key is locked for [`LockoutPolicy::base_lockout`], doubling with each
//! further lockout up to [`LockoutPolicy::max_lockout`]; quiet for
//! [`LockoutPolicy::forget_after`], its history starts afresh.

use chrono::{DateTime, Duration, Utc};

/// The rules of one kind of lockout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Failures within the window that lock the key (at least 1).
    pub max_failures: u32,
    /// The window failures are counted in, from the first failure.
    pub window: Duration,
    /// The first lockout's length; each further one doubles it.
    pub base_lockout: Duration,
    /// The longest lockout.
    pub max_lockout: Duration,
    /// Quiet time after which a key's history is forgotten.
    pub forget_after: Duration,
}

impl LockoutPolicy {
    /// The length of lockout number `previous + 1`: base × 2^previous, capped at the maximum.
    pub fn lockout_for(&self, previous: u32) -> Duration {
        let factor = 1i32.checked_shl(previous.min(30)).unwrap_or(i32::MAX);
        self.base_lockout.checked_mul(factor).unwrap_or(self.max_lockout).min(self.max_lockout)
    }
}

/// One key's failures and lockouts, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureRecord {
    /// When the current counting window started.
    pub window_start: DateTime<Utc>,
    /// Failures in the current window.
    pub failures: u32,
    /// Lockouts so far (makes the next one longer).
    pub lockouts: u32,
    /// Locked until then, when locked.
    pub locked_until: Option<DateTime<Utc>>,
    /// The last failure.
    pub last_seen: DateTime<Utc>,
}

impl FailureRecord {
    /// A key with no history at `now`.
    pub fn fresh(now: DateTime<Utc>) -> Self {
        FailureRecord { window_start: now, failures: 0, lockouts: 0, locked_until: None, last_seen: now }
    }

    /// When the key is locked at `now`, until when.
    pub fn locked_at(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.locked_until.filter(|until| *until > now)
    }

    /// Counts one failure at `now`; returns the end of the lockout this failure starts, if any.
    /// A failure while locked still counts (it comes from a process that had not seen the lock).
    pub fn fail(&mut self, now: DateTime<Utc>, policy: &LockoutPolicy) -> Option<DateTime<Utc>> {
        if self.locked_at(now).is_none() && now - self.last_seen >= policy.forget_after {
            *self = FailureRecord::fresh(now);
        }
        self.last_seen = now;
        if self.failures == 0 || now - self.window_start >= policy.window {
            self.window_start = now;
            self.failures = 0;
        }
        self.failures = self.failures.saturating_add(1);
        if self.failures < policy.max_failures.max(1) {
            return None;
        }
        let until = now + policy.lockout_for(self.lockouts);
        self.lockouts = self.lockouts.saturating_add(1);
        self.failures = 0;
        self.locked_until = Some(until);
        Some(until)
    }

    /// True when the record carries nothing any more at `now` (unlocked and quiet long enough).
    pub fn is_idle(&self, now: DateTime<Utc>, policy: &LockoutPolicy) -> bool {
        self.locked_at(now).is_none() && now - self.last_seen >= policy.forget_after
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn policy() -> LockoutPolicy {
        LockoutPolicy {
            max_failures: 3,
            window: Duration::minutes(15),
            base_lockout: Duration::minutes(1),
            max_lockout: Duration::hours(1),
            forget_after: Duration::hours(24),
        }
    }

    fn t(seconds: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().unwrap() + Duration::seconds(seconds)
    }

    #[test]
    fn lockouts_double_and_are_capped() {
        let p = policy();
        assert_eq!(p.lockout_for(0), Duration::minutes(1));
        assert_eq!(p.lockout_for(3), Duration::minutes(8));
        assert_eq!(p.lockout_for(6), Duration::hours(1));
        assert_eq!(p.lockout_for(u32::MAX), Duration::hours(1));
    }

    #[test]
    fn the_nth_failure_locks_then_longer_each_time() {
        let p = policy();
        let mut r = FailureRecord::fresh(t(0));
        assert_eq!(r.fail(t(0), &p), None);
        assert_eq!(r.fail(t(1), &p), None);
        assert_eq!(r.fail(t(2), &p), Some(t(62)));
        assert_eq!(r.locked_at(t(61)), Some(t(62)));
        assert_eq!(r.locked_at(t(62)), None);
        for s in [100, 101] {
            assert_eq!(r.fail(t(s), &p), None);
        }
        assert_eq!(r.fail(t(102), &p), Some(t(102 + 120)), "second lockout is twice as long");
    }

    #[test]
    fn the_window_and_quiet_spells_reset_the_count() {
        let p = policy();
        let mut r = FailureRecord::fresh(t(0));
        r.fail(t(0), &p);
        r.fail(t(1), &p);
        assert_eq!(r.fail(t(15 * 60), &p), None, "outside the window: counting starts again");
        let mut locked = FailureRecord::fresh(t(0));
        for s in 0..3 {
            locked.fail(t(s), &p);
        }
        assert!(!locked.is_idle(t(30), &p));
        assert!(locked.is_idle(t(2 + 24 * 3600), &p));
        for s in 0..2 {
            locked.fail(t(2 + 24 * 3600 + s), &p);
        }
        assert_eq!(
            locked.fail(t(2 + 24 * 3600 + 2), &p),
            Some(t(2 + 24 * 3600 + 2 + 60)),
            "history forgotten: back to the shortest lockout"
        );
    }
}
