//! How the client reaches an endpoint: which certificates it trusts
//! ([`tls`]) and which proxy, if any, carries the connection ([`proxy`]).
//! Both are decided once, before the first request, and handed to the ureq
//! agent as they are: ureq never reads the environment on its own.

pub mod proxy;
pub mod tls;

use std::fmt;

pub use proxy::{NoProxy, ProxyChoice, ProxyEnv, ProxyError, ProxyUrl, ProxyUrlError, select};
pub use tls::{CaBundle, TrustError, TrustOptions, TrustStore};

use crate::credentials::EndpointUrl;

/// The connection settings of one client.
#[derive(Clone, Debug)]
pub struct Transport {
    /// What the agent verifies certificates against.
    pub tls: ureq::tls::TlsConfig,
    /// The proxy, or `None` for a direct connection.
    pub proxy: Option<Proxy>,
}

/// A chosen proxy in both forms: for messages, and for the agent.
#[derive(Clone, Debug)]
pub struct Proxy {
    /// The choice and its variable (shown in errors).
    pub choice: ProxyChoice,
    /// The same URL for ureq.
    pub agent: ureq::Proxy,
}

impl Transport {
    /// Bundled roots, no proxy: for the built-in loopback endpoint, which
    /// must never be reached through a proxy from the environment.
    pub fn direct() -> Self {
        Transport {
            tls: ureq::tls::TlsConfig::default(),
            proxy: None,
        }
    }

    /// The settings for `endpoint`: trust from `trust` (reading a CA bundle),
    /// the proxy from `env` by botocore's rule.
    pub fn for_endpoint(
        endpoint: &EndpointUrl,
        trust: &TrustOptions,
        env: &ProxyEnv,
    ) -> Result<Self, TransportError> {
        let tls = tls::tls_config(trust).map_err(TransportError::Trust)?;
        let proxy = match select(env, endpoint).map_err(TransportError::Proxy)? {
            None => None,
            Some(choice) => {
                let agent = choice.url.to_ureq().map_err(|error| {
                    TransportError::Proxy(ProxyError {
                        var: choice.var,
                        error,
                    })
                })?;
                Some(Proxy { choice, agent })
            }
        };
        Ok(Transport { tls, proxy })
    }
}

/// Connection settings that cannot be used: a configuration error (exit 2).
#[derive(Debug)]
pub enum TransportError {
    /// The CA bundle or trust store.
    Trust(TrustError),
    /// A proxy variable.
    Proxy(ProxyError),
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransportError::Trust(e) => write!(f, "{e}"),
            TransportError::Proxy(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TransportError::Trust(e) => Some(e),
            TransportError::Proxy(e) => Some(e),
        }
    }
}
