//! The [`Secret`] type: a credential value that cannot be printed or serialized.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

/// A credential value (token, API key, service secret).
///
/// - `Debug` prints `Secret([redacted])`, never the value.
/// - There is no `Display` and no `serde::Serialize` implementation, so a secret cannot end up in a log line,
///   an event, an error message or the state file by accident. This is checked at compile time:
///
/// ```compile_fail,E0277
/// let s = siemtap_secrets::Secret::new("token");
/// let _ = format!("{s}"); // error: `Secret` doesn't implement `std::fmt::Display`
/// ```
///
/// - The value is zeroized when the last copy is dropped (each clone owns and wipes its own copy).
/// - [`Secret::expose`] is the only way to read it.
#[derive(Clone)]
pub struct Secret(SecretString);

impl Secret {
    /// Wrap a credential value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(SecretString::from(value.into()))
    }

    /// The only way to read the value. Name the call site's purpose in a comment where you call it
    /// (e.g. "// expose: Authorization header"), so every use is easy to audit.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::Secret;

    #[test]
    fn debug_is_redacted_and_expose_returns_value() {
        let s = Secret::new("CANARY-7f3a9e");
        assert_eq!(format!("{s:?}"), "Secret([redacted])");
        assert_eq!(format!("{s:#?}"), "Secret([redacted])");
        // expose: test reads back the stored value
        assert_eq!(s.expose(), "CANARY-7f3a9e");
        let c = s.clone();
        drop(s);
        // expose: test checks a clone survives the original's drop
        assert_eq!(c.expose(), "CANARY-7f3a9e");
    }
}
