//! AWS STS: `AssumeRole` (SigV4-signed with the source credentials) and
//! `AssumeRoleWithWebIdentity` (unsigned), Query API over a form POST, XML answers.
//!
//! <https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html>,
//! <https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html>,
//! <https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html>.

use std::time::Duration;

use crate::sigv4::{self, AmzDate, Credentials, SignableRequest, SigningParams, SigningSettings};

use super::net::{Call, Net, excerpt, form_encode};
use super::provider::Expiring;
use super::{
    ConfigError, ENV_ENDPOINT_URL, ENV_ENDPOINT_URL_STS, ENV_IGNORE_CONFIGURED_ENDPOINT_URLS,
    EndpointUrl, Env, Region, Source, expiry,
};

/// The Query API version of STS.
pub const STS_VERSION: &str = "2011-06-15";

/// How long one STS call may take.
const STS_TIMEOUT: Duration = Duration::from_secs(10);

/// Where STS is and the region its requests are signed for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StsEndpoint {
    /// The endpoint.
    pub url: EndpointUrl,
    /// Signing region (`us-east-1` for the global endpoint).
    pub region: String,
}

/// `AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL` (unless ignored), else the regional endpoint
/// `https://sts.{region}.amazonaws.com` (`.amazonaws.com.cn` in China), else, without a
/// region, the global `https://sts.amazonaws.com` signed for `us-east-1`.
pub fn sts_endpoint(env: &Env, region: Option<&Region>) -> Result<StsEndpoint, ConfigError> {
    let signing_region = region.map_or("us-east-1", Region::as_str).to_string();
    if !env.is_true(ENV_IGNORE_CONFIGURED_ENDPOINT_URLS) {
        for var in [ENV_ENDPOINT_URL_STS, ENV_ENDPOINT_URL] {
            if let Some(value) = env.var(var) {
                let url =
                    EndpointUrl::parse(value).map_err(|error| ConfigError::InvalidEndpoint {
                        value: value.to_string(),
                        source: Source::EnvVar(var),
                        error,
                    })?;
                return Ok(StsEndpoint {
                    url,
                    region: signing_region,
                });
            }
        }
    }
    let host = match region.map(Region::as_str) {
        None => "sts.amazonaws.com".to_string(),
        Some(r) if r.starts_with("cn-") => format!("sts.{r}.amazonaws.com.cn"),
        Some(r) => format!("sts.{r}.amazonaws.com"),
    };
    let url = EndpointUrl::parse(&format!("https://{host}")).map_err(|error| {
        ConfigError::InvalidEndpoint {
            value: host.clone(),
            source: Source::Default,
            error,
        }
    })?;
    Ok(StsEndpoint {
        url,
        region: signing_region,
    })
}

/// The parameters of `AssumeRole` from a profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleParams {
    /// `role_arn`.
    pub role_arn: String,
    /// `role_session_name`, else a generated one.
    pub session_name: String,
    /// `external_id`.
    pub external_id: Option<String>,
    /// `duration_seconds`.
    pub duration_seconds: Option<u32>,
}

/// `AssumeRole` signed with `source`.
pub fn assume_role(
    net: &Net,
    sts: &StsEndpoint,
    source: &Credentials,
    role: &RoleParams,
) -> Result<Expiring, String> {
    let duration = role.duration_seconds.map(|d| d.to_string());
    let mut form = vec![
        ("Action", "AssumeRole"),
        ("Version", STS_VERSION),
        ("RoleArn", role.role_arn.as_str()),
        ("RoleSessionName", role.session_name.as_str()),
    ];
    if let Some(id) = &role.external_id {
        form.push(("ExternalId", id));
    }
    if let Some(d) = &duration {
        form.push(("DurationSeconds", d));
    }
    let body = form_encode(&form);
    let host = sts.url.host_header();
    let path = sts.url.request_path("/");
    let base: Vec<(&str, &str)> = vec![
        ("host", &host),
        (
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        ),
    ];
    let time = AmzDate::now().map_err(|e| format!("system clock: {e}"))?;
    let payload = sigv4::sha256_hex(body.as_bytes());
    let signed = sigv4::sign(
        &SignableRequest::new("POST", &path, &base, &payload),
        &SigningParams {
            credentials: source,
            region: &sts.region,
            service: "sts",
            time,
            settings: SigningSettings::default(),
        },
    )
    .map_err(|e| format!("cannot sign the request: {e}"))?;
    let mut headers = base.clone();
    headers.extend(signed.headers.iter().map(|(n, v)| (*n, v.as_str())));
    call(net, sts, &headers, body.as_bytes(), "AssumeRole")
}

/// `AssumeRoleWithWebIdentity`: unsigned, the token is the authentication.
pub fn assume_role_with_web_identity(
    net: &Net,
    sts: &StsEndpoint,
    role_arn: &str,
    session_name: &str,
    token: &str,
    duration_seconds: Option<u32>,
) -> Result<Expiring, String> {
    let duration = duration_seconds.map(|d| d.to_string());
    let mut form = vec![
        ("Action", "AssumeRoleWithWebIdentity"),
        ("Version", STS_VERSION),
        ("RoleArn", role_arn),
        ("RoleSessionName", session_name),
        ("WebIdentityToken", token),
    ];
    if let Some(d) = &duration {
        form.push(("DurationSeconds", d));
    }
    let body = form_encode(&form);
    let host = sts.url.host_header();
    let headers: Vec<(&str, &str)> = vec![
        ("host", &host),
        (
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        ),
    ];
    call(
        net,
        sts,
        &headers,
        body.as_bytes(),
        "AssumeRoleWithWebIdentity",
    )
}

fn call(
    net: &Net,
    sts: &StsEndpoint,
    headers: &[(&str, &str)],
    body: &[u8],
    action: &str,
) -> Result<Expiring, String> {
    let answer = net
        .aws(&Call {
            method: "POST",
            url: &sts.url,
            target: "/",
            headers,
            body,
            timeout: STS_TIMEOUT,
        })
        .map_err(|e| e.message())?;
    if (200..300).contains(&answer.status) {
        parse_credentials(&answer.body)
            .map_err(|what| format!("the {action} answer is not usable: {what}"))
    } else {
        Err(parse_error(answer.status, &answer.body))
    }
}

/// `…Result/Credentials/{AccessKeyId, SecretAccessKey, SessionToken, Expiration}`.
pub fn parse_credentials(body: &[u8]) -> Result<Expiring, &'static str> {
    let text = std::str::from_utf8(body).map_err(|_| "not UTF-8")?;
    let doc = roxmltree::Document::parse(text).map_err(|_| "not XML")?;
    let creds = doc
        .descendants()
        .find(|n| n.has_tag_name("Credentials"))
        .ok_or("no Credentials element")?;
    let field = |name: &str| {
        creds
            .children()
            .find(|n| n.has_tag_name(name))
            .and_then(|n| n.text())
            .map(str::trim)
            .filter(|t| !t.is_empty())
    };
    let akid = field("AccessKeyId").ok_or("no AccessKeyId")?;
    let secret = field("SecretAccessKey").ok_or("no SecretAccessKey")?;
    let token = field("SessionToken").ok_or("no SessionToken")?;
    let expires = field("Expiration")
        .and_then(expiry::parse)
        .ok_or("no valid Expiration")?;
    let credentials = Credentials::new(akid, secret, Some(token.to_string()));
    credentials
        .validate()
        .map_err(|_| "the keys contain whitespace or control characters")?;
    Ok(Expiring {
        credentials,
        expires: Some(expires),
    })
}

/// `ErrorResponse/Error/{Code, Message}` as `HTTP 403 AccessDenied: …`.
pub fn parse_error(status: u16, body: &[u8]) -> String {
    let parsed = std::str::from_utf8(body)
        .ok()
        .and_then(|t| roxmltree::Document::parse(t).ok())
        .and_then(|doc| {
            let error = doc.descendants().find(|n| n.has_tag_name("Error"))?;
            let text = |name: &str| {
                error
                    .children()
                    .find(|n| n.has_tag_name(name))
                    .and_then(|n| n.text())
                    .map(|t| excerpt(t.trim().as_bytes()))
            };
            Some((text("Code")?, text("Message").unwrap_or_default()))
        });
    match parsed {
        Some((code, message)) => format!("HTTP {status} {code}: {message}"),
        None => format!("HTTP {status}: {}", excerpt(body)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_from_the_documented_answer() {
        let body = br#"<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/demo/s</Arn></AssumedRoleUser>
    <Credentials>
      <SessionToken>TOKEN</SessionToken>
      <SecretAccessKey>SECRET</SecretAccessKey>
      <Expiration>2026-12-01T13:00:00Z</Expiration>
      <AccessKeyId>ASIAEXAMPLE</AccessKeyId>
    </Credentials>
  </AssumeRoleResult>
</AssumeRoleResponse>"#;
        let e = parse_credentials(body).unwrap();
        assert_eq!(e.credentials.access_key_id, "ASIAEXAMPLE");
        assert_eq!(e.credentials.secret_access_key, "SECRET");
        assert_eq!(e.credentials.session_token.as_deref(), Some("TOKEN"));
        assert_eq!(expiry::format(e.expires.unwrap()), "2026-12-01T13:00:00Z");
        assert_eq!(
            parse_credentials(b"<a/>").unwrap_err(),
            "no Credentials element"
        );
        assert_eq!(parse_credentials(b"{}").unwrap_err(), "not XML");
        let no_exp = br"<R><Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>S</SecretAccessKey><SessionToken>T</SessionToken></Credentials></R>";
        assert_eq!(
            parse_credentials(no_exp).unwrap_err(),
            "no valid Expiration"
        );
    }

    #[test]
    fn errors_show_code_and_message() {
        let body = br#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>AccessDenied</Code>
  <Message>User is not authorized to perform: sts:AssumeRole</Message></Error>
  <RequestId>1</RequestId></ErrorResponse>"#;
        assert_eq!(
            parse_error(403, body),
            "HTTP 403 AccessDenied: User is not authorized to perform: sts:AssumeRole"
        );
        assert_eq!(
            parse_error(502, b"<html>bad\ngateway"),
            "HTTP 502: <html>badgateway"
        );
    }

    #[test]
    fn endpoints() {
        let r = Region::new("eu-west-3").unwrap();
        let env = Env::new();
        let e = sts_endpoint(&env, Some(&r)).unwrap();
        assert_eq!(e.url.host_header(), "sts.eu-west-3.amazonaws.com");
        assert_eq!(e.region, "eu-west-3");
        let e = sts_endpoint(&env, None).unwrap();
        assert_eq!(
            (e.url.host_header().as_str(), e.region.as_str()),
            ("sts.amazonaws.com", "us-east-1")
        );
        let cn = Region::new("cn-north-1").unwrap();
        assert_eq!(
            sts_endpoint(&env, Some(&cn)).unwrap().url.host_header(),
            "sts.cn-north-1.amazonaws.com.cn"
        );
        let env = Env::new()
            .with_var("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
            .with_var("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:8");
        assert_eq!(sts_endpoint(&env, Some(&r)).unwrap().url.port(), 8);
        let env = env.with_var("AWS_ENDPOINT_URL_STS", "");
        assert_eq!(sts_endpoint(&env, Some(&r)).unwrap().url.port(), 9);
        let env = env.with_var("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "TRUE");
        assert_eq!(sts_endpoint(&env, Some(&r)).unwrap().url.port(), 443);
        let bad = Env::new().with_var("AWS_ENDPOINT_URL_STS", "ftp://x");
        assert!(matches!(
            sts_endpoint(&bad, None),
            Err(ConfigError::InvalidEndpoint { .. })
        ));
    }

    #[test]
    fn form_is_encoded() {
        assert_eq!(
            form_encode(&[("RoleArn", "arn:aws:iam::1:role/a b"), ("X", "=&+")]),
            "RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fa%20b&X=%3D%26%2B"
        );
    }
}
