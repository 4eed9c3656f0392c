//! The four SIEM record categories and the vendor routes.

/// A SIEM API record category (spec §3.2), in the order the connector processes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Category {
    /// `messagesBlocked`
    MessagesBlocked,
    /// `messagesDelivered`
    MessagesDelivered,
    /// `clicksBlocked`
    ClicksBlocked,
    /// `clicksPermitted`
    ClicksPermitted,
}

impl Category {
    /// Every category, in response-key order.
    pub(crate) const ALL: [Category; 4] = [
        Category::MessagesBlocked,
        Category::MessagesDelivered,
        Category::ClicksBlocked,
        Category::ClicksPermitted,
    ];

    /// Response key and oracle prefix.
    pub(crate) fn key(self) -> &'static str {
        match self {
            Category::MessagesBlocked => "messagesBlocked",
            Category::MessagesDelivered => "messagesDelivered",
            Category::ClicksBlocked => "clicksBlocked",
            Category::ClicksPermitted => "clicksPermitted",
        }
    }

    /// Key word for the PRNG.
    pub(crate) fn id(self) -> u64 {
        match self {
            Category::MessagesBlocked => 11,
            Category::MessagesDelivered => 12,
            Category::ClicksBlocked => 13,
            Category::ClicksPermitted => 14,
        }
    }

    /// Messages (keyed by `GUID`) as opposed to clicks (keyed by `id`).
    pub(crate) fn is_message(self) -> bool {
        matches!(
            self,
            Category::MessagesBlocked | Category::MessagesDelivered
        )
    }

    /// The category called `key`.
    pub(crate) fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.key() == key)
    }
}

/// Which People report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Report {
    /// `GET /v2/people/vap`
    Vap,
    /// `GET /v2/people/top-clickers`
    TopClickers,
}

impl Report {
    /// Oracle prefix and `event_type` as the connector emits it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Report::Vap => "vap",
            Report::TopClickers => "top_clickers",
        }
    }

    /// Key word for the PRNG.
    pub(crate) fn id(self) -> u64 {
        match self {
            Report::Vap => 21,
            Report::TopClickers => 22,
        }
    }
}

/// A vendor route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// A SIEM endpoint and the categories it returns, in body order.
    Siem(&'static [Category]),
    /// A People report.
    People(Report),
}

/// The quota bucket a route draws from (spec §5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bucket {
    /// `clicks/permitted` alone.
    ClicksPermitted,
    /// Every other endpoint, `/all` and the People API included.
    Shared,
}

const ALL: &[Category] = &Category::ALL;
const ISSUES: &[Category] = &[Category::ClicksPermitted, Category::MessagesDelivered];

/// Every vendor path with its route.
pub(crate) const ROUTES: &[(&str, Route)] = &[
    ("/v2/siem/all", Route::Siem(ALL)),
    (
        "/v2/siem/messages/blocked",
        Route::Siem(&[Category::MessagesBlocked]),
    ),
    (
        "/v2/siem/messages/delivered",
        Route::Siem(&[Category::MessagesDelivered]),
    ),
    (
        "/v2/siem/clicks/blocked",
        Route::Siem(&[Category::ClicksBlocked]),
    ),
    (
        "/v2/siem/clicks/permitted",
        Route::Siem(&[Category::ClicksPermitted]),
    ),
    ("/v2/siem/issues", Route::Siem(ISSUES)),
    ("/v2/people/vap", Route::People(Report::Vap)),
    (
        "/v2/people/top-clickers",
        Route::People(Report::TopClickers),
    ),
];

/// The route served at `path`.
pub(crate) fn route(path: &str) -> Option<Route> {
    ROUTES.iter().find(|(p, _)| *p == path).map(|(_, r)| *r)
}

/// The quota bucket of `path`.
pub(crate) fn bucket(path: &str) -> Bucket {
    if path == "/v2/siem/clicks/permitted" {
        Bucket::ClicksPermitted
    } else {
        Bucket::Shared
    }
}
