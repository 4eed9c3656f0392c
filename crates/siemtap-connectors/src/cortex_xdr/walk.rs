//! The window walk as pure functions (no I/O): cursor forms, window planning and the step
//! taken after each reply. `stream.rs` does the requests; the module docs of `cortex_xdr`
//! explain the algorithm.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A window whose pages disagree is re-paged at most this many times per run (§4.10).
pub const MAX_PASSES: u32 = 3;
/// An alert window whose first page reports more matches than this is shrunk (§4.10).
pub const SPLIT_THRESHOLD: u64 = 1000;
/// Longest alert window: bounds how far back a re-page reaches, and so the ledger span.
pub const ALERT_MAX_SPAN_MS: i64 = 3_600_000;

/// Window parameters of one stream, in epoch ms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowConfig {
    /// First-run window length.
    pub lookback_ms: i64,
    /// Re-read before a stored cursor.
    pub overlap_ms: i64,
    /// Longest window (`None`: up to the run end).
    pub max_span_ms: Option<i64>,
}

/// A stored position: a completed window end (an integer, the reference's format too) or a
/// window in progress.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cursor<W> {
    /// Everything up to this time (epoch ms) was delivered; the next run starts at it minus
    /// the overlap. A reference integration's `<stream>_cursor` is read the same way.
    Done(i64),
    /// A window partly delivered.
    Window(W),
}

/// An alert window in progress: offset paging over a closed `server_creation_time` window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertWindow {
    /// `gte`, epoch ms.
    pub from: i64,
    /// `lte`, epoch ms.
    pub to: i64,
    /// Next `search_from`.
    pub offset: u64,
    /// `total_count` seen on the pass's first page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// Records read in this pass.
    pub read: u64,
    /// Pass number, from 1.
    pub pass: u32,
}

impl AlertWindow {
    /// A fresh pass over `[from, to]`.
    pub fn new(from: i64, to: i64, pass: u32) -> Self {
        Self {
            from,
            to,
            offset: 0,
            total: None,
            read: 0,
            pass,
        }
    }
}

/// An incident window in progress: keyset paging on `modification_time`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentWindow {
    /// Window start, epoch ms.
    pub from: i64,
    /// Window end (`lte`), epoch ms.
    pub to: i64,
    /// Newest `modification_time` read so far: the next request's `gte`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<i64>,
    /// `search_from` while more than a page shares the `after` millisecond (else 0).
    #[serde(default)]
    pub skip: u64,
    /// `total_count` while skipping inside one millisecond.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// Pass number inside one millisecond, from 1.
    #[serde(default = "one")]
    pub pass: u32,
}

fn one() -> u32 {
    1
}

impl IncidentWindow {
    /// A fresh window `[from, to]`.
    pub fn new(from: i64, to: i64) -> Self {
        Self {
            from,
            to,
            after: None,
            skip: 0,
            total: None,
            pass: 1,
        }
    }

    /// The `gte` of the next request.
    pub fn gte(&self) -> i64 {
        self.after.unwrap_or(self.from)
    }
}

/// Parses a stored cursor. `Err` says what is wrong (the stream then refuses to guess).
pub fn parse_cursor<W: for<'de> Deserialize<'de>>(
    value: Option<&Value>,
) -> Result<Option<Cursor<W>>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(ms) if ms > 0 => Ok(Some(Cursor::Done(ms))),
            _ => Err(format!("{n} is not a positive epoch-ms integer")),
        },
        Some(Value::String(s)) => match s.trim().parse::<i64>() {
            Ok(ms) if ms > 0 => Ok(Some(Cursor::Done(ms))),
            _ => Err("a string that is not epoch milliseconds".into()),
        },
        Some(v @ Value::Object(_)) => serde_json::from_value::<W>(v.clone())
            .map(|w| Some(Cursor::Window(w)))
            .map_err(|e| format!("an object that is not a window of this stream ({e})")),
        Some(_) => Err("neither epoch milliseconds nor a window object".into()),
    }
}

/// The cursor as stored.
pub fn cursor_value<W: Serialize>(cursor: &Cursor<W>) -> Value {
    match cursor {
        Cursor::Done(ms) => Value::from(*ms),
        Cursor::Window(w) => serde_json::to_value(w).unwrap_or(Value::Null),
    }
}

/// The first window of a run: from the stored cursor minus the overlap, else from the
/// high-water mark minus the overlap (after `state rewind`), else from `now − lookback`;
/// to `run_end` (= now − settle lag), cut to the longest span. `None`: nothing new to read.
pub fn first_window(
    done: Option<i64>,
    high_water_ms: Option<i64>,
    now_ms: i64,
    run_end_ms: i64,
    cfg: &WindowConfig,
) -> Option<(i64, i64)> {
    let start = match (done, high_water_ms) {
        (Some(c), _) if c >= run_end_ms => return None,
        (Some(c), _) => c.saturating_sub(cfg.overlap_ms),
        (None, Some(hw)) => hw.saturating_sub(cfg.overlap_ms),
        (None, None) => now_ms.saturating_sub(cfg.lookback_ms),
    }
    .max(1);
    if start >= run_end_ms {
        return None;
    }
    Some((start, end_of(start, run_end_ms, cfg)))
}

fn end_of(start: i64, run_end_ms: i64, cfg: &WindowConfig) -> i64 {
    cfg.max_span_ms.map_or(run_end_ms, |span| {
        run_end_ms.min(start.saturating_add(span))
    })
}

/// After a window `[.., to]` is complete: the next window of this run (contiguous; both ends
/// are inclusive, so a record exactly at `to` is read twice and the ledger drops it), or
/// `Done(to)` once the run end is reached.
pub fn after_window(to: i64, run_end_ms: i64, cfg: &WindowConfig) -> Cursor<(i64, i64)> {
    if to >= run_end_ms {
        Cursor::Done(to)
    } else {
        Cursor::Window((to, end_of(to, run_end_ms, cfg)))
    }
}

/// What to do after one reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step<W> {
    /// The position to commit with this page.
    pub cursor: Cursor<W>,
    /// Whether to request again in this run.
    pub more: bool,
    /// Whether the page's records are delivered (false only for a split's discarded page).
    pub deliver: bool,
    /// The window kept disagreeing for [`MAX_PASSES`] passes: stop, re-read it next run.
    pub gave_up: bool,
}

fn continue_at<W>(cursor: Cursor<W>) -> Step<W> {
    let more = matches!(cursor, Cursor::Window(_));
    Step {
        cursor,
        more,
        deliver: true,
        gave_up: false,
    }
}

/// One alerts reply (`total` matches, `n` records) for window `w`.
pub fn alerts_step(
    w: &AlertWindow,
    total: u64,
    n: u64,
    run_end_ms: i64,
    cfg: &WindowConfig,
) -> Step<AlertWindow> {
    let span = w.to - w.from;
    if w.offset == 0 && total > SPLIT_THRESHOLD && span > 1 {
        // Shrink to about 900 expected matches (at most half), so offsets stay shallow.
        let target = SPLIT_THRESHOLD * 9 / 10;
        let scaled = (i128::from(span) * i128::from(target) / i128::from(total)) as i64;
        let new_span = scaled.clamp(1, span / 2);
        return Step {
            cursor: Cursor::Window(AlertWindow::new(w.from, w.from + new_span, 1)),
            more: true,
            deliver: false,
            gave_up: false,
        };
    }
    let expected = w.total.unwrap_or(total);
    let read = w.read + n;
    let end_of_pass = n == 0 || w.offset + n >= total;
    if total != expected || (end_of_pass && read != total) {
        return repage(w.pass, |pass| AlertWindow::new(w.from, w.to, pass));
    }
    if end_of_pass {
        return continue_at(match after_window(w.to, run_end_ms, cfg) {
            Cursor::Done(t) => Cursor::Done(t),
            Cursor::Window((from, to)) => Cursor::Window(AlertWindow::new(from, to, 1)),
        });
    }
    continue_at(Cursor::Window(AlertWindow {
        offset: w.offset + n,
        total: Some(total),
        read,
        ..*w
    }))
}

fn repage<W>(pass: u32, window: impl Fn(u32) -> W) -> Step<W> {
    if pass >= MAX_PASSES {
        Step {
            cursor: Cursor::Window(window(1)),
            more: false,
            deliver: true,
            gave_up: true,
        }
    } else {
        Step {
            cursor: Cursor::Window(window(pass + 1)),
            more: true,
            deliver: true,
            gave_up: false,
        }
    }
}

/// One incidents reply (`total` matches of `gte`..`to`, `n` records whose newest
/// `modification_time` is `newest`) for window `w`.
pub fn incidents_step(
    w: &IncidentWindow,
    total: u64,
    n: u64,
    newest: Option<i64>,
    run_end_ms: i64,
    cfg: &WindowConfig,
) -> Step<IncidentWindow> {
    let gte = w.gte();
    if w.skip > 0 && w.total.is_some_and(|t| t != total) {
        // Skipping inside one crowded millisecond and the set changed: restart at its start.
        return repage(w.pass, |pass| IncidentWindow {
            skip: 0,
            total: None,
            pass,
            ..*w
        });
    }
    if n == 0 || w.skip + n >= total {
        return continue_at(match after_window(w.to, run_end_ms, cfg) {
            Cursor::Done(t) => Cursor::Done(t),
            Cursor::Window((from, to)) => Cursor::Window(IncidentWindow::new(from, to)),
        });
    }
    let newest = newest.unwrap_or(gte).clamp(gte, w.to.max(gte));
    if newest > gte {
        continue_at(Cursor::Window(IncidentWindow {
            after: Some(newest),
            skip: 0,
            total: None,
            pass: 1,
            ..*w
        }))
    } else {
        continue_at(Cursor::Window(IncidentWindow {
            after: Some(gte),
            skip: w.skip + n,
            total: Some(total),
            ..*w
        }))
    }
}

#[cfg(test)]
#[path = "walk_tests.rs"]
mod tests;
