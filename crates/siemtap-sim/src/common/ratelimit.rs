//! Sliding-window request limits (e.g. 1Password's 600/min and 30,000/h per token).

use std::collections::VecDeque;

/// One window: at most `max` accepted requests in any `window_ns` span.
#[derive(Debug)]
struct Window {
    window_ns: i64,
    max: usize,
    accepted: VecDeque<i64>,
}

/// A set of sliding windows that must all have room for a request to pass.
#[derive(Debug)]
pub(crate) struct SlidingLimits {
    windows: Vec<Window>,
}

impl SlidingLimits {
    /// Limits given as `(window seconds, max requests)` pairs.
    pub(crate) fn new(limits: &[(i64, usize)]) -> Self {
        Self {
            windows: limits
                .iter()
                .map(|&(secs, max)| Window {
                    window_ns: secs * 1_000_000_000,
                    max,
                    accepted: VecDeque::new(),
                })
                .collect(),
        }
    }

    /// Records a request at `now_ns` if every window has room. Otherwise returns how many
    /// whole seconds (at least 1) until the fullest window has room again; rejected requests
    /// are not recorded.
    pub(crate) fn admit(&mut self, now_ns: i64) -> Result<(), u64> {
        let mut wait_ns: i64 = 0;
        for w in &mut self.windows {
            while w
                .accepted
                .front()
                .is_some_and(|t| *t <= now_ns - w.window_ns)
            {
                w.accepted.pop_front();
            }
            if w.accepted.len() >= w.max {
                let oldest = w.accepted[w.accepted.len() - w.max];
                wait_ns = wait_ns.max(oldest + w.window_ns - now_ns);
            }
        }
        if wait_ns > 0 || self.windows.iter().any(|w| w.accepted.len() >= w.max) {
            let secs = (wait_ns.max(1) + 999_999_999) / 1_000_000_000;
            return Err(u64::try_from(secs.max(1)).unwrap_or(1));
        }
        for w in &mut self.windows {
            w.accepted.push_back(now_ns);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minute_window_fills_then_frees() {
        let mut l = SlidingLimits::new(&[(60, 3), (3600, 5)]);
        let s = 1_000_000_000;
        assert!(l.admit(0).is_ok());
        assert!(l.admit(10 * s).is_ok());
        assert!(l.admit(20 * s).is_ok());
        assert_eq!(l.admit(30 * s), Err(30));
        assert!(
            l.admit(60 * s).is_ok(),
            "the request at t=0 left the window"
        );
        assert!(l.admit(75 * s).is_ok());
        // Hour window: 5 accepted so far.
        assert!(l.admit(200 * s).is_err());
        assert!(l.admit(3600 * s).is_ok());
    }
}
