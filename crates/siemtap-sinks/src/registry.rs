//! The sink registry: every sink kind, by the `--output` forms it parses. Adding a sink is one
//! module directory and one line here; the runner and the binary do not change.

use siemtap_core::{OutputSpec, SinkKind};

/// Every built-in sink kind, in the order `--output` values are tried.
pub static REGISTRY: &[SinkKind] = &[crate::stdout::KIND, crate::file::KIND, crate::wazuh::KIND];

/// Parses one `--output` value (or one entry of the config's `output`) against [`REGISTRY`].
pub fn parse(spec: &str) -> Result<Box<dyn OutputSpec>, String> {
    siemtap_core::parse_output(REGISTRY, spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_parses_and_unknown_names_them_all() {
        assert!(parse("stdout").unwrap().writes_stdout());
        assert_eq!(parse("file:/x").unwrap().describe(), "file:/x");
        assert_eq!(
            parse("file:/x").unwrap().output_id().as_deref(),
            Some("file:/x")
        );
        assert!(parse("wazuh-socket").unwrap().output_id().is_none());
        let err = parse("file:").unwrap_err();
        assert_eq!(
            err,
            "unknown --output \"file:\"; use stdout, file:PATH or wazuh-socket[:PATH]"
        );
    }
}
