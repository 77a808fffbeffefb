//! IAM Identity Center (SSO): the access token the AWS CLI cached at `aws sso login`,
//! exchanged for role credentials at the portal's `GetRoleCredentials`.
//!
//! <https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-sso.html>,
//! <https://docs.aws.amazon.com/sdkref/latest/guide/feature-sso-credentials.html>,
//! <https://docs.aws.amazon.com/singlesignon/latest/PortalAPIReference/API_GetRoleCredentials.html>.
//!
//! The cache file is `~/.aws/sso/cache/<SHA-1 hex>.json`, of the `sso_session` name, or of
//! the start URL for legacy profiles. This tool reads the token and never refreshes it:
//! a missing or expired token means running `aws sso login` again.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;

use super::net::{Call, Net, excerpt};
use super::provider::Expiring;
use super::{EndpointUrl, expiry};
use crate::sigv4::{Credentials, uri_encode};

const TIMEOUT: Duration = Duration::from_secs(10);

/// What a profile says about its SSO role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SsoPlan {
    /// The `[sso-session NAME]`, or `None` for a legacy profile.
    pub session: Option<String>,
    /// The profile (for the `aws sso login --profile` hint).
    pub profile: String,
    /// `sso_start_url`.
    pub start_url: String,
    /// `sso_account_id`.
    pub account_id: String,
    /// `sso_role_name`.
    pub role_name: String,
    /// The token cache file.
    pub cache_file: PathBuf,
    /// The portal: `https://portal.sso.{sso_region}.amazonaws.com` or an override.
    pub portal: EndpointUrl,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CachedToken {
    access_token: Option<String>,
    expires_at: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Answer {
    role_credentials: Option<RoleCredentials>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RoleCredentials {
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
    session_token: Option<String>,
    /// Milliseconds since the epoch.
    expiration: Option<u64>,
}

/// The lowercase hex SHA-1 of `key`: the cache file's name without `.json`.
pub fn cache_key(key: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, key.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// The portal of `sso_region`.
pub fn default_portal(region: &str) -> String {
    if region.starts_with("cn-") {
        format!("https://portal.sso.{region}.amazonaws.com.cn")
    } else {
        format!("https://portal.sso.{region}.amazonaws.com")
    }
}

impl SsoPlan {
    /// Names the source in messages.
    pub fn describe(&self) -> String {
        match &self.session {
            Some(s) => format!("SSO session '{s}' (profile '{}')", self.profile),
            None => format!(
                "SSO start URL {} (profile '{}')",
                self.start_url, self.profile
            ),
        }
    }

    fn login_hint(&self) -> String {
        match &self.session {
            Some(s) => format!("run `aws sso login --sso-session {s}`"),
            None => format!("run `aws sso login --profile {}`", self.profile),
        }
    }

    /// The cached token, if present and not expired.
    fn token(&self, now: SystemTime) -> Result<String, String> {
        let text = match std::fs::read(&self.cache_file) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(format!(
                    "no SSO token is cached ({} does not exist); {}",
                    self.cache_file.display(),
                    self.login_hint()
                ));
            }
            Err(e) => return Err(format!("cannot read {}: {e}", self.cache_file.display())),
        };
        let cached: CachedToken = serde_json::from_slice(&text).map_err(|e| {
            format!(
                "{} is not an SSO token cache ({e}); {}",
                self.cache_file.display(),
                self.login_hint()
            )
        })?;
        let (Some(token), Some(expires)) = (cached.access_token, cached.expires_at) else {
            return Err(format!(
                "{} has no accessToken or expiresAt; {}",
                self.cache_file.display(),
                self.login_hint()
            ));
        };
        let expires = expiry::parse(&expires)
            .ok_or_else(|| format!("{}: expiresAt is not a time", self.cache_file.display()))?;
        if expires <= now {
            return Err(format!(
                "the SSO token expired at {}; {}",
                expiry::format(expires),
                self.login_hint()
            ));
        }
        if token.is_empty() || token.contains(['\r', '\n']) {
            return Err(format!(
                "{}: accessToken is not a header value",
                self.cache_file.display()
            ));
        }
        Ok(token)
    }

    /// The role's credentials from the portal.
    pub fn fetch(&self, net: &Net) -> Result<Expiring, String> {
        let token = self.token(SystemTime::now())?;
        let target = format!(
            "/federation/credentials?account_id={}&role_name={}",
            uri_encode(&self.account_id),
            uri_encode(&self.role_name)
        );
        let answer = net
            .aws(&Call {
                method: "GET",
                url: &self.portal,
                target: &target,
                headers: &[("x-amz-sso_bearer_token", &token)],
                body: b"",
                timeout: TIMEOUT,
            })
            .map_err(|e| e.message())?;
        match answer.status {
            200 => parse(&answer.body),
            401 | 403 => Err(format!(
                "the portal refused the cached SSO token (HTTP {}: {}); {}",
                answer.status,
                excerpt(&answer.body),
                self.login_hint()
            )),
            s => Err(format!(
                "GetRoleCredentials: HTTP {s}: {}",
                excerpt(&answer.body)
            )),
        }
    }
}

fn parse(body: &[u8]) -> Result<Expiring, String> {
    let a: Answer = serde_json::from_slice(body)
        .map_err(|e| format!("the GetRoleCredentials answer is not the documented JSON ({e})"))?;
    let r = a
        .role_credentials
        .ok_or("the GetRoleCredentials answer has no roleCredentials")?;
    let (Some(akid), Some(secret), Some(token), Some(ms)) = (
        r.access_key_id,
        r.secret_access_key,
        r.session_token,
        r.expiration,
    ) else {
        return Err("the roleCredentials lack a key, the token or the expiration".into());
    };
    let credentials = Credentials::new(akid, secret, Some(token));
    credentials
        .validate()
        .map_err(|_| "the credentials contain whitespace or control characters".to_string())?;
    Ok(Expiring {
        credentials,
        expires: UNIX_EPOCH.checked_add(Duration::from_millis(ms)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_keys_are_sha1_hex() {
        // The FIPS 180 test vectors.
        assert_eq!(cache_key("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(cache_key(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    }

    #[test]
    fn answers() {
        let e = parse(br#"{"roleCredentials":{"accessKeyId":"ASIASSO","secretAccessKey":"S","sessionToken":"T","expiration":1796130000000}}"#).unwrap();
        assert_eq!(e.credentials.access_key_id, "ASIASSO");
        assert_eq!(expiry::format(e.expires.unwrap()), "2026-12-01T13:00:00Z");
        assert!(parse(br#"{"roleCredentials":{"accessKeyId":"A"}}"#).is_err());
        assert!(parse(b"{}").is_err());
        assert_eq!(
            default_portal("eu-west-1"),
            "https://portal.sso.eu-west-1.amazonaws.com"
        );
    }
}
