//! The HTTP calls of the credential sources: [`Net`] holds the transport decisions of the
//! run (trusted roots, CA bundle, proxy variables) and makes one ureq agent per call.
//!
//! STS and the SSO portal are AWS endpoints like Glacier: same trust, same proxy rule.
//! The container and instance metadata endpoints are link-local or loopback addresses
//! that a proxy cannot reach: always direct (botocore sends them with `proxies={}`).

use std::time::Duration;

use crate::credentials::EndpointUrl;
use crate::sigv4;
use crate::transport::{ProxyEnv, Transport, TrustOptions};

/// Longest answer a credential endpoint may send (they send a few hundred bytes).
const MAX_ANSWER: u64 = 64 * 1024;

/// How credential requests reach their endpoints.
#[derive(Clone, Default)]
pub struct Net {
    /// Trusted certificates (`--ca-bundle`, `AWS_CA_BUNDLE`, `--trust-store`…).
    pub trust: TrustOptions,
    /// The proxy variables.
    pub proxy_env: ProxyEnv,
    /// Trace requests on stderr (secrets redacted, bodies never shown).
    pub debug: bool,
}

impl std::fmt::Debug for Net {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Net")
            .field("trust", &self.trust)
            .field("debug", &self.debug)
            .finish_non_exhaustive()
    }
}

/// An answer: status and body (never traced: it holds secrets).
pub(super) struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

/// One request of a credential source.
pub(super) struct Call<'a> {
    pub method: &'a str,
    pub url: &'a EndpointUrl,
    /// Path and query in wire form.
    pub target: &'a str,
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
    pub timeout: Duration,
}

/// Whether a call's failure was the network (worth another attempt) or the answer.
pub(super) enum CallError {
    /// Could not connect, timed out, reset: the message says which.
    Network(String),
    /// Anything else (TLS, a bad answer, a proxy's refusal).
    Other(String),
}

impl CallError {
    pub fn message(self) -> String {
        match self {
            CallError::Network(m) | CallError::Other(m) => m,
        }
    }
}

impl Net {
    /// Sends `call` to an AWS endpoint (STS, SSO) with the run's trust and proxy.
    pub(super) fn aws(&self, call: &Call<'_>) -> Result<Answer, CallError> {
        let transport = Transport::for_endpoint(call.url, &self.trust, &self.proxy_env)
            .map_err(|e| CallError::Other(e.to_string()))?;
        self.send(call, transport)
    }

    /// Sends `call` to a local metadata endpoint: never through a proxy.
    pub(super) fn local(&self, call: &Call<'_>) -> Result<Answer, CallError> {
        let transport = Transport {
            tls: crate::transport::tls::tls_config(&self.trust)
                .map_err(|e| CallError::Other(e.to_string()))?,
            proxy: None,
        };
        self.send(call, transport)
    }

    fn send(&self, call: &Call<'_>, transport: Transport) -> Result<Answer, CallError> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .tls_config(transport.tls)
            .proxy(transport.proxy.as_ref().map(|p| p.agent.clone()))
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_connect(Some(call.timeout))
            .timeout_per_read(Some(call.timeout))
            .timeout_recv_response(Some(call.timeout))
            .user_agent(concat!("glacier-verify/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        let url = format!(
            "{}://{}{}",
            call.url.scheme().as_str(),
            call.url.host_header(),
            call.url.request_path(call.target)
        );
        // The query of an SSO request names the account and role, not a secret; still,
        // the trace shows the path only.
        let shown = url.split('?').next().unwrap_or(&url);
        if self.debug {
            if let Some(p) = &transport.proxy {
                eprintln!("* credentials through {}", p.choice);
            }
            eprintln!("> {} {shown}", call.method);
            for (n, v) in call.headers {
                eprintln!("> {n}: {}", redact(n, v));
            }
        }
        let request = ureq::http::Request::builder().method(call.method).uri(&url);
        let request = call
            .headers
            .iter()
            .fold(request, |r, (n, v)| r.header(*n, *v));
        let unbuildable =
            |e: ureq::http::Error| CallError::Other(format!("cannot build the request: {e}"));
        let sent = if call.body.is_empty() && call.method == "GET" {
            agent.run(request.body(()).map_err(unbuildable)?)
        } else {
            agent.run(request.body(call.body.to_vec()).map_err(unbuildable)?)
        };
        let mut response = sent.map_err(|e| classify(&e, shown))?;
        let status = response.status().as_u16();
        if self.debug {
            eprintln!("< {status}");
        }
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER)
            .read_to_vec()
            .map_err(|e| classify(&e, shown))?;
        Ok(Answer { status, body })
    }
}

/// Headers of credential requests whose whole value is a secret.
const SECRET_HEADERS: &[&str] = &["x-amz-sso_bearer_token", "x-aws-ec2-metadata-token"];

/// A header value fit for `--debug`: SigV4's redaction, plus the bearer tokens of the SSO
/// portal and instance metadata (an `Authorization` without a signature, the container
/// token, is hidden whole by SigV4's rule).
fn redact<'a>(name: &str, value: &'a str) -> std::borrow::Cow<'a, str> {
    if SECRET_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(name)) {
        return "***".into();
    }
    sigv4::redact(name, value)
}

fn classify(e: &ureq::Error, url: &str) -> CallError {
    let text = format!("{e} ({url})");
    match e {
        ureq::Error::Io(_)
        | ureq::Error::Timeout(_)
        | ureq::Error::HostNotFound
        | ureq::Error::ConnectionFailed => CallError::Network(text),
        _ => CallError::Other(text),
    }
}

/// `value` as `application/x-www-form-urlencoded` wants it (RFC 3986 unreserved kept).
pub(super) fn form_encode(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", sigv4::uri_encode(k), sigv4::uri_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A short, printable excerpt of an answer that is not what was expected.
pub(super) fn excerpt(body: &[u8]) -> String {
    String::from_utf8_lossy(body)
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_are_redacted() {
        assert_eq!(super::redact("x-amz-sso_bearer_token", "tok"), "***");
        assert_eq!(super::redact("X-aws-ec2-metadata-token", "tok"), "***");
        assert_eq!(super::redact("authorization", "container-token"), "***");
        assert_eq!(
            super::redact("x-aws-ec2-metadata-token-ttl-seconds", "21600"),
            "21600"
        );
    }
}
