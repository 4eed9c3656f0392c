//! Client-side rate limiter: a token bucket plus an optional rolling-hour cap.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::HttpError;

const HOUR: Duration = Duration::from_secs(3600);

/// Token bucket per credential: at most `per_second` sustained with `burst`, and optionally at
/// most `per_hour` grants in any rolling hour. Clone = the same bucket (share it between every
/// stream and tenant that uses one credential).
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
    per_hour: Option<usize>,
    /// Grant instants (possibly in the near future), ascending.
    granted: VecDeque<Instant>,
}

impl RateLimiter {
    /// `per_second` sustained (a non-positive or non-finite value means no per-second limit),
    /// bursts of up to `burst` (0 is treated as 1), and at most `per_hour` in any rolling hour.
    pub fn new(per_second: f64, burst: u32, per_hour: Option<u32>) -> Self {
        let burst = f64::from(burst.max(1));
        let rate = (per_second.is_finite() && per_second > 0.0).then_some(per_second);
        Self {
            inner: Some(Arc::new(Mutex::new(Bucket {
                rate,
                burst,
                tokens: burst,
                updated: Instant::now(),
                per_hour: per_hour.map(|n| n.max(1) as usize),
                granted: VecDeque::new(),
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
        if let Some(limit) = self.per_hour {
            while self.granted.front().is_some_and(|&t| t + HOUR <= now) {
                self.granted.pop_front();
            }
            if self.granted.len() >= limit {
                at = at.max(self.granted[self.granted.len() - limit] + HOUR);
            }
            if let Some(&last) = self.granted.back() {
                at = at.max(last);
            }
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
        if self.per_hour.is_some() {
            self.granted.push_back(at);
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
        assert_about(start.elapsed(), 500);
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
