//! The `wazuh-socket` sink's settings, read from the environment (docs/wazuh.md "Socket sink
//! settings"): the documented layer of a Wazuh install, where the wodle stanza is the config.

use std::collections::HashMap;
use std::time::Duration;

use siemtap_core::SinkContext;

use super::{AgentAttribution, Location, WazuhSocketConfig, WazuhSocketSpec};

/// Event location (default `siemtap-<run label>`: `siemtap-<connector>` in drop-in runs,
/// `siemtap-config` for `--config` runs; `siemtap` when the run has no label).
pub const LOCATION_ENV: &str = "SIEMTAP_WAZUH_LOCATION";
/// Agent id to attribute events to (with [`AGENT_NAME_ENV`]; default: the manager, 000).
pub const AGENT_ID_ENV: &str = "SIEMTAP_WAZUH_AGENT_ID";
/// Agent name to attribute events to.
pub const AGENT_NAME_ENV: &str = "SIEMTAP_WAZUH_AGENT_NAME";
/// Agent ip (default `any`).
pub const AGENT_IP_ENV: &str = "SIEMTAP_WAZUH_AGENT_IP";
/// Events-per-second cap (default: unpaced).
pub const EPS_ENV: &str = "SIEMTAP_WAZUH_EPS";
/// Seconds one page may wait for an unusable socket (default 60; never past the run budget).
pub const RETRY_ENV: &str = "SIEMTAP_WAZUH_RETRY_SECS";
/// `0` turns off the health events for truncated / over-wide events (default on).
pub const HEALTH_ENV: &str = "SIEMTAP_WAZUH_HEALTH_EVENTS";

fn get<'a>(env: &'a HashMap<String, String>, key: &str) -> Option<&'a str> {
    env.get(key).map(|v| v.trim()).filter(|v| !v.is_empty())
}

fn positive(env: &HashMap<String, String>, key: &str, max: f64) -> Result<Option<f64>, String> {
    match get(env, key) {
        None => Ok(None),
        Some(v) => match v.parse::<f64>() {
            Ok(n) if n > 0.0 && n <= max => Ok(Some(n)),
            _ => Err(format!(
                "{key}={v:?} is invalid: give a number above 0 and at most {max}"
            )),
        },
    }
}

/// The location when [`LOCATION_ENV`] is unset.
pub fn default_location(run_label: &str) -> String {
    if run_label.is_empty() {
        "siemtap".to_owned()
    } else {
        format!("siemtap-{run_label}")
    }
}

/// The socket sink's settings for `output` in the run `ctx`, from its environment.
pub fn config(
    output: &WazuhSocketSpec,
    ctx: &SinkContext<'_>,
) -> Result<WazuhSocketConfig, String> {
    let env: &HashMap<String, String> = ctx.env;
    let base = get(env, LOCATION_ENV)
        .map(str::to_string)
        .unwrap_or_else(|| default_location(ctx.run_label));
    let location = match (get(env, AGENT_ID_ENV), get(env, AGENT_NAME_ENV)) {
        (None, None) => Location::plain(base),
        (Some(id), Some(name)) => {
            if !id.chars().all(|c| c.is_ascii_digit()) {
                return Err(format!(
                    "{AGENT_ID_ENV}={id:?} is invalid: give the agent id as in alerts, e.g. 001"
                ));
            }
            let agent = AgentAttribution {
                id: id.to_string(),
                name: name.to_string(),
                ip: get(env, AGENT_IP_ENV).map(str::to_string),
            };
            Location::agent(&agent, &base)
        }
        _ => {
            return Err(format!(
                "set both {AGENT_ID_ENV} and {AGENT_NAME_ENV} to attribute events to an agent, or neither"
            ));
        }
    };
    let mut config = WazuhSocketConfig::new(&output.path, location);
    config.max_eps = positive(env, EPS_ENV, 1_000_000.0)?;
    if let Some(secs) = positive(env, RETRY_ENV, 86_400.0)? {
        config.retry_budget = Duration::from_secs_f64(secs);
    }
    config.deadline = ctx.deadline;
    config.health_events = match get(env, HEALTH_ENV) {
        None | Some("1" | "true" | "yes") => true,
        Some("0" | "false" | "no") => false,
        Some(v) => return Err(format!("{HEALTH_ENV}={v:?} is invalid: use 1 or 0")),
    };
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out() -> WazuhSocketSpec {
        WazuhSocketSpec { path: "/q".into() }
    }

    fn config_for(
        connector: &str,
        env: &HashMap<String, String>,
    ) -> Result<WazuhSocketConfig, String> {
        let ctx = SinkContext {
            env,
            run_label: connector,
            deadline: None,
        };
        config(&out(), &ctx)
    }

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults() {
        let c = config_for("1password", &env(&[])).unwrap();
        assert_eq!(c.location.raw(), "siemtap-1password");
        assert_eq!(c.path, std::path::Path::new("/q"));
        assert_eq!(c.max_eps, None);
        assert_eq!(c.retry_budget, Duration::from_secs(60));
        assert!(c.shaping && c.health_events);
    }

    #[test]
    fn agent_location_pacing_and_retry() {
        let c = config_for(
            "1password",
            &env(&[
                (LOCATION_ENV, "op"),
                (AGENT_ID_ENV, "001"),
                (AGENT_NAME_ENV, "web"),
                (EPS_ENV, "250"),
                (RETRY_ENV, "2.5"),
                (HEALTH_ENV, "0"),
            ]),
        )
        .unwrap();
        assert_eq!(c.location.raw(), "[001] (web) any->op");
        assert_eq!(c.max_eps, Some(250.0));
        assert_eq!(c.retry_budget, Duration::from_millis(2500));
        assert!(!c.health_events);
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (pairs, var) in [
            (vec![(EPS_ENV, "0")], EPS_ENV),
            (vec![(RETRY_ENV, "soon")], RETRY_ENV),
            (vec![(AGENT_ID_ENV, "001")], AGENT_NAME_ENV),
            (
                vec![(AGENT_ID_ENV, "x"), (AGENT_NAME_ENV, "n")],
                AGENT_ID_ENV,
            ),
            (vec![(HEALTH_ENV, "maybe")], HEALTH_ENV),
        ] {
            let err = config_for("c", &env(&pairs)).unwrap_err();
            assert!(err.contains(var), "{err}");
        }
    }

    #[test]
    fn output_specs() {
        let spec = crate::parse("wazuh-socket").unwrap();
        assert_eq!(
            spec.describe(),
            format!("wazuh-socket:{}", super::super::DEFAULT_QUEUE_SOCKET)
        );
        assert_eq!(default_location(""), "siemtap");
        assert!(crate::parse("wazuh-socket:").is_err());
        assert!(crate::parse("wazuh-sockets").is_err());
        assert_eq!(
            crate::parse("wazuh-socket:/q").unwrap().describe(),
            "wazuh-socket:/q"
        );
    }
}
