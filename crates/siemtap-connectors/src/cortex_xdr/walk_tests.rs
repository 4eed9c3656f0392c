use std::collections::BTreeSet;

use super::*;

const H: i64 = 3_600_000;
const NOW: i64 = 1_800_000_000_000;

fn cfg(max_span_ms: Option<i64>) -> WindowConfig {
    WindowConfig {
        lookback_ms: 24 * H,
        overlap_ms: 600_000,
        max_span_ms,
    }
}

#[test]
fn first_window_sources() {
    let run_end = NOW - 120_000;
    // First run: lookback, cut to the longest span.
    assert_eq!(
        first_window(None, None, NOW, run_end, &cfg(Some(H))),
        Some((NOW - 24 * H, NOW - 23 * H))
    );
    assert_eq!(
        first_window(None, None, NOW, run_end, &cfg(None)),
        Some((NOW - 24 * H, run_end))
    );
    // A stored (or imported reference) cursor: minus the overlap.
    let c = NOW - 2 * H;
    assert_eq!(
        first_window(Some(c), None, NOW, run_end, &cfg(None)),
        Some((c - 600_000, run_end))
    );
    // Rewound stream: high-water mark minus the overlap.
    assert_eq!(
        first_window(None, Some(c), NOW, run_end, &cfg(None)),
        Some((c - 600_000, run_end))
    );
    // Nothing past the cursor yet: no request, and the cursor never moves back.
    assert_eq!(
        first_window(Some(run_end), None, NOW, run_end, &cfg(None)),
        None
    );
    assert_eq!(
        first_window(Some(NOW), None, NOW, run_end, &cfg(None)),
        None
    );
}

#[test]
fn windows_are_contiguous_up_to_the_run_end() {
    let c = cfg(Some(H));
    let run_end = NOW;
    assert_eq!(
        after_window(NOW - 3 * H, run_end, &c),
        Cursor::Window((NOW - 3 * H, NOW - 2 * H))
    );
    assert_eq!(
        after_window(NOW - H / 2, run_end, &c),
        Cursor::Window((NOW - H / 2, NOW))
    );
    assert_eq!(after_window(NOW, run_end, &c), Cursor::Done(NOW));
}

#[test]
fn cursor_forms_round_trip() {
    let w = AlertWindow {
        from: 10,
        to: 20,
        offset: 200,
        total: Some(250),
        read: 200,
        pass: 1,
    };
    let v = cursor_value(&Cursor::Window(w));
    assert_eq!(
        v.to_string(),
        r#"{"from":10,"to":20,"offset":200,"total":250,"read":200,"pass":1}"#
    );
    assert_eq!(
        parse_cursor::<AlertWindow>(Some(&v)).unwrap(),
        Some(Cursor::Window(w))
    );
    // The reference integration's state: an integer epoch ms.
    let reference: Value = serde_json::json!(1_795_339_412_995_i64);
    assert_eq!(
        parse_cursor::<AlertWindow>(Some(&reference)).unwrap(),
        Some(Cursor::Done(1_795_339_412_995))
    );
    assert_eq!(
        cursor_value::<AlertWindow>(&Cursor::Done(5)),
        Value::from(5)
    );
    assert_eq!(parse_cursor::<AlertWindow>(None).unwrap(), None);
    for bad in [
        serde_json::json!("c:2"),
        serde_json::json!(-3),
        serde_json::json!([1]),
        serde_json::json!({"from": 1}),
        // An incident window is not an alert window.
        serde_json::json!({"from": 1, "to": 2, "after": 1}),
    ] {
        assert!(parse_cursor::<AlertWindow>(Some(&bad)).is_err(), "{bad}");
    }
}

#[test]
fn alert_pages_checkpoint_offsets_then_complete() {
    let c = cfg(Some(H));
    let w = AlertWindow::new(NOW - 2 * H, NOW - H, 1);
    let s = alerts_step(&w, 250, 100, NOW, &c);
    assert!(s.more && s.deliver && !s.gave_up);
    let Cursor::Window(w2) = s.cursor else {
        panic!("{s:?}")
    };
    assert_eq!((w2.offset, w2.total, w2.read), (100, Some(250), 100));
    let s = alerts_step(&w2, 250, 100, NOW, &c);
    let Cursor::Window(w3) = s.cursor else {
        panic!()
    };
    let s = alerts_step(&w3, 250, 50, NOW, &c);
    assert_eq!(s.cursor, Cursor::Window(AlertWindow::new(NOW - H, NOW, 1)));
    assert!(s.more);
    // The last window of the run completes the stream.
    let last = AlertWindow::new(NOW - H, NOW, 1);
    let s = alerts_step(&last, 0, 0, NOW, &c);
    assert_eq!(s.cursor, Cursor::Done(NOW));
    assert!(!s.more);
}

#[test]
fn alert_total_drift_repages_then_gives_up() {
    let c = cfg(Some(H));
    let w = AlertWindow {
        from: 1,
        to: 2,
        offset: 100,
        total: Some(250),
        read: 100,
        pass: 1,
    };
    let s = alerts_step(&w, 251, 100, NOW, &c);
    assert_eq!(s.cursor, Cursor::Window(AlertWindow::new(1, 2, 2)));
    assert!(s.more && s.deliver);
    // A pass that read fewer records than total_count is incomplete too.
    let w = AlertWindow {
        offset: 200,
        read: 190,
        pass: 2,
        ..w
    };
    let s = alerts_step(&w, 250, 50, NOW, &c);
    assert_eq!(s.cursor, Cursor::Window(AlertWindow::new(1, 2, 3)));
    let w = AlertWindow { pass: 3, ..w };
    let s = alerts_step(&w, 250, 50, NOW, &c);
    assert_eq!(s.cursor, Cursor::Window(AlertWindow::new(1, 2, 1)));
    assert!(s.gave_up && !s.more && s.deliver);
}

#[test]
fn crowded_alert_window_is_shrunk_and_its_page_discarded() {
    let c = cfg(Some(H));
    let w = AlertWindow::new(NOW - H, NOW, 1);
    let s = alerts_step(&w, 9000, 100, NOW, &c);
    assert!(!s.deliver && s.more);
    let Cursor::Window(small) = s.cursor else {
        panic!()
    };
    assert_eq!(small.from, NOW - H);
    assert_eq!(small.to - small.from, H / 10);
    // Never less than a halving step down, never an empty window.
    let s = alerts_step(&w, 1001, 100, NOW, &c);
    let Cursor::Window(half) = s.cursor else {
        panic!()
    };
    assert_eq!(half.to - half.from, H / 2);
    let tiny = AlertWindow::new(5, 6, 1);
    let s = alerts_step(&tiny, 5000, 100, NOW, &c);
    assert!(s.deliver, "a 1 ms window cannot be split; it is paged");
}

/// A model of the incidents endpoint: `(id, mtime)` records, sorted by mtime then id.
struct Model {
    records: Vec<(u32, i64)>,
}

impl Model {
    fn query(&self, gte: i64, lte: i64, from: u64) -> (u64, Vec<(u32, i64)>) {
        let mut hits: Vec<_> = self
            .records
            .iter()
            .copied()
            .filter(|(_, t)| *t >= gte && *t <= lte)
            .collect();
        hits.sort_by_key(|(id, t)| (*t, *id));
        let total = hits.len() as u64;
        let page = hits.into_iter().skip(from as usize).take(100).collect();
        (total, page)
    }

    /// Mid-pagination mutation: `count` records already served move to `now`.
    fn mutate(&mut self, served: &BTreeSet<(u32, i64)>, count: usize, now: i64) {
        let mut left = count;
        for r in self.records.iter_mut() {
            if left > 0 && served.contains(r) {
                r.1 = now;
                left -= 1;
            }
        }
    }
}

/// Walks one incidents window with the keyset walk, mutating after every page; returns the
/// versions read.
fn keyset_walk(model: &mut Model, from: i64, to: i64, mutate: usize) -> BTreeSet<(u32, i64)> {
    let c = cfg(None);
    let mut w = IncidentWindow::new(from, to);
    let mut read = BTreeSet::new();
    for _ in 0..10_000 {
        let (total, page) = model.query(w.gte(), w.to, w.skip);
        let newest = page.iter().map(|r| r.1).max();
        read.extend(page.iter().copied());
        let s = incidents_step(&w, total, page.len() as u64, newest, to, &c);
        model.mutate(&read, mutate, to + 1_000);
        match s.cursor {
            Cursor::Window(next) if s.more => w = next,
            _ => return read,
        }
    }
    panic!("the walk did not terminate")
}

fn spread(n: u32, from: i64, step: i64) -> Vec<(u32, i64)> {
    (0..n).map(|i| (i, from + i64::from(i) * step)).collect()
}

#[test]
fn incident_walk_reads_every_version_despite_mid_pagination_mutations() {
    let records = spread(1000, NOW - 10 * H, 1000);
    let before: BTreeSet<_> = records.iter().copied().collect();
    let mut model = Model { records };
    let read = keyset_walk(&mut model, NOW - 10 * H, NOW, 3);
    let missing: Vec<_> = before.difference(&read).collect();
    assert!(missing.is_empty(), "skipped versions: {missing:?}");
}

#[test]
fn plain_offset_paging_would_skip_under_the_same_mutations() {
    // The failure mode the keyset walk avoids (reference failure mode 2): proves the model
    // and the test above can fail.
    let records = spread(1000, NOW - 10 * H, 1000);
    let before: BTreeSet<_> = records.iter().copied().collect();
    let mut model = Model { records };
    let mut read = BTreeSet::new();
    let mut offset = 0;
    loop {
        let (total, page) = model.query(NOW - 10 * H, NOW, offset);
        read.extend(page.iter().copied());
        offset += page.len() as u64;
        model.mutate(&read, 3, NOW + 1_000);
        if page.is_empty() || offset >= total {
            break;
        }
    }
    assert!(before.difference(&read).count() > 0);
}

#[test]
fn incident_walk_handles_a_crowded_millisecond() {
    // 250 versions in one millisecond, then 50 more: offset paging inside the millisecond.
    let mut records: Vec<(u32, i64)> = (0..250).map(|i| (i, NOW - H)).collect();
    records.extend((250..300).map(|i| (i, NOW - H + i64::from(i))));
    let before: BTreeSet<_> = records.iter().copied().collect();
    let mut model = Model { records };
    let read = keyset_walk(&mut model, NOW - 2 * H, NOW, 0);
    assert_eq!(read, before);
}

#[test]
fn incident_crowded_millisecond_drift_restarts_inside_it() {
    let c = cfg(None);
    let w = IncidentWindow {
        from: 1,
        to: 100,
        after: Some(50),
        skip: 100,
        total: Some(250),
        pass: 1,
    };
    let s = incidents_step(&w, 249, 100, Some(50), 100, &c);
    assert_eq!(
        s.cursor,
        Cursor::Window(IncidentWindow {
            skip: 0,
            total: None,
            pass: 2,
            ..w
        })
    );
}
