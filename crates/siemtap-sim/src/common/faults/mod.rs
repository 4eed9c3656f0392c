//! Fault injection (spec §5.5): the plan format and the engine that matches requests.

mod engine;
mod plan;

pub(crate) use engine::{FaultEngine, RequestFacts};
pub use plan::{
    Action, CursorReject, FaultPlan, FaultRule, LateEvents, Match, MidPagination, RetryAfterSpec,
    TokenExpiry,
};
