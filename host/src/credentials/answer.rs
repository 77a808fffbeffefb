//! What every JSON credentials answer must carry — a container endpoint's
//! (ECS, EKS Pod Identity), EC2 instance metadata's, a `credential_process`'s
//! output — checked in one place: both keys, free of whitespace and control
//! characters, and an `Expiration`, when there is one, that is a time.

use serde::Deserialize;

use super::Expiring;
use super::expiry;
use crate::sigv4::Credentials;

impl Expiring {
    /// The keys of an answer. The error says what is wrong, worded to
    /// follow the name of what answered (`the answer …`).
    pub fn from_answer(
        access_key_id: Option<String>,
        secret_access_key: Option<String>,
        token: Option<String>,
        expiration: Option<&str>,
    ) -> Result<Self, String> {
        let (Some(akid), Some(secret)) = (access_key_id, secret_access_key) else {
            return Err("lacks AccessKeyId or SecretAccessKey".into());
        };
        let expires = match expiration {
            Some(t) => {
                Some(expiry::parse(t).ok_or("has an Expiration that is not an ISO 8601 time")?)
            }
            None => None,
        };
        let credentials = Credentials::new(akid, secret, token);
        credentials
            .validate()
            .map_err(|_| "has keys with whitespace or control characters".to_string())?;
        Ok(Expiring {
            credentials,
            expires,
        })
    }
}

/// The JSON both metadata endpoints answer: `{AccessKeyId, SecretAccessKey,
/// Token, Expiration}`, and from EC2 also `Code`, which must be `Success`.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MetadataAnswer {
    code: Option<String>,
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
    token: Option<String>,
    expiration: Option<String>,
}

/// The credentials of a metadata endpoint's answer; `what` names the
/// answer in errors.
pub fn from_metadata_json(body: &[u8], what: &str) -> Result<Expiring, String> {
    let a: MetadataAnswer = serde_json::from_slice(body)
        .map_err(|e| format!("{what} is not the documented JSON ({e})"))?;
    if let Some(code) = a.code.as_deref().filter(|c| *c != "Success") {
        return Err(format!("{what} has Code {code:?}"));
    }
    Expiring::from_answer(
        a.access_key_id,
        a.secret_access_key,
        a.token,
        a.expiration.as_deref(),
    )
    .map_err(|e| format!("{what} {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_needs_both_keys_clean_and_a_real_expiration() {
        let s = |v: &str| Some(v.to_string());
        let e =
            Expiring::from_answer(s("A"), s("S"), s("T"), Some("2026-12-01T18:00:00Z")).unwrap();
        assert_eq!(e.credentials, Credentials::new("A", "S", s("T")));
        assert_eq!(
            e.expires.map(expiry::format).as_deref(),
            Some("2026-12-01T18:00:00Z")
        );
        let forever = Expiring::from_answer(s("A"), s("S"), None, None).unwrap();
        assert_eq!(forever.expires, None);
        let err = |r: Result<Expiring, String>| r.unwrap_err();
        assert_eq!(
            err(Expiring::from_answer(s("A"), None, None, None)),
            "lacks AccessKeyId or SecretAccessKey"
        );
        assert_eq!(
            err(Expiring::from_answer(None, s("S"), None, None)),
            "lacks AccessKeyId or SecretAccessKey"
        );
        assert_eq!(
            err(Expiring::from_answer(s("A"), s("S"), None, Some("soon"))),
            "has an Expiration that is not an ISO 8601 time"
        );
        assert_eq!(
            err(Expiring::from_answer(s("A"), s("secret\n"), None, None)),
            "has keys with whitespace or control characters"
        );
    }

    #[test]
    fn a_metadata_answer_is_named_in_its_errors_and_needs_success() {
        let ok = br#"{"Code":"Success","AccessKeyId":"A","SecretAccessKey":"S","Token":"T","Expiration":"2026-12-01T18:00:00Z"}"#;
        let e = from_metadata_json(ok, "the answer").unwrap();
        assert_eq!(e.credentials, Credentials::new("A", "S", Some("T".into())));
        let without_code = br#"{"AccessKeyId":"A","SecretAccessKey":"S"}"#;
        assert!(from_metadata_json(without_code, "the answer").is_ok());
        let failed =
            br#"{"Code":"AssumeRoleUnauthorizedAccess","AccessKeyId":"A","SecretAccessKey":"S"}"#;
        assert_eq!(
            from_metadata_json(failed, "the credentials answer").unwrap_err(),
            "the credentials answer has Code \"AssumeRoleUnauthorizedAccess\""
        );
        let err = from_metadata_json(b"{", "the answer").unwrap_err();
        assert!(
            err.starts_with("the answer is not the documented JSON ("),
            "{err}"
        );
        assert_eq!(
            from_metadata_json(br#"{"Token":"T"}"#, "the answer").unwrap_err(),
            "the answer lacks AccessKeyId or SecretAccessKey"
        );
    }
}
