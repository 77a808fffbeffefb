//! The vault operations (docs/protocol.md §12): ListVaults, DescribeVault,
//! GetDataRetrievalPolicy and ListProvisionedCapacity, their routing (with
//! ListJobs and InitiateJob, in [`super::jobs`]), paging by opaque markers, and the errors
//! a test can make them answer first.

use serde_json::{Value, json};

use super::{Reply, RouteInfo, Routed};
use crate::auth::Request;
use crate::http;
use crate::log::Operation;
use crate::server::Shared;
#[cfg(feature = "faults")]
use crate::server::lock;

/// ListVaults' page size when the request sets no `limit`, and its largest
/// (a larger `limit` is served this many).
pub(crate) const MAX_VAULTS_PER_PAGE: usize = 10;

/// An error a vault operation answers before its real answer.
#[cfg(feature = "faults")]
#[derive(Debug)]
pub(crate) struct OperationFault {
    pub operation: Operation,
    pub remaining: u32,
    pub status: u16,
    pub code: String,
    /// Answered after the operation took effect (an InitiateJob that
    /// started its job), not instead of it.
    pub after: bool,
}

/// A request for a vault operation, recognised by method and path.
struct VaultTarget {
    account: String,
    vault: Option<String>,
    operation: Operation,
}

impl VaultTarget {
    /// `None` when the path names no vault operation (a job, or nothing).
    fn parse(req: &Request) -> Option<VaultTarget> {
        let post = match req.method() {
            "GET" => false,
            "POST" => true,
            _ => return None,
        };
        let segments: Vec<String> = req
            .path()
            .strip_prefix('/')?
            .split('/')
            .map(http::percent_decode)
            .collect::<Option<_>>()?;
        let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
        let (account, vault, operation) = match segs.as_slice() {
            [a, "vaults"] => (*a, None, Operation::ListVaults),
            [a, "vaults", v] if !v.is_empty() => (*a, Some(*v), Operation::DescribeVault),
            [a, "vaults", v, "jobs"] if !v.is_empty() && post => {
                (*a, Some(*v), Operation::InitiateJob)
            }
            _ if post => return None,
            [a, "vaults", v, "jobs"] if !v.is_empty() => (*a, Some(*v), Operation::ListJobs),
            [a, "policies", "data-retrieval"] => (*a, None, Operation::GetDataRetrievalPolicy),
            [a, "provisioned-capacity"] => (*a, None, Operation::ListProvisionedCapacity),
            _ => return None,
        };
        Some(VaultTarget {
            account: account.to_owned(),
            vault: vault.map(str::to_owned),
            operation,
        })
    }
}

/// Answers a vault operation; `None` when the request is not one.
pub(super) fn route(shared: &Shared, req: &Request) -> Option<Routed> {
    let target = VaultTarget::parse(req)?;
    let info = RouteInfo {
        operation: target.operation,
        job_id: None,
        attempt: 0,
        served_range: None,
        #[cfg(feature = "faults")]
        faults: Vec::new(),
    };
    shared.advance_jobs();
    let reply = answer(shared, req, &target);
    Some(Routed { reply, info })
}

fn answer(shared: &Shared, req: &Request, target: &VaultTarget) -> Reply {
    if target.account != "-" && target.account != shared.account_id {
        return Reply::json_error(
            403,
            "AccessDeniedException",
            &format!("Access denied to account {}", target.account),
        );
    }
    #[cfg(feature = "faults")]
    if let Some(reply) = injected_error(shared, target.operation, false) {
        return reply;
    }
    let query = match Query::parse(req.query()) {
        Ok(q) => q,
        Err(reply) => return reply,
    };
    let reply = operate(shared, req, target, &query);
    #[cfg(feature = "faults")]
    if let Some(error) = injected_error(shared, target.operation, true) {
        return error;
    }
    reply
}

/// The operation's own answer.
fn operate(shared: &Shared, req: &Request, target: &VaultTarget, query: &Query) -> Reply {
    match (target.operation, target.vault.as_deref()) {
        (Operation::ListVaults, _) => list_vaults(shared, query),
        (Operation::GetDataRetrievalPolicy, _) => Reply::json(
            200,
            &json!({ "Policy": { "Rules": [{ "Strategy": "FreeTier", "BytesPerHour": Value::Null }] } }),
        ),
        (Operation::ListProvisionedCapacity, _) => {
            Reply::json(200, &json!({ "ProvisionedCapacityList": [] }))
        }
        (Operation::DescribeVault, Some(v)) => match vault_fields(shared, v) {
            Some(fields) => Reply::json(200, &fields),
            None => vault_not_found(shared, v),
        },
        (Operation::InitiateJob, Some(v)) if shared.vault_exists(v) => {
            super::jobs::initiate_job(shared, v, req.body())
        }
        (Operation::ListJobs, Some(v)) if shared.vault_exists(v) => {
            super::jobs::list_jobs(shared, v, query)
        }
        (_, Some(v)) => vault_not_found(shared, v),
        (_, None) => Reply::json_error(500, "ServiceUnavailableException", "unroutable"),
    }
}

/// The first pending injected error for `operation` answered instead of
/// it (`after` false) or after it took effect (`after` true), counting it
/// down (also DescribeJob's and GetJobOutput's, routed in [`super::route`]).
#[cfg(feature = "faults")]
pub(super) fn injected_error(shared: &Shared, operation: Operation, after: bool) -> Option<Reply> {
    let mut faults = lock(&shared.operation_faults);
    let fault = faults
        .iter_mut()
        .find(|f| f.operation == operation && f.after == after && f.remaining > 0)?;
    fault.remaining -= 1;
    Some(Reply::json_error(
        fault.status,
        &fault.code,
        &format!("injected {} for {operation:?}", fault.code),
    ))
}

/// 404 ResourceNotFoundException for a vault.
pub(super) fn vault_not_found(shared: &Shared, vault: &str) -> Reply {
    Reply::json_error(
        404,
        "ResourceNotFoundException",
        &format!("Vault not found for ARN: {}", shared.vault_arn(vault)),
    )
}

/// DescribeVault's fields, also ListVaults' entries.
fn vault_fields(shared: &Shared, vault: &str) -> Option<Value> {
    let (archives, size) = shared.vault_totals(vault)?;
    Some(json!({
        "VaultARN": shared.vault_arn(vault),
        "VaultName": vault,
        "CreationDate": http::iso8601(shared.started),
        "LastInventoryDate": Value::Null,
        "NumberOfArchives": archives,
        "SizeInBytes": size,
    }))
}

fn list_vaults(shared: &Shared, query: &Query) -> Reply {
    let names = shared.vault_names();
    let page = match Page::of(&names, |n| n.as_str(), query, MAX_VAULTS_PER_PAGE) {
        Ok(p) => p,
        Err(reply) => return reply,
    };
    let list: Vec<Value> = page
        .items
        .iter()
        .filter_map(|n| vault_fields(shared, n))
        .collect();
    Reply::json(200, &json!({ "VaultList": list, "Marker": page.marker }))
}

/// The query parameters of the list operations, percent-decoded.
#[derive(Default)]
pub(super) struct Query {
    pub limit: Option<String>,
    pub marker: Option<String>,
    pub completed: Option<String>,
    pub statuscode: Option<String>,
}

impl Query {
    fn parse(raw: Option<&str>) -> Result<Query, Reply> {
        let mut q = Query::default();
        for pair in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let v = http::percent_decode(&v.replace('+', " ")).ok_or_else(|| {
                Reply::json_error(400, "BadRequest", "Invalid percent-encoding in the query")
            })?;
            let slot = match k {
                "limit" => &mut q.limit,
                "marker" => &mut q.marker,
                "completed" => &mut q.completed,
                "statuscode" => &mut q.statuscode,
                _ => continue,
            };
            *slot = Some(v);
        }
        Ok(q)
    }
}

/// One page of a listing and the marker of the next (`None` on the last).
pub(super) struct Page<'a, T> {
    pub items: &'a [T],
    pub marker: Option<String>,
}

impl<'a, T> Page<'a, T> {
    /// The page `query`'s marker and limit select from `all`, whose items
    /// `key` names uniquely; the marker is the (hex-encoded) key of the
    /// page's first item, so it stays opaque to clients.
    pub fn of(
        all: &'a [T],
        key: impl Fn(&T) -> &str,
        query: &Query,
        max: usize,
    ) -> Result<Self, Reply> {
        let limit = page_limit(query, max)?;
        let start = match query.marker.as_deref() {
            None => 0,
            Some(m) => unhex(m)
                .and_then(|want| all.iter().position(|item| key(item).as_bytes() == want))
                .ok_or_else(|| invalid_marker(m))?,
        };
        let end = start.saturating_add(limit).min(all.len());
        Ok(Page {
            items: &all[start..end],
            marker: all.get(end).map(|item| marker_of(key(item))),
        })
    }
}

/// The page size `query` asks for, at most `max` (`max` without one).
pub(super) fn page_limit(query: &Query, max: usize) -> Result<usize, Reply> {
    match query.limit.as_deref() {
        None => Ok(max),
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|n| *n >= 1)
            .map(|n| n.min(max))
            .ok_or_else(|| {
                Reply::json_error(
                    400,
                    "InvalidParameterValueException",
                    &format!("Invalid limit: {l}"),
                )
            }),
    }
}

/// The key `query`'s marker names, if it has one.
pub(super) fn marker_key(query: &Query) -> Result<Option<String>, Reply> {
    let Some(m) = query.marker.as_deref() else {
        return Ok(None);
    };
    unhex(m)
        .and_then(|b| String::from_utf8(b).ok())
        .map(Some)
        .ok_or_else(|| invalid_marker(m))
}

/// 400 for a marker that names nothing.
pub(super) fn invalid_marker(m: &str) -> Reply {
    Reply::json_error(
        400,
        "InvalidParameterValueException",
        &format!("Invalid marker: {m}"),
    )
}

/// The key a marker names (the inverse of [`marker_of`]).
fn unhex(m: &str) -> Option<Vec<u8>> {
    let b = m.as_bytes();
    // Exactly what marker_of writes: lowercase hex, two digits a byte.
    if !b.len().is_multiple_of(2) || !b.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    b.chunks(2)
        .map(|p| {
            let s = std::str::from_utf8(p).ok()?;
            u8::from_str_radix(s, 16).ok()
        })
        .collect()
}

/// The opaque marker naming an item.
pub(super) fn marker_of(key: &str) -> String {
    key.bytes().map(|b| format!("{b:02x}")).collect()
}
