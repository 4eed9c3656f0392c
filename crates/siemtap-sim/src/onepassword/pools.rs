//! Value pools (spec §2.10), weighted so that every installed rule (100710–100754) can fire.

/// Sign-in `category` → weight.
pub(crate) const SIGNIN_CATEGORY: &[(&str, u32)] = &[
    ("success", 50),
    ("credentials_failed", 14),
    ("mfa_failed", 10),
    ("modern_version_required", 4),
    ("sso_failed", 6),
    ("firewall_failed", 16),
];

/// Sign-in `type` for a `category`.
pub(crate) fn signin_types(category: &str) -> &'static [(&'static str, u32)] {
    match category {
        "success" => &[
            ("credentials_ok", 40),
            ("mfa_ok", 25),
            ("sso", 20),
            ("passkey", 15),
        ],
        "credentials_failed" => &[("password_secret_bad", 1)],
        "mfa_failed" => &[
            ("mfa_missing", 2),
            ("totp_disabled", 1),
            ("totp_bad", 3),
            ("u2f_failed", 1),
            ("duo_failed", 1),
            ("duo_native_failed", 1),
        ],
        "sso_failed" => &[("sso_failed", 1)],
        // Vendor firewall types; no rule reads them.
        "firewall_failed" => &[
            ("country_blocked", 3),
            ("continent_blocked", 1),
            ("anonymous_blocked", 1),
            ("ip_blocked", 2),
        ],
        _ => &[("credentials_ok", 1)],
    }
}

/// Audit `action` → weight (all rule-relevant actions).
pub(crate) const AUDIT_ACTION: &[(&str, u32)] = &[
    ("create", 14),
    ("update", 14),
    ("delete", 8),
    ("activate", 5),
    ("deactivate", 4),
    ("reactivate", 3),
    ("suspend", 4),
    ("recover", 3),
    ("beginrecovery", 3),
    ("export", 4),
    ("sdvcsso", 2),
    ("ssotknv", 2),
    ("enblmfa", 3),
    ("dsblmfa", 3),
    ("changemp", 3),
    ("trevoke", 3),
];

/// Audit `object_type` → weight.
pub(crate) const AUDIT_OBJECT_TYPE: &[(&str, u32)] = &[
    ("user", 26),
    ("gm", 12),
    ("va", 12),
    ("p", 10),
    ("sa", 10),
    ("fw", 8),
    ("stripe", 6),
    ("v", 16),
];

/// Item-usage `action` → weight.
pub(crate) const ITEM_ACTION: &[(&str, u32)] = &[
    ("reveal", 30),
    ("secure-copy", 20),
    ("export", 8),
    ("share", 8),
    ("server-create", 6),
    ("server-update", 6),
    ("server-fetch", 12),
    ("select-sso-provider", 10),
];

/// `(country, region, city, latitude, longitude, ISO code)`
pub(crate) type Place = (
    &'static str,
    &'static str,
    &'static str,
    f64,
    f64,
    &'static str,
);

/// Locations (some with non-ASCII names).
pub(crate) const PLACES: &[Place] = &[
    ("Canada", "Ontario", "Toronto", 43.64, -79.433, "CA"),
    (
        "United States",
        "California",
        "San Francisco",
        37.7749,
        -122.4194,
        "US",
    ),
    ("Germany", "Berlin", "Berlin", 52.52, 13.405, "DE"),
    ("Brazil", "São Paulo", "São Paulo", -23.5505, -46.6333, "BR"),
    ("Japan", "Tokyo", "Tokyo", 35.6762, 139.6503, "JP"),
    (
        "Sweden",
        "Västra Götaland",
        "Göteborg",
        57.7089,
        11.9746,
        "SE",
    ),
    (
        "Argentina",
        "Buenos Aires",
        "Buenos Aires",
        -34.6037,
        -58.3816,
        "AR",
    ),
];

/// `(app_name, app_version)`
pub(crate) const APPS: &[(&str, &str)] = &[
    ("1Password Browser Extension", "1109"),
    ("1Password for Mac", "81024012"),
    ("1Password for Windows", "81024004"),
    ("1Password for iOS", "81023034"),
    ("1Password CLI", "2030000"),
    ("1Password SCIM Bridge", "2090100"),
];

/// `(platform_name, platform_version)`
pub(crate) const PLATFORMS: &[(&str, &str)] = &[
    ("Chrome", "93.0.4577.62"),
    ("Firefox", "124.0"),
    ("Safari", "17.4"),
    ("Edge", "123.0.2420.65"),
];

/// `(os_name, os_version)`
pub(crate) const OSES: &[(&str, &str)] = &[
    ("Android", "10"),
    ("MacOSX", "14.4"),
    ("Windows", "11"),
    ("iOS", "17.4"),
    ("Linux", "6.8"),
];

/// IP prefixes (documentation and well-known ranges); a last octet is appended.
pub(crate) const IP_PREFIXES: &[&str] = &[
    "89.160.20.",
    "81.2.69.",
    "216.160.83.",
    "1.1.1.",
    "175.16.199.",
];

/// First names (some non-ASCII).
pub(crate) const FIRST_NAMES: &[&str] = &[
    "Alice", "Bob", "Zoë", "José", "Łukasz", "Amara", "Noah", "Chloé", "Mia", "Kenji", "Ingrid",
];

/// Last names (some non-ASCII).
pub(crate) const LAST_NAMES: &[&str] = &[
    "Smith", "Müller", "O'Brien", "García", "Nguyen", "Kowalski", "Tanaka", "Dubois",
];

/// Whole names used now and then: CJK and an emoji.
pub(crate) const SPECIAL_NAMES: &[&str] = &["李雷", "Søren Ødegård 🚀", "Ana María Núñez"];

/// `aux_info` texts for audit events (one with an emoji).
pub(crate) const AUX_INFO: &[&str] = &[
    "Member of group Administrators",
    "Vault renamed to \"Ops 🔐\"",
    "Role changed to manager",
    "Policy 'Require MFA' updated",
];

/// `details.value` texts for failed sign-ins.
pub(crate) const SIGNIN_DETAILS: &[&str] = &[
    "Incorrect password",
    "TOTP code expired",
    "blocked by firewall rule",
];
