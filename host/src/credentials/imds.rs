//! EC2 instance metadata (IMDSv2): a session token first, then the role name, then its
//! credentials.
//!
//! <https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-service.html>,
//! <https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instance-metadata-security-credentials.html>,
//! <https://docs.aws.amazon.com/sdkref/latest/guide/feature-imds-credentials.html>.
//!
//! Short timeouts and few attempts (1 s, one retry, as the SDKs), so that a laptop without
//! an instance metadata service fails in about two seconds. Never through a proxy.

use std::time::Duration;

use super::net::{Call, CallError, Net};
use super::provider::Expiring;
use super::{ConfigError, EndpointUrl, Source};

/// The IPv4 endpoint.
pub const IMDS_IPV4: &str = "http://169.254.169.254";
/// The IPv6 endpoint (`AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6`).
pub const IMDS_IPV6: &str = "http://[fd00:ec2::254]";
/// Lifetime asked for the session token (six hours, the SDKs' value).
const TOKEN_TTL: &str = "21600";
const ROLE_PATH: &str = "/latest/meta-data/iam/security-credentials/";

/// Where and how patiently to ask.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImdsPlan {
    /// The endpoint.
    pub endpoint: EndpointUrl,
    /// Where the endpoint came from.
    pub source: Source,
    /// Per request (connect and read).
    pub timeout: Duration,
    /// Attempts per request (network failures only).
    pub attempts: u32,
}

impl ImdsPlan {
    /// Names the endpoint in messages.
    pub fn describe(&self) -> String {
        format!(
            "EC2 instance metadata at {}://{}",
            self.endpoint.scheme().as_str(),
            self.endpoint.host_header()
        )
    }

    fn call(
        &self,
        net: &Net,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
    ) -> Result<(u16, Vec<u8>), String> {
        let mut last = String::new();
        for _ in 0..self.attempts.max(1) {
            match net.local(&Call {
                method,
                url: &self.endpoint,
                target,
                headers,
                body: b"",
                timeout: self.timeout,
            }) {
                Ok(a) => return Ok((a.status, a.body)),
                Err(CallError::Network(m)) => last = m,
                Err(CallError::Other(m)) => return Err(m),
            }
        }
        Err(last)
    }

    /// The instance profile's credentials.
    pub fn fetch(&self, net: &Net) -> Result<Expiring, String> {
        let (status, token) = self.call(
            net,
            "PUT",
            "/latest/api/token",
            &[("x-aws-ec2-metadata-token-ttl-seconds", TOKEN_TTL)],
        )?;
        if status != 200 {
            return Err(format!("the session token request was answered {status}"));
        }
        let token = String::from_utf8(token)
            .ok()
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty() && !t.contains(['\r', '\n']))
            .ok_or("the session token is not a header value")?;
        let auth = [("x-aws-ec2-metadata-token", token.as_str())];
        let (status, roles) = self.call(net, "GET", ROLE_PATH, &auth)?;
        if status == 404 {
            return Err("the instance has no IAM role (instance profile)".into());
        }
        if status != 200 {
            return Err(format!("the role name request was answered {status}"));
        }
        let roles = String::from_utf8_lossy(&roles);
        let role = roles
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .ok_or("the instance has no IAM role (instance profile)")?;
        if !role
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
        {
            return Err("the role name is not an IAM role name".into());
        }
        let (status, body) = self.call(net, "GET", &format!("{ROLE_PATH}{role}"), &auth)?;
        if status != 200 {
            return Err(format!("the credentials request was answered {status}"));
        }
        parse(&body)
    }
}

/// `{Code:"Success", AccessKeyId, SecretAccessKey, Token, Expiration}`.
fn parse(body: &[u8]) -> Result<Expiring, String> {
    super::answer::from_metadata_json(body, "the credentials answer")
}

/// Parses a metadata endpoint setting; `what` names it in the error.
pub(super) fn endpoint(value: &str, source: Source) -> Result<EndpointUrl, ConfigError> {
    EndpointUrl::parse(value).map_err(|error| ConfigError::InvalidEndpoint {
        value: value.to_string(),
        source,
        error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers() {
        let ok = br#"{"Code":"Success","LastUpdated":"2026-12-01T12:00:00Z","Type":"AWS-HMAC",
            "AccessKeyId":"ASIAIMDS","SecretAccessKey":"S","Token":"T","Expiration":"2026-12-01T18:00:00Z"}"#;
        let e = parse(ok).unwrap();
        assert_eq!(e.credentials.access_key_id, "ASIAIMDS");
        assert!(e.expires.is_some());
        let failed = br#"{"Code":"Failure","AccessKeyId":"A","SecretAccessKey":"S"}"#;
        assert!(parse(failed).unwrap_err().contains("Failure"));
        let secret_in_bad_json = br#"{"AccessKeyId":"A","SecretAccessKey":"TOPSECRET""#;
        let e = parse(secret_in_bad_json).unwrap_err();
        assert!(!e.contains("TOPSECRET"), "{e}");
        assert!(parse(br#"{"AccessKeyId":"A"}"#).is_err());
        assert!(
            parse(br#"{"AccessKeyId":"A","SecretAccessKey":"S","Expiration":"soon"}"#).is_err()
        );
    }
}
