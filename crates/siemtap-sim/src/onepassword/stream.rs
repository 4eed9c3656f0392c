//! The three 1Password event streams and their names on the wire.

/// An event stream of the 1Password Events API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Stream {
    /// `POST /api/v2/auditevents`
    Audit,
    /// `POST /api/v2/signinattempts`
    Signin,
    /// `POST /api/v2/itemusages`
    ItemUsage,
}

impl Stream {
    /// In the order streams run (audit → signin → itemusage).
    pub(crate) const ALL: [Stream; 3] = [Stream::Audit, Stream::Signin, Stream::ItemUsage];

    /// Name as `--source` and the oracle spell it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Stream::Audit => "audit",
            Stream::Signin => "signin",
            Stream::ItemUsage => "itemusage",
        }
    }

    /// Request path.
    pub(crate) fn path(self) -> &'static str {
        match self {
            Stream::Audit => "/api/v2/auditevents",
            Stream::Signin => "/api/v2/signinattempts",
            Stream::ItemUsage => "/api/v2/itemusages",
        }
    }

    /// Introspect feature name.
    pub(crate) fn feature(self) -> &'static str {
        match self {
            Stream::Audit => "auditevents",
            Stream::Signin => "signinattempts",
            Stream::ItemUsage => "itemusages",
        }
    }

    /// Key word for the PRNG.
    pub(crate) fn id(self) -> u64 {
        match self {
            Stream::Audit => 1,
            Stream::Signin => 2,
            Stream::ItemUsage => 3,
        }
    }

    /// The stream served at `path`.
    pub(crate) fn from_path(path: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.path() == path)
    }

    /// The stream called `name`.
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The stream with introspect feature `feature`.
    pub(crate) fn from_feature(feature: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.feature() == feature)
    }
}
