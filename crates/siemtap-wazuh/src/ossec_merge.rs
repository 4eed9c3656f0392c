//! Idempotent merge of siemtap's wodle stanzas into `etc/ossec.conf`
//! (`siemtap wazuh install --merge-ossec-conf`).
//!
//! The stanzas live in one `<ossec_config>` block of their own (Wazuh reads every
//! `<ossec_config>` block of the file) between two marker comments. A later install replaces
//! what is between the markers, or leaves the file untouched when nothing changed; the rest of
//! the file is never rewritten. The file is not parsed as XML: only the markers and the wodle
//! tags are looked for, so an ossec.conf Wazuh accepts is never refused for its syntax.

/// First line of the managed block.
pub const BEGIN: &str = "<!-- siemtap:begin managed by siemtap wazuh install (merge-ossec-conf); \
                         edits between these markers are replaced on the next install -->";
/// Last line of the managed block.
pub const END: &str = "<!-- siemtap:end -->";

const BEGIN_PREFIX: &str = "<!-- siemtap:begin";

/// What the merge did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Merge {
    /// The managed block is already as wanted: nothing to write.
    Unchanged,
    /// No managed block existed: it was appended. Holds the new file.
    Added(String),
    /// The managed block was replaced. Holds the new file.
    Replaced(String),
}

/// Why the file cannot be merged automatically.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MergeError {
    /// A begin marker without its end marker (or several blocks).
    #[error(
        "{file}: {problem}; fix the siemtap markers by hand (keep one `<!-- siemtap:begin ...` ... \
         `<!-- siemtap:end -->` pair, or remove both) and install again"
    )]
    Markers {
        /// The file.
        file: String,
        /// What is wrong.
        problem: String,
    },
    /// A stanza with siemtap's tag already exists outside the managed block.
    #[error(
        "{file}: a wodle with <tag>{tag}</tag> already exists outside siemtap's managed block; \
         remove it (the install adds its own) or install without --merge-ossec-conf and edit \
         the file yourself"
    )]
    Unmanaged {
        /// The file.
        file: String,
        /// The tag.
        tag: String,
    },
}

/// The managed block holding `stanzas` (each a complete `<wodle>`, comments allowed).
pub fn managed_block(stanzas: &[String]) -> String {
    let mut s = format!("{BEGIN}\n<ossec_config>\n");
    for stanza in stanzas {
        for line in stanza.lines() {
            s.push_str("  ");
            s.push_str(line);
            s.push('\n');
        }
    }
    s.push_str("</ossec_config>\n");
    s.push_str(END);
    s.push('\n');
    s
}

/// Merges `block` (from [`managed_block`]) into `existing`. `tags` are the wodle tags the
/// block defines: one of them outside the block is refused (the wodle would run twice).
pub fn merge(
    file: &str,
    existing: &str,
    block: &str,
    tags: &[String],
) -> Result<Merge, MergeError> {
    let markers = |problem: &str| MergeError::Markers {
        file: file.into(),
        problem: problem.into(),
    };
    let begins: Vec<usize> = existing
        .match_indices(BEGIN_PREFIX)
        .map(|(i, _)| i)
        .collect();
    let (outside, span) = match begins.as_slice() {
        [] => {
            if existing.contains(END) {
                return Err(markers("an end marker without a begin marker"));
            }
            (existing.to_string(), None)
        }
        [b] => {
            let Some(rel) = existing[*b..].find(END) else {
                return Err(markers("a begin marker without an end marker"));
            };
            let mut e = b + rel + END.len();
            if existing[e..].starts_with("\r\n") {
                e += 2;
            } else if existing[e..].starts_with('\n') {
                e += 1;
            }
            if existing[e..].contains(END) {
                return Err(markers("more than one end marker"));
            }
            (
                format!("{}{}", &existing[..*b], &existing[e..]),
                Some((*b, e)),
            )
        }
        _ => return Err(markers("more than one siemtap block")),
    };
    for tag in tags {
        if outside.contains(&format!("<tag>{tag}</tag>")) {
            return Err(MergeError::Unmanaged {
                file: file.into(),
                tag: tag.clone(),
            });
        }
    }
    Ok(match span {
        Some((b, e)) if &existing[b..e] == block => Merge::Unchanged,
        Some((b, e)) => Merge::Replaced(format!("{}{block}{}", &existing[..b], &existing[e..])),
        None => {
            let mut s = existing.to_string();
            if !s.is_empty() && !s.ends_with('\n') {
                s.push('\n');
            }
            s.push('\n');
            s.push_str(block);
            Merge::Added(s)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONF: &str = "<ossec_config>\n  <global><jsonout_output>yes</jsonout_output></global>\n</ossec_config>\n";

    fn block(v: &str) -> String {
        managed_block(&[format!(
            "<wodle name=\"command\">\n  <tag>siemtap-1password</tag>\n  <interval>{v}</interval>\n</wodle>"
        )])
    }

    fn tags() -> Vec<String> {
        vec!["siemtap-1password".into()]
    }

    #[test]
    fn appends_once_then_is_unchanged_then_replaces() {
        let Merge::Added(once) = merge("f", CONF, &block("5m"), &tags()).unwrap() else {
            panic!("first merge adds");
        };
        assert!(
            once.starts_with(CONF),
            "the operator's part is kept byte for byte"
        );
        assert!(once.contains("  <wodle name=\"command\">\n    <tag>siemtap-1password</tag>"));
        assert_eq!(
            merge("f", &once, &block("5m"), &tags()).unwrap(),
            Merge::Unchanged
        );
        let Merge::Replaced(twice) = merge("f", &once, &block("10m"), &tags()).unwrap() else {
            panic!("a changed block is replaced");
        };
        assert_eq!(twice.matches(BEGIN).count(), 1);
        assert_eq!(twice.matches("<tag>siemtap-1password</tag>").count(), 1);
        assert!(twice.contains("<interval>10m</interval>") && twice.starts_with(CONF));
        // Text after the block (the operator appended something) survives a replacement.
        let after = format!("{once}<!-- mine -->\n");
        let Merge::Replaced(r) = merge("f", &after, &block("1h"), &tags()).unwrap() else {
            panic!()
        };
        assert!(r.ends_with("<!-- mine -->\n") && r.contains("1h"), "{r}");
    }

    #[test]
    fn refuses_broken_markers_and_unmanaged_duplicates() {
        let Merge::Added(once) = merge("f", "", &block("5m"), &tags()).unwrap() else {
            panic!()
        };
        let no_end = once.replace(END, "");
        assert!(matches!(
            merge("f", &no_end, &block("5m"), &tags()),
            Err(MergeError::Markers { .. })
        ));
        let two = format!("{once}{once}");
        assert!(matches!(
            merge("f", &two, &block("5m"), &tags()),
            Err(MergeError::Markers { .. })
        ));
        let manual = format!(
            "{CONF}<ossec_config><wodle name=\"command\"><tag>siemtap-1password</tag></wodle></ossec_config>\n"
        );
        let err = merge("etc/ossec.conf", &manual, &block("5m"), &tags()).unwrap_err();
        assert!(
            err.to_string().contains("<tag>siemtap-1password</tag>"),
            "{err}"
        );
    }
}
