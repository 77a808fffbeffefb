//! The IAM Identity Center portal's `GetRoleCredentials`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::issued::Issued;
use super::server::{FakeServer, Reply, Served};

/// Answers `GET /federation/credentials?account_id=ACCOUNT&role_name=ROLE` with header
/// `x-amz-sso_bearer_token: TOKEN`. Stops on drop.
pub struct SsoPortal {
    server: FakeServer,
}

impl SsoPortal {
    /// Starts the portal for one account, role and access token.
    pub fn start(
        issued: Issued,
        account_id: &str,
        role_name: &str,
        access_token: &str,
    ) -> std::io::Result<Self> {
        let want_query = format!("account_id={account_id}&role_name={role_name}");
        let token = access_token.to_string();
        let server = FakeServer::start(move |req| {
            if req.method() != "GET" || req.path() != "/federation/credentials" {
                return Reply::text(404, "{\"message\":\"not found\"}");
            }
            if req.header("x-amz-sso_bearer_token") != Some(token.as_str()) {
                return Reply::text(401, "{\"message\":\"Session token not found or invalid\"}");
            }
            let mut query: Vec<&str> = req.query().unwrap_or("").split('&').collect();
            query.sort_unstable();
            if query.join("&") != want_query {
                return Reply::text(403, "{\"message\":\"No access\"}");
            }
            let expires = SystemTime::now() + Duration::from_secs(3600);
            let c = issued.issue("sso", expires);
            let ms = expires
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64);
            Reply::json(&serde_json::json!({
                "roleCredentials": {
                    "accessKeyId": c.access_key_id,
                    "secretAccessKey": c.secret_access_key,
                    "sessionToken": c.session_token,
                    "expiration": ms,
                }
            }))
        })?;
        Ok(SsoPortal { server })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Every request answered.
    pub fn log(&self) -> Vec<Served> {
        self.server.log()
    }
}
