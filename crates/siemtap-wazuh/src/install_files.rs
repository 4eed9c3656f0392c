//! The files `siemtap wazuh install` writes besides rules: the `.secrets` template, a sample
//! `siemtap.toml`, the systemd service and timer (from `packaging/systemd/`, paths moved to the
//! install prefix) and one `LoadCredentialEncrypted=` drop-in per connector.

use std::fmt::Write as _;
use std::path::Path;

use crate::ossec_conf::DEFAULT_PREFIX;

/// A built-in connector's credentials: what the drop-in, the secrets template and the
/// `systemd-creds` commands name.
#[derive(Clone, Copy, Debug)]
pub struct ConnectorCredentials {
    /// Connector (`siemtap run NAME`).
    pub connector: &'static str,
    /// Prefix of its drop-in variables (`OP` for `OP_STATE_FILE`).
    pub env_prefix: &'static str,
    /// `(systemd credential name, env var / secrets-file key)`, in the order the connector reads them.
    pub credentials: &'static [(&'static str, &'static str)],
}

/// The built-in connectors' credentials (kept equal to `siemtap-connectors`' `CredentialKey`s
/// by the `wazuh_socket::install` integration test).
pub const CREDENTIALS: &[ConnectorCredentials] = &[
    ConnectorCredentials {
        connector: "1password",
        env_prefix: "OP",
        credentials: &[("op_bearer_token", "OP_BEARER_TOKEN")],
    },
    ConnectorCredentials {
        connector: "proofpoint",
        env_prefix: "PP",
        credentials: &[("pp_principal", "PP_PRINCIPAL"), ("pp_secret", "PP_SECRET")],
    },
    ConnectorCredentials {
        connector: "cortex_xdr",
        env_prefix: "XDR",
        credentials: &[
            ("xdr_fqdn", "XDR_FQDN"),
            ("xdr_api_key", "XDR_API_KEY"),
            ("xdr_api_key_id", "XDR_API_KEY_ID"),
        ],
    },
];

/// The credentials of a built-in connector (`None` for `siemtap` and unknown names).
pub fn credentials_of(connector: &str) -> Option<&'static ConnectorCredentials> {
    CREDENTIALS.iter().find(|c| c.connector == connector)
}

/// Where encrypted credentials live (`systemd-creds encrypt ... /etc/credstore.encrypted/NAME`).
pub const CREDSTORE: &str = "/etc/credstore.encrypted";

/// The shipped template service (`packaging/systemd/siemtap@.service`).
pub const SERVICE_TEMPLATE: &str = include_str!("../../../packaging/systemd/siemtap@.service");
/// The shipped timer (`packaging/systemd/siemtap@.timer`).
pub const TIMER_TEMPLATE: &str = include_str!("../../../packaging/systemd/siemtap@.timer");

fn prefix_str(prefix: &Path) -> String {
    let s = prefix.display().to_string();
    let t = s.trim_end_matches('/');
    if t.is_empty() { "/".into() } else { t.into() }
}

/// The service with `/var/ossec` replaced by the install prefix (and, for another prefix,
/// `--output wazuh-socket:<prefix>/queue/sockets/queue`).
pub fn service_unit(prefix: &Path) -> String {
    SERVICE_TEMPLATE
        .replace(DEFAULT_PREFIX, &prefix_str(prefix))
        .replace(
            "--output wazuh-socket ",
            &format!("--output {} ", socket_output(prefix)),
        )
}

/// The timer (no paths in it).
pub fn timer_unit() -> String {
    TIMER_TEMPLATE.to_string()
}

/// The drop-in `siemtap@<connector>.service.d/credentials.conf`: encrypted credentials and
/// the state file under `<prefix>/var/wodles/siemtap/`.
pub fn credentials_drop_in(c: &ConnectorCredentials, prefix: &Path) -> String {
    let p = prefix_str(prefix);
    let name = c.connector;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# siemtap@{name}.service: credentials, encrypted at rest with systemd-creds (systemd 250+).\n\
         # siemtap reads $CREDENTIALS_DIRECTORY/<name> first in its credential chain, so the secret\n\
         # never sits in the environment, a unit file or the process list.\n\
         # Written by `siemtap wazuh install` and never overwritten by it: edit freely.\n\
         #\n\
         # Create each credential once, as root (the plaintext never touches the disk):\n\
         #   install -d -m 0700 {CREDSTORE}"
    );
    for (cred, env) in c.credentials {
        let _ = writeln!(
            s,
            "#   systemd-ask-password -n \"{env}:\" | systemd-creds encrypt --name={cred} - {CREDSTORE}/{cred}"
        );
    }
    let _ = writeln!(
        s,
        "# then: systemctl daemon-reload && systemctl enable --now siemtap@{name}.timer\n\
         #\n\
         # Without systemd-creds (no TPM2 / host key), use plain files (0600 root) instead:"
    );
    for (cred, _) in c.credentials {
        let _ = writeln!(
            s,
            "#   LoadCredential={cred}:/etc/siemtap/credentials/{cred}"
        );
    }
    s.push_str("[Service]\n");
    for (cred, _) in c.credentials {
        let _ = writeln!(s, "LoadCredentialEncrypted={cred}:{CREDSTORE}/{cred}");
    }
    let _ = writeln!(
        s,
        "Environment={}_STATE_FILE={p}/var/wodles/siemtap/{name}.state.json",
        c.env_prefix
    );
    s
}

/// The `systemd-creds encrypt` commands for a connector (printed after the install).
pub fn encrypt_commands(c: &ConnectorCredentials) -> Vec<String> {
    c.credentials
        .iter()
        .map(|(cred, env)| {
            format!(
                "systemd-ask-password -n \"{env}:\" | systemd-creds encrypt --name={cred} - {CREDSTORE}/{cred}"
            )
        })
        .collect()
}

/// The `.secrets` template: every key commented out.
pub fn secrets_template(connectors: &[&ConnectorCredentials]) -> String {
    let mut s = String::from(
        "# siemtap secrets (KEY=VALUE, one per line; no shell expansion). Keep this file\n\
         # 0640 root:wazuh: siemtap refuses a secrets file readable or writable by others.\n\
         # Order of lookup per key: systemd credentials ($CREDENTIALS_DIRECTORY), this file,\n\
         # the environment. Uncomment and fill in the keys of the connectors you run.\n",
    );
    for c in connectors {
        let _ = writeln!(s, "\n# {}", c.connector);
        for (_, env) in c.credentials {
            let _ = writeln!(s, "#{env}=");
        }
    }
    s
}

fn toml_str(s: &str) -> String {
    let mut out = String::from("\"");
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The `--output` value for the queue socket under `prefix`.
pub fn socket_output(prefix: &Path) -> String {
    if prefix_str(prefix) == DEFAULT_PREFIX {
        "wazuh-socket".into()
    } else {
        format!("wazuh-socket:{}/queue/sockets/queue", prefix_str(prefix))
    }
}

/// A sample `siemtap.toml` (config mode) for the given connectors, with the install layout's
/// paths. Written only when no config exists.
pub fn sample_config(prefix: &Path, connectors: &[&ConnectorCredentials]) -> String {
    let p = prefix_str(prefix);
    let home = format!("{p}/wodles/siemtap");
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# siemtap.toml: sample written by `siemtap wazuh install` (never overwritten; edit freely).\n\
         # Used by config mode: siemtap run --config {home}/siemtap.toml\n\
         # The drop-in mode (`siemtap run CONNECTOR`, as in the generated ossec.conf stanzas and\n\
         # the systemd units) does not read it. Run each connector in ONE mode only: the two keep\n\
         # separate state files, so running both would deliver every event twice.\n\
         # Reference: docs/configuration.md.\n",
        home = home
    );
    let _ = writeln!(
        s,
        "log_file = {}",
        toml_str(&format!("{p}/logs/siemtap.log"))
    );
    s.push_str(
        "max_runtime = \"240s\"                 # below the wodle <timeout> / TimeoutStartSec=\n",
    );
    let _ = writeln!(s, "output = {}", toml_str(&socket_output(prefix)));
    let _ = writeln!(
        s,
        "secrets_file = {}",
        toml_str(&format!("{p}/wodles/siemtap/.secrets"))
    );
    let _ = writeln!(
        s,
        "state_dir = {}",
        toml_str(&format!("{p}/var/wodles/siemtap"))
    );
    for c in connectors {
        let _ = writeln!(
            s,
            "\n[[source]]\nname = {}\nconnector = {}\n# Secrets: {} (secrets file, systemd credentials or environment).\n# [source.settings]   # the {}_* drop-in variables, lower case, without the prefix",
            toml_str(c.connector),
            toml_str(c.connector),
            c.credentials
                .iter()
                .map(|(_, e)| *e)
                .collect::<Vec<_>>()
                .join(", "),
            c.env_prefix
        );
        if c.connector == "proofpoint" {
            // Lets `siemtap validate` check the run schedule against TAP's daily quota.
            s.push_str("[source.settings]\nrun_interval = 300      # seconds between runs (wodle <interval> / timer)\n");
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_moves_every_path_to_the_prefix() {
        let s = service_unit(Path::new("/opt/w/var/ossec/"));
        assert!(!s.contains("ExecStart=/var/ossec"), "{s}");
        assert!(s.contains("ExecStart=/opt/w/var/ossec/wodles/siemtap/siemtap run %i --output wazuh-socket:/opt/w/var/ossec/queue/sockets/queue --max-runtime"), "{s}");
        assert!(s.contains("ReadWritePaths=/opt/w/var/ossec/var/wodles/siemtap"));
        assert_eq!(service_unit(Path::new(DEFAULT_PREFIX)), SERVICE_TEMPLATE);
    }

    #[test]
    fn drop_in_loads_encrypted_credentials() {
        let c = credentials_of("proofpoint").unwrap();
        let d = credentials_drop_in(c, Path::new("/var/ossec"));
        let active: Vec<&str> = d.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            active,
            [
                "[Service]",
                "LoadCredentialEncrypted=pp_principal:/etc/credstore.encrypted/pp_principal",
                "LoadCredentialEncrypted=pp_secret:/etc/credstore.encrypted/pp_secret",
                "Environment=PP_STATE_FILE=/var/ossec/var/wodles/siemtap/proofpoint.state.json",
            ]
        );
        assert!(d.contains(
            "systemd-creds encrypt --name=pp_secret - /etc/credstore.encrypted/pp_secret"
        ));
    }

    #[test]
    fn templates_keep_keys_commented_and_quote_paths() {
        let all: Vec<_> = CREDENTIALS.iter().collect();
        let t = secrets_template(&all);
        assert!(t.lines().all(|l| l.is_empty() || l.starts_with('#')), "{t}");
        assert!(t.contains("#XDR_API_KEY_ID="));
        let c = sample_config(Path::new("/x/\"q\""), &all);
        assert!(
            c.contains(r#"state_dir = "/x/\"q\"/var/wodles/siemtap""#),
            "{c}"
        );
        assert!(c.contains(r#"output = "wazuh-socket:/x/\"q\"/queue/sockets/queue""#));
    }
}
