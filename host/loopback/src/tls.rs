//! HTTPS for the endpoint (feature `tls`, for tests): the same server behind
//! rustls, with a certificate the caller makes (the tests generate a CA and
//! a certificate for 127.0.0.1 and `localhost` at run time).

use std::fmt;
use std::net::TcpStream;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

/// A server certificate chain and its key, ready to serve.
#[derive(Clone)]
pub struct TlsIdentity {
    config: Arc<ServerConfig>,
}

impl fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TlsIdentity")
    }
}

/// Why a certificate or key cannot be served.
#[derive(Debug)]
pub enum TlsIdentityError {
    /// The PEM text holds no certificate, or no usable private key.
    Pem(&'static str),
    /// rustls refused the pair (a key that does not match, …).
    Rustls(rustls::Error),
}

impl fmt::Display for TlsIdentityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsIdentityError::Pem(what) => write!(f, "PEM: {what}"),
            TlsIdentityError::Rustls(e) => write!(f, "rustls: {e}"),
        }
    }
}

impl std::error::Error for TlsIdentityError {}

impl TlsIdentity {
    /// The server's certificate chain (leaf first) and private key (PKCS#8,
    /// PKCS#1 or SEC1), both PEM. TLS 1.2 and 1.3 with rustls's safe defaults
    /// and the ring provider.
    pub fn from_pem(cert_chain: &str, key: &str) -> Result<Self, TlsIdentityError> {
        let chain: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(cert_chain.as_bytes())
                .collect::<Result<_, _>>()
                .map_err(|_| TlsIdentityError::Pem("a certificate block is malformed"))?;
        if chain.is_empty() {
            return Err(TlsIdentityError::Pem("no certificate"));
        }
        let key = PrivateKeyDer::from_pem_slice(key.as_bytes())
            .map_err(|_| TlsIdentityError::Pem("no private key"))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(TlsIdentityError::Rustls)?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(TlsIdentityError::Rustls)?;
        Ok(TlsIdentity {
            config: Arc::new(config),
        })
    }

    /// A server-side TLS stream over `tcp`; the handshake runs on first use.
    pub(crate) fn stream(&self, tcp: TcpStream) -> StreamOwned<ServerConnection, TcpStream> {
        let conn = ServerConnection::new(Arc::clone(&self.config))
            .expect("a server connection needs no input that can fail");
        StreamOwned::new(conn, tcp)
    }
}
