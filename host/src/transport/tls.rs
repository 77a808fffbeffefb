//! Which certificates the client trusts, and what a certificate failure says.
//!
//! - The default is the Mozilla root program as bundled in the binary (the
//!   `webpki-roots` crate, through ureq), the same on every machine.
//! - `--trust-store os` uses the operating system's store instead, read by
//!   `rustls-native-certs` (on Linux the OpenSSL locations, which honour
//!   `SSL_CERT_FILE` and `SSL_CERT_DIR`).
//! - A CA bundle (`--ca-bundle`, `AWS_CA_BUNDLE`, `ca_bundle` in the
//!   profile, in that order: docs/protocol.md §13) is added to those roots.
//!   The AWS CLI uses the bundle instead of its defaults; adding keeps the
//!   public endpoints working behind a proxy that re-signs only some hosts.
//!   It is read and checked before any request: a file that cannot be read,
//!   holds no certificate or holds one that cannot be a trust anchor is a
//!   configuration error (exit 2).
//! - `--no-verify-ssl` turns verification off (the caller warns on every run).

use std::fmt;
use std::path::Path;

use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};

pub use crate::credentials::CaBundle;

/// Largest CA bundle read (Debian's whole `ca-certificates.crt` is ~200 KiB).
pub const MAX_BUNDLE_SIZE: u64 = 16 * 1024 * 1024;

/// Where the trusted roots come from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TrustStore {
    /// The Mozilla roots bundled in the binary.
    #[default]
    Bundled,
    /// The operating system's trust store.
    Os,
}

/// How to check servers' certificates.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustOptions {
    /// The roots.
    pub store: TrustStore,
    /// Extra roots.
    pub ca_bundle: Option<CaBundle>,
    /// `true` for `--no-verify-ssl`.
    pub no_verify: bool,
}

/// Why the trust settings cannot be used.
#[derive(Debug)]
pub enum TrustError {
    /// The bundle cannot be read.
    Unreadable {
        /// The bundle.
        bundle: CaBundle,
        /// What the OS said.
        error: std::io::Error,
    },
    /// The bundle is not PEM, or holds no certificate, or a certificate that
    /// cannot be a trust anchor.
    Invalid {
        /// The bundle.
        bundle: CaBundle,
        /// What is wrong.
        reason: String,
    },
    /// `--trust-store os` found no certificate.
    OsStoreEmpty {
        /// What the loader reported.
        errors: Vec<String>,
    },
}

impl fmt::Display for TrustError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrustError::Unreadable { bundle, error } => write!(
                f,
                "cannot read the CA bundle {} (from {}): {error}",
                bundle.path.display(),
                bundle.source
            ),
            TrustError::Invalid { bundle, reason } => write!(
                f,
                "the CA bundle {} (from {}) cannot be used: {reason}",
                bundle.path.display(),
                bundle.source
            ),
            TrustError::OsStoreEmpty { errors } => {
                f.write_str(
                    "--trust-store os: the operating system's trust store has no certificates",
                )?;
                if !errors.is_empty() {
                    write!(f, " ({})", errors.join("; "))?;
                }
                f.write_str("; set SSL_CERT_FILE or use --ca-bundle")
            }
        }
    }
}

impl std::error::Error for TrustError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TrustError::Unreadable { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// The agent's TLS settings for `options`; reads and checks the bundle.
pub fn tls_config(options: &TrustOptions) -> Result<TlsConfig, TrustError> {
    let builder = TlsConfig::builder();
    if options.no_verify {
        return Ok(builder.disable_verification(true).build());
    }
    let extra = match &options.ca_bundle {
        Some(bundle) => read_bundle(bundle)?,
        None => Vec::new(),
    };
    let roots = match options.store {
        TrustStore::Bundled if extra.is_empty() => RootCerts::WebPki,
        TrustStore::Bundled => bundled_roots().chain(extra).into(),
        TrustStore::Os => os_roots()?.into_iter().chain(extra).into(),
    };
    Ok(builder.root_certs(roots).build())
}

/// The Mozilla roots as certificates (ureq's `RootCerts::WebPki` holds them
/// as trust anchors, which cannot be combined with other certificates).
fn bundled_roots() -> impl Iterator<Item = Certificate<'static>> {
    webpki_root_certs::TLS_SERVER_ROOT_CERTS
        .iter()
        .map(|c| Certificate::from_der(c.as_ref()))
}

fn os_roots() -> Result<Vec<Certificate<'static>>, TrustError> {
    let found = rustls_native_certs::load_native_certs();
    if found.certs.is_empty() {
        return Err(TrustError::OsStoreEmpty {
            errors: found.errors.iter().map(ToString::to_string).collect(),
        });
    }
    Ok(found
        .certs
        .iter()
        .map(|c| Certificate::from_der(c.as_ref()).to_owned())
        .collect())
}

/// The certificates of a PEM bundle, each checked to be usable as a trust
/// anchor. Other PEM items (keys, CRLs) are skipped, as OpenSSL does.
pub fn read_bundle(bundle: &CaBundle) -> Result<Vec<Certificate<'static>>, TrustError> {
    let invalid = |reason: String| TrustError::Invalid {
        bundle: bundle.clone(),
        reason,
    };
    let bytes = read_limited(&bundle.path).map_err(|error| TrustError::Unreadable {
        bundle: bundle.clone(),
        error,
    })?;
    let mut certs = Vec::new();
    for (i, item) in ureq::tls::parse_pem(&bytes).enumerate() {
        match item {
            Ok(PemItem::Certificate(c)) => {
                let mut check = rustls::RootCertStore::empty();
                check
                    .add(c.der().to_vec().into())
                    .map_err(|e| invalid(format!("certificate {} is not usable: {e}", i + 1)))?;
                certs.push(c);
            }
            Ok(_) => {}
            Err(e) => return Err(invalid(format!("not valid PEM: {e}"))),
        }
    }
    if certs.is_empty() {
        return Err(invalid(
            "no PEM certificate (-----BEGIN CERTIFICATE-----) in it".into(),
        ));
    }
    Ok(certs)
}

fn read_limited(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_BUNDLE_SIZE + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_BUNDLE_SIZE {
        return Err(std::io::Error::other(format!(
            "larger than {} MiB",
            MAX_BUNDLE_SIZE >> 20
        )));
    }
    Ok(bytes)
}

/// The rustls error inside a ureq error: ureq passes some on as
/// `Error::Rustls`, and those of the handshake as `Error::Io` wrapping one.
pub fn rustls_error(e: &ureq::Error) -> Option<&rustls::Error> {
    match e {
        ureq::Error::Rustls(r) => Some(r),
        ureq::Error::Io(io) => io.get_ref()?.downcast_ref::<rustls::Error>(),
        _ => None,
    }
}

/// Whether `e` is a TLS failure (certificate, handshake or TLS setup).
pub fn is_tls(e: &ureq::Error) -> bool {
    matches!(
        e,
        ureq::Error::Tls(_) | ureq::Error::Pem(_) | ureq::Error::TlsRequired
    ) || rustls_error(e).is_some()
}

/// What is wrong with the server's certificate, when that is what `e` is.
pub fn certificate_problem(e: &ureq::Error) -> Option<String> {
    use rustls::CertificateError as C;
    let rustls::Error::InvalidCertificate(problem) = rustls_error(e)? else {
        return None;
    };
    Some(match problem {
        C::UnknownIssuer => "it is not signed by a trusted certificate authority".into(),
        C::BadSignature => "its signature does not verify".into(),
        C::Expired => "it has expired".into(),
        C::NotValidYet => "it is not valid yet".into(),
        C::Revoked => "it has been revoked".into(),
        C::NotValidForName => "it is not valid for this host name".into(),
        other => other.to_string(),
    })
}

#[cfg(test)]
mod tests;
