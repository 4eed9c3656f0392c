//! TLS setup: the ring crypto provider, the system roots, and extra PEM roots from `ca_file`.

use std::path::{Path, PathBuf};

use crate::HttpError;

/// Make ring the process-wide rustls provider unless one is installed already (idempotent).
pub(crate) fn ensure_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race against another installer is fine: a provider is installed either way.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// The distributions' single-file CA bundles, in probe order: Debian/Ubuntu/Alpine/Arch,
/// RHEL/Fedora, openSUSE, and the BSD/Alpine alias.
const SYSTEM_BUNDLES: [&str; 4] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// The system roots as one PEM bundle: `SSL_CERT_FILE` when set, else the distribution's
/// bundle file. `None` (the platform verifier, which also reads `SSL_CERT_DIR`) when the
/// operator set `SSL_CERT_DIR`, or no bundle could be read.
///
/// Why: the platform verifier reads the bundle *and* every file of `/etc/ssl/certs` (about 150
/// files holding the same certificates again), which was most of the CPU of a run with nothing
/// new. The bundle is what `update-ca-certificates` / `update-ca-trust` generate from that
/// directory, so it is the same trust.
pub(crate) fn system_bundle() -> Option<(PathBuf, Vec<reqwest::Certificate>)> {
    if std::env::var_os("SSL_CERT_DIR").is_some() {
        return None;
    }
    match std::env::var_os("SSL_CERT_FILE") {
        Some(file) => bundle_from([PathBuf::from(file)]),
        None => bundle_from(SYSTEM_BUNDLES.iter().map(PathBuf::from)),
    }
}

/// The first readable, non-empty PEM bundle of `candidates`.
fn bundle_from(
    candidates: impl IntoIterator<Item = PathBuf>,
) -> Option<(PathBuf, Vec<reqwest::Certificate>)> {
    candidates.into_iter().find_map(|path| {
        let pem = std::fs::read(&path).ok()?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem).ok()?;
        (!certs.is_empty()).then_some((path, certs))
    })
}

/// Load every certificate of a PEM bundle, naming the file and the fix on failure.
pub(crate) fn load_ca_file(path: &Path) -> Result<Vec<reqwest::Certificate>, HttpError> {
    let pem = std::fs::read(path).map_err(|e| HttpError::Setup {
        reason: format!(
            "cannot read ca_file {}: {e}; point ca_file at a readable PEM bundle or remove it",
            path.display()
        ),
    })?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| HttpError::Setup {
        reason: format!(
            "ca_file {} is not a valid PEM bundle ({e}); it must contain \
             -----BEGIN CERTIFICATE----- blocks",
            path.display()
        ),
    })?;
    if certs.is_empty() {
        return Err(HttpError::Setup {
            reason: format!(
                "ca_file {} contains no PEM certificate; it must contain \
                 -----BEGIN CERTIFICATE----- blocks",
                path.display()
            ),
        });
    }
    Ok(certs)
}

/// Is this error chain a TLS failure (certificate, handshake)? Those are not retried.
///
/// `io::Error` hides its payload from `source()`, and the connector nests io errors, so each
/// io error is unwrapped through `get_ref()` as well.
pub(crate) fn is_tls_failure(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(err);
    while let Some(e) = current {
        let mut inner: Option<&(dyn std::error::Error + 'static)> = Some(e);
        while let Some(i) = inner {
            if i.is::<rustls::Error>() {
                return true;
            }
            inner = i
                .downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .map(|b| b as &(dyn std::error::Error + 'static));
        }
        current = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_usable_bundle_wins() {
        let dir = std::env::temp_dir().join(format!("siemtap-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "no certificates here\n").unwrap();
        let missing = dir.join("missing.pem");
        assert!(bundle_from([missing.clone(), empty.clone()]).is_none());
        if let Some(real) = SYSTEM_BUNDLES
            .iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
        {
            let (path, certs) = bundle_from([missing, empty, real.clone()]).unwrap();
            assert_eq!(path, real);
            assert!(certs.len() > 10, "a system bundle holds many roots");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
