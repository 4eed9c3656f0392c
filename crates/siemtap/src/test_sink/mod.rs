//! A sink kind that exists only in tests: `memory:NAME[?refuse]`, batches kept in a process-wide
//! map. It is registered exactly as the built-in kinds are (a [`SinkKind`] in a registry
//! slice, [`registry`]) and proves the seam: the run path in `run.rs` drives it without a line
//! that names it. It keeps an output position (bytes accepted) so the recovery hook and the
//! fan-out rules apply to it as to the file sink; `?refuse` makes it refuse every batch.

mod end_to_end;

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use siemtap_core::{
    Batch, BoxFuture, Delivery, Health, OutputSpec, Sink, SinkContext, SinkError, SinkKind,
};

/// The registry entry.
pub const KIND: SinkKind = SinkKind {
    name: "memory",
    forms: "memory:NAME[?refuse]",
    parse,
};

/// The built-in kinds plus this one, as a test run's registry.
pub fn registry() -> Vec<SinkKind> {
    let mut kinds = siemtap_sinks::REGISTRY.to_vec();
    kinds.push(KIND);
    kinds
}

/// What every memory sink accepted, by name.
static OUTPUTS: Mutex<Option<HashMap<String, Vec<u8>>>> = Mutex::new(None);

fn outputs() -> MutexGuard<'static, Option<HashMap<String, Vec<u8>>>> {
    OUTPUTS.lock().unwrap_or_else(|e| e.into_inner())
}

/// The bytes memory sink `name` holds now.
pub fn contents(name: &str) -> Vec<u8> {
    outputs()
        .as_ref()
        .and_then(|m| m.get(name).cloned())
        .unwrap_or_default()
}

#[derive(Debug)]
struct MemorySpec {
    name: String,
    refuse: bool,
}

fn parse(spec: &str) -> Option<Result<Box<dyn OutputSpec>, String>> {
    let rest = spec.strip_prefix("memory:")?;
    let (name, refuse) = match rest.strip_suffix("?refuse") {
        Some(name) => (name, true),
        None => (rest, false),
    };
    if name.is_empty() {
        return Some(Err("memory:NAME needs a name".into()));
    }
    Some(Ok(Box::new(MemorySpec {
        name: name.to_owned(),
        refuse,
    })))
}

impl OutputSpec for MemorySpec {
    fn describe(&self) -> String {
        format!("memory:{}", self.name)
    }

    fn output_id(&self) -> Option<String> {
        Some(self.describe())
    }

    fn open(&self, _ctx: &SinkContext<'_>) -> Result<Box<dyn Sink>, SinkError> {
        Ok(Box::new(MemorySink {
            id: self.describe(),
            name: self.name.clone(),
            refuse: self.refuse,
        }))
    }
}

struct MemorySink {
    id: String,
    name: String,
    refuse: bool,
}

impl Sink for MemorySink {
    fn output_id(&self) -> Option<&str> {
        Some(&self.id)
    }

    fn send<'a>(&'a mut self, batch: &'a Batch) -> BoxFuture<'a, Result<Delivery, SinkError>> {
        Box::pin(async move {
            if self.refuse {
                return Err(SinkError {
                    sink: self.id.clone(),
                    message: "refusing as configured (?refuse)".into(),
                });
            }
            let mut all = outputs();
            let buf = all
                .get_or_insert_with(HashMap::new)
                .entry(self.name.clone())
                .or_default();
            buf.extend_from_slice(batch.bytes());
            Ok(Delivery {
                position: Some(buf.len() as u64),
            })
        })
    }

    fn recover(&mut self, committed: Option<u64>) -> BoxFuture<'_, Result<Option<u64>, SinkError>> {
        Box::pin(async move {
            let mut all = outputs();
            let buf = all
                .get_or_insert_with(HashMap::new)
                .entry(self.name.clone())
                .or_default();
            if let Some(c) = committed.and_then(|c| usize::try_from(c).ok()) {
                buf.truncate(c);
            }
            Ok(Some(buf.len() as u64))
        })
    }

    fn health(&mut self) -> BoxFuture<'_, Health> {
        Box::pin(async move {
            if self.refuse {
                Health::Down(format!("{}: refusing as configured", self.id))
            } else {
                Health::Up
            }
        })
    }
}
