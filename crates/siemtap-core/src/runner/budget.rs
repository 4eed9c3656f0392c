//! The run budget and the stop signal: when to stop starting new pages.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Notify;
use tokio::time::Instant;

/// Set from a signal handler (SIGTERM/SIGINT) to stop the run at the next page boundary; an
/// in-flight fetch is abandoned (nothing of it was committed), a sink write is never cut.
#[derive(Clone, Debug, Default)]
pub struct StopSignal {
    inner: Arc<(AtomicBool, Notify)>,
}

impl StopSignal {
    /// A signal that has not fired.
    pub fn new() -> Self {
        Self::default()
    }

    /// Requests a stop.
    pub fn fire(&self) {
        self.inner.0.store(true, Ordering::SeqCst);
        self.inner.1.notify_waiters();
    }

    /// Whether a stop was requested.
    pub fn is_fired(&self) -> bool {
        self.inner.0.load(Ordering::SeqCst)
    }

    /// Resolves once a stop is requested.
    pub async fn fired(&self) {
        loop {
            let notified = self.inner.1.notified();
            if self.is_fired() {
                return;
            }
            notified.await;
        }
    }
}

/// A fair share of what is left before `deadline` for one of `parts_left` parts (sources or
/// streams), so a large backlog in one cannot starve the others run after run. Time a part
/// does not use passes to the next.
pub fn fair_share(deadline: Option<Instant>, parts_left: usize) -> Option<Instant> {
    let deadline = deadline?;
    let now = Instant::now();
    let left = deadline.saturating_duration_since(now);
    let parts = u32::try_from(parts_left.max(1)).unwrap_or(u32::MAX);
    Some(now + left / parts)
}

/// Whether `deadline` has passed.
pub fn expired(deadline: Option<Instant>) -> bool {
    deadline.is_some_and(|d| Instant::now() >= d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn fair_share_splits_the_remainder() {
        tokio::time::pause();
        let deadline = Instant::now() + Duration::from_secs(90);
        let share = fair_share(Some(deadline), 3).unwrap();
        assert_eq!(share - Instant::now(), Duration::from_secs(30));
        assert_eq!(fair_share(None, 3), None);
    }

    #[tokio::test]
    async fn stop_signal_wakes_waiters() {
        let stop = StopSignal::new();
        let waiter = {
            let stop = stop.clone();
            tokio::spawn(async move { stop.fired().await })
        };
        stop.fire();
        waiter.await.unwrap();
        assert!(stop.is_fired());
    }
}
