//! Start-up errors of the simulators. Each message names the flag or file and the fix.

use std::path::PathBuf;

/// Why a simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A `--token NAME=TOKEN` name is not `[A-Za-z0-9_-]+`.
    #[error(
        "--token #{index}: tenant name {name:?} is invalid; use letters, digits, '_' or '-' (e.g. --token client-a=TOKEN)"
    )]
    BadTenantName {
        /// 1-based position of the flag.
        index: usize,
        /// The rejected name.
        name: String,
    },
    /// A `--token` value is empty.
    #[error("--token #{index}: the token is empty; pass --token TOKEN or --token NAME=TOKEN")]
    EmptyToken {
        /// 1-based position of the flag.
        index: usize,
    },
    /// Two `--token` flags use the same tenant name.
    #[error("--token: tenant name {0:?} is given twice; tenant names must be unique")]
    DuplicateTenant(String),
    /// Two tenants share one token (the token itself is never printed).
    #[error(
        "--token #{index}: this token is already used by tenant {other:?}; every tenant needs its own token"
    )]
    DuplicateToken {
        /// 1-based position of the flag.
        index: usize,
        /// The tenant that already has the token.
        other: String,
    },
    /// `--features` names something that is not a 1Password feature.
    #[error(
        "--features: unknown feature {0:?}; use a comma list of auditevents, signinattempts, itemusages"
    )]
    UnknownFeature(String),
    /// `--rate` is not a positive finite number.
    #[error("--rate {0}: must be a positive number of events per second per stream and tenant")]
    BadRate(f64),
    /// `--clock-start` is not RFC 3339.
    #[error("--clock-start {0:?}: not an RFC 3339 timestamp; use e.g. 2026-03-31T00:00:00Z")]
    BadClockStart(String),
    /// The `--faults` file cannot be read.
    #[error("--faults {}: cannot read the fault plan: {source}; check the path and permissions", path.display())]
    FaultsRead {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The `--faults` file is not a valid plan.
    #[error("--faults {}: invalid fault plan: {reason}", path.display())]
    FaultsInvalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, naming the rule and key.
        reason: String,
    },
    /// The system random generator failed (needed for the cursor key).
    #[error(
        "cannot draw a random cursor key from the operating system; retry, or pass --deterministic-cursors"
    )]
    Random,
    /// A flag value is out of range (e.g. a fraction above 1); the message says the fix.
    #[error("{flag}: {message}")]
    InvalidFlag {
        /// The flag, e.g. `--no-creation-time-fraction`.
        flag: &'static str,
        /// What is wrong and how to fix it.
        message: String,
    },
}

impl From<SimError> for std::io::Error {
    fn from(e: SimError) -> Self {
        let kind = match &e {
            SimError::FaultsRead { source, .. } => source.kind(),
            SimError::Random => std::io::ErrorKind::Other,
            _ => std::io::ErrorKind::InvalidInput,
        };
        std::io::Error::new(kind, e)
    }
}
