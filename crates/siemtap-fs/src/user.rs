//! The running user.

use std::path::Path;

/// The effective uid of this process.
pub fn euid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// The name of `uid` from `/etc/passwd`, or the uid as text when it has none.
pub fn user_name(uid: u32) -> String {
    name_in(Path::new("/etc/passwd"), uid).unwrap_or_else(|| uid.to_string())
}

fn name_in(passwd: &Path, uid: u32) -> Option<String> {
    let text = std::fs::read_to_string(passwd).ok()?;
    find_name(&text, uid)
}

/// A user account from `/etc/passwd`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    /// Login name.
    pub name: String,
    /// User id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
}

/// The well-formed `name:x:uid:gid:...` lines of passwd-format `text`.
fn accounts(text: &str) -> impl Iterator<Item = Account> + '_ {
    text.lines().filter_map(|line| {
        let mut f = line.split(':');
        let name = f.next().filter(|n| !n.is_empty())?;
        let _password = f.next()?;
        let uid = f.next()?.parse().ok()?;
        let gid = f.next()?.parse().ok()?;
        Some(Account {
            name: name.to_owned(),
            uid,
            gid,
        })
    })
}

/// Finds `spec` (a name, or a numeric uid) in passwd-format `text`.
pub fn find_account(text: &str, spec: &str) -> Option<Account> {
    let numeric = spec.parse::<u32>().ok();
    accounts(text).find(|a| a.name == spec || numeric == Some(a.uid))
}

/// The first name with `uid` in passwd-format `text`.
fn find_name(passwd: &str, uid: u32) -> Option<String> {
    accounts(passwd).find(|a| a.uid == uid).map(|a| a.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_passwd_lines() {
        let passwd = "root:x:0:0::/root:/bin/sh\nwazuh:x:998:998::/var/ossec:/sbin/nologin\n";
        assert_eq!(find_name(passwd, 998).as_deref(), Some("wazuh"));
        assert_eq!(find_name(passwd, 0).as_deref(), Some("root"));
        assert_eq!(find_name(passwd, 5), None);
        assert_eq!(find_name("garbage\n", 0), None);
    }
}
