//! Client-side rate limiter: a token bucket, a sliding one-second cap and an optional
//! rolling-hour cap.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::HttpError;

const SECOND: Duration = Duration::from_secs(1);
const HOUR: Duration = Duration::from_secs(3600);

/// Token bucket per credential: at most `per_second` sustained with `burst`, never more than
/// `per_second` (rounded down, at least 1) in ANY one-second window — the initial burst
/// included, since vendors count per second — and optionally at most `per_hour` grants in any
/// rolling hour. Clone = the same bucket (share it between every stream and tenant that uses
/// one credential).
///
/// Waiters reserve their slot under a lock and then sleep, so concurrent callers are served in
/// arrival order. Uses `tokio::time`, so it follows a paused test clock.
#[derive(Clone, Debug)]
pub struct RateLimiter {
    inner: Option<Arc<Mutex<Bucket>>>,
}

#[derive(Debug)]
struct Bucket {
    /// Tokens per second; `None` = no sustained-rate limit.
    rate: Option<f64>,
    burst: f64,
    /// Available tokens at `updated` (negative = already reserved by waiters).
    tokens: f64,
    updated: Instant,
    /// At most the configured per-second rate (rounded down) in any second.
    second: Option<Window>,
    /// At most `per_hour` grants in any hour.
    hour: Option<Window>,
}

/// At most `limit` grants in any window of `length`: the grant instants (possibly in the near
/// future, ascending) of the last `length`.
#[derive(Debug)]
struct Window {
    length: Duration,
    limit: usize,
    granted: VecDeque<Instant>,
}

impl Window {
    fn new(length: Duration, limit: usize) -> Self {
        Self {
            length,
            limit: limit.max(1),
            granted: VecDeque::new(),
        }
    }

    /// The earliest instant at or after `at` a grant keeps every window within the limit.
    fn earliest(&mut self, now: Instant, at: Instant) -> Instant {
        while self
            .granted
            .front()
            .is_some_and(|&t| t + self.length <= now)
        {
            self.granted.pop_front();
        }
        let mut at = at;
        if self.granted.len() >= self.limit {
            at = at.max(self.granted[self.granted.len() - self.limit] + self.length);
        }
        // Grants stay ordered, so the oldest of the last `limit` is the one that matters.
        self.granted.back().map_or(at, |&last| at.max(last))
    }

    fn record(&mut self, at: Instant) {
        self.granted.push_back(at);
        // Only the last `limit` grants can bind; older ones are dropped as they age out.
        while self.granted.len() > self.limit {
            self.granted.pop_front();
        }
    }
}

impl RateLimiter {
    /// `per_second` sustained (a non-positive or non-finite value means no per-second limit),
    /// bursts of up to `burst` (0 is treated as 1) but never more than `per_second` (rounded
    /// down, at least 1) in any one-second window, and at most `per_hour` in any rolling hour.
    pub fn new(per_second: f64, burst: u32, per_hour: Option<u32>) -> Self {
        let cap = (per_second.is_finite() && per_second > 0.0)
            // `as` saturates: a huge rate gives a huge (harmless) cap.
            .then(|| per_second.floor().min(f64::from(u32::MAX)) as u32);
        Self::with_caps(per_second, burst, cap, per_hour)
    }

    /// Like [`new`](Self::new), with the one-second cap given separately: `rate` may be a
    /// rate derived from a longer period (a per-minute budget spread out), while
    /// `per_second_cap` is the operator's configured per-second limit (`None`: no one-second
    /// cap beyond the bucket).
    pub fn with_caps(
        rate: f64,
        burst: u32,
        per_second_cap: Option<u32>,
        per_hour: Option<u32>,
    ) -> Self {
        let burst = f64::from(burst.max(1));
        let rate = (rate.is_finite() && rate > 0.0).then_some(rate);
        Self {
            inner: Some(Arc::new(Mutex::new(Bucket {
                rate,
                burst,
                tokens: burst,
                updated: Instant::now(),
                second: per_second_cap.map(|n| Window::new(SECOND, n as usize)),
                hour: per_hour.map(|n| Window::new(HOUR, n as usize)),
            }))),
        }
    }

    /// A limiter that never waits.
    pub fn unlimited() -> Self {
        Self { inner: None }
    }

    /// Waits for a token; returns `Err(HttpError::Deadline { last: RateLimited { .. } })`
    /// instead of waiting past `deadline` (nothing is consumed then).
    pub async fn acquire(&self, deadline: Option<Instant>) -> Result<(), HttpError> {
        let Some(inner) = &self.inner else {
            return Ok(());
        };
        let now = Instant::now();
        let at = {
            let mut bucket = inner
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            bucket.reserve(now, deadline)?
        };
        if at > now {
            tracing::debug!(
                wait_ms = (at - now).as_millis() as u64,
                "rate limiter: waiting for a token"
            );
            tokio::time::sleep_until(at).await;
        }
        Ok(())
    }
}

impl Bucket {
    /// Reserve the next slot; returns when it may be used.
    fn reserve(&mut self, now: Instant, deadline: Option<Instant>) -> Result<Instant, HttpError> {
        if let Some(rate) = self.rate {
            let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
            self.tokens = (self.tokens + elapsed * rate).min(self.burst);
        }
        self.updated = now;

        let mut at = now;
        if let Some(rate) = self.rate
            && self.tokens < 1.0
        {
            at = now + Duration::from_secs_f64((1.0 - self.tokens) / rate);
        }
        for window in [&mut self.second, &mut self.hour].into_iter().flatten() {
            at = window.earliest(now, at);
        }
        if at > now
            && let Some(deadline) = deadline
            && at > deadline
        {
            return Err(HttpError::Deadline {
                last: Box::new(HttpError::RateLimited { wait: at - now }),
            });
        }
        if self.rate.is_some() {
            self.tokens -= 1.0;
        }
        for window in [&mut self.second, &mut self.hour].into_iter().flatten() {
            window.record(at);
        }
        Ok(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_about(got: Duration, want_ms: u64) {
        let got_ms = got.as_secs_f64() * 1000.0;
        assert!(
            (got_ms - want_ms as f64).abs() < 2.0,
            "waited {got_ms} ms, want {want_ms} ms"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn burst_then_waits() {
        let limiter = RateLimiter::new(10.0, 3, None);
        let start = Instant::now();
        for _ in 0..3 {
            limiter.acquire(None).await.expect("burst token");
        }
        assert_eq!(Instant::now(), start, "the burst must not wait");
        limiter.acquire(None).await.expect("4th token");
        assert_about(start.elapsed(), 100);
        limiter.acquire(None).await.expect("5th token");
        assert_about(start.elapsed(), 200);
    }

    #[tokio::test(start_paused = true)]
    async fn refills_while_idle_up_to_burst() {
        let limiter = RateLimiter::new(2.0, 2, None);
        limiter.acquire(None).await.expect("token");
        limiter.acquire(None).await.expect("token");
        tokio::time::sleep(Duration::from_secs(60)).await;
        let start = Instant::now();
        limiter.acquire(None).await.expect("token");
        limiter.acquire(None).await.expect("token");
        assert_eq!(Instant::now(), start, "idle time refills the burst");
        limiter.acquire(None).await.expect("token");
        // The bucket would allow it after 500 ms, but a third grant within the second that
        // began at `start` would exceed 2/s: it waits for that second to pass.
        assert_about(start.elapsed(), 1000);
    }

    #[tokio::test(start_paused = true)]
    async fn hourly_cap_is_rolling() {
        let limiter = RateLimiter::new(1000.0, 1000, Some(5));
        let start = Instant::now();
        for _ in 0..5 {
            limiter.acquire(None).await.expect("token");
        }
        assert_eq!(Instant::now(), start);
        limiter.acquire(None).await.expect("6th token");
        assert_about(start.elapsed(), 3_600_000);
    }

    #[tokio::test(start_paused = true)]
    async fn deadline_refuses_instead_of_waiting_and_clone_shares_the_bucket() {
        let limiter = RateLimiter::new(1.0, 1, None);
        let other = limiter.clone();
        limiter.acquire(None).await.expect("first token");
        let start = Instant::now();
        let err = other
            .acquire(Some(start + Duration::from_millis(500)))
            .await
            .expect_err("the shared bucket is empty for 1 s");
        assert!(err.is_deadline(), "{err:?}");
        assert!(matches!(
            *match err {
                HttpError::Deadline { last } => last,
                _ => unreachable!(),
            },
            HttpError::RateLimited { .. }
        ));
        assert_eq!(Instant::now(), start, "must not sleep when refusing");
        // Nothing was consumed by the refusal: the next token comes 1 s after the first.
        other
            .acquire(Some(start + Duration::from_secs(2)))
            .await
            .expect("token");
        assert_about(start.elapsed(), 1000);
    }

    /// Grant instants of `n` callers racing for `limiter` (concurrent waiters included).
    async fn grants(limiter: &RateLimiter, n: usize) -> Vec<Instant> {
        let tasks: Vec<_> = (0..n)
            .map(|_| {
                let l = limiter.clone();
                tokio::spawn(async move {
                    l.acquire(None).await.expect("token");
                    Instant::now()
                })
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.expect("task"));
        }
        out.sort();
        out
    }

    /// The most grants inside any half-open 1 s window `[t, t + 1 s)`.
    fn busiest_second(grants: &[Instant]) -> usize {
        grants
            .iter()
            .map(|&t| {
                grants
                    .iter()
                    .filter(|&&g| g >= t && g < t + Duration::from_secs(1))
                    .count()
            })
            .max()
            .unwrap_or(0)
    }

    #[tokio::test(start_paused = true)]
    async fn no_burst_exceeds_the_rate_in_any_second() {
        // (rate, burst) as the connectors build them: 1Password and Proofpoint use
        // burst = ceil(rate); a connector file may ask for a burst above its rate.
        for (rate, burst, want) in [(10.0, 10, 10), (5.0, 5, 5), (2.0, 5, 2), (2.5, 3, 2)] {
            let limiter = RateLimiter::new(rate, burst, None);
            let got = grants(&limiter, 60).await;
            assert!(
                busiest_second(&got) <= want,
                "rate {rate}/s burst {burst}: {} grants in one second",
                busiest_second(&got)
            );
            // And the sustained rate is still reached: 60 grants need about 60/want s (a
            // fractional rate cannot be sustained without a second above its floor).
            let span = (*got.last().unwrap() - got[0]).as_secs_f64();
            assert!(
                span < 60.0 / want as f64 + 1.5,
                "rate {rate}: too slow ({span} s)"
            );
        }
        // Sequential callers, after an idle minute that refilled the bucket.
        let limiter = RateLimiter::new(10.0, 10, None);
        let mut seq = Vec::new();
        for _ in 0..15 {
            limiter.acquire(None).await.expect("token");
            seq.push(Instant::now());
        }
        tokio::time::sleep(Duration::from_secs(60)).await;
        for _ in 0..25 {
            limiter.acquire(None).await.expect("token");
            seq.push(Instant::now());
        }
        assert!(busiest_second(&seq) <= 10, "{}", busiest_second(&seq));
    }

    #[tokio::test(start_paused = true)]
    async fn unlimited_never_waits() {
        let limiter = RateLimiter::unlimited();
        let start = Instant::now();
        for _ in 0..10_000 {
            limiter.acquire(Some(start)).await.expect("unlimited");
        }
        assert_eq!(Instant::now(), start);
    }
}
