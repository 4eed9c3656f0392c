//! The retry delay decision, as a pure function.

use std::fmt;
use std::time::Duration;

use crate::RetryPolicy;

/// Why a delay was chosen (for logs and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DelayReason {
    /// The server's `Retry-After`, used as is.
    RetryAfter,
    /// The server's `Retry-After` was longer than `retry_after_cap`; capped.
    RetryAfterCapped {
        /// What the server asked for.
        asked: Duration,
    },
    /// Exponential backoff with full jitter below `ceiling`.
    Backoff {
        /// `min(base_delay * 2^(retry-1), max_delay)`.
        ceiling: Duration,
    },
}

impl fmt::Display for DelayReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DelayReason::RetryAfter => f.write_str("Retry-After"),
            DelayReason::RetryAfterCapped { asked } => {
                write!(f, "Retry-After {}s capped", asked.as_secs())
            }
            DelayReason::Backoff { ceiling } => {
                write!(f, "backoff with jitter below {}ms", ceiling.as_millis())
            }
        }
    }
}

/// A chosen delay before the next attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delay {
    /// How long to wait.
    pub delay: Duration,
    /// Why.
    pub reason: DelayReason,
}

/// Delay before retry number `retry` (1 = the first retry, i.e. after attempt 1 failed).
///
/// `retry_after` (already parsed) wins and is capped at `retry_after_cap`. Otherwise the delay is
/// `jitter * min(base_delay * 2^(retry-1), max_delay)` ("full jitter"); `jitter` is clamped to
/// `[0, 1]` and is random in production.
pub fn next_delay(
    policy: &RetryPolicy,
    retry: u32,
    retry_after: Option<Duration>,
    jitter: f64,
) -> Delay {
    if let Some(asked) = retry_after {
        return if asked > policy.retry_after_cap {
            Delay {
                delay: policy.retry_after_cap,
                reason: DelayReason::RetryAfterCapped { asked },
            }
        } else {
            Delay {
                delay: asked,
                reason: DelayReason::RetryAfter,
            }
        };
    }
    let ceiling = backoff_ceiling(policy, retry);
    let jitter = if jitter.is_finite() {
        jitter.clamp(0.0, 1.0)
    } else {
        1.0
    };
    Delay {
        delay: ceiling.mul_f64(jitter),
        reason: DelayReason::Backoff { ceiling },
    }
}

fn backoff_ceiling(policy: &RetryPolicy, retry: u32) -> Duration {
    let doublings = retry.saturating_sub(1).min(63);
    let factor = 1u32.checked_shl(doublings).unwrap_or(u32::MAX);
    policy
        .base_delay
        .checked_mul(factor)
        .unwrap_or(Duration::MAX)
        .min(policy.max_delay)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy::default()
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let ceilings: Vec<u64> = (1..=9)
            .map(|r| next_delay(&policy(), r, None, 1.0).delay.as_secs())
            .collect();
        assert_eq!(ceilings, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(
            next_delay(&policy(), 1000, None, 1.0).delay,
            Duration::from_secs(60)
        );
    }

    #[test]
    fn full_jitter_scales_the_ceiling() {
        let d = next_delay(&policy(), 3, None, 0.5);
        assert_eq!(d.delay, Duration::from_secs(2));
        assert_eq!(
            d.reason,
            DelayReason::Backoff {
                ceiling: Duration::from_secs(4)
            }
        );
        assert_eq!(next_delay(&policy(), 3, None, 0.0).delay, Duration::ZERO);
        assert_eq!(
            next_delay(&policy(), 3, None, 7.0).delay,
            Duration::from_secs(4)
        );
        assert_eq!(
            next_delay(&policy(), 3, None, f64::NAN).delay,
            Duration::from_secs(4)
        );
    }

    #[test]
    fn retry_after_wins_and_is_capped() {
        let d = next_delay(&policy(), 1, Some(Duration::from_secs(7)), 0.1);
        assert_eq!(d.delay, Duration::from_secs(7));
        assert_eq!(d.reason, DelayReason::RetryAfter);
        let huge = Duration::from_secs(u64::MAX);
        let d = next_delay(&policy(), 1, Some(huge), 0.1);
        assert_eq!(d.delay, Duration::from_secs(60));
        assert_eq!(d.reason, DelayReason::RetryAfterCapped { asked: huge });
        assert!(d.reason.to_string().contains("capped"));
    }
}
