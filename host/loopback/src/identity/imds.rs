//! EC2 instance metadata, IMDSv2 only.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use super::issued::Issued;
use super::server::{FakeServer, Reply, Served};
use crate::http::iso8601;
use crate::server::lock;

const ROLE_PATH: &str = "/latest/meta-data/iam/security-credentials/";

/// The fake instance metadata service of an instance with role `role`. Stops on drop.
pub struct Imds {
    server: FakeServer,
    tokens: Arc<Mutex<Vec<String>>>,
}

impl Imds {
    /// Serves an instance whose profile role is `role`, issuing into `issued` credentials
    /// that live `lifetime`.
    pub fn start(issued: Issued, role: &str, lifetime: Duration) -> std::io::Result<Self> {
        let tokens = Arc::new(Mutex::new(Vec::new()));
        let role = role.to_string();
        let server = {
            let tokens = Arc::clone(&tokens);
            FakeServer::start(move |req| {
                if req.method() == "PUT" && req.path() == "/latest/api/token" {
                    let ttl = req
                        .header("x-aws-ec2-metadata-token-ttl-seconds")
                        .and_then(|v| v.parse::<u32>().ok());
                    if !ttl.is_some_and(|t| (1..=21_600).contains(&t)) {
                        return Reply::text(400, "missing or invalid ttl");
                    }
                    let mut t = lock(&tokens);
                    let token = format!("imds-session-token-{}", t.len());
                    t.push(token.clone());
                    return Reply::text(200, token);
                }
                let ok = req
                    .header("x-aws-ec2-metadata-token")
                    .is_some_and(|sent| lock(&tokens).iter().any(|t| t == sent));
                if !ok {
                    return Reply::text(401, "");
                }
                if req.method() != "GET" {
                    return Reply::text(405, "");
                }
                if req.path() == ROLE_PATH {
                    return Reply::text(200, role.clone());
                }
                if req.path().strip_prefix(ROLE_PATH) == Some(role.as_str()) {
                    let now = SystemTime::now();
                    let c = issued.issue("imds", now + lifetime);
                    return Reply::json(&serde_json::json!({
                        "Code": "Success",
                        "LastUpdated": iso8601(now),
                        "Type": "AWS-HMAC",
                        "AccessKeyId": c.access_key_id,
                        "SecretAccessKey": c.secret_access_key,
                        "Token": c.session_token,
                        "Expiration": iso8601(now + lifetime),
                    }));
                }
                Reply::text(404, "")
            })?
        };
        Ok(Imds { server, tokens })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Session tokens handed out.
    pub fn tokens_issued(&self) -> usize {
        lock(&self.tokens).len()
    }

    /// Every request answered.
    pub fn log(&self) -> Vec<Served> {
        self.server.log()
    }
}
