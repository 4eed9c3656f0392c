//! The dedupe ledger: ids delivered recently, each with its event time.

use std::collections::BTreeMap;

/// Ids delivered recently, each with its event time (epoch seconds). Bounded by [`Ledger::prune`].
///
/// Committed atomically with the stream's cursor, so that overlapping re-reads of a time
/// window never deliver an event twice.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ledger {
    entries: BTreeMap<String, i64>,
}

impl Ledger {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether `id` has been delivered.
    pub fn contains(&self, id: &str) -> bool {
        self.entries.contains_key(id)
    }

    /// Record `id` as delivered with its event time. A second insert of the same id keeps the
    /// newer event time (so the id survives pruning as long as its latest sighting does).
    pub fn insert(&mut self, id: String, event_time_s: i64) {
        self.entries
            .entry(id)
            .and_modify(|t| *t = (*t).max(event_time_s))
            .or_insert(event_time_s);
    }

    /// Drop entries with event time < `horizon_s`, then, if still over `max_entries`, drop the
    /// oldest (smallest event time; ties broken by id, so the result is deterministic).
    pub fn prune(&mut self, horizon_s: i64, max_entries: usize) {
        self.prune_returning(horizon_s, max_entries);
    }

    /// Record `id` with exactly `event_time_s`, returning the time it had before (for undo).
    pub(crate) fn replace(&mut self, id: String, event_time_s: i64) -> Option<i64> {
        self.entries.insert(id, event_time_s)
    }

    /// Put back what [`Ledger::replace`] returned for `id`.
    pub(crate) fn restore(&mut self, id: &str, previous: Option<i64>) {
        match previous {
            Some(t) => {
                if let Some(slot) = self.entries.get_mut(id) {
                    *slot = t;
                } else {
                    self.entries.insert(id.to_owned(), t);
                }
            }
            None => {
                self.entries.remove(id);
            }
        }
    }

    /// [`Ledger::prune`], returning what was dropped (so a failed commit can put it back).
    pub(crate) fn prune_returning(
        &mut self,
        horizon_s: i64,
        max_entries: usize,
    ) -> Vec<(String, i64)> {
        let mut dropped = Vec::new();
        // In place: only the dropped ids are copied (a rebuild re-sorted every kept id on
        // every page).
        self.entries.retain(|id, t| {
            let keep = *t >= horizon_s;
            if !keep {
                dropped.push((id.clone(), *t));
            }
            keep
        });
        let excess = self.entries.len().saturating_sub(max_entries);
        if excess > 0 {
            let mut by_age: Vec<(i64, &String)> =
                self.entries.iter().map(|(id, t)| (*t, id)).collect();
            by_age.sort_unstable();
            let oldest: Vec<String> = by_age
                .into_iter()
                .take(excess)
                .map(|(_, id)| id.clone())
                .collect();
            for id in oldest {
                if let Some(t) = self.entries.remove(&id) {
                    dropped.push((id, t));
                }
            }
        }
        if !dropped.is_empty() {
            tracing::trace!(
                dropped = dropped.len(),
                kept = self.entries.len(),
                "pruned dedupe ledger"
            );
        }
        dropped
    }

    /// Number of ids held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no ids are held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// All entries as `(id, event time in epoch seconds)`, sorted by id.
    pub fn iter(&self) -> impl Iterator<Item = (&str, i64)> {
        self.entries.iter().map(|(id, t)| (id.as_str(), *t))
    }

    /// The oldest and newest event time held, `None` if empty.
    pub fn time_range(&self) -> Option<(i64, i64)> {
        let mut times = self.entries.values().copied();
        let first = times.next()?;
        Some(times.fold((first, first), |(lo, hi), t| (lo.min(t), hi.max(t))))
    }
}

impl FromIterator<(String, i64)> for Ledger {
    fn from_iter<I: IntoIterator<Item = (String, i64)>>(iter: I) -> Self {
        let mut ledger = Ledger::new();
        for (id, t) in iter {
            ledger.insert(id, t);
        }
        ledger
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ledger(entries: &[(&str, i64)]) -> Ledger {
        entries
            .iter()
            .map(|(id, t)| ((*id).to_owned(), *t))
            .collect()
    }

    fn ids(l: &Ledger) -> Vec<&str> {
        l.iter().map(|(id, _)| id).collect()
    }

    #[test]
    fn insert_and_contains() {
        let mut l = Ledger::new();
        assert!(l.is_empty());
        l.insert("a".into(), 10);
        assert!(l.contains("a"));
        assert!(!l.contains("b"));
        assert_eq!(l.len(), 1);
        l.insert("a".into(), 5);
        assert_eq!(l.iter().collect::<Vec<_>>(), vec![("a", 10)]);
        l.insert("a".into(), 20);
        assert_eq!(l.iter().collect::<Vec<_>>(), vec![("a", 20)]);
    }

    #[test]
    fn prune_by_horizon_keeps_entries_at_horizon() {
        let mut l = ledger(&[("old", 99), ("edge", 100), ("new", 150)]);
        l.prune(100, 10);
        assert_eq!(ids(&l), vec!["edge", "new"]);
    }

    #[test]
    fn prune_by_cap_drops_oldest_first() {
        let mut l = ledger(&[("c", 30), ("a", 10), ("d", 40), ("b", 20)]);
        l.prune(i64::MIN, 2);
        assert_eq!(ids(&l), vec!["c", "d"]);
    }

    #[test]
    fn prune_by_cap_breaks_ties_by_id() {
        let mut l = ledger(&[("z", 10), ("y", 10), ("x", 10)]);
        l.prune(0, 1);
        assert_eq!(ids(&l), vec!["z"]);
    }

    #[test]
    fn prune_applies_horizon_before_cap() {
        let mut l = ledger(&[("a", 1), ("b", 2), ("c", 50), ("d", 60)]);
        l.prune(10, 3);
        // horizon alone leaves two, which is within the cap
        assert_eq!(ids(&l), vec!["c", "d"]);
        l.prune(10, 0);
        assert!(l.is_empty());
    }

    #[test]
    fn prune_returning_and_restore_undo_exactly() {
        let before = ledger(&[("a", 1), ("b", 2), ("c", 50), ("d", 60), ("e", 70)]);
        let mut l = before.clone();
        let prev = l.replace("f".into(), 80);
        let dropped = l.prune_returning(10, 2);
        assert_eq!(ids(&l), vec!["e", "f"]);
        assert_eq!(dropped.len(), 4);
        for (id, t) in dropped {
            l.restore(&id, Some(t));
        }
        l.restore("f", prev);
        assert_eq!(l, before);
    }

    #[test]
    fn time_range() {
        assert_eq!(Ledger::new().time_range(), None);
        assert_eq!(
            ledger(&[("a", 5), ("b", -3), ("c", 7)]).time_range(),
            Some((-3, 7))
        );
    }
}
