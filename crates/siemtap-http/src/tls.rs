//! TLS setup: the ring crypto provider and extra PEM roots from `ca_file`.

use std::path::Path;

use crate::HttpError;

/// Make ring the process-wide rustls provider unless one is installed already (idempotent).
pub(crate) fn ensure_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race against another installer is fine: a provider is installed either way.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
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
