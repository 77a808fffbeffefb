//! Which proxy, if any, carries the requests to an endpoint: botocore's rule
//! (docs/protocol.md §13), implemented here because ureq's own environment
//! handling differs from it.
//!
//! # The rule
//! - An `https://` endpoint goes through `https_proxy`, else `HTTPS_PROXY`; an
//!   `http://` endpoint through `http_proxy`, else `HTTP_PROXY`. The other
//!   scheme's variable is never used, and neither is `ALL_PROXY` (botocore
//!   asks Python's `urllib.request.getproxies()` for the endpoint's scheme
//!   only). ureq's `Proxy::try_from_env` instead takes the first of
//!   `ALL_PROXY`, `HTTPS_PROXY`, `HTTP_PROXY` for every URL, which sends an
//!   `http://` endpoint through `HTTPS_PROXY`; so the agent is always given
//!   this module's choice, never ureq's.
//! - The lowercase variable wins over the uppercase one, and an empty
//!   lowercase variable turns the proxy off even when the uppercase one is set
//!   (`getproxies_environment`, CPython `Lib/urllib/request.py`). An empty
//!   uppercase variable counts as unset.
//! - `HTTP_PROXY` (uppercase only) is ignored when `REQUEST_METHOD` is set: in
//!   a CGI program a client's `Proxy:` header arrives as `HTTP_PROXY`
//!   (CVE-2016-1000110, "httpoxy").
//! - `no_proxy`, else `NO_PROXY`: a comma-separated list; the endpoint is
//!   reached directly when any entry matches ([`NoProxy`]).
//! - A proxy URL without a scheme means `http://` (botocore's
//!   `_fix_proxy_url`); `http://` and `https://` proxies are supported.
//!   Credentials go in the URL (`http://user:pass@proxy:3128`, percent-encoded
//!   as RFC 3986 §3.2.1 says) and are sent as `Proxy-Authorization: Basic`
//!   (RFC 9110 §11.7.2); they never appear in messages ([`ProxyUrl`]'s
//!   `Display` hides the password).
//!
//! ureq opens a `CONNECT` tunnel (RFC 9110 §9.3.6) through the proxy for
//! both schemes; botocore sends `http://` requests to the proxy in absolute
//! form instead. A proxy that allows `CONNECT` only to port 443 therefore
//! refuses an `http://` endpoint here, with an error that names it.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::credentials::{EndpointUrl, Scheme};

/// Every variable [`ProxyEnv::from_process`] reads.
pub const PROXY_VARS: &[&str] = &[
    "https_proxy",
    "HTTPS_PROXY",
    "http_proxy",
    "HTTP_PROXY",
    "no_proxy",
    "NO_PROXY",
    "REQUEST_METHOD",
];

/// A snapshot of the proxy variables, from the process or built by hand.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ProxyEnv {
    vars: BTreeMap<&'static str, String>,
}

impl fmt::Debug for ProxyEnv {
    /// Names only: proxy URLs may hold passwords.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxyEnv")
            .field("vars", &self.vars.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl ProxyEnv {
    /// No variables set.
    pub fn new() -> Self {
        ProxyEnv::default()
    }

    /// Sets one of [`PROXY_VARS`] (other names are ignored).
    pub fn with_var(mut self, name: &str, value: impl Into<String>) -> Self {
        if let Some(&known) = PROXY_VARS.iter().find(|&&v| v == name) {
            self.vars.insert(known, value.into());
        }
        self
    }

    /// The variables of [`PROXY_VARS`] that the process has (values that are
    /// not Unicode are skipped).
    pub fn from_process() -> Self {
        let mut env = ProxyEnv::new();
        for &name in PROXY_VARS {
            if let Some(Ok(value)) = std::env::var_os(name).map(|v| v.into_string()) {
                env.vars.insert(name, value);
            }
        }
        env
    }

    /// The value of the lowercase variable if it is set (even empty), else
    /// the uppercase one if it is non-empty, with the name it came from.
    fn pick(&self, lower: &'static str, upper: &'static str) -> Option<(&'static str, &str)> {
        if let Some(v) = self.vars.get(lower) {
            return (!v.is_empty()).then_some((lower, v.as_str()));
        }
        if upper == "HTTP_PROXY" && self.vars.contains_key("REQUEST_METHOD") {
            return None;
        }
        self.vars
            .get(upper)
            .filter(|v| !v.is_empty())
            .map(|v| (upper, v.as_str()))
    }
}

/// A proxy URL that can be used: scheme, host, port and optional credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyUrl {
    https: bool,
    host: String,
    port: u16,
    user: Option<String>,
    password: Option<String>,
    /// The URL as given, with `http://` put in front when it had no scheme.
    url: String,
}

impl fmt::Debug for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ProxyUrl({self})")
    }
}

impl fmt::Display for ProxyUrl {
    /// `scheme://[user:***@]host:port`: never the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.https { "https" } else { "http" };
        write!(f, "{scheme}://")?;
        if let Some(user) = &self.user {
            write!(f, "{user}")?;
            if self.password.is_some() {
                f.write_str(":***")?;
            }
            f.write_str("@")?;
        }
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// Why a proxy variable's value cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyUrlError {
    /// Not a URL (`http::Uri` refused it).
    Malformed,
    /// A scheme other than `http` or `https` (SOCKS is not supported).
    UnsupportedScheme,
    /// No host.
    MissingHost,
    /// User or password with a bad percent-escape or not UTF-8.
    BadUserInfo,
}

impl fmt::Display for ProxyUrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProxyUrlError::Malformed => "not a URL",
            ProxyUrlError::UnsupportedScheme => "only http:// and https:// proxies are supported",
            ProxyUrlError::MissingHost => "no host",
            ProxyUrlError::BadUserInfo => "the user or password is not valid percent-encoded UTF-8",
        })
    }
}

impl std::error::Error for ProxyUrlError {}

impl ProxyUrl {
    /// Parses a proxy variable's value; no scheme means `http://`.
    pub fn parse(value: &str) -> Result<ProxyUrl, ProxyUrlError> {
        let value = value.trim();
        let url = if value.contains("://") {
            value.to_string()
        } else {
            format!("http://{}", value.trim_start_matches("//"))
        };
        let uri: http::Uri = url.parse().map_err(|_| ProxyUrlError::Malformed)?;
        let https = match uri.scheme_str().map(str::to_ascii_lowercase).as_deref() {
            Some("http") => false,
            Some("https") => true,
            _ => return Err(ProxyUrlError::UnsupportedScheme),
        };
        let authority = uri.authority().ok_or(ProxyUrlError::MissingHost)?;
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        if host.is_empty() {
            return Err(ProxyUrlError::MissingHost);
        }
        // What follows the host: nothing, or `:` and a port 1–65535
        // (`http::Uri` accepts any digits there).
        let after_host = authority
            .as_str()
            .rsplit_once(authority.host())
            .map_or("", |(_, rest)| rest);
        let port = match after_host.strip_prefix(':') {
            None | Some("") => {
                if https {
                    443
                } else {
                    80
                }
            }
            Some(digits) => digits
                .parse::<u16>()
                .ok()
                .filter(|&p| p > 0)
                .ok_or(ProxyUrlError::Malformed)?,
        };
        let (user, password) = match authority.as_str().rsplit_once('@') {
            None => (None, None),
            Some((info, _)) => {
                let (u, p) = match info.split_once(':') {
                    Some((u, p)) => (u, Some(p)),
                    None => (info, None),
                };
                (Some(decode(u)?), p.map(decode).transpose()?)
            }
        };
        Ok(ProxyUrl {
            https,
            host,
            port,
            user,
            password,
            url,
        })
    }

    /// Whether the proxy itself is reached over TLS.
    pub fn is_https(&self) -> bool {
        self.https
    }

    /// Host name or address (IPv6 without brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Port (80 or 443 when the URL names none).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The user name, decoded.
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// Whether the URL carries a password.
    pub fn has_password(&self) -> bool {
        self.password.is_some()
    }

    /// The agent's proxy: ureq parses the same URL (and decodes the
    /// credentials the same way).
    pub fn to_ureq(&self) -> Result<ureq::Proxy, ProxyUrlError> {
        ureq::Proxy::new(&self.url).map_err(|_| ProxyUrlError::Malformed)
    }
}

fn decode(s: &str) -> Result<String, ProxyUrlError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or(ProxyUrlError::BadUserInfo)?;
            let hex = std::str::from_utf8(hex).map_err(|_| ProxyUrlError::BadUserInfo)?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| ProxyUrlError::BadUserInfo)?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| ProxyUrlError::BadUserInfo)
}

/// The proxy chosen for an endpoint and the variable it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxyChoice {
    /// The proxy.
    pub url: ProxyUrl,
    /// `https_proxy`, `HTTPS_PROXY`, `http_proxy` or `HTTP_PROXY`.
    pub var: &'static str,
}

impl fmt::Display for ProxyChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "proxy {} (from {})", self.url, self.var)
    }
}

/// A proxy variable that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxyError {
    /// The variable.
    pub var: &'static str,
    /// What is wrong (the value is not shown: it may hold a password).
    pub error: ProxyUrlError,
}

impl fmt::Display for ProxyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "environment variable {} is not a usable proxy URL: {}",
            self.var, self.error
        )
    }
}

impl std::error::Error for ProxyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// The proxy for `endpoint`, or `None` to connect directly (see the module docs).
pub fn select(env: &ProxyEnv, endpoint: &EndpointUrl) -> Result<Option<ProxyChoice>, ProxyError> {
    let (lower, upper) = match endpoint.scheme() {
        Scheme::Https => ("https_proxy", "HTTPS_PROXY"),
        Scheme::Http => ("http_proxy", "HTTP_PROXY"),
    };
    let Some((var, value)) = env.pick(lower, upper) else {
        return Ok(None);
    };
    if let Some((_, list)) = env.pick("no_proxy", "NO_PROXY")
        && NoProxy::parse(list).matches(endpoint.host(), endpoint.port())
    {
        return Ok(None);
    }
    let url = ProxyUrl::parse(value).map_err(|error| ProxyError { var, error })?;
    Ok(Some(ProxyChoice { url, var }))
}

/// One `NO_PROXY` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Entry {
    /// `*`: every host.
    All,
    /// An address: that address.
    Ip(IpAddr),
    /// `addr/len`: every address of the block.
    Cidr(IpAddr, u8),
    /// `name` or `.name` (or `*.name`): the name and every name under it.
    Domain(String),
    /// `host:port`: the host (by the rules above) on that port only.
    WithPort(Box<Entry>, u16),
}

/// A parsed `NO_PROXY` list.
///
/// Entries are separated by commas, with spaces around them ignored:
/// - `*` bypasses the proxy for every endpoint;
/// - `example.com` and `.example.com` both match `example.com` and any name
///   ending in `.example.com` (not `badexample.com`), as in CPython's
///   `proxy_bypass_environment`; `*.example.com` is read the same way;
/// - an IPv4 or IPv6 address (brackets optional) matches that address;
/// - `10.0.0.0/8` or `fd00::/8`: a CIDR block (RFC 4632 §3.1, RFC 4291
///   §2.3), matched against endpoints given as addresses (names are not
///   resolved), as the `requests` library does;
/// - `host:port` or `[v6]:port`: the host on that port only (the scheme's
///   default port counts when the endpoint URL names none).
///
/// Names compare case-insensitively; a trailing dot is ignored.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NoProxy {
    entries: Vec<Entry>,
}

impl NoProxy {
    /// Parses the list; entries that fit none of the forms are dropped.
    pub fn parse(list: &str) -> NoProxy {
        NoProxy {
            entries: list.split(',').filter_map(parse_entry).collect(),
        }
    }

    /// Whether `host` (a name or an address, IPv6 without brackets) on `port`
    /// is to be reached directly.
    pub fn matches(&self, host: &str, port: u16) -> bool {
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .trim_end_matches('.')
            .to_ascii_lowercase();
        let ip = host.parse::<IpAddr>().ok();
        self.entries
            .iter()
            .any(|e| entry_matches(e, &host, ip, port))
    }
}

fn parse_entry(raw: &str) -> Option<Entry> {
    let s = raw.trim();
    if s.is_empty() {
        return None;
    }
    if s == "*" {
        return Some(Entry::All);
    }
    if let Some(inner) = s.strip_prefix('[') {
        // `[v6]` or `[v6]:port`.
        let (addr, rest) = inner.split_once(']')?;
        let ip = addr.parse::<Ipv6Addr>().ok()?;
        return match rest.strip_prefix(':') {
            None if rest.is_empty() => Some(Entry::Ip(IpAddr::V6(ip))),
            Some(port) => Some(Entry::WithPort(
                Box::new(Entry::Ip(IpAddr::V6(ip))),
                port.parse().ok()?,
            )),
            None => None,
        };
    }
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(Entry::Ip(ip));
    }
    if let Some((addr, len)) = s.split_once('/') {
        let ip = addr.parse::<IpAddr>().ok()?;
        let len: u8 = len.parse().ok()?;
        let max = if ip.is_ipv4() { 32 } else { 128 };
        return (len <= max).then_some(Entry::Cidr(ip, len));
    }
    // `host:port`: one colon (more would be an IPv6 address, handled above).
    if let Some((host, port)) = s.rsplit_once(':')
        && !host.contains(':')
    {
        let port: u16 = port.parse().ok()?;
        return Some(Entry::WithPort(Box::new(host_entry(host)?), port));
    }
    host_entry(s)
}

/// An address or a domain name (leading `*.` or `.` dropped).
fn host_entry(s: &str) -> Option<Entry> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(Entry::Ip(ip));
    }
    let name = s
        .strip_prefix("*.")
        .unwrap_or(s)
        .trim_start_matches('.')
        .trim_end_matches('.')
        .to_ascii_lowercase();
    (!name.is_empty()).then_some(Entry::Domain(name))
}

fn entry_matches(entry: &Entry, host: &str, ip: Option<IpAddr>, port: u16) -> bool {
    match entry {
        Entry::All => true,
        Entry::Ip(want) => ip.is_some_and(|ip| same_ip(ip, *want)),
        Entry::Cidr(net, len) => ip.is_some_and(|ip| in_block(ip, *net, *len)),
        Entry::Domain(name) => {
            host == name
                || host
                    .strip_suffix(name.as_str())
                    .is_some_and(|rest| rest.ends_with('.'))
        }
        Entry::WithPort(inner, want) => *want == port && entry_matches(inner, host, ip, port),
    }
}

/// Equal addresses, an IPv4-mapped IPv6 address counting as its IPv4 one.
fn same_ip(a: IpAddr, b: IpAddr) -> bool {
    canonical(a) == canonical(b)
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// Whether `ip` lies in `net/len`.
fn in_block(ip: IpAddr, net: IpAddr, len: u8) -> bool {
    let ip = if net.is_ipv4() { canonical(ip) } else { ip };
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) => prefix_eq(v4_bits(ip), v4_bits(net), len, 32),
        (IpAddr::V6(ip), IpAddr::V6(net)) => prefix_eq(ip.to_bits(), net.to_bits(), len, 128),
        _ => false,
    }
}

fn v4_bits(ip: Ipv4Addr) -> u128 {
    u128::from(ip.to_bits())
}

/// Whether the first `len` of `width` bits of `a` and `b` agree.
fn prefix_eq(a: u128, b: u128, len: u8, width: u32) -> bool {
    let len = u32::from(len).min(width);
    if len == 0 {
        return true;
    }
    let shift = width - len;
    (a >> shift) == (b >> shift)
}

#[cfg(test)]
mod tests;
