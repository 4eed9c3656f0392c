//! The generated parts of docs/wazuh5.md: per connector, its field map and the 4.x rules
//! without a Sigma rule with their 5.x replacement (a test keeps the page in step).

use super::Bundle;
use super::decoders::map_table;
use super::rules::SkipReason;
use super::translate::home;

/// The Markdown section of one bundle.
pub fn section(b: &Bundle) -> String {
    let p = &b.profile;
    let mut out = map_table(p);
    out.push_str(&format!(
        "\n{} Sigma rules (4.x rules {}). Not migrated:\n\n| 4.x rule | level | why | in 5.x |\n|---|---|---|---|\n",
        b.migrated.rules.len(),
        b.migrated
            .from
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(", "),
    ));
    for s in &b.migrated.skipped {
        let (why, instead) = match &s.reason {
            SkipReason::Level0 => (
                "level 0: no alert (chaining base)".to_string(),
                "nothing: the integration's decoder claims the events".to_string(),
            ),
            SkipReason::Correlation {
                frequency,
                timeframe,
                over,
                same,
            } => {
                let by: Vec<String> = same
                    .iter()
                    .map(|f| home(p, None, f).unwrap_or_else(|| format!("{f} (no WCS home)")))
                    .collect();
                let title = b
                    .migrated
                    .from
                    .iter()
                    .position(|id| id == over)
                    .and_then(|k| b.migrated.rules[k]["metadata"]["title"].as_str())
                    .unwrap_or("?");
                (
                    format!("{frequency} × rule {over} in {timeframe} s"),
                    format!(
                        "Alerting bucket monitor on `wazuh-findings-v5-{}-*`: findings of \"{title}\"{}, ≥ {frequency} in {timeframe} s",
                        p.category,
                        if by.is_empty() {
                            String::new()
                        } else {
                            format!(" per `{}`", by.join("`, `"))
                        }
                    ),
                )
            }
        };
        out.push_str(&format!("| {} | {} | {why} | {instead} |\n", s.id, s.level));
    }
    out
}
