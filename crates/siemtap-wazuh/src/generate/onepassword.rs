//! 1Password: the installed reference rule set, ids 100700–100754 (vendors.md §2.11).
//! Ids, levels, parents, groups and frequencies are kept exactly, so existing alerts keep
//! their ids; matching moves from anchored OS_Regex to anchored pcre2 (§5.8).

use super::R;
use crate::model::{RuleFile, RuleGroup};

const ET: &str = "op.event_type";
const CODE: &str = "op.error_code";

/// The rule file (`<group name="onepassword,">`).
pub fn rules() -> RuleFile {
    let err = "onepassword_error";
    let audit = "onepassword_audit";
    let signin = "onepassword_signin";
    let iu = "onepassword_itemusage";
    let rules = vec![
        R::base(100700, "1password", "1Password events."),
        // 100701–100709: health.
        R::new(100701, 8)
            .parent(100700)
            .eq(ET, &["error"])
            .desc("1Password integration error [$(op.source)] $(op.error_code): $(op.error_message)")
            .groups(&[err]),
        R::new(100702, 12)
            .parent(100701)
            .eq(CODE, &["API_HTTP_401", "CONFIG_MISSING_CREDENTIAL"])
            .desc("1Password authentication failed [$(op.source)]: $(op.error_code) - check the bearer token")
            .groups(&[err, "authentication_failures"]),
        R::new(100703, 8)
            .parent(100701)
            .eq(CODE, &["API_HTTP_429"])
            .desc("1Password Events API rate limit reached [$(op.source)]")
            .groups(&[err]),
        R::new(100704, 8)
            .parent(100701)
            .eq(CODE, &["API_CONNECTION_ERROR", "API_TIMEOUT"])
            .desc("1Password Events API unreachable [$(op.source)]: $(op.error_code)")
            .groups(&[err]),
        R::new(100705, 8)
            .parent(100701)
            .eq(CODE, &["STATE_READ_ERROR", "STATE_WRITE_ERROR"])
            .desc("1Password integration state file error: $(op.error_code)")
            .groups(&[err]),
        R::new(100706, 10)
            .parent(100700)
            .eq(ET, &["run_summary"])
            .eq("op.audit_success", &["false"])
            .desc("1Password run: audit events collection failed")
            .groups(&[err]),
        R::new(100707, 10)
            .parent(100700)
            .eq(ET, &["run_summary"])
            .eq("op.signin_success", &["false"])
            .desc("1Password run: sign-in attempts collection failed")
            .groups(&[err]),
        R::new(100708, 6)
            .parent(100700)
            .eq(ET, &["run_summary"])
            .eq("op.itemusage_success", &["false"])
            .desc("1Password run: item usage collection failed")
            .groups(&[err]),
        R::new(100709, 14)
            .freq(2, 600, 100702)
            .desc("1Password authentication failing repeatedly: collection is down")
            .groups(&[err, "authentication_failures"]),
        // 100710–100729: audit events.
        R::new(100710, 3)
            .parent(100700)
            .eq(ET, &["audit_event"])
            .desc("$(op.action) on $(op.object_type) by $(op.actor_uuid)")
            .groups(&[audit]),
        audit_rule(100711, 5, "account_change", "1Password account $(op.action) by $(op.actor_details.email)")
            .eq_ci("op.action", &["activate", "deactivate", "reactivate", "delete", "suspend"]),
        audit_rule(100712, 5, "group_change", "1Password group membership $(op.action) by $(op.actor_details.email)")
            .eq_ci("op.object_type", &["gm"]),
        audit_rule(100713, 8, "access_change", "1Password vault access $(op.action) by $(op.actor_details.email)")
            .eq_ci("op.object_type", &["va"]),
        audit_rule(100714, 10, "policy_change", "1Password policy updated by $(op.actor_details.email)")
            .eq_ci("op.action", &["update"])
            .eq_ci("op.object_type", &["p"]),
        audit_rule(100715, 10, "service_account", "1Password service account $(op.action) by $(op.actor_details.email)")
            .eq_ci("op.object_type", &["sa"]),
        audit_rule(100716, 12, "account_recovery", "1Password account recovery $(op.action) by $(op.actor_details.email)")
            .eq_ci("op.action", &["recover", "beginrecovery"]),
        audit_rule(100717, 10, "firewall_change", "1Password firewall rules $(op.action) by $(op.actor_details.email)")
            .eq_ci("op.object_type", &["fw"]),
        audit_rule(100718, 10, "data_export", "1Password account data export by $(op.actor_details.email)")
            .eq_ci("op.action", &["export"]),
        audit_rule(100719, 5, "billing", "1Password billing $(op.action) by $(op.actor_details.email)")
            .eq_ci("op.object_type", &["stripe"]),
        audit_rule(100720, 10, "sso_change", "1Password SSO configuration $(op.action) by $(op.actor_details.email)")
            .eq_ci("op.action", &["sdvcsso", "ssotknv"]),
        audit_rule(100721, 10, "mfa_change", "1Password MFA $(op.action) by $(op.actor_details.email)")
            .eq_ci("op.action", &["enblmfa", "dsblmfa"]),
        audit_rule(100722, 8, "vault_change", "1Password vault $(op.action) by $(op.actor_details.email)")
            .eq_ci("op.object_type", &["v"])
            .eq_ci("op.action", &["create", "delete"]),
        audit_rule(100723, 10, "password_change", "1Password master password changed by $(op.actor_details.email)")
            .eq_ci("op.action", &["changemp"]),
        audit_rule(100724, 8, "token_revocation", "1Password token revoked by $(op.actor_details.email)")
            .eq_ci("op.action", &["trevoke"]),
        // 100730–100739: sign-in attempts.
        R::new(100730, 3)
            .parent(100700)
            .eq(ET, &["signin_attempt"])
            .desc("$(op.type) [$(op.category)]")
            .groups(&[signin]),
        signin_rule(100731, 3, Some("authentication_success"), "1Password sign-in: $(op.target_user.email) from $(op.client.ip_address)")
            .eq_ci("op.category", &["success"]),
        signin_rule(100732, 5, Some("authentication_failures"), "1Password failed sign-in ($(op.category)): $(op.target_user.email) from $(op.client.ip_address)")
            .eq_ci("op.category", &["credentials_failed", "mfa_failed"]),
        signin_rule(100733, 8, Some("firewall_block"), "1Password sign-in blocked by firewall: $(op.target_user.email) from $(op.client.ip_address)")
            .eq_ci("op.category", &["firewall_failed"]),
        signin_rule(100734, 3, None, "1Password $(op.type) sign-in: $(op.target_user.email)")
            .eq_ci("op.type", &["sso", "passkey"]),
        R::new(100735, 12)
            .freq(3, 600, 100732)
            .same_field("op.target_user.uuid")
            .desc("1Password brute force: repeated failed sign-ins for $(op.target_user.email)")
            .groups(&[signin, "brute_force"]),
        R::new(100736, 10)
            .freq(5, 600, 100733)
            .desc("1Password: repeated sign-ins blocked by the firewall")
            .groups(&[signin, "firewall_block"]),
        // 100740–100749: item usage.
        R::new(100740, 3)
            .parent(100700)
            .eq(ET, &["item_usage"])
            .desc("$(op.action) by $(op.user.name) in vault $(op.vault_uuid)")
            .groups(&[iu]),
        iu_rule(100741, 5, "data_access", "1Password item $(op.action) by $(op.user.email)")
            .eq_ci("op.action", &["reveal", "secure-copy"]),
        iu_rule(100742, 8, "data_export", "1Password item exported by $(op.user.email)")
            .eq_ci("op.action", &["export"]),
        iu_rule(100743, 8, "data_share", "1Password item shared by $(op.user.email)")
            .eq_ci("op.action", &["share"]),
        iu_rule(100744, 5, "server_access", "1Password item $(op.action) by $(op.user.email)")
            .eq_ci("op.action", &["server-create", "server-update", "server-fetch"]),
        iu_rule(100745, 3, "sso", "1Password SSO provider selected by $(op.user.email)")
            .eq_ci("op.action", &["select-sso-provider"]),
        R::new(100746, 10)
            .freq(10, 300, 100740)
            .same_field("op.user.uuid")
            .desc("1Password bulk item access by $(op.user.email)")
            .groups(&[iu, "bulk_access"]),
        R::new(100747, 12)
            .freq(3, 600, 100742)
            .same_field("op.user.uuid")
            .desc("1Password repeated item exports by $(op.user.email)")
            .groups(&[iu, "data_export"]),
        // 100750–100759: correlation.
        R::new(100750, 12)
            .freq(3, 600, 100706)
            .desc("1Password audit collection failing in repeated runs")
            .groups(&[err, "correlation"]),
        R::new(100751, 12)
            .freq(10, 600, 100732)
            .desc("1Password credential stuffing: many failed sign-ins across users")
            .groups(&[signin, "correlation", "credential_stuffing"]),
        R::new(100752, 12)
            .freq(3, 600, 100714)
            .desc("1Password: repeated policy changes")
            .groups(&[audit, "correlation"]),
        R::new(100753, 10)
            .freq(5, 600, 100713)
            .desc("1Password: many vault access changes")
            .groups(&[audit, "correlation"]),
        R::new(100754, 10)
            .freq(3, 600, 100715)
            .desc("1Password: repeated service account changes")
            .groups(&[audit, "correlation", "service_account"]),
    ];
    RuleFile {
        header: vec![
            "siemtap: 1Password rules (block 100700-100799). Generated by `siemtap wazuh rules 1password`."
                .into(),
            "Ids, levels, parents, groups and frequencies are those of the reference rule set.".into(),
            "No decoder is needed: Wazuh's stock json decoder decodes these events.".into(),
        ],
        groups: vec![RuleGroup {
            name: "onepassword,".into(),
            rules: rules.into_iter().map(|r| r.0).collect(),
        }],
    }
}

fn audit_rule(id: u32, level: u8, group: &str, desc: &str) -> R {
    R::new(id, level)
        .parent(100710)
        .desc(desc)
        .groups(&["onepassword_audit", group])
}

fn signin_rule(id: u32, level: u8, group: Option<&str>, desc: &str) -> R {
    let mut groups = vec!["onepassword_signin"];
    groups.extend(group);
    R::new(id, level).parent(100730).desc(desc).groups(&groups)
}

fn iu_rule(id: u32, level: u8, group: &str, desc: &str) -> R {
    R::new(id, level)
        .parent(100740)
        .desc(desc)
        .groups(&["onepassword_itemusage", group])
}
