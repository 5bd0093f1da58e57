//! Request rate limits and sign-in throttling, in memory.
//!
//! - [`RateLimiter`]: a GCRA limiter (the token bucket written as one timestamp per key: the
//!   "theoretical arrival time") keyed by any string — an API token id, a client IP. Each key
//!   may burst up to [`Quota::burst`] requests, then one per [`Quota::interval`]. A denied
//!   request gets the time after which it would be allowed (for `Retry-After`). Sharded
//!   mutexes keep it cheap under concurrency; memory is bounded: a key whose bucket has refilled
//!   carries no state and is dropped, and when a shard is full the key closest to refilled is
//!   evicted.
//! - [`SignInThrottle`]: after [`ThrottlePolicy::max_account_failures`] failed sign-ins for one
//!   (organisation, e-mail), or [`ThrottlePolicy::max_ip_failures`] from one IP, within
//!   [`ThrottlePolicy::window`], that account or IP is locked for
//!   [`ThrottlePolicy::base_lockout`], doubling with each further lockout up to
//!   [`ThrottlePolicy::max_lockout`]; quiet for [`ThrottlePolicy::forget_after`], it starts
//!   afresh. A successful sign-in clears the account, not the IP.
//!
//! Both read time from a [`Clock`], so tests drive them with a [`ManualClock`].
//!
//! **These limits are per process: a first line only.** With several `escucha serve`
//! processes behind a load balancer each counts on its own. The authoritative sign-in lockouts
//! are therefore kept in the store ([`crate::service::sign_in`], same [`ThrottlePolicy`] through
//! [`ThrottlePolicy::account_lockout`] and [`ThrottlePolicy::ip_lockout`]), shared by every
//! process; [`SignInThrottle`] stays in front of it as a cheap pre-check that answers a locked
//! flood without a database round trip.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// A monotonic time source, as an offset from an arbitrary origin.
pub trait Clock: Send + Sync {
    /// Time elapsed since the clock's origin.
    fn now(&self) -> Duration;
}

/// The real monotonic clock.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    origin: Instant,
}

impl SystemClock {
    /// A clock whose origin is now.
    pub fn new() -> Self {
        SystemClock { origin: Instant::now() }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }
}

/// A clock that moves only when told, for tests; clones share the same time.
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    nanos: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock at its origin.
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves time forward.
    pub fn advance(&self, by: Duration) {
        self.nanos.fetch_add(nanos(by), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::SeqCst))
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // State is plain numbers: a panic elsewhere cannot leave it inconsistent.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// An invalid limit configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuotaError {
    /// A quota of zero requests, a zero period, or a zero burst.
    #[error("a rate limit needs at least one request per non-zero period, and a burst of at least one")]
    Zero,
}

/// How fast one key may go: `burst` requests at once, refilled at one per `interval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// Time to earn one more request.
    pub interval: Duration,
    /// Requests that may be made back to back after a quiet spell.
    pub burst: u32,
}

impl Quota {
    /// `count` requests per `period`, all of which may come at once (burst = count).
    pub fn new(count: u32, period: Duration) -> Result<Self, QuotaError> {
        if count == 0 || period.is_zero() {
            return Err(QuotaError::Zero);
        }
        Ok(Quota { interval: period / count, burst: count })
    }

    /// `count` requests per second.
    pub fn per_second(count: u32) -> Result<Self, QuotaError> {
        Self::new(count, Duration::from_secs(1))
    }

    /// `count` requests per minute.
    pub fn per_minute(count: u32) -> Result<Self, QuotaError> {
        Self::new(count, Duration::from_secs(60))
    }

    /// The same rate with another burst size.
    pub fn with_burst(self, burst: u32) -> Result<Self, QuotaError> {
        if burst == 0 {
            return Err(QuotaError::Zero);
        }
        Ok(Quota { burst, ..self })
    }
}

/// The answer of a limiter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Go ahead; `remaining` more requests could follow at once.
    Allow {
        /// Requests left in the burst.
        remaining: u32,
    },
    /// Refused; ask again after `retry_after`.
    Deny {
        /// How long until a request would be allowed.
        retry_after: Duration,
    },
}

impl Decision {
    /// True when the request may proceed.
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow { .. })
    }

    /// Whole seconds to put in a `Retry-After` header (rounded up, at least 1), when denied.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Decision::Allow { .. } => None,
            Decision::Deny { retry_after } => {
                Some(retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0)).map(|s| s.max(1))
            }
        }
    }
}

const SHARDS: usize = 16;

/// A thread-safe GCRA rate limiter keyed by string, with bounded memory (see the module docs).
pub struct RateLimiter<C: Clock = SystemClock> {
    quota: Quota,
    clock: C,
    hasher: RandomState,
    per_shard: usize,
    /// Per shard: key → theoretical arrival time (nanoseconds on the clock).
    shards: Vec<Mutex<HashMap<String, u64>>>,
}

impl<C: Clock> std::fmt::Debug for RateLimiter<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter").field("quota", &self.quota).field("keys", &self.len()).finish()
    }
}

impl RateLimiter<SystemClock> {
    /// A limiter on the real clock remembering at most about `max_keys` keys.
    pub fn new(quota: Quota, max_keys: usize) -> Self {
        Self::with_clock(quota, max_keys, SystemClock::new())
    }
}

impl<C: Clock> RateLimiter<C> {
    /// A limiter on the given clock remembering at most about `max_keys` keys (rounded up to a
    /// multiple of the shard count, at least one per shard).
    pub fn with_clock(quota: Quota, max_keys: usize, clock: C) -> Self {
        RateLimiter {
            quota,
            clock,
            hasher: RandomState::new(),
            per_shard: max_keys.div_ceil(SHARDS).max(1),
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }

    /// The quota applied to every key.
    pub fn quota(&self) -> Quota {
        self.quota
    }

    /// Counts one request for `key` and says whether it may proceed. A denied request is not
    /// counted, so a client that waits `retry_after` gets through.
    pub fn check(&self, key: &str) -> Decision {
        let now = nanos(self.clock.now());
        let interval = nanos(self.quota.interval).max(1);
        let tolerance = interval.saturating_mul(u64::from(self.quota.burst) - 1);
        let shard = &self.shards[(self.hasher.hash_one(key) as usize) % SHARDS];
        let mut map = lock(shard);
        let tat = map.get(key).copied().unwrap_or(now).max(now);
        let earliest = tat.saturating_sub(tolerance);
        if now < earliest {
            return Decision::Deny { retry_after: Duration::from_nanos(earliest - now) };
        }
        let new_tat = tat.saturating_add(interval);
        if !map.contains_key(key) && map.len() >= self.per_shard {
            make_room(&mut map, now, self.per_shard);
        }
        map.insert(key.to_string(), new_tat);
        let used = new_tat - now; // ≤ tolerance + interval
        let remaining = (tolerance + interval - used.min(tolerance + interval)) / interval;
        Decision::Allow { remaining: u32::try_from(remaining).unwrap_or(u32::MAX) }
    }

    /// Drops every key whose bucket has refilled (it carries no state); returns how many.
    /// Optional: full shards do this by themselves.
    pub fn purge_idle(&self) -> usize {
        let now = nanos(self.clock.now());
        self.shards
            .iter()
            .map(|s| {
                let mut map = lock(s);
                let before = map.len();
                map.retain(|_, tat| *tat > now);
                before - map.len()
            })
            .sum()
    }

    /// Keys currently remembered.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).len()).sum()
    }

    /// True when no key is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Frees a slot: drops refilled keys, or else the key closest to refilled (least restricted).
fn make_room(map: &mut HashMap<String, u64>, now: u64, capacity: usize) {
    map.retain(|_, tat| *tat > now);
    if map.len() >= capacity
        && let Some(oldest) = map.iter().min_by_key(|(_, tat)| **tat).map(|(k, _)| k.clone())
    {
        map.remove(&oldest);
    }
}

/// The sign-in throttling rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures for one (organisation, e-mail) within the window that lock the account.
    pub max_account_failures: u32,
    /// Failures from one IP (any accounts) within the window that lock the IP.
    pub max_ip_failures: u32,
    /// The window failures are counted in, from the first failure.
    pub window: Duration,
    /// The first lockout's length; each further one doubles it.
    pub base_lockout: Duration,
    /// The longest lockout.
    pub max_lockout: Duration,
    /// Quiet time after which an account's or IP's history is forgotten.
    pub forget_after: Duration,
}

impl Default for ThrottlePolicy {
    /// 5 failures per account or 20 per IP in 15 minutes lock for 1 minute, then 2, 4, … up
    /// to 1 hour; forgotten after 24 hours of quiet.
    fn default() -> Self {
        ThrottlePolicy {
            max_account_failures: 5,
            max_ip_failures: 20,
            window: Duration::from_secs(15 * 60),
            base_lockout: Duration::from_secs(60),
            max_lockout: Duration::from_secs(3600),
            forget_after: Duration::from_secs(24 * 3600),
        }
    }
}

impl ThrottlePolicy {
    /// The length of the lockout number `previous + 1`: base × 2^previous, capped.
    pub fn lockout_for(&self, previous: u32) -> Duration {
        let factor = 1u32.checked_shl(previous.min(31)).unwrap_or(u32::MAX);
        self.base_lockout.checked_mul(factor).unwrap_or(self.max_lockout).min(self.max_lockout)
    }

    /// The per-account rules as the store applies them.
    pub fn account_lockout(&self) -> escucha_core::lockout::LockoutPolicy {
        self.lockout_policy(self.max_account_failures)
    }

    /// The per-IP rules as the store applies them.
    pub fn ip_lockout(&self) -> escucha_core::lockout::LockoutPolicy {
        self.lockout_policy(self.max_ip_failures)
    }

    fn lockout_policy(&self, max_failures: u32) -> escucha_core::lockout::LockoutPolicy {
        let chrono = |d: Duration| chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX);
        escucha_core::lockout::LockoutPolicy {
            max_failures,
            window: chrono(self.window),
            base_lockout: chrono(self.base_lockout),
            max_lockout: chrono(self.max_lockout),
            forget_after: chrono(self.forget_after),
        }
    }
}

/// What is locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockedBy {
    /// The (organisation, e-mail) had too many failures.
    Account,
    /// The client IP had too many failures.
    Ip,
}

/// A refused sign-in attempt: answer with a generic "try again later" (the same whatever the
/// password), `429` and `Retry-After`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Locked {
    /// Which limit was hit.
    pub by: LockedBy,
    /// How long until attempts are accepted again.
    pub retry_after: Duration,
}

#[derive(Debug, Clone, Copy, Default)]
struct FailureState {
    window_start: u64,
    failures: u32,
    lockouts: u32,
    locked_until: u64,
    last_seen: u64,
}

impl FailureState {
    fn locked(&self, now: u64) -> Option<Duration> {
        (self.locked_until > now).then(|| Duration::from_nanos(self.locked_until - now))
    }

    /// Counts a failure; returns the new lockout's length when this one triggers it.
    fn fail(&mut self, now: u64, max: u32, policy: &ThrottlePolicy) -> Option<Duration> {
        if now.saturating_sub(self.last_seen) >= nanos(policy.forget_after) && self.locked_until <= now {
            *self = FailureState::default();
        }
        self.last_seen = now;
        if self.failures == 0 || now.saturating_sub(self.window_start) >= nanos(policy.window) {
            self.window_start = now;
            self.failures = 0;
        }
        self.failures = self.failures.saturating_add(1);
        if self.failures < max.max(1) {
            return None;
        }
        let length = policy.lockout_for(self.lockouts);
        self.lockouts = self.lockouts.saturating_add(1);
        self.failures = 0;
        self.locked_until = now.saturating_add(nanos(length));
        Some(length)
    }

    fn idle(&self, now: u64, policy: &ThrottlePolicy) -> bool {
        self.locked_until <= now && now.saturating_sub(self.last_seen) >= nanos(policy.forget_after)
    }
}

/// Sign-in throttling per account and per IP (see the module docs). Call
/// [`SignInThrottle::check`] before verifying a password (a locked attempt is refused without
/// looking at it), then [`SignInThrottle::record_failure`] or
/// [`SignInThrottle::record_success`].
pub struct SignInThrottle<C: Clock = SystemClock> {
    policy: ThrottlePolicy,
    clock: C,
    max_keys: usize,
    accounts: Mutex<HashMap<String, FailureState>>,
    ips: Mutex<HashMap<String, FailureState>>,
}

impl<C: Clock> std::fmt::Debug for SignInThrottle<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInThrottle").field("policy", &self.policy).finish_non_exhaustive()
    }
}

impl SignInThrottle<SystemClock> {
    /// A throttle on the real clock remembering at most `max_keys` accounts and as many IPs.
    pub fn new(policy: ThrottlePolicy, max_keys: usize) -> Self {
        Self::with_clock(policy, max_keys, SystemClock::new())
    }
}

fn account_key(org: &str, email: &str) -> String {
    format!("{org}\u{0}{}", email.trim().to_lowercase())
}

impl<C: Clock> SignInThrottle<C> {
    /// A throttle on the given clock remembering at most `max_keys` accounts and as many IPs.
    pub fn with_clock(policy: ThrottlePolicy, max_keys: usize, clock: C) -> Self {
        SignInThrottle {
            policy,
            clock,
            max_keys: max_keys.max(1),
            accounts: Mutex::new(HashMap::new()),
            ips: Mutex::new(HashMap::new()),
        }
    }

    /// The rules applied.
    pub fn policy(&self) -> ThrottlePolicy {
        self.policy
    }

    /// `Err` when the account (`org` — slug or id — and `email`, compared case-insensitively)
    /// or the IP is locked now. The IP lock is reported first when both are.
    pub fn check(&self, org: &str, email: &str, ip: &str) -> Result<(), Locked> {
        let now = nanos(self.clock.now());
        if let Some(retry_after) = lock(&self.ips).get(ip).and_then(|s| s.locked(now)) {
            return Err(Locked { by: LockedBy::Ip, retry_after });
        }
        if let Some(retry_after) = lock(&self.accounts).get(&account_key(org, email)).and_then(|s| s.locked(now)) {
            return Err(Locked { by: LockedBy::Account, retry_after });
        }
        Ok(())
    }

    /// Records a failed sign-in (wrong password, unknown user, wrong second factor); returns
    /// the lock it triggered, if any (the IP's when both lock at once).
    pub fn record_failure(&self, org: &str, email: &str, ip: &str) -> Option<Locked> {
        let now = nanos(self.clock.now());
        let account = self.fail(&self.accounts, account_key(org, email), now, self.policy.max_account_failures);
        let by_ip = self.fail(&self.ips, ip.to_string(), now, self.policy.max_ip_failures);
        by_ip
            .map(|retry_after| Locked { by: LockedBy::Ip, retry_after })
            .or(account.map(|retry_after| Locked { by: LockedBy::Account, retry_after }))
    }

    /// Records a successful sign-in: the account's failures and lockout history are cleared;
    /// the IP's are kept (one good account must not launder an IP's guessing).
    pub fn record_success(&self, org: &str, email: &str, _ip: &str) {
        lock(&self.accounts).remove(&account_key(org, email));
    }

    /// Drops accounts and IPs quiet for [`ThrottlePolicy::forget_after`]; returns how many.
    /// Optional: full tables do this by themselves.
    pub fn purge_idle(&self) -> usize {
        let now = nanos(self.clock.now());
        [&self.accounts, &self.ips]
            .into_iter()
            .map(|m| {
                let mut map = lock(m);
                let before = map.len();
                map.retain(|_, s| !s.idle(now, &self.policy));
                before - map.len()
            })
            .sum()
    }

    /// Accounts and IPs currently remembered.
    pub fn len(&self) -> usize {
        lock(&self.accounts).len() + lock(&self.ips).len()
    }

    /// True when nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn fail(&self, table: &Mutex<HashMap<String, FailureState>>, key: String, now: u64, max: u32) -> Option<Duration> {
        let mut map = lock(table);
        if !map.contains_key(&key) && map.len() >= self.max_keys {
            map.retain(|_, s| !s.idle(now, &self.policy));
            if map.len() >= self.max_keys {
                // Evict the least recently seen unlocked entry; locked ones stay locked.
                let victim = map
                    .iter()
                    .filter(|(_, s)| s.locked_until <= now)
                    .min_by_key(|(_, s)| s.last_seen)
                    .map(|(k, _)| k.clone());
                match victim {
                    Some(k) => {
                        map.remove(&k);
                    }
                    // Everything is locked: do not grow; this key's failure is not remembered.
                    None => return None,
                }
            }
        }
        map.entry(key).or_default().fail(now, max, &self.policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(quota: Quota, max_keys: usize) -> (RateLimiter<ManualClock>, ManualClock) {
        let clock = ManualClock::new();
        (RateLimiter::with_clock(quota, max_keys, clock.clone()), clock)
    }

    #[test]
    fn quotas_reject_zero() {
        assert_eq!(Quota::per_minute(0), Err(QuotaError::Zero));
        assert_eq!(Quota::new(5, Duration::ZERO), Err(QuotaError::Zero));
        assert_eq!(Quota::per_second(1).and_then(|q| q.with_burst(0)), Err(QuotaError::Zero));
        let q = Quota::per_minute(60).unwrap();
        assert_eq!((q.interval, q.burst), (Duration::from_secs(1), 60));
        assert_eq!(q.with_burst(5).unwrap().burst, 5);
    }

    #[test]
    fn a_burst_then_the_steady_rate() {
        let (rl, clock) = limiter(Quota::per_second(10).unwrap().with_burst(3).unwrap(), 100);
        assert_eq!(rl.check("t1"), Decision::Allow { remaining: 2 });
        assert_eq!(rl.check("t1"), Decision::Allow { remaining: 1 });
        assert_eq!(rl.check("t1"), Decision::Allow { remaining: 0 });
        let denied = rl.check("t1");
        assert_eq!(denied, Decision::Deny { retry_after: Duration::from_millis(100) });
        assert_eq!(denied.retry_after_secs(), Some(1));
        // Denied requests are not counted: waiting the advertised time is enough.
        assert!(!rl.check("t1").is_allowed());
        clock.advance(Duration::from_millis(100));
        assert_eq!(rl.check("t1"), Decision::Allow { remaining: 0 });
        assert!(!rl.check("t1").is_allowed());
        // After a quiet spell the burst is back.
        clock.advance(Duration::from_secs(1));
        assert_eq!(rl.check("t1"), Decision::Allow { remaining: 2 });
    }

    #[test]
    fn keys_are_independent() {
        let (rl, _clock) = limiter(Quota::per_minute(1).unwrap(), 100);
        assert!(rl.check("10.0.0.1").is_allowed());
        assert!(!rl.check("10.0.0.1").is_allowed());
        assert!(rl.check("10.0.0.2").is_allowed());
        match rl.check("10.0.0.1") {
            Decision::Deny { retry_after } => assert_eq!(retry_after, Duration::from_secs(60)),
            other => panic!("expected a denial, got {other:?}"),
        }
        assert_eq!(Decision::Allow { remaining: 0 }.retry_after_secs(), None);
    }

    #[test]
    fn sustained_rate_matches_the_quota() {
        let (rl, clock) = limiter(Quota::per_second(5).unwrap(), 10);
        let mut allowed = 0;
        // 10 seconds of a client hammering every 10 ms.
        for _ in 0..1000 {
            if rl.check("k").is_allowed() {
                allowed += 1;
            }
            clock.advance(Duration::from_millis(10));
        }
        // The initial burst of 5, then 5 per second.
        assert!((54..=56).contains(&allowed), "{allowed}");
    }

    #[test]
    fn memory_is_bounded_and_idle_keys_go() {
        let (rl, clock) = limiter(Quota::per_second(1).unwrap(), 32);
        for i in 0..10_000 {
            rl.check(&format!("ip-{i}"));
        }
        assert!(rl.len() <= 32 + SHARDS, "{}", rl.len());
        clock.advance(Duration::from_secs(2));
        assert!(rl.purge_idle() > 0);
        assert!(rl.is_empty());
        // A refilled key that is forgotten behaves exactly like a remembered one.
        assert_eq!(rl.check("ip-1"), Decision::Allow { remaining: 0 });
    }

    #[test]
    fn eviction_under_pressure_keeps_working() {
        let (rl, _clock) = limiter(Quota::per_minute(1).unwrap(), 1);
        // One slot per shard: every new key in a full shard evicts the least restricted one.
        for i in 0..100 {
            assert!(rl.check(&format!("k{i}")).is_allowed());
        }
        assert!(rl.len() <= SHARDS);
    }

    #[test]
    fn the_limiter_is_thread_safe() {
        let rl = Arc::new(RateLimiter::new(Quota::per_minute(100).unwrap(), 1000));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let rl = Arc::clone(&rl);
                std::thread::spawn(move || (0..100).filter(|_| rl.check("shared").is_allowed()).count())
            })
            .collect();
        let allowed: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
        // 400 attempts within well under a minute: the burst of 100 (plus at most a refill or two).
        assert!((100..=102).contains(&allowed), "{allowed}");
    }

    fn throttle(policy: ThrottlePolicy) -> (SignInThrottle<ManualClock>, ManualClock) {
        let clock = ManualClock::new();
        (SignInThrottle::with_clock(policy, 1000, clock.clone()), clock)
    }

    const MIN: Duration = Duration::from_secs(60);

    #[test]
    fn lockouts_grow_exponentially_and_are_capped() {
        let p = ThrottlePolicy::default();
        assert_eq!(p.lockout_for(0), MIN);
        assert_eq!(p.lockout_for(1), 2 * MIN);
        assert_eq!(p.lockout_for(5), 32 * MIN);
        assert_eq!(p.lockout_for(6), 60 * MIN);
        assert_eq!(p.lockout_for(40), 60 * MIN);
        assert_eq!(p.lockout_for(u32::MAX), 60 * MIN);
    }

    #[test]
    fn an_account_locks_after_n_failures() {
        let (t, clock) = throttle(ThrottlePolicy::default());
        for _ in 0..4 {
            assert_eq!(t.record_failure("demo", "ana@x.example", "1.1.1.1"), None);
            assert_eq!(t.check("demo", "ana@x.example", "1.1.1.1"), Ok(()));
        }
        let lock = t.record_failure("demo", "ANA@x.example ", "1.1.1.1");
        assert_eq!(lock, Some(Locked { by: LockedBy::Account, retry_after: MIN }));
        // Locked from any IP, with any capitalisation; other accounts and organisations are not.
        assert_eq!(
            t.check("demo", "Ana@X.example", "2.2.2.2"),
            Err(Locked { by: LockedBy::Account, retry_after: MIN })
        );
        assert_eq!(t.check("demo", "bea@x.example", "1.1.1.1"), Ok(()));
        assert_eq!(t.check("other", "ana@x.example", "1.1.1.1"), Ok(()));
        clock.advance(Duration::from_secs(59));
        assert_eq!(
            t.check("demo", "ana@x.example", "1.1.1.1"),
            Err(Locked { by: LockedBy::Account, retry_after: Duration::from_secs(1) })
        );
        clock.advance(Duration::from_secs(1));
        assert_eq!(t.check("demo", "ana@x.example", "1.1.1.1"), Ok(()));
        // The next round of failures locks twice as long, then four times.
        for expected in [2 * MIN, 4 * MIN] {
            for _ in 0..4 {
                assert_eq!(t.record_failure("demo", "ana@x.example", "1.1.1.1"), None);
            }
            assert_eq!(t.record_failure("demo", "ana@x.example", "1.1.1.1").map(|l| l.retry_after), Some(expected));
            clock.advance(expected);
        }
    }

    #[test]
    fn failures_outside_the_window_do_not_add_up() {
        let (t, clock) = throttle(ThrottlePolicy::default());
        for _ in 0..4 {
            t.record_failure("demo", "ana@x.example", "1.1.1.1");
        }
        clock.advance(Duration::from_secs(15 * 60));
        for _ in 0..4 {
            assert_eq!(t.record_failure("demo", "ana@x.example", "1.1.1.1"), None);
        }
        assert_eq!(t.check("demo", "ana@x.example", "1.1.1.1"), Ok(()));
    }

    #[test]
    fn success_clears_the_account_but_not_the_ip() {
        let policy = ThrottlePolicy { max_ip_failures: 6, ..ThrottlePolicy::default() };
        let (t, _clock) = throttle(policy);
        for _ in 0..4 {
            t.record_failure("demo", "ana@x.example", "1.1.1.1");
        }
        t.record_success("demo", "ana@x.example", "1.1.1.1");
        assert_eq!(t.record_failure("demo", "ana@x.example", "1.1.1.1"), None, "account counter restarted");
        // The IP has 5 failures now; the 6th locks it, whatever the account.
        assert_eq!(
            t.record_failure("demo", "zoe@x.example", "1.1.1.1"),
            Some(Locked { by: LockedBy::Ip, retry_after: MIN })
        );
        assert_eq!(t.check("demo", "new@x.example", "1.1.1.1"), Err(Locked { by: LockedBy::Ip, retry_after: MIN }));
        assert_eq!(t.check("demo", "new@x.example", "9.9.9.9"), Ok(()));
    }

    #[test]
    fn an_ip_spraying_many_accounts_is_locked() {
        let (t, _clock) = throttle(ThrottlePolicy::default());
        for i in 0..19 {
            assert_eq!(t.record_failure("demo", &format!("user{i}@x.example"), "6.6.6.6"), None);
        }
        assert_eq!(t.record_failure("demo", "user19@x.example", "6.6.6.6").map(|l| l.by), Some(LockedBy::Ip));
        assert!(t.check("demo", "anyone@x.example", "6.6.6.6").is_err());
    }

    #[test]
    fn history_is_forgotten_after_a_quiet_spell() {
        let (t, clock) = throttle(ThrottlePolicy::default());
        for _ in 0..5 {
            t.record_failure("demo", "ana@x.example", "1.1.1.1");
        }
        assert!(t.check("demo", "ana@x.example", "1.1.1.1").is_err());
        clock.advance(Duration::from_secs(24 * 3600));
        assert_eq!(t.purge_idle(), 2);
        assert!(t.is_empty());
        for _ in 0..4 {
            t.record_failure("demo", "ana@x.example", "1.1.1.1");
        }
        // Back to the first, shortest lockout.
        assert_eq!(t.record_failure("demo", "ana@x.example", "1.1.1.1").map(|l| l.retry_after), Some(MIN));
    }

    #[test]
    fn the_throttle_keeps_bounded_memory_and_locks() {
        let clock = ManualClock::new();
        let t = SignInThrottle::with_clock(ThrottlePolicy::default(), 10, clock.clone());
        for _ in 0..5 {
            t.record_failure("demo", "victim@x.example", "1.1.1.1");
        }
        for i in 0..1000 {
            t.record_failure("demo", &format!("spray{i}@x.example"), &format!("10.0.{}.{}", i / 256, i % 256));
        }
        assert!(t.len() <= 20, "{}", t.len());
        // The locked account was not evicted by the flood.
        assert!(t.check("demo", "victim@x.example", "3.3.3.3").is_err());
    }
}
