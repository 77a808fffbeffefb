//! Container credentials: ECS task roles (`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` on
//! 169.254.170.2) and EKS Pod Identity or local agents (`AWS_CONTAINER_CREDENTIALS_FULL_URI`
//! with an `Authorization` token).
//!
//! <https://docs.aws.amazon.com/sdkref/latest/guide/feature-container-credentials.html>,
//! <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html>,
//! <https://docs.aws.amazon.com/eks/latest/userguide/pod-id-how-it-works.html>.
//!
//! As botocore: a full URI must name a loopback address or one of the ECS and EKS
//! addresses (any scheme); a token file beats a token variable and is read on every
//! fetch (it rotates). Never through a proxy; 2 s timeouts, three attempts.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::net::{Call, CallError, Net, excerpt};
use super::provider::Expiring;
use super::{
    ConfigError, ENV_CONTAINER_AUTH_TOKEN, ENV_CONTAINER_AUTH_TOKEN_FILE, ENV_CONTAINER_FULL_URI,
    ENV_CONTAINER_RELATIVE_URI, EndpointUrl, Env, Source,
};

/// The ECS credentials address.
pub const ECS_HOST: &str = "169.254.170.2";
/// Hosts a full URI may name besides loopback addresses (botocore's list).
pub const ALLOWED_HOSTS: &[&str] = &[
    "169.254.170.2",
    "localhost",
    "127.0.0.1",
    "169.254.170.23",
    "fd00:ec2::23",
];
const TIMEOUT: Duration = Duration::from_secs(2);
const ATTEMPTS: u32 = 3;

/// Where the `Authorization` value comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum ContainerAuth {
    /// None (the ECS relative URI).
    None,
    /// `AWS_CONTAINER_AUTHORIZATION_TOKEN` (its `Debug` hides the value).
    Token(String),
    /// `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`.
    File(PathBuf),
}

impl std::fmt::Debug for ContainerAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ContainerAuth::None => f.write_str("None"),
            ContainerAuth::Token(_) => f.write_str("Token(***)"),
            ContainerAuth::File(p) => f.debug_tuple("File").field(p).finish(),
        }
    }
}

/// A container credentials endpoint from the environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerPlan {
    /// The URL's origin.
    pub endpoint: EndpointUrl,
    /// Its path and query.
    pub target: String,
    /// The variable it came from.
    pub source: Source,
    /// The `Authorization` header.
    pub auth: ContainerAuth,
}

/// The container endpoint the environment names, if any.
pub fn plan(env: &Env) -> Result<Option<ContainerPlan>, ConfigError> {
    let invalid = |var: &'static str, value: &str, problem: String| ConfigError::InvalidSetting {
        source: Source::EnvVar(var),
        key: var,
        problem: format!("{value:?}: {problem}"),
    };
    if let Some(relative) = env.var(ENV_CONTAINER_RELATIVE_URI) {
        if !relative.starts_with('/') || relative.contains(['\r', '\n', ' ', '#']) {
            return Err(invalid(
                ENV_CONTAINER_RELATIVE_URI,
                relative,
                "expected a path starting with /".into(),
            ));
        }
        return Ok(Some(ContainerPlan {
            endpoint: EndpointUrl::parse(&format!("http://{ECS_HOST}"))
                .map_err(|e| invalid(ENV_CONTAINER_RELATIVE_URI, relative, e.to_string()))?,
            target: relative.to_string(),
            source: Source::EnvVar(ENV_CONTAINER_RELATIVE_URI),
            auth: auth(env),
        }));
    }
    let Some(full) = env.var(ENV_CONTAINER_FULL_URI) else {
        return Ok(None);
    };
    let (origin, target) = split_url(full)
        .ok_or_else(|| invalid(ENV_CONTAINER_FULL_URI, full, "not an http(s) URL".into()))?;
    let endpoint = EndpointUrl::parse(origin)
        .map_err(|e| invalid(ENV_CONTAINER_FULL_URI, full, e.to_string()))?;
    if !allowed_host(endpoint.host()) {
        return Err(invalid(
            ENV_CONTAINER_FULL_URI,
            full,
            format!(
                "credentials are fetched only from a loopback address or one of {}",
                ALLOWED_HOSTS.join(", ")
            ),
        ));
    }
    Ok(Some(ContainerPlan {
        endpoint,
        target: target.to_string(),
        source: Source::EnvVar(ENV_CONTAINER_FULL_URI),
        auth: auth(env),
    }))
}

fn auth(env: &Env) -> ContainerAuth {
    if let Some(file) = env.var(ENV_CONTAINER_AUTH_TOKEN_FILE) {
        ContainerAuth::File(env.expand_home(file))
    } else if let Some(token) = env.var(ENV_CONTAINER_AUTH_TOKEN) {
        ContainerAuth::Token(token.to_string())
    } else {
        ContainerAuth::None
    }
}

/// `scheme://authority` and the rest (at least `/`).
fn split_url(url: &str) -> Option<(&str, &str)> {
    let after = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))?;
    let scheme_len = url.len() - after.len();
    match after.find(['/', '?']) {
        Some(i) if after.as_bytes()[i] == b'/' => Some(url.split_at(scheme_len + i)),
        Some(_) => None,
        None => Some((url, "/")),
    }
}

/// botocore's rule: a loopback IP, or one of [`ALLOWED_HOSTS`].
pub fn allowed_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>()
        && ip.is_loopback()
    {
        return true;
    }
    ALLOWED_HOSTS.iter().any(|h| h.eq_ignore_ascii_case(bare))
}

impl ContainerPlan {
    /// Names the endpoint in messages.
    pub fn describe(&self) -> String {
        format!(
            "container credentials at {}://{}{} ({})",
            self.endpoint.scheme().as_str(),
            self.endpoint.host_header(),
            self.target,
            self.source
        )
    }

    /// The container's credentials.
    pub fn fetch(&self, net: &Net) -> Result<Expiring, String> {
        let token = match &self.auth {
            ContainerAuth::None => None,
            ContainerAuth::Token(t) => Some(t.clone()),
            ContainerAuth::File(p) => Some(
                std::fs::read_to_string(p)
                    .map_err(|e| format!("cannot read {}: {e}", p.display()))?
                    .trim()
                    .to_string(),
            ),
        };
        if token.as_deref().is_some_and(|t| t.contains(['\r', '\n'])) {
            return Err("the authorization token contains a line break".into());
        }
        let headers: Vec<(&str, &str)> = token
            .as_deref()
            .map(|t| vec![("authorization", t)])
            .unwrap_or_default();
        let mut last = String::new();
        for _ in 0..ATTEMPTS {
            match net.local(&Call {
                method: "GET",
                url: &self.endpoint,
                target: &self.target,
                headers: &headers,
                body: b"",
                timeout: TIMEOUT,
            }) {
                Ok(a) if a.status == 200 => return parse(&a.body),
                Ok(a) => return Err(format!("HTTP {}: {}", a.status, excerpt(&a.body))),
                Err(CallError::Network(m)) => last = m,
                Err(CallError::Other(m)) => return Err(m),
            }
        }
        Err(last)
    }
}

/// `{AccessKeyId, SecretAccessKey, Token, Expiration}`.
fn parse(body: &[u8]) -> Result<Expiring, String> {
    super::answer::from_metadata_json(body, "the answer")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_botocore_allows() {
        for h in [
            "127.0.0.1",
            "127.1.2.3",
            "[::1]",
            "localhost",
            "169.254.170.2",
            "169.254.170.23",
            "[fd00:ec2::23]",
        ] {
            assert!(allowed_host(h), "{h}");
        }
        for h in [
            "169.254.169.254",
            "example.com",
            "10.0.0.1",
            "[fd00:ec2::254]",
        ] {
            assert!(!allowed_host(h), "{h}");
        }
    }

    #[test]
    fn plans_from_the_environment() {
        assert_eq!(plan(&Env::new()).unwrap(), None);
        let env = Env::new()
            .with_var(ENV_CONTAINER_RELATIVE_URI, "/v2/credentials/abc")
            .with_var(ENV_CONTAINER_FULL_URI, "http://127.0.0.1:9/x");
        let p = plan(&env).unwrap().unwrap();
        assert_eq!(p.endpoint.host_header(), "169.254.170.2");
        assert_eq!(p.target, "/v2/credentials/abc");
        assert_eq!(p.auth, ContainerAuth::None);
        let env = Env::new()
            .with_var(
                ENV_CONTAINER_FULL_URI,
                "http://169.254.170.23/v1/credentials",
            )
            .with_var(ENV_CONTAINER_AUTH_TOKEN, "tok")
            .with_var(ENV_CONTAINER_AUTH_TOKEN_FILE, "/var/run/token");
        let p = plan(&env).unwrap().unwrap();
        assert_eq!(p.target, "/v1/credentials");
        assert_eq!(p.auth, ContainerAuth::File("/var/run/token".into()));
        assert!(!format!("{:?}", ContainerAuth::Token("tok".into())).contains("tok"));
        let env = Env::new().with_var(ENV_CONTAINER_FULL_URI, "http://169.254.169.254/latest");
        let e = plan(&env).unwrap_err().to_string();
        assert!(e.contains("loopback address"), "{e}");
        let env = Env::new().with_var(ENV_CONTAINER_FULL_URI, "http://localhost:8080");
        assert_eq!(plan(&env).unwrap().unwrap().target, "/");
        let env = Env::new().with_var(ENV_CONTAINER_RELATIVE_URI, "v2/x");
        assert!(plan(&env).is_err());
    }
}
