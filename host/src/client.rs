//! A small blocking Glacier client: signed DescribeJob and GetJobOutput
//! requests over ureq, error bodies parsed by the core, retry decisions.

use std::io::Read;
use std::time::Duration;

use glacier_verify_core::{
    GLACIER_VERSION, HeadBuilder, RangeRequest, ResponseHead, RetryClass, SIGNING_SERVICE,
    ServiceError, classify,
};
use ureq::http::Response;

use crate::credentials::{CredentialsProvider, EndpointUrl};
use crate::error::{HostError, ServiceFailure, UntrustedCertificate};
use crate::job::{JobDescription, JobError};
use crate::sigv4::{self, AmzDate, Credentials, SignableRequest, SigningParams, SigningSettings};
use crate::transport::{self, Transport};

/// ureq's input buffer, and the largest response head it may report.
///
/// The two are equal on purpose. ureq 3.5 skips an interim `1xx` response
/// and then compares *everything buffered* — the final head and the body
/// bytes that came in the same read — with its head limit (in
/// `run::recv_response`, `check_size` is `input.len()` when `try_response`
/// consumed a 1xx and returned no response). A fast server that sends
/// `100 Continue` before its answer then fails with "response header is
/// too big" although the head is small. With the limit at the buffer's
/// size that false alarm cannot happen; upstream should check only the
/// bytes left after the interim response (`input.len() - amount`). A head
/// that really is larger than the buffer still fails, and the core checks
/// the head again. `host/tests/ureq_interim.rs` shows the upstream
/// behaviour and this workaround.
pub const INPUT_BUFFER: usize = 128 * 1024;

/// Idle connections kept for reuse: as many as requests can be under way
/// at once in one run (`--parallel` is at most 64).
const POOLED_CONNECTIONS: usize = 64;

/// Longest error body read (they are a few hundred bytes).
const MAX_ERROR_BODY: u64 = 64 * 1024;

/// Longest DescribeJob body accepted: its fields (ids, hashes, dates, an
/// SNS topic, inventory parameters, a 1 024-byte description) take a few
/// KiB; 64 KiB leaves room for fields the service may add.
pub const MAX_DESCRIBE_JOB_BODY: u64 = 64 * 1024;

/// Where and as whom to talk to Glacier.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// The endpoint (scheme, host, port, base path).
    pub endpoint: EndpointUrl,
    /// Region of the credential scope.
    pub region: String,
    /// Signing credentials, refreshed before they expire; shared by the download threads.
    pub credentials: CredentialsProvider,
    /// Connect timeout; `None` waits as long as the operating system does.
    pub connect_timeout: Option<Duration>,
    /// Longest silence while reading a response (a stalled body is a
    /// retryable network failure); `None` never gives up.
    pub read_timeout: Option<Duration>,
    /// Trace requests and responses on stderr (secrets redacted).
    pub debug: bool,
    /// Trusted certificates and the proxy, decided before the first request.
    pub transport: Transport,
}

/// The three path parameters of a job.
#[derive(Clone, Debug)]
pub struct JobLocation {
    /// 12-digit account id or `-` (docs/protocol.md §1).
    pub account_id: String,
    /// Vault name.
    pub vault: String,
    /// Job id.
    pub job_id: String,
}

impl JobLocation {
    fn path(&self, output: bool) -> String {
        let mut p = format!(
            "/{}/vaults/{}/jobs/{}",
            sigv4::uri_encode(&self.account_id),
            sigv4::uri_encode(&self.vault),
            sigv4::uri_encode(&self.job_id)
        );
        if output {
            p.push_str("/output");
        }
        p
    }
}

/// A failed request, classified for the retry loop.
#[derive(Debug)]
pub struct RequestFailure {
    /// The error to report if no retry follows.
    pub error: HostError,
    /// Whether to retry (docs/protocol.md §3, §9.5).
    pub class: RetryClass,
}

impl RequestFailure {
    /// A transport failure of `request` to `host`, through `proxy` if one is
    /// used: TLS trouble and a proxy's refusal are configuration and final;
    /// the rest (refused, reset, timed out, a proxy that is down) is worth
    /// retrying, and names the proxy.
    fn transport(
        request: String,
        host: &str,
        proxy: Option<&transport::Proxy>,
        source: ureq::Error,
    ) -> Self {
        if transport::tls::is_tls(&source) {
            return RequestFailure {
                error: HostError::Tls {
                    request,
                    certificate: transport::tls::certificate_problem(&source).map(|problem| {
                        Box::new(UntrustedCertificate {
                            host: host.to_string(),
                            problem,
                        })
                    }),
                    source,
                },
                class: RetryClass::Fatal,
            };
        }
        if let Some(class) = protocol_class(&source) {
            return RequestFailure {
                error: HostError::Protocol { request, source },
                class,
            };
        }
        let Some(proxy) = proxy else {
            return RequestFailure {
                error: HostError::Http { request, source },
                class: RetryClass::Transient,
            };
        };
        let proxy = proxy.choice.to_string();
        if let ureq::Error::ConnectProxyFailed(reason) = &source
            && proxy_refusal(reason)
        {
            return RequestFailure {
                error: HostError::ProxyRefused {
                    request,
                    proxy,
                    source,
                },
                class: RetryClass::Fatal,
            };
        }
        RequestFailure {
            error: HostError::Http {
                request: format!("{request} through {proxy}"),
                source,
            },
            class: RetryClass::Transient,
        }
    }
}

/// Whether a failure is a response no Glacier sends, and if so whether a
/// new request can help.
fn protocol_class(e: &ureq::Error) -> Option<RetryClass> {
    match e {
        // A head over the limit is what this server sends; asking again
        // brings the same.
        ureq::Error::LargeResponseHeader(..) => Some(RetryClass::Fatal),
        // A head that does not parse (two Content-Length values, a line
        // without a colon, a status line that is none) can be a connection
        // gone wrong on the way — a proxy, a reused socket: one more
        // request on a new connection may help, so retried like a cut.
        ureq::Error::Protocol(_) => Some(RetryClass::Transient),
        _ => None,
    }
}

/// Whether ureq's `CONNECT` failure is a 4xx answer (`proxy server
/// responded 407/…`): the proxy refuses this client or this target, and
/// asking again will not change that. A 5xx (the proxy cannot reach the
/// endpoint) or no answer is transient.
fn proxy_refusal(reason: &str) -> bool {
    reason
        .split_once("responded ")
        .and_then(|(_, rest)| rest.get(..3))
        .and_then(|code| code.parse::<u16>().ok())
        .is_some_and(|code| (400..500).contains(&code))
}

/// A GetJobOutput response whose status was 2xx; the body is still unread.
pub struct OutputResponse {
    response: Response<ureq::Body>,
}

impl OutputResponse {
    /// The typed head, built by the core from ureq's headers.
    pub fn head(&self) -> Result<ResponseHead<'_>, glacier_verify_core::Error> {
        let mut b = HeadBuilder::new(self.response.status().as_u16())?;
        for (name, value) in self.response.headers() {
            b.header(name.as_str().as_bytes(), value.as_bytes())?;
        }
        b.finish()
    }

    /// The body as a reader.
    pub fn body(&mut self) -> impl Read + '_ {
        self.response.body_mut().as_reader()
    }
}

/// Signed requests to one Glacier endpoint.
pub struct Client {
    agent: ureq::Agent,
    config: ClientConfig,
    host: String,
    origin: String,
}

impl Client {
    /// A client for the configured endpoint.
    pub fn new(config: ClientConfig) -> Self {
        let host = config.endpoint.host_header();
        let origin = format!("{}://{host}", config.endpoint.scheme().as_str());
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .tls_config(config.transport.tls.clone())
            // Always set: ureq's default reads ALL_PROXY/HTTPS_PROXY/HTTP_PROXY
            // for every scheme, which is not botocore's rule (transport::proxy).
            .proxy(config.transport.proxy.as_ref().map(|p| p.agent.clone()))
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_connect(config.connect_timeout)
            .timeout_per_read(config.read_timeout)
            .timeout_recv_response(config.read_timeout)
            .user_agent(concat!("glacier-verify/", env!("CARGO_PKG_VERSION")))
            .input_buffer_size(INPUT_BUFFER)
            .max_response_header_size(INPUT_BUFFER)
            // ureq keeps 3 idle connections per host by default: with more
            // requests under way at once (parts, vault-exit's downloads and
            // InitiateJob calls), every one past the third would close its
            // connection and the next request open (and TLS-handshake) a
            // new one.
            .max_idle_connections(POOLED_CONNECTIONS)
            .max_idle_connections_per_host(POOLED_CONNECTIONS)
            .build()
            .into();
        Client {
            agent,
            config,
            host,
            origin,
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    fn send(
        &self,
        path: &str,
        range: Option<&str>,
    ) -> Result<Response<ureq::Body>, RequestFailure> {
        let mut headers: Vec<(&str, &str)> = vec![("x-amz-glacier-version", GLACIER_VERSION)];
        if let Some(r) = range {
            headers.push(("range", r));
        }
        self.signed("GET", path, &headers, b"")
    }

    /// Signs and sends a request; a 403 `ExpiredToken` answer to refreshable credentials
    /// refreshes them and sends the request once more. Any other non-2xx answer that
    /// had to be read for that check is returned as its failure.
    fn signed(
        &self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Response<ureq::Body>, RequestFailure> {
        let provider = &self.config.credentials;
        let mut credentials = provider.get().map_err(config_failure)?;
        let mut refreshed = false;
        loop {
            let resp = self.send_once(method, target, headers, body, &credentials)?;
            if resp.status().as_u16() != 403 || refreshed || !provider.refreshes() {
                return Ok(resp);
            }
            let failure = Self::failure(resp);
            if !failure.expired_token {
                return Err(failure.failure);
            }
            match provider.refresh_after_expired(&credentials) {
                Some(Ok(fresh)) => {
                    if self.config.debug {
                        eprintln!("* ExpiredToken: refreshed the credentials, sending again");
                    }
                    credentials = fresh;
                    refreshed = true;
                }
                Some(Err(e)) => return Err(config_failure(e)),
                None => return Err(failure.failure),
            }
        }
    }

    fn send_once(
        &self,
        method: &str,
        target: &str,
        extra: &[(&str, &str)],
        body: &[u8],
        credentials: &Credentials,
    ) -> Result<Response<ureq::Body>, RequestFailure> {
        let path = &self.config.endpoint.request_path(target);
        let time = AmzDate::now().map_err(|e| RequestFailure {
            error: HostError::Usage(format!("system clock: {e}")),
            class: RetryClass::Fatal,
        })?;
        let payload = if body.is_empty() {
            sigv4::EMPTY_PAYLOAD_SHA256.to_string()
        } else {
            sigv4::sha256_hex(body)
        };
        let mut headers: Vec<(&str, &str)> = vec![("host", &self.host)];
        headers.extend_from_slice(extra);
        let signed = sigv4::sign(
            &SignableRequest::new(method, path, &headers, &payload),
            &SigningParams {
                credentials,
                region: &self.config.region,
                service: SIGNING_SERVICE,
                time,
                settings: SigningSettings::default(),
            },
        )
        .map_err(|e| RequestFailure {
            error: HostError::Usage(format!("cannot sign the request: {e}")),
            class: RetryClass::Fatal,
        })?;
        let url = format!("{}{path}", self.origin);
        let mut req = ureq::http::Request::builder().method(method).uri(&url);
        let mut trace = Vec::new();
        for (name, value) in headers
            .iter()
            .map(|(n, v)| (*n, *v))
            .chain(signed.headers.iter().map(|(n, v)| (*n, v.as_str())))
        {
            req = req.header(name, value);
            if self.config.debug {
                trace.push(format!("> {name}: {}", sigv4::redact(name, value)));
            }
        }
        if self.config.debug {
            if let Some(p) = &self.config.transport.proxy {
                eprintln!("* through {}", p.choice);
            }
            eprintln!("> {method} {url}");
            for line in &trace {
                eprintln!("{line}");
            }
            if !body.is_empty() {
                eprintln!(">\n> {}", String::from_utf8_lossy(body));
            }
        }
        let unbuildable = |e: ureq::http::Error| RequestFailure {
            error: HostError::Usage(format!("cannot build the request: {e}")),
            class: RetryClass::Fatal,
        };
        let sent = if body.is_empty() && method == "GET" {
            self.agent.run(req.body(()).map_err(unbuildable)?)
        } else {
            self.agent
                .run(req.body(body.to_vec()).map_err(unbuildable)?)
        };
        let resp = sent.map_err(|e| {
            RequestFailure::transport(
                format!("{method} {url}"),
                self.config.endpoint.host(),
                self.config.transport.proxy.as_ref(),
                e,
            )
        })?;
        if self.config.debug {
            eprintln!("< {}", resp.status());
            for (n, v) in resp.headers() {
                eprintln!("< {}: {}", n, String::from_utf8_lossy(v.as_bytes()));
            }
        }
        Ok(resp)
    }

    /// Turns a non-2xx response into a classified failure, reading the
    /// error body (docs/protocol.md §3).
    fn failure(mut resp: Response<ureq::Body>) -> ReadFailure {
        let status = resp.status().as_u16();
        let request_id = resp
            .headers()
            .get("x-amzn-requestid")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = resp
            .body_mut()
            .with_config()
            .limit(MAX_ERROR_BODY)
            .read_to_vec()
            .unwrap_or_default();
        let failure = match ServiceError::parse(status, &body) {
            Ok(error) => RequestFailure {
                class: error.retry_class(),
                error: HostError::service(&error, request_id),
            },
            Err(_) => RequestFailure {
                class: classify(status, None),
                error: HostError::Service(ServiceFailure {
                    status,
                    code: format!("HTTP {status}"),
                    message: String::from_utf8_lossy(&body)
                        .chars()
                        .filter(|c| !c.is_control())
                        .take(200)
                        .collect(),
                    request_id,
                }),
            },
        };
        let expired_token = matches!(
            &failure.error,
            HostError::Service(ServiceFailure { code, .. })
                if code == "ExpiredTokenException" || code == "ExpiredToken"
        );
        ReadFailure {
            failure,
            expired_token,
        }
    }

    /// DescribeJob: the parsed fields and the raw JSON.
    pub fn describe_job(
        &self,
        loc: &JobLocation,
    ) -> Result<(JobDescription, serde_json::Value), RequestFailure> {
        let mut resp = self.send(&loc.path(false), None)?;
        if !resp.status().is_success() {
            return Err(Self::failure(resp).failure);
        }
        let body = resp
            .body_mut()
            .with_config()
            .limit(MAX_DESCRIBE_JOB_BODY)
            .read_to_vec()
            .map_err(|e| match e {
                // A bigger answer is no DescribeJob: another download of it
                // will not be smaller.
                ureq::Error::BodyExceedsLimit(_) => RequestFailure {
                    error: HostError::Job(JobError::Inconsistent(format!(
                        "the DescribeJob response is larger than {} KiB; a job description fits in a few",
                        MAX_DESCRIBE_JOB_BODY >> 10
                    ))),
                    class: RetryClass::Fatal,
                },
                e => RequestFailure::transport(
                    "reading the DescribeJob response".into(),
                    self.config.endpoint.host(),
                    self.config.transport.proxy.as_ref(),
                    e,
                ),
            })?;
        JobDescription::parse(&body).map_err(|e| RequestFailure {
            error: HostError::Job(e),
            class: RetryClass::Fatal,
        })
    }

    /// GetJobOutput with an optional `Range` (docs/protocol.md §1). A non-2xx answer is
    /// a classified failure; a 2xx one is returned unread.
    pub fn get_job_output(
        &self,
        loc: &JobLocation,
        range: Option<RangeRequest>,
    ) -> Result<OutputResponse, RequestFailure> {
        let range_text = range.map(|r| r.to_string());
        let resp = self.send(&loc.path(true), range_text.as_deref())?;
        if !resp.status().is_success() {
            return Err(Self::failure(resp).failure);
        }
        Ok(OutputResponse { response: resp })
    }

    /// A signed GET of `target` — path and query in wire form, the query's
    /// parameters sorted as SigV4 canonicalises them — whose 2xx answer is
    /// a JSON object: ListJobs, ListVaults, DescribeVault and the other
    /// read-only vault operations (docs/protocol.md §12). `operation` names
    /// the request in errors.
    pub fn get_json(
        &self,
        target: &str,
        operation: &str,
    ) -> Result<serde_json::Value, RequestFailure> {
        let mut resp = self.send(target, None)?;
        if !resp.status().is_success() {
            return Err(Self::failure(resp).failure);
        }
        let body = resp
            .body_mut()
            .with_config()
            .limit(MAX_LIST_BODY)
            .read_to_vec()
            .map_err(|e| {
                RequestFailure::transport(
                    format!("reading the {operation} response"),
                    self.config.endpoint.host(),
                    self.config.transport.proxy.as_ref(),
                    e,
                )
            })?;
        match serde_json::from_slice::<serde_json::Value>(&body) {
            Ok(v) if v.is_object() => Ok(v),
            _ => Err(RequestFailure {
                error: HostError::Protocol {
                    request: operation.to_owned(),
                    source: ureq::Error::Other("the body is not a JSON object".into()),
                },
                class: RetryClass::Fatal,
            }),
        }
    }

    /// A signed POST of a JSON `body` to `target`; the body's SHA-256 is
    /// the SigV4 payload hash. A 2xx response is returned as it is.
    fn post_json(&self, target: &str, body: &[u8]) -> Result<Response<ureq::Body>, RequestFailure> {
        let headers = [
            ("x-amz-glacier-version", GLACIER_VERSION),
            ("content-type", "application/json"),
        ];
        self.signed("POST", target, &headers, body)
    }

    /// InitiateJob (docs/protocol.md §5.2, §12): POSTs the `JobParameters`
    /// JSON to `/{account}/vaults/{vault}/jobs` (`target`, in wire form)
    /// and returns the AWS CLI's output: `location`, `jobId` and, for a
    /// select job, `jobOutputPath`.
    pub fn initiate_job(
        &self,
        target: &str,
        job_parameters: &[u8],
    ) -> Result<serde_json::Value, RequestFailure> {
        let resp = self.post_json(target, job_parameters)?;
        if !resp.status().is_success() {
            return Err(Self::failure(resp).failure);
        }
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let (Some(location), Some(job_id)) = (header("location"), header("x-amz-job-id")) else {
            return Err(RequestFailure {
                error: HostError::Protocol {
                    request: "InitiateJob".into(),
                    source: ureq::Error::Other("no Location or x-amz-job-id header".into()),
                },
                class: RetryClass::Fatal,
            });
        };
        let mut out = serde_json::json!({ "location": location, "jobId": job_id });
        if let Some(p) = header("x-amz-job-output-path") {
            out["jobOutputPath"] = p.into();
        }
        Ok(out)
    }
}

/// A failure read from a non-2xx answer, and whether it was `ExpiredToken`.
struct ReadFailure {
    failure: RequestFailure,
    expired_token: bool,
}

/// Credentials that could not be had: a configuration failure, not retried.
fn config_failure(e: crate::credentials::ConfigError) -> RequestFailure {
    RequestFailure {
        error: HostError::Config(e),
        class: RetryClass::Fatal,
    }
}

/// Longest answer of a list operation accepted: a ListJobs page holds at
/// most 50 job descriptions of a few KiB each.
pub const MAX_LIST_BODY: u64 = 4 * 1024 * 1024;

/// Full-jitter exponential backoff: a random wait in `[0, min(cap, base·2^attempt))`.
pub fn backoff(attempt: u32, base: Duration, cap: Duration) -> Duration {
    let ceiling = base.saturating_mul(1u32 << attempt.min(20)).min(cap);
    let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
    if nanos == 0 {
        return Duration::ZERO;
    }
    Duration::from_nanos(jitter() % nanos)
}

/// A cheap random number (xorshift seeded from the clock and a counter);
/// jitter needs spread, not secrecy.
fn jitter() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static STATE: AtomicU64 = AtomicU64::new(0);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0x9e37_79b9_7f4a_7c15);
    let mut x = STATE.fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed) ^ seed;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_stays_under_the_cap() {
        for attempt in 0..40 {
            let d = backoff(attempt, Duration::from_millis(100), Duration::from_secs(2));
            assert!(d < Duration::from_secs(2));
        }
        assert_eq!(
            backoff(3, Duration::ZERO, Duration::from_secs(1)),
            Duration::ZERO
        );
    }

    #[test]
    fn only_a_4xx_from_the_proxy_is_a_refusal() {
        assert!(proxy_refusal(
            "proxy server responded 407/Proxy Authentication Required"
        ));
        assert!(proxy_refusal("proxy server responded 403/Forbidden"));
        assert!(!proxy_refusal("proxy server responded 502/Bad Gateway"));
        assert!(!proxy_refusal("proxy server responded 500/x"));
        assert!(!proxy_refusal("proxy server did not respond"));
        assert!(!proxy_refusal("responded 4"));
    }

    #[test]
    fn job_paths_are_encoded() {
        let loc = JobLocation {
            account_id: "-".into(),
            vault: "my vault".into(),
            job_id: "abc_DEF-1".into(),
        };
        assert_eq!(loc.path(true), "/-/vaults/my%20vault/jobs/abc_DEF-1/output");
    }
}
