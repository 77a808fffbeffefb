//! A small STS: `AssumeRole` and `AssumeRoleWithWebIdentity` over the Query API.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use super::issued::Issued;
use super::server::{FakeServer, Reply};
use crate::auth::Request;
use crate::http::{iso8601, percent_decode};
use crate::server::lock;

/// How long issued credentials live: the `Expiration` STS announces and the moment the
/// Glacier endpoint stops accepting them (the same unless a test models clock skew).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lifetime {
    /// Announced in `Expiration`.
    pub told: Duration,
    /// Enforced by [`SessionAuth`](super::SessionAuth).
    pub enforced: Duration,
}

impl Lifetime {
    /// Announced and enforced alike.
    pub fn both(d: Duration) -> Self {
        Lifetime {
            told: d,
            enforced: d,
        }
    }
}

/// One call STS answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StsCall {
    /// `Action`.
    pub action: String,
    /// Every form parameter except `WebIdentityToken`.
    pub params: Vec<(String, String)>,
    /// The access key id that signed it (AssumeRole).
    pub signed_by: Option<String>,
    /// The access key id issued, if any.
    pub issued: Option<String>,
    /// The error code answered, if any.
    pub error: Option<String>,
}

impl StsCall {
    /// A form parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct State {
    web_tokens: Vec<String>,
    /// Roles that need an `ExternalId`, and which.
    external_ids: Vec<(String, String)>,
    lifetimes: VecDeque<Lifetime>,
    calls: Vec<StsCall>,
}

/// The fake STS. Stops on drop.
pub struct Sts {
    server: FakeServer,
    state: Arc<Mutex<State>>,
}

impl Sts {
    /// Serves STS for `region`, issuing into `issued`.
    pub fn start(issued: Issued, region: &str) -> std::io::Result<Self> {
        let state = Arc::new(Mutex::new(State::default()));
        let region = region.to_string();
        let server = {
            let state = Arc::clone(&state);
            FakeServer::start(move |req| answer(req, &issued, &region, &state))?
        };
        Ok(Sts { server, state })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Accepts `token` in `AssumeRoleWithWebIdentity`.
    pub fn accept_web_identity_token(&self, token: &str) {
        lock(&self.state).web_tokens.push(token.to_string());
    }

    /// `AssumeRole` of `role_arn` must carry this `ExternalId`.
    pub fn require_external_id(&self, role_arn: &str, id: &str) {
        lock(&self.state)
            .external_ids
            .push((role_arn.to_string(), id.to_string()));
    }

    /// The lifetime of the next credentials issued (then of the next, …); when the queue
    /// is empty, one hour.
    pub fn push_lifetime(&self, lifetime: Lifetime) {
        lock(&self.state).lifetimes.push_back(lifetime);
    }

    /// Every call answered, in order.
    pub fn calls(&self) -> Vec<StsCall> {
        lock(&self.state).calls.clone()
    }
}

fn form(body: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(body)
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| percent_decode(&s.replace('+', " ")).unwrap_or_default();
            (decode(k), decode(v))
        })
        .collect()
}

fn error(status: u16, code: &str, message: &str) -> Reply {
    Reply {
        status,
        content_type: "text/xml",
        body: format!(
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error>\
             <Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>\
             <RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
        )
        .into_bytes(),
    }
}

fn answer(req: &Request, issued: &Issued, region: &str, state: &Mutex<State>) -> Reply {
    let params = form(req.body());
    let get = |name: &str| {
        params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let action = get("Action").unwrap_or("").to_string();
    let mut call = StsCall {
        action: action.clone(),
        params: params
            .iter()
            .filter(|(n, _)| n != "WebIdentityToken")
            .cloned()
            .collect(),
        signed_by: None,
        issued: None,
        error: None,
    };
    let reply = respond(req, issued, region, state, &params, &action, &mut call);
    lock(state).calls.push(call);
    reply
}

fn respond(
    req: &Request,
    issued: &Issued,
    region: &str,
    state: &Mutex<State>,
    params: &[(String, String)],
    action: &str,
    call: &mut StsCall,
) -> Reply {
    let get = |name: &str| {
        params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let fail = |call: &mut StsCall, status: u16, code: &str, message: &str| {
        call.error = Some(code.to_string());
        error(status, code, message)
    };
    if req.method() != "POST" || get("Version") != Some("2011-06-15") {
        return fail(
            call,
            400,
            "InvalidAction",
            "expected a POST with Version=2011-06-15",
        );
    }
    let Some(role_arn) =
        get("RoleArn").filter(|r| r.starts_with("arn:aws:iam::") && r.contains(":role/"))
    else {
        return fail(call, 400, "ValidationError", "RoleArn is not a role ARN");
    };
    let Some(session) = get("RoleSessionName").filter(|s| (2..=64).contains(&s.len())) else {
        return fail(
            call,
            400,
            "ValidationError",
            "RoleSessionName must have 2 to 64 characters",
        );
    };
    match action {
        "AssumeRole" => {
            match issued.check(req, region, "sts", "ExpiredToken") {
                Ok(akid) => call.signed_by = Some(akid),
                Err(e) => return fail(call, e.status, &e.code, &e.message),
            }
            let wanted = lock(state)
                .external_ids
                .iter()
                .find(|(r, _)| r == role_arn)
                .map(|(_, id)| id.clone());
            if wanted.is_some() && get("ExternalId") != wanted.as_deref() {
                return fail(
                    call,
                    403,
                    "AccessDenied",
                    "not authorized to perform sts:AssumeRole (ExternalId)",
                );
            }
        }
        "AssumeRoleWithWebIdentity" => {
            if req.header("authorization").is_some() {
                return fail(
                    call,
                    400,
                    "InvalidRequest",
                    "AssumeRoleWithWebIdentity is not signed",
                );
            }
            let token = get("WebIdentityToken").unwrap_or("");
            if !lock(state).web_tokens.iter().any(|t| t == token) {
                return fail(
                    call,
                    400,
                    "InvalidIdentityToken",
                    "The web identity token is not valid",
                );
            }
        }
        _ => return fail(call, 400, "InvalidAction", "unknown Action"),
    }
    let lifetime = lock(state)
        .lifetimes
        .pop_front()
        .unwrap_or(Lifetime::both(Duration::from_secs(3600)));
    let now = SystemTime::now();
    let creds = issued.issue(&format!("sts:{action}"), now + lifetime.enforced);
    call.issued = Some(creds.access_key_id.clone());
    let body = format!(
        "<{action}Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
         <{action}Result><AssumedRoleUser><Arn>{role_arn}/{session}</Arn>\
         <AssumedRoleId>AROAFAKE:{session}</AssumedRoleId></AssumedRoleUser>\
         <Credentials><AccessKeyId>{}</AccessKeyId><SecretAccessKey>{}</SecretAccessKey>\
         <SessionToken>{}</SessionToken><Expiration>{}</Expiration></Credentials>\
         </{action}Result><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>\
         </{action}Response>",
        creds.access_key_id,
        creds.secret_access_key,
        creds.session_token.unwrap_or_default(),
        iso8601(now + lifetime.told)
    );
    Reply {
        status: 200,
        content_type: "text/xml",
        body: body.into_bytes(),
    }
}
