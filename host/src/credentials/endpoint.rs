//! Endpoint URLs: parsing, the built-in default per partition, and where the URL comes
//! from.

use std::fmt;
use std::net::Ipv6Addr;

use http::Uri;
use http::uri::Authority;

use super::{
    ConfigError, ENV_ENDPOINT_URL, ENV_ENDPOINT_URL_GLACIER, ENV_IGNORE_CONFIGURED_ENDPOINT_URLS,
    Env, Region, Source,
};

/// The name under which the endpoint variables and config know Glacier.
const SERVICE: &str = "glacier";

/// URL scheme of an endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Plain HTTP (local test endpoints).
    Http,
    /// HTTPS.
    Https,
}

impl Scheme {
    /// `http` or `https`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    /// `http` or `https`, in any case.
    fn from_name(name: &str) -> Result<Scheme, EndpointError> {
        if name.eq_ignore_ascii_case("https") {
            Ok(Scheme::Https)
        } else if name.eq_ignore_ascii_case("http") {
            Ok(Scheme::Http)
        } else {
            Err(EndpointError::UnsupportedScheme)
        }
    }

    /// 80 or 443.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

/// What is wrong with an endpoint URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndpointError {
    /// No `scheme://`.
    MissingScheme,
    /// A scheme other than `http`/`https`.
    UnsupportedScheme,
    /// `user:password@` in the URL.
    UserInfo,
    /// No host.
    MissingHost,
    /// A host with characters outside `A-Z a-z 0-9 . - _`, or a malformed `[IPv6]`.
    InvalidHost,
    /// A port that is empty, not a number, or outside 1–65535.
    InvalidPort,
    /// A base path with characters that need percent-encoding, or `%` escapes.
    InvalidPath,
    /// A `?query`.
    Query,
    /// A `#fragment`.
    Fragment,
}

impl fmt::Display for EndpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EndpointError::MissingScheme => "missing scheme (expected http:// or https://)",
            EndpointError::UnsupportedScheme => "only http:// and https:// are supported",
            EndpointError::UserInfo => "user info (user:password@) is not supported",
            EndpointError::MissingHost => "missing host",
            EndpointError::InvalidHost => "invalid host",
            EndpointError::InvalidPort => "invalid port (expected 1-65535)",
            EndpointError::InvalidPath => {
                "base path may only contain letters, digits and - . _ ~ / characters"
            }
            EndpointError::Query => "a query string is not supported",
            EndpointError::Fragment => "a fragment is not supported",
        })
    }
}

impl std::error::Error for EndpointError {}

/// A parsed endpoint URL: where to connect and what to put in `Host`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EndpointUrl {
    scheme: Scheme,
    host: String,
    ipv6: bool,
    port: Option<u16>,
    base_path: String,
}

impl EndpointUrl {
    /// Parses `scheme://host[:port][/base/path]` with [`http::Uri`], then holds it to what
    /// a Glacier endpoint may be. The scheme and host are lowercased; an IPv6 host is
    /// written in brackets (`http://[::1]:8080`); a trailing `/` of the base path is
    /// dropped. User info, queries, fragments and percent-escapes are rejected.
    pub fn parse(url: &str) -> Result<EndpointUrl, EndpointError> {
        let uri: Uri = url.parse().map_err(|_| refused(url))?;
        let scheme = Scheme::from_name(uri.scheme_str().ok_or(EndpointError::MissingScheme)?)?;
        // http::Uri drops a fragment without a trace.
        if url.contains('#') {
            return Err(EndpointError::Fragment);
        }
        if uri.query().is_some() {
            return Err(EndpointError::Query);
        }
        let authority = uri.authority().map_or("", Authority::as_str);
        if authority.contains('@') {
            return Err(EndpointError::UserInfo);
        }
        let raw_host = uri.host().unwrap_or("");
        let (host, ipv6) = checked_host(raw_host)?;
        let after_host = authority
            .strip_prefix(raw_host)
            .ok_or(EndpointError::InvalidHost)?;
        Ok(EndpointUrl {
            scheme,
            host,
            ipv6,
            port: checked_port(after_host)?,
            base_path: checked_base_path(uri.path())?,
        })
    }

    /// `http` or `https`.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// Host name or address to connect to (IPv6 without brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Port to connect to: the explicit one or the scheme's default.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(self.scheme.default_port())
    }

    /// Path prefix for request paths: empty, or `/something` without a trailing `/`.
    pub fn base_path(&self) -> &str {
        &self.base_path
    }

    /// The `Host` header value (and what SigV4 signs): host, bracketed if IPv6, plus
    /// `:port` unless it is the scheme's default.
    pub fn host_header(&self) -> String {
        let host = if self.ipv6 {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        match self.port {
            Some(p) if p != self.scheme.default_port() => format!("{host}:{p}"),
            _ => host,
        }
    }

    /// The wire path for `path` (which starts with `/`): base path + `path`.
    pub fn request_path(&self, path: &str) -> String {
        format!("{}{path}", self.base_path)
    }
}

impl fmt::Display for EndpointUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}://{}{}",
            self.scheme.as_str(),
            self.host_header(),
            self.base_path
        )
    }
}

/// Why `http::Uri` refused `url`: the first part that is wrong, in the order
/// [`EndpointUrl::parse`] checks them. When all else passes, the base path is to blame.
fn refused(url: &str) -> EndpointError {
    first_bad_part(url)
        .err()
        .unwrap_or(EndpointError::InvalidPath)
}

/// The scheme, fragment, query, user info, host and port checks of
/// [`EndpointUrl::parse`], on a plain split of `url` (for when `http::Uri` cannot split it).
fn first_bad_part(url: &str) -> Result<(), EndpointError> {
    let (scheme, rest) = url.split_once("://").ok_or(EndpointError::MissingScheme)?;
    Scheme::from_name(scheme)?;
    if rest.contains('#') {
        return Err(EndpointError::Fragment);
    }
    if rest.contains('?') {
        return Err(EndpointError::Query);
    }
    let authority = rest.split('/').next().unwrap_or("");
    if authority.contains('@') {
        return Err(EndpointError::UserInfo);
    }
    let host_end = if authority.starts_with('[') {
        authority.find(']').map_or(authority.len(), |i| i + 1)
    } else {
        authority.find(':').unwrap_or(authority.len())
    };
    let (host, after_host) = authority.split_at(host_end);
    checked_host(host)?;
    checked_port(after_host)?;
    Ok(())
}

/// A host as `http::Uri` gives it (IPv6 in brackets): lowercased, without the brackets,
/// and whether it is IPv6. Names are limited to `A-Z a-z 0-9 . - _`.
fn checked_host(host: &str) -> Result<(String, bool), EndpointError> {
    if host.is_empty() {
        return Err(EndpointError::MissingHost);
    }
    if let Some(bracketed) = host.strip_prefix('[') {
        let addr = bracketed
            .strip_suffix(']')
            .ok_or(EndpointError::InvalidHost)?;
        addr.parse::<Ipv6Addr>()
            .map_err(|_| EndpointError::InvalidHost)?;
        return Ok((addr.to_ascii_lowercase(), true));
    }
    let valid = host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
    if !valid {
        return Err(EndpointError::InvalidHost);
    }
    Ok((host.to_ascii_lowercase(), false))
}

/// What follows the host in the authority: nothing, or `:` and a port 1–65535 in digits.
fn checked_port(after_host: &str) -> Result<Option<u16>, EndpointError> {
    if after_host.is_empty() {
        return Ok(None);
    }
    let digits = after_host
        .strip_prefix(':')
        .ok_or(EndpointError::InvalidHost)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(EndpointError::InvalidPort);
    }
    match digits.parse::<u16>() {
        Ok(n) if n > 0 => Ok(Some(n)),
        _ => Err(EndpointError::InvalidPort),
    }
}

/// The path `http::Uri` found (`/` when there is none) as a base path: unreserved
/// characters and `/` only, trailing `/` dropped.
fn checked_base_path(path: &str) -> Result<String, EndpointError> {
    let valid = path
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/'));
    if !valid {
        return Err(EndpointError::InvalidPath);
    }
    Ok(path.trim_end_matches('/').to_string())
}

/// The built-in Glacier endpoint for `region`: `https://glacier.{region}.amazonaws.com`,
/// or `.amazonaws.com.cn` for `cn-` regions. Isolated (`us-iso*`, `eu-isoe`) and sovereign
/// (`eusc-`) partitions use other DNS suffixes: error, pass `--endpoint-url`.
pub fn default_endpoint(region: &Region) -> Result<EndpointUrl, ConfigError> {
    let r = region.as_str();
    let suffix = if r.starts_with("cn-") {
        "amazonaws.com.cn"
    } else if r.starts_with("us-iso") || r.starts_with("eu-isoe-") || r.starts_with("eusc-") {
        return Err(ConfigError::NoDefaultEndpoint {
            region: r.to_string(),
        });
    } else {
        "amazonaws.com"
    };
    Ok(EndpointUrl {
        scheme: Scheme::Https,
        host: format!("{SERVICE}.{r}.{suffix}"),
        ipv6: false,
        port: None,
        base_path: String::new(),
    })
}

/// An endpoint and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedEndpoint {
    /// The endpoint URL.
    pub url: EndpointUrl,
    /// Where it came from.
    pub source: Source,
}

/// Picks the endpoint: `explicit` (`--endpoint-url`), `AWS_ENDPOINT_URL_GLACIER`,
/// `AWS_ENDPOINT_URL` (unless `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`), else
/// [`default_endpoint`]. The first URL found must parse; a bad one is an error.
pub fn resolve_endpoint(
    env: &Env,
    explicit: Option<&str>,
    region: &Region,
) -> Result<ResolvedEndpoint, ConfigError> {
    let make = |value: &str, source: Source| match EndpointUrl::parse(value) {
        Ok(url) => Ok(ResolvedEndpoint { url, source }),
        Err(error) => Err(ConfigError::InvalidEndpoint {
            value: value.to_string(),
            source,
            error,
        }),
    };
    if let Some(value) = explicit {
        return make(value, Source::Flag("--endpoint-url"));
    }
    let ignore = env
        .var(ENV_IGNORE_CONFIGURED_ENDPOINT_URLS)
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if !ignore {
        for var in [ENV_ENDPOINT_URL_GLACIER, ENV_ENDPOINT_URL] {
            if let Some(value) = env.var(var) {
                return make(value, Source::EnvVar(var));
            }
        }
    }
    Ok(ResolvedEndpoint {
        url: default_endpoint(region)?,
        source: Source::Default,
    })
}

#[cfg(test)]
mod tests;
