//! Wazuh 5.x content per connector (docs/wazuh5.md): an integration, its decoder (a child of
//! `decoder/integrations/0` mapping the vendor fields that have a WCS home) and Sigma rules
//! migrated from the connector's 4.x rules, as one bundle document
//! `{"integration", "decoders", "rules", "kvdbs"}`; and offline checks of such a bundle (WCS
//! fields and types, document shape, a Sigma evaluator, a normalize applier).

pub mod check;
pub mod condition;
pub mod decoders;
pub mod docs;
pub mod fields;
pub mod normalize;
pub mod profile;
pub mod profiles;
pub mod rules;
pub mod sigma;
pub mod translate;
pub mod uuid;

use serde_json::{Value, json};

use crate::generate::{GenError, Shape, builtin, rules_for, rules_for_shape};
use crate::model::RuleFile;
use profile::Profile;
use rules::{Migrated, migrate};

/// Why a bundle cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// The 4.x rules it migrates cannot be generated.
    #[error(transparent)]
    Gen(#[from] GenError),
    /// A 4.x rule has no translation.
    #[error(transparent)]
    Migrate(#[from] rules::MigrateError),
}

/// A built bundle with what the migration left out.
#[derive(Clone, Debug)]
pub struct Bundle {
    /// The profile it was built from.
    pub profile: Profile,
    /// The 4.x rules migrated.
    pub migrated: Migrated,
    /// The bundle document.
    pub document: Value,
}

fn assemble(profile: Profile, file: &RuleFile) -> Result<Bundle, BundleError> {
    let migrated = migrate(file, &profile)?;
    let decoder = decoders::decoder(&profile);
    let dec_ids = vec![decoder["id"].as_str().unwrap_or_default().to_string()];
    let rule_ids: Vec<String> = migrated
        .rules
        .iter()
        .map(|r| r["id"].as_str().unwrap_or_default().to_string())
        .collect();
    let document = json!({
        "integration": decoders::integration(&profile, &dec_ids, &rule_ids),
        "decoders": [decoder],
        "rules": migrated.rules,
        "kvdbs": [],
    });
    Ok(Bundle {
        profile,
        migrated,
        document,
    })
}

/// The bundle of a built-in connector (`1password`, `proofpoint`, `cortex_xdr`) or of
/// siemtap's own health events (`siemtap`).
pub fn bundle_builtin(name: &str) -> Result<Bundle, BundleError> {
    let Some(profile) = profiles::builtin(name) else {
        return Err(GenError::NeedsBlock(name.to_string()).into());
    };
    let file = rules_for(name, None, None)?;
    assemble(profile, &file)
}

/// The bundle of a declarative connector described by its file (its 4.x rules as
/// [`rules_for_shape`] gives them, in `block` or the file's `[rules]` block). A file whose
/// `integration` is a built-in connector's gets that connector's bundle.
pub fn bundle_for_shape(shape: &Shape, block: Option<u32>) -> Result<Bundle, BundleError> {
    let file = rules_for_shape(shape, block)?;
    if let Some(b) = builtin(&shape.integration)
        && b.name != "siemtap"
    {
        return bundle_builtin(b.name);
    }
    assemble(profiles::custom(shape), &file)
}
