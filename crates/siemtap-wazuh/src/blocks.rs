//! Rule id blocks: which blocks are taken by what is installed together (the built-in
//! connectors, siemtap's health rules, every declarative connector file), and the overlaps
//! and `integration` clashes `siemtap validate` refuses. Two blocks that overlap produce
//! duplicated ids (Wazuh warns 7612 and keeps only the first rule, so the other file's rule
//! silently never fires); two rule sets on the same `integration` leave the second base rule
//! shadowed by the first.

use crate::check::{CUSTOM_MAX, CUSTOM_MIN};
use crate::generate::BUILTIN;

/// One reserved block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    /// Who reserves it: `built-in 1password`, or a connector file's path.
    pub owner: String,
    /// First id.
    pub first: u32,
    /// Last id (inclusive).
    pub last: u32,
    /// The `integration` its base rule matches.
    pub integration: String,
    /// A built-in block (always installed with its connector; siemtap's with every one).
    pub builtin: bool,
}

/// The built-in blocks: 100500 Cortex XDR, 100600 Proofpoint, 100700 1Password, 100800
/// siemtap's health rules (always installed), 100 ids each.
pub fn builtin_claims() -> Vec<Claim> {
    BUILTIN
        .iter()
        .map(|b| Claim {
            owner: if b.name == "siemtap" {
                "siemtap's health rules (always installed)".into()
            } else {
                format!("the built-in {} connector", b.name)
            },
            first: b.block,
            last: b.block + 99,
            integration: b.name.into(),
            builtin: true,
        })
        .collect()
}

/// The first 100-id block from 100900 up that no claim touches.
pub fn free_block(claims: &[Claim]) -> Option<u32> {
    (100_900..=CUSTOM_MAX - 99)
        .step_by(100)
        .find(|&f| !claims.iter().any(|c| c.first <= f + 99 && f <= c.last))
}

/// Problems of each non-built-in claim against the built-in ones and the claims before it,
/// as `(index into claims, message)`. Every message names both owners and the fix.
pub fn conflicts(claims: &[Claim]) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let free = free_block(claims)
        .map(|f| format!("[rules] first = {f}, last = {}", f + 99))
        .unwrap_or_else(|| "a free 100-id block".into());
    for (i, c) in claims.iter().enumerate() {
        if c.builtin {
            continue;
        }
        if c.first < CUSTOM_MIN || c.last > CUSTOM_MAX || c.first > c.last {
            out.push((i, format!(
                "[rules] first = {}, last = {} is not a block inside the custom range {CUSTOM_MIN}-{CUSTOM_MAX}; use e.g. {free}",
                c.first, c.last
            )));
            continue;
        }
        for (j, o) in claims.iter().enumerate() {
            if j == i || (!o.builtin && j > i) {
                continue;
            }
            if c.first <= o.last && o.first <= c.last {
                out.push((
                    i,
                    format!(
                        "[rules] {}-{} overlaps {} ({}-{}): installed together, the duplicated ids \
                     make Wazuh keep only the first rule of each (warning 7612); give this \
                     connector a free block, e.g. {free}",
                        c.first, c.last, o.owner, o.first, o.last
                    ),
                ));
            } else if c.integration == o.integration {
                out.push((
                    i,
                    format!(
                        "integration {:?} already has rules from {} ({}-{}): a second base rule on \
                     the same integration never fires; remove [rules] from this file (its \
                     events are covered by those rules) or give it its own `integration`",
                        c.integration, o.owner, o.first, o.last
                    ),
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(owner: &str, first: u32, last: u32, integration: &str) -> Claim {
        Claim {
            owner: owner.into(),
            first,
            last,
            integration: integration.into(),
            builtin: false,
        }
    }

    #[test]
    fn builtin_blocks_do_not_overlap_each_other() {
        let b = builtin_claims();
        assert!(conflicts(&b).is_empty());
        assert_eq!(free_block(&b), Some(100_900));
    }

    #[test]
    fn overlaps_with_builtin_blocks_and_between_files_are_refused() {
        let mut claims = builtin_claims();
        claims.push(file("okta.toml", 100_800, 100_849, "okta"));
        claims.push(file("graph.toml", 100_850, 100_899, "msgraph"));
        claims.push(file("op.toml", 100_700, 100_799, "1password"));
        claims.push(file("a.toml", 101_000, 101_099, "a"));
        claims.push(file("b.toml", 101_050, 101_149, "b"));
        claims.push(file("c.toml", 101_200, 101_299, "a"));
        let found = conflicts(&claims);
        let at = |i: usize| {
            found
                .iter()
                .filter(|(j, _)| *j == i)
                .map(|(_, m)| m.clone())
                .collect::<Vec<_>>()
        };
        let n = builtin_claims().len();
        assert!(at(n)[0].contains("siemtap's health rules"), "{found:?}");
        assert!(at(n + 1)[0].contains("100800-100899"), "{found:?}");
        assert!(at(n + 2)[0].contains("built-in 1password"), "{found:?}");
        assert!(
            at(n + 3).is_empty(),
            "the first of two overlapping files is fine"
        );
        assert!(at(n + 4)[0].contains("a.toml"), "{found:?}");
        assert!(at(n + 5)[0].contains("integration \"a\""), "{found:?}");
        // Every message proposes a free block.
        assert!(
            found
                .iter()
                .filter(|(_, m)| m.contains("overlaps"))
                .all(|(_, m)| m.contains("first = 100900")),
            "{found:?}"
        );
    }
}
