//! The daily request quota (spec §3.5, §5.3): two rolling 24-hour buckets of 1,800 requests,
//! one for `clicks/permitted` alone and one shared by every other endpoint.

use std::collections::VecDeque;

use serde_json::{Value, json};

use super::category::Bucket;

const WINDOW_NS: i64 = 86_400 * 1_000_000_000;
/// Requests per bucket per rolling 24 h before `--quota-scale`.
pub(crate) const DAILY: u64 = 1_800;

/// One rolling bucket.
#[derive(Debug)]
struct Rolling {
    max: usize,
    accepted: VecDeque<i64>,
    rejected: u64,
}

impl Rolling {
    fn expire(&mut self, now_ns: i64) {
        while self
            .accepted
            .front()
            .is_some_and(|t| *t <= now_ns - WINDOW_NS)
        {
            self.accepted.pop_front();
        }
    }

    fn admit(&mut self, now_ns: i64) -> Result<(), u64> {
        self.expire(now_ns);
        if self.accepted.len() < self.max {
            self.accepted.push_back(now_ns);
            return Ok(());
        }
        self.rejected += 1;
        let oldest = self.accepted[self.accepted.len() - self.max];
        let wait = (oldest + WINDOW_NS - now_ns).max(1);
        Err(u64::try_from((wait + 999_999_999) / 1_000_000_000).unwrap_or(1))
    }

    fn view(&mut self, now_ns: i64) -> Value {
        self.expire(now_ns);
        json!({
            "used": self.accepted.len(),
            "limit": self.max,
            "remaining": self.max.saturating_sub(self.accepted.len()),
            "rejected": self.rejected,
            "window_s": WINDOW_NS / 1_000_000_000,
        })
    }
}

/// Both buckets.
#[derive(Debug)]
pub(crate) struct Quota {
    enabled: bool,
    clicks_permitted: Rolling,
    shared: Rolling,
}

impl Quota {
    /// Buckets of `ceil(1800 × scale)` (at least 1) requests; `enabled = false` admits all.
    pub(crate) fn new(scale: f64, enabled: bool) -> Self {
        let max = ((DAILY as f64 * scale).ceil() as usize).max(1);
        let bucket = || Rolling {
            max,
            accepted: VecDeque::new(),
            rejected: 0,
        };
        Self {
            enabled,
            clicks_permitted: bucket(),
            shared: bucket(),
        }
    }

    fn bucket(&mut self, b: Bucket) -> &mut Rolling {
        match b {
            Bucket::ClicksPermitted => &mut self.clicks_permitted,
            Bucket::Shared => &mut self.shared,
        }
    }

    /// Counts a request against `b`; `Err(seconds until a slot frees)` when exhausted.
    pub(crate) fn admit(&mut self, b: Bucket, now_ns: i64) -> Result<(), u64> {
        if !self.enabled {
            return Ok(());
        }
        self.bucket(b).admit(now_ns)
    }

    /// `GET /_sim/quota`.
    pub(crate) fn view(&mut self, now_ns: i64) -> Value {
        json!({
            "enabled": self.enabled,
            "buckets": {
                "clicks_permitted": self.clicks_permitted.view(now_ns),
                "shared": self.shared.view(now_ns),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_separate_and_roll() {
        let mut q = Quota::new(2.0 / 1800.0, true);
        assert!(q.admit(Bucket::Shared, 0).is_ok());
        assert!(q.admit(Bucket::Shared, 10).is_ok());
        assert_eq!(q.admit(Bucket::Shared, 20), Err(86_400));
        assert!(q.admit(Bucket::ClicksPermitted, 20).is_ok());
        assert!(q.admit(Bucket::Shared, WINDOW_NS).is_ok());
        assert_eq!(q.view(WINDOW_NS)["buckets"]["shared"]["rejected"], 1);
        let mut off = Quota::new(1e-9, false);
        assert!((0..5000).all(|_| off.admit(Bucket::Shared, 0).is_ok()));
    }
}
