//! The multi-tenant tokens file (`OP_TOKENS_FILE`, spec §2.7): each entry validated on its
//! own, so one bad entry never stops the others.

use std::collections::HashSet;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde_json::Value;
use siemtap_core::{ErrorCode, Failure};
use siemtap_secrets::Secret;

/// One valid tenant (Debug shows the name; the token type prints as redacted).
#[derive(Debug)]
pub struct Tenant {
    /// Name (`^[a-zA-Z0-9_-]+$`), used in `op.tenant` and the state keys.
    pub name: String,
    /// Its bearer token.
    pub token: Secret,
}

/// The result of reading a tokens file.
#[derive(Debug)]
pub struct Tenants {
    /// Valid entries, in file order.
    pub valid: Vec<Tenant>,
    /// One failure per rejected entry (named by tenant name or index, never by token).
    pub rejected: Vec<Failure>,
}

fn fatal(path: &Path, what: &str) -> Failure {
    Failure::new(
        ErrorCode::ConfigMissingCredential,
        "orchestrator",
        format!("tokens file {} {what}", path.display()),
    )
}

/// Reads and validates a tokens file. `Err` (the run ends): unreadable, world-readable,
/// not JSON, or no non-empty `tenants` array.
pub fn read(path: &Path) -> Result<Tenants, Failure> {
    let meta = std::fs::metadata(path)
        .map_err(|e| fatal(path, &format!("cannot be read ({e}); check OP_TOKENS_FILE")))?;
    let mode = meta.permissions().mode();
    if mode & 0o004 != 0 {
        return Err(fatal(
            path,
            &format!(
                "is readable by other users (mode {:o}); run `chmod o-rwx {}` (0640 recommended)",
                mode & 0o777,
                path.display()
            ),
        ));
    }
    // Preloaded before a privilege drop when siemtap started as root (siemtap_secrets::preload).
    let text = siemtap_secrets::preload::read_file(path)
        .map_err(|e| fatal(path, &format!("cannot be read ({e})")))?;
    // Parse errors name the position only: the text holds tokens.
    let doc: Value = serde_json::from_slice(&text).map_err(|e| {
        fatal(
            path,
            &format!(
                "is not valid JSON (line {}, column {})",
                e.line(),
                e.column()
            ),
        )
    })?;
    let entries = match doc.get("tenants") {
        Some(Value::Array(a)) if !a.is_empty() => a,
        _ => return Err(fatal(path, "needs a non-empty \"tenants\" array")),
    };
    let mut out = Tenants {
        valid: Vec::new(),
        rejected: Vec::new(),
    };
    let mut seen = HashSet::new();
    for (index, entry) in entries.iter().enumerate() {
        let name = entry
            .get("name")
            .and_then(Value::as_str)
            .map(str::trim)
            .unwrap_or("");
        let token = entry
            .get("bearer_token")
            .and_then(Value::as_str)
            .map(str::trim)
            .unwrap_or("");
        let label = if name.is_empty() {
            format!("entry {index}")
        } else {
            format!("entry {index} ({name:?})")
        };
        let problem = if name.is_empty() {
            Some("has no \"name\"".to_string())
        } else if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            Some("has a name outside [a-zA-Z0-9_-]".to_string())
        } else if token.is_empty() {
            Some("has no \"bearer_token\"".to_string())
        } else if !seen.insert(name.to_string()) {
            Some(
                "repeats a tenant name; names must be unique because they key the state"
                    .to_string(),
            )
        } else {
            None
        };
        match problem {
            Some(p) => out.rejected.push(Failure::new(
                ErrorCode::ConfigMissingCredential,
                "orchestrator",
                format!(
                    "tokens file {} {label} {p}; this tenant is skipped, the others run",
                    path.display()
                ),
            )),
            None => out.valid.push(Tenant {
                name: name.to_string(),
                token: Secret::new(token),
            }),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file(text: &str, mode: u32) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        std::fs::set_permissions(f.path(), std::fs::Permissions::from_mode(mode)).unwrap();
        f
    }

    #[test]
    fn bad_entries_are_rejected_alone() {
        let f = file(
            r#"{"tenants":[{"name":"a","bearer_token":"CANARY-tok-a"},{"name":"","bearer_token":"CANARY-x"},{"name":"b c","bearer_token":"CANARY-y"},{"name":"a","bearer_token":"CANARY-z"},{"name":"d"},{"name":"e","bearer_token":"CANARY-e"}]}"#,
            0o640,
        );
        let t = read(f.path()).unwrap();
        let names: Vec<_> = t.valid.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["a", "e"]);
        assert_eq!(t.rejected.len(), 4);
        for r in &t.rejected {
            assert!(!format!("{r:?}").contains("CANARY"), "{r:?}");
        }
    }

    #[test]
    fn whole_file_problems_end_the_run() {
        for (text, mode) in [
            (r#"{"tenants":[]}"#, 0o640),
            (r#"{"tenants":"#, 0o640),
            (
                r#"{"tenants":[{"name":"a","bearer_token":"CANARY-t"}]}"#,
                0o644,
            ),
        ] {
            let f = file(text, mode);
            let err = read(f.path()).unwrap_err();
            assert_eq!(err.code, ErrorCode::ConfigMissingCredential);
            assert!(!format!("{err:?}").contains("CANARY"));
        }
    }
}
