//! Matching requests against the installed plan.
//!
//! Counting rule (the meaning of `nth` and `every`): each rule has its own counter of the
//! requests that satisfy its *filter* keys (`path`, `path_prefix`, `method`, `tenant`,
//! `stream`, `cursor`, `after_clock`, XDR `search_from`, and for `cursor_reject` rules "carries a cursor that
//! qualifies"). Every such request advances the counter, even when an earlier rule wins, so one
//! rule's ordinals never depend on other rules. With `"path"` set this is exactly "the N-th
//! request to that path"; without filter keys it is the N-th vendor request overall.

use super::plan::{Action, CursorReject, FaultPlan, FaultRule, LateEvents, Match};
use crate::common::clock::ts_to_ns;
use crate::common::prng::{hash_str, unit_of};

/// What the simulator knows about a request when faults are evaluated.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestFacts<'a> {
    pub(crate) method: &'a str,
    pub(crate) path: &'a str,
    pub(crate) tenant: Option<&'a str>,
    pub(crate) stream: Option<&'a str>,
    /// The cursor string of a continuing request.
    pub(crate) cursor: Option<&'a str>,
    /// When that cursor was issued (if it decoded), ns since the epoch.
    pub(crate) cursor_issued_ns: Option<i64>,
    pub(crate) now_ns: i64,
}

/// The installed plan plus per-rule counters.
#[derive(Debug, Default)]
pub(crate) struct FaultEngine {
    plan: FaultPlan,
    counters: Vec<u64>,
    burst_left: Vec<u32>,
    seed: u64,
}

/// `search_from` is the XDR request's offset (`None` elsewhere: the key is then ignored).
fn filter_matches(m: &Match, facts: &RequestFacts<'_>, search_from: Option<u64>) -> bool {
    let opt_eq = |want: &Option<String>, got: Option<&str>| match want {
        None => true,
        Some(w) => got == Some(w.as_str()),
    };
    opt_eq(&m.path, Some(facts.path))
        && m.path_prefix
            .as_deref()
            .is_none_or(|p| facts.path.starts_with(p))
        && m.method
            .as_deref()
            .is_none_or(|x| x.eq_ignore_ascii_case(facts.method))
        && opt_eq(&m.tenant, facts.tenant)
        && opt_eq(&m.stream, facts.stream)
        && opt_eq(&m.cursor, facts.cursor)
        && m.after_clock.is_none_or(|t| facts.now_ns >= ts_to_ns(t))
        && m.search_from
            .is_none_or(|want| search_from.is_none_or(|got| got == want))
}

fn cursor_reject_applies(a: &Action, facts: &RequestFacts<'_>) -> bool {
    match a.cursor_reject {
        None => true,
        Some(_) if facts.cursor.is_none() => false,
        Some(CursorReject::Always(flag)) => flag,
        Some(CursorReject::OlderThan { older_than_s }) => {
            let limit_ns = i64::try_from(older_than_s)
                .unwrap_or(i64::MAX)
                .saturating_mul(1_000_000_000);
            facts
                .cursor_issued_ns
                .is_some_and(|t| facts.now_ns.saturating_sub(t) > limit_ns)
        }
    }
}

impl FaultEngine {
    /// Replaces the plan; `seed` drives `probability`.
    pub(crate) fn install(&mut self, plan: FaultPlan, seed: u64) {
        self.counters = vec![0; plan.faults.len()];
        self.burst_left = vec![0; plan.faults.len()];
        self.plan = plan;
        self.seed = seed;
    }

    /// Removes every rule.
    pub(crate) fn clear(&mut self) {
        self.install(FaultPlan::default(), self.seed);
    }

    /// The installed plan.
    pub(crate) fn plan(&self) -> &FaultPlan {
        &self.plan
    }

    /// First `late_events` rule whose `tenant` / `stream` keys match.
    pub(crate) fn late_for(&self, tenant: &str, stream: &str) -> Option<LateEvents> {
        self.plan.faults.iter().find_map(|r| {
            let m = &r.matcher;
            let ok = m.tenant.as_deref().is_none_or(|t| t == tenant)
                && m.stream.as_deref().is_none_or(|s| s == stream);
            r.action.late_events.filter(|_| ok)
        })
    }

    /// Whether a `token_expiry` rule matching this request has expired the credentials.
    pub(crate) fn token_expired(&self, facts: &RequestFacts<'_>) -> bool {
        self.plan.faults.iter().any(|r| {
            r.action.token_expiry.is_some_and(|te| {
                facts.now_ns >= ts_to_ns(te.at) && filter_matches(&r.matcher, facts, None)
            })
        })
    }

    /// Standing rules (`late_events`, `token_expiry`, `lookback_400`,
    /// `duplicate_across_windows`) whose filter keys match `facts`; their triggers (`nth`,
    /// `every`, `probability`) are ignored.
    pub(crate) fn standing(&self, facts: &RequestFacts<'_>) -> Vec<Action> {
        self.plan
            .faults
            .iter()
            .filter(|r| r.action.is_standing() && filter_matches(&r.matcher, facts, None))
            .map(|r| r.action.clone())
            .collect()
    }

    /// Advances counters and returns the first per-request rule that fires, as
    /// `(rule index, action)`.
    pub(crate) fn select(&mut self, facts: &RequestFacts<'_>) -> Option<(usize, Action)> {
        self.select_at(facts, None)
    }

    /// [`FaultEngine::select`] for a request with an XDR `search_from` offset, which the
    /// `search_from` match key then filters on.
    pub(crate) fn select_at(
        &mut self,
        facts: &RequestFacts<'_>,
        search_from: Option<u64>,
    ) -> Option<(usize, Action)> {
        let mut chosen = None;
        for (i, FaultRule { matcher, action }) in self.plan.faults.iter().enumerate() {
            if action.is_standing()
                || !filter_matches(matcher, facts, search_from)
                || !cursor_reject_applies(action, facts)
            {
                continue;
            }
            self.counters[i] += 1;
            let n = self.counters[i];
            let triggered = matcher.nth.as_ref().is_none_or(|l| l.contains(&n))
                && matcher.every.is_none_or(|e| n.is_multiple_of(e))
                && matcher
                    .probability
                    .is_none_or(|p| unit_of(&[self.seed, hash_str("fault"), i as u64, n]) < p);
            if chosen.is_some() {
                continue;
            }
            if triggered {
                self.burst_left[i] = action.burst.unwrap_or(0);
                chosen = Some((i, action.clone()));
            } else if self.burst_left[i] > 0 {
                self.burst_left[i] -= 1;
                chosen = Some((i, action.clone()));
            }
        }
        chosen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts<'a>(path: &'a str, cursor: Option<&'a str>) -> RequestFacts<'a> {
        RequestFacts {
            method: "POST",
            path,
            tenant: Some("default"),
            stream: Some("audit"),
            cursor,
            cursor_issued_ns: cursor.map(|_| 0),
            now_ns: 100_000_000_000,
        }
    }

    fn engine(json: &str) -> FaultEngine {
        let mut e = FaultEngine::default();
        e.install(FaultPlan::from_json(json.as_bytes()).unwrap(), 1);
        e
    }

    #[test]
    fn nth_counts_per_rule_over_its_filter() {
        let mut e = engine(
            r#"{"faults":[{"match":{"path":"/a","nth":[2]},"action":{"status":500}},
                          {"match":{"nth":[3]},"action":{"status":503}}]}"#,
        );
        let got: Vec<Option<usize>> = ["/a", "/b", "/a", "/a"]
            .iter()
            .map(|p| e.select(&facts(p, None)).map(|(i, _)| i))
            .collect();
        // Rule 1 counts every request, including the one rule 0 won (/a #2 = overall #3).
        assert_eq!(got, vec![None, None, Some(0), None]);
    }

    #[test]
    fn burst_every_and_cursor_reject() {
        let mut e =
            engine(r#"{"faults":[{"match":{"nth":[1]},"action":{"status":503,"burst":2}}]}"#);
        let hits = (0..5)
            .filter(|_| e.select(&facts("/a", None)).is_some())
            .count();
        assert_eq!(hits, 3);
        let mut e = engine(r#"{"faults":[{"match":{"every":2},"action":{"status":500}}]}"#);
        let hits: Vec<bool> = (0..4)
            .map(|_| e.select(&facts("/a", None)).is_some())
            .collect();
        assert_eq!(hits, vec![false, true, false, true]);
        let mut e = engine(r#"{"faults":[{"action":{"cursor_reject":{"older_than_s":50}}}]}"#);
        assert!(
            e.select(&facts("/a", None)).is_none(),
            "first pages are never rejected"
        );
        assert!(
            e.select(&facts("/a", Some("c"))).is_some(),
            "issued 100 s ago"
        );
    }
}
