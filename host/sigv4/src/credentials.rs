//! The access key pair a request is signed with.

use std::fmt;

use crate::error::SigV4Error;

/// An AWS access key pair, optionally with the session token of temporary credentials.
///
/// `Debug` prints the access key id (not a secret; it appears in every `Authorization`
/// header) and `***` for the secret key and token. `PartialEq` is not constant-time; use it
/// for configuration, not for authenticating requests.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// Access key id, e.g. `AKIAIOSFODNN7EXAMPLE`.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
    /// Session token of temporary (STS) credentials; sent and signed as
    /// `x-amz-security-token`.
    pub session_token: Option<String>,
}

impl Credentials {
    /// Bundles an access key id, secret access key and optional session token.
    pub fn new(
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
        session_token: Option<String>,
    ) -> Self {
        Credentials {
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            session_token,
        }
    }

    /// Checks the values can be put into request headers: a non-empty access key id
    /// without whitespace, `/` or `,` (it is embedded in `Credential=…/…,`), a non-empty
    /// secret and a non-empty token, all free of whitespace and control characters.
    pub fn validate(&self) -> Result<(), SigV4Error> {
        let bad = |s: &str| s.is_empty() || s.chars().any(|c| c.is_whitespace() || c.is_control());
        if bad(&self.access_key_id) || self.access_key_id.contains(['/', ',']) {
            return Err(SigV4Error::InvalidCredentials("access key id"));
        }
        if bad(&self.secret_access_key) {
            return Err(SigV4Error::InvalidCredentials("secret access key"));
        }
        if self.session_token.as_deref().is_some_and(bad) {
            return Err(SigV4Error::InvalidCredentials("session token"));
        }
        Ok(())
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"***")
            .field("session_token", &self.session_token.as_ref().map(|_| "***"))
            .finish()
    }
}
