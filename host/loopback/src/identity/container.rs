//! The container credentials endpoint (ECS, EKS Pod Identity).

use std::time::{Duration, SystemTime};

use super::issued::Issued;
use super::server::{FakeServer, Reply, Served};
use crate::http::iso8601;

/// Serves credentials at `path` to requests whose `Authorization` is `token` (or any
/// request when `token` is `None`). Stops on drop.
pub struct ContainerCredentials {
    server: FakeServer,
}

impl ContainerCredentials {
    /// Starts the endpoint, issuing into `issued` credentials that live `lifetime`.
    pub fn start(
        issued: Issued,
        path: &str,
        token: Option<&str>,
        lifetime: Duration,
    ) -> std::io::Result<Self> {
        let path = path.to_string();
        let token = token.map(str::to_string);
        let server = FakeServer::start(move |req| {
            if req.method() != "GET" || req.path() != path {
                return Reply::text(404, "not found");
            }
            if let Some(want) = &token
                && req.header("authorization") != Some(want.as_str())
            {
                return Reply::text(401, "bad authorization");
            }
            let now = SystemTime::now();
            let c = issued.issue("container", now + lifetime);
            Reply::json(&serde_json::json!({
                "AccessKeyId": c.access_key_id,
                "SecretAccessKey": c.secret_access_key,
                "Token": c.session_token,
                "Expiration": iso8601(now + lifetime),
                "RoleArn": "arn:aws:iam::123456789012:role/task",
            }))
        })?;
        Ok(ContainerCredentials { server })
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
