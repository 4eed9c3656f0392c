//! The `ossec.conf` command-wodle stanza (wazuh.md §2, §9).

use std::path::Path;

use crate::render::xml_escape;

/// Default Wazuh 4.x prefix.
pub const DEFAULT_PREFIX: &str = "/var/ossec";

/// Stanza options.
#[derive(Clone, Debug)]
pub struct WodleOptions {
    /// Connector (`siemtap run CONNECTOR`).
    pub connector: String,
    /// Socket sink (`--output wazuh-socket`, `<ignore_output>yes`) instead of stdout.
    pub socket: bool,
    /// `<interval>`, e.g. `5m`.
    pub interval: String,
    /// `<timeout>` seconds.
    pub timeout: u64,
    /// Wazuh prefix.
    pub prefix: String,
    /// `<verify_sha256>` value, when known.
    pub sha256: Option<String>,
    /// `<disabled>yes</disabled>`: the install writes this until the connector's credentials
    /// are in the secrets file ([`credentials_present`]), so a fresh manager raises no
    /// authentication alerts (level 12, the default `email_alert_level`) every interval.
    pub disabled: bool,
}

/// The secrets file a wodle run reads: `<prefix>/wodles/siemtap/.secrets`.
pub fn secrets_path(prefix: &Path) -> std::path::PathBuf {
    prefix.join("wodles/siemtap/.secrets")
}

/// Whether every credential key of `c` has a non-blank value in the secrets file under
/// `prefix` (`KEY=VALUE` lines, `#` comments; a blank value counts as absent, as the
/// credential chain reads it). An unreadable or missing file holds none.
pub fn credentials_present(prefix: &Path, c: &crate::install_files::ConnectorCredentials) -> bool {
    let Ok(text) = std::fs::read_to_string(secrets_path(prefix)) else {
        return false;
    };
    let filled: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, _)| k.trim())
        .collect();
    c.credentials.iter().all(|(_, key)| filled.contains(key))
}

/// A stanza that cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum ConfError {
    /// Bad interval.
    #[error("--interval {0:?}: use a number with one of s, m, h, d, w, M (e.g. 5m)")]
    Interval(String),
    /// Timeout too short for a run budget.
    #[error(
        "--timeout {0}: give at least 30 seconds (the run budget is the timeout minus a margin for sending)"
    )]
    Timeout(u64),
    /// A path Wazuh's command splitting would break.
    #[error(
        "--prefix {0:?}: the wodle splits <command> on spaces and quotes; use a prefix without whitespace or quotes"
    )]
    Prefix(String),
    /// Connector name unusable on a command line.
    #[error("connector {0:?}: use letters, digits, '_' or '-'")]
    Connector(String),
    /// Not a connector `siemtap run NAME` can run.
    #[error(
        "connector {0:?} is not a built-in connector ({known}); a wodle runs `siemtap run NAME` for \
         those only. Run a declarative connector from a config file (`siemtap run --config FILE`, \
         e.g. under the systemd timer) instead",
        known = builtin_connectors().join(", ")
    )]
    Unknown(String),
}

/// The connectors a wodle stanza can run: the built-in ones with credentials.
pub fn builtin_connectors() -> Vec<&'static str> {
    crate::install_files::CREDENTIALS
        .iter()
        .map(|c| c.connector)
        .collect()
}

/// Whether `s` is a valid wodle `<interval>`.
pub fn valid_interval(s: &str) -> bool {
    let Some(last) = s.chars().last() else {
        return false;
    };
    let digits = &s[..s.len() - last.len_utf8()];
    "smhdwM".contains(last)
        && !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && digits.parse::<u64>().is_ok_and(|n| n > 0)
}

/// The `--max-runtime` for a `<timeout>`: a margin of a seventh (at least 10 s) is left
/// for flushing and, with stdout, for the wodle to read the output (280 → 240).
pub fn max_runtime_for(timeout: u64) -> Result<u64, ConfError> {
    if timeout < 30 {
        return Err(ConfError::Timeout(timeout));
    }
    Ok(timeout - (timeout / 7).max(10))
}

/// The `siemtap run` command line the stanza runs.
pub fn command_line(o: &WodleOptions) -> Result<String, ConfError> {
    if o.prefix.is_empty()
        || o.prefix
            .contains(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == '\\')
    {
        return Err(ConfError::Prefix(o.prefix.clone()));
    }
    if o.connector.is_empty()
        || !o
            .connector
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(ConfError::Connector(o.connector.clone()));
    }
    if !builtin_connectors().contains(&o.connector.as_str()) {
        return Err(ConfError::Unknown(o.connector.clone()));
    }
    let prefix = o.prefix.trim_end_matches('/');
    let output = if !o.socket {
        "stdout".to_string()
    } else if Path::new(prefix) == Path::new(DEFAULT_PREFIX) {
        "wazuh-socket".to_string()
    } else {
        format!("wazuh-socket:{prefix}/queue/sockets/queue")
    };
    Ok(format!(
        "{prefix}/wodles/siemtap/siemtap run {} --output {output} --max-runtime {} --log-file {prefix}/logs/siemtap.log --state-dir {prefix}/var/wodles/siemtap",
        o.connector,
        max_runtime_for(o.timeout)?
    ))
}

/// The `<wodle name="command">` block.
pub fn wodle_stanza(o: &WodleOptions) -> Result<String, ConfError> {
    if !valid_interval(&o.interval) {
        return Err(ConfError::Interval(o.interval.clone()));
    }
    let command = command_line(o)?;
    let budget = max_runtime_for(o.timeout)?;
    let mut s = String::new();
    // XML comments may not contain "--", so options are named without their dashes.
    if o.socket {
        s.push_str(&format!(
            "<!-- siemtap {}: socket sink (preferred). siemtap sends each event to analysisd's\n     \
             queue socket as it is fetched; modulesd only schedules the run (ignore_output).\n     \
             The run budget (max-runtime {budget} s) stays below timeout ({} s). -->\n",
            o.connector, o.timeout
        ));
    } else {
        s.push_str(&format!(
            "<!-- siemtap {}: command-wodle mode (stdout). Wazuh forwards the lines only after the\n     \
             run ends, at 100 events/s per wodle (wazuh_modules.max_eps), and keeps at most 64 MiB\n     \
             of output per run: keep events per run below 100 x interval seconds. The run budget\n     \
             (max-runtime {budget} s) stays below timeout ({} s). For volume use the socket sink\n     \
             (siemtap wazuh ossec-conf {} with socket, or the systemd units). -->\n",
            o.connector, o.timeout, o.connector
        ));
    }
    if o.disabled {
        let keys = crate::install_files::credentials_of(&o.connector)
            .map(|c| {
                c.credentials
                    .iter()
                    .map(|(_, k)| *k)
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        let secrets = secrets_path(Path::new(o.prefix.trim_end_matches('/')));
        s.push_str(&format!(
            "<!-- siemtap {}: DISABLED until its credentials ({keys}) are set in\n     \
             {}\n     \
             Fill them in, install again with merge-ossec-conf (or set disabled to no\n     \
             here) and restart the manager. -->\n",
            o.connector,
            secrets.display()
        ));
    }
    s.push_str("<wodle name=\"command\">\n");
    s.push_str(&format!(
        "  <disabled>{}</disabled>\n",
        if o.disabled { "yes" } else { "no" }
    ));
    s.push_str(&format!("  <tag>siemtap-{}</tag>\n", o.connector));
    s.push_str(&format!("  <command>{}</command>\n", xml_escape(&command)));
    s.push_str(&format!("  <interval>{}</interval>\n", o.interval));
    s.push_str("  <run_on_start>yes</run_on_start>\n");
    s.push_str(&format!(
        "  <ignore_output>{}</ignore_output>\n",
        if o.socket { "yes" } else { "no" }
    ));
    s.push_str(&format!("  <timeout>{}</timeout>\n", o.timeout));
    if let Some(h) = &o.sha256 {
        s.push_str(&format!("  <verify_sha256>{h}</verify_sha256>\n"));
    }
    s.push_str("</wodle>\n");
    Ok(s)
}

/// Hex SHA-256 of a file (for `<verify_sha256>`).
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let bytes = std::fs::read(path)?;
    let digest = ring::digest::digest(&ring::digest::SHA256, &bytes);
    Ok(digest.as_ref().iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> WodleOptions {
        WodleOptions {
            connector: "1password".into(),
            socket: true,
            interval: "5m".into(),
            timeout: 280,
            prefix: DEFAULT_PREFIX.into(),
            sha256: None,
            disabled: false,
        }
    }

    #[test]
    fn socket_stanza_matches_the_spec_example() {
        let s = wodle_stanza(&opts()).unwrap();
        assert!(s.contains("<command>/var/ossec/wodles/siemtap/siemtap run 1password --output wazuh-socket --max-runtime 240 --log-file /var/ossec/logs/siemtap.log --state-dir /var/ossec/var/wodles/siemtap</command>"), "{s}");
        assert!(s.contains("<ignore_output>yes</ignore_output>"));
        assert!(s.contains("<timeout>280</timeout>"));
        assert!(s.contains("<tag>siemtap-1password</tag>"));
        assert!(s.contains("socket sink (preferred)"), "{s}");
        // The comments are well-formed XML comments: no "--" inside.
        for c in s.split("<!--").skip(1) {
            let body = c.split("-->").next().unwrap();
            assert!(!body.contains("--"), "{body}");
        }
    }

    #[test]
    fn stdout_stanza_and_other_prefix() {
        let o = WodleOptions {
            socket: false,
            prefix: "/opt/wazuh".into(),
            timeout: 120,
            ..opts()
        };
        let s = wodle_stanza(&o).unwrap();
        assert!(s.contains("--output stdout --max-runtime 103"), "{s}");
        assert!(s.contains("100 events/s") && s.contains("64 MiB"), "{s}");
        assert!(s.contains("<ignore_output>no</ignore_output>"));
        let o = WodleOptions {
            prefix: "/opt/wazuh".into(),
            ..opts()
        };
        assert!(
            command_line(&o)
                .unwrap()
                .contains("wazuh-socket:/opt/wazuh/queue/sockets/queue")
        );
    }

    #[test]
    fn budget_is_below_timeout() {
        for t in [30, 60, 120, 280, 300, 3600] {
            let m = max_runtime_for(t).unwrap();
            assert!(m < t && t - m >= 10 && m >= t * 2 / 3, "{t} -> {m}");
        }
        assert!(max_runtime_for(29).is_err());
    }

    #[test]
    fn rejects_bad_inputs() {
        for i in ["", "5", "m", "5x", "0m", "-5m"] {
            assert!(!valid_interval(i), "{i}");
        }
        for i in ["2s", "5m", "1h", "1d", "1w", "1M"] {
            assert!(valid_interval(i), "{i}");
        }
        assert!(
            wodle_stanza(&WodleOptions {
                prefix: "/var/my ossec".into(),
                ..opts()
            })
            .is_err()
        );
        assert!(
            wodle_stanza(&WodleOptions {
                connector: "a;b".into(),
                ..opts()
            })
            .is_err()
        );
    }

    #[test]
    fn unknown_connector_gets_no_stanza() {
        for c in ["nosuch", "siemtap", "okta_system_log"] {
            let e = wodle_stanza(&WodleOptions {
                connector: c.into(),
                ..opts()
            })
            .unwrap_err();
            assert!(matches!(e, ConfError::Unknown(_)), "{c}: {e}");
            assert!(e.to_string().contains("cortex_xdr"), "{e}");
        }
        for c in ["1password", "proofpoint", "cortex_xdr"] {
            let o = WodleOptions {
                connector: c.into(),
                ..opts()
            };
            assert!(wodle_stanza(&o).is_ok(), "{c}");
        }
    }
}
