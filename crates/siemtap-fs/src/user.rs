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

/// `name:x:uid:...` lines: the first name with `uid`.
fn find_name(passwd: &str, uid: u32) -> Option<String> {
    passwd.lines().find_map(|line| {
        let mut parts = line.split(':');
        let name = parts.next()?;
        let id: u32 = parts.nth(1)?.parse().ok()?;
        (id == uid && !name.is_empty()).then(|| name.to_owned())
    })
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
