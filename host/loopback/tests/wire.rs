//! The endpoint on the wire: a tiny std-only HTTP client writes requests by
//! hand and reads responses byte by byte, so every lie the endpoint tells
//! (short bodies, resets, odd headers) is visible as such.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use glacier_verify_core::{
    ByteRange, JobKind, TreeHasher, is_tree_hash_aligned, tree_hash, tree_hash_header_expected,
};
use glacier_verify_loopback::*;
use serde_json::Value;

const MIB: u64 = 1 << 20;
const VAULT: &str = "examplevault";

/// How a response body ended.
#[derive(Debug, PartialEq, Eq)]
enum End {
    /// `Content-Length` bytes arrived.
    Complete,
    /// The server closed the connection early (FIN).
    Eof,
    /// The connection was reset.
    Reset,
    /// The read timed out.
    Timeout,
}

#[derive(Debug)]
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    end: End,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }

    fn content_length(&self) -> u64 {
        self.header("content-length").unwrap().parse().unwrap()
    }

    /// Asserts a docs/protocol.md §3 error.
    fn assert_error(&self, status: u16, code: &str, message: &str) {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(self.header("content-type"), Some("application/json"));
        let v = self.json();
        assert_eq!(v["code"], code);
        assert_eq!(v["message"], message);
        assert_eq!(v["type"], if status >= 500 { "Server" } else { "Client" });
    }
}

/// One client connection.
struct Conn {
    s: TcpStream,
    buf: Vec<u8>,
}

fn classify(e: &io::Error) -> End {
    match e.kind() {
        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted => End::Reset,
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => End::Timeout,
        _ => panic!("unexpected read error {e:?}"),
    }
}

impl Conn {
    fn open(ep: &Endpoint) -> Conn {
        let s = TcpStream::connect(ep.addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        Conn { s, buf: Vec::new() }
    }

    fn raw(&mut self, bytes: &[u8]) -> Resp {
        self.s.write_all(bytes).unwrap();
        self.read_response().expect("a response")
    }

    /// A glacier GET with the version header and any extra headers.
    fn get(&mut self, path: &str, extra: &[(&str, &str)]) -> Resp {
        let mut req = format!(
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-amz-glacier-version: 2012-06-01\r\n"
        );
        for (n, v) in extra {
            req.push_str(&format!("{n}: {v}\r\n"));
        }
        req.push_str("\r\n");
        self.raw(req.as_bytes())
    }

    fn fill(&mut self) -> Result<usize, End> {
        let mut chunk = [0u8; 65536];
        match self.s.read(&mut chunk) {
            Ok(0) => Err(End::Eof),
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Ok(n)
            }
            Err(e) => Err(classify(&e)),
        }
    }

    /// Reads one response; `None` if the connection ended before a head.
    fn read_response(&mut self) -> Option<Resp> {
        let head_end = loop {
            if let Some(p) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break p;
            }
            if self.fill().is_err() {
                return None;
            }
        };
        let head = String::from_utf8(self.buf[..head_end].to_vec()).unwrap();
        self.buf.drain(..head_end + 4);
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap();
        let status = status_line.split(' ').nth(1).unwrap().parse().unwrap();
        let headers: Vec<(String, String)> = lines
            .map(|l| {
                let (n, v) = l.split_once(':').unwrap();
                (n.to_owned(), v.trim().to_owned())
            })
            .collect();
        let len: usize = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map(|(_, v)| v.parse().unwrap())
            .unwrap();
        let mut end = End::Complete;
        while self.buf.len() < len {
            if let Err(e) = self.fill() {
                end = e;
                break;
            }
        }
        let body: Vec<u8> = self.buf.drain(..len.min(self.buf.len())).collect();
        Some(Resp {
            status,
            headers,
            body,
            end,
        })
    }

    /// Whether the server has closed this connection (EOF or reset).
    fn is_closed_by_server(&mut self) -> bool {
        self.s
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut b = [0u8; 1];
        matches!(self.s.read(&mut b), Ok(0) | Err(_))
    }
}

fn start() -> Endpoint {
    Endpoint::start(Config::default()).unwrap()
}

fn get(ep: &Endpoint, path: &str, extra: &[(&str, &str)]) -> Resp {
    Conn::open(ep).get(path, extra)
}

fn range(a: u64, b: u64) -> String {
    format!("bytes={a}-{b}")
}

/// An endpoint with one whole-archive job `job` over `payload`.
fn with_job(payload: Payload, faults: Vec<FaultRule>) -> Endpoint {
    let ep = start();
    let mut job = ArchiveJob::new(VAULT, "job", payload);
    job.faults = faults;
    ep.add_archive_job(job).unwrap();
    ep
}

fn out(ep: &Endpoint) -> String {
    ep.output_path(VAULT, "job")
}

// ---------------------------------------------------------------------------
// DescribeJob

#[test]
fn describe_archive_job_reports_spec_fields() {
    let ep = start();
    let payload = Payload::pattern(5 * MIB + 123, 11);
    ep.add_archive_job(
        ArchiveJob::new(VAULT, "job-a", payload.clone())
            .with_description("my archive")
            .with_archive_id("ARCHIVE-A"),
    )
    .unwrap();
    let r = get(&ep, &ep.job_path(VAULT, "job-a"), &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert!(r.header("x-amzn-requestid").is_some());
    let v = r.json();
    let hash = payload.tree_hash().to_string();
    assert_eq!(v["JobId"], "job-a");
    assert_eq!(v["Action"], "ArchiveRetrieval");
    assert_eq!(v["ArchiveId"], "ARCHIVE-A");
    assert_eq!(v["ArchiveSizeInBytes"], payload.len());
    assert_eq!(v["ArchiveSHA256TreeHash"], hash);
    assert_eq!(v["SHA256TreeHash"], hash);
    assert_eq!(v["RetrievalByteRange"], format!("0-{}", payload.len() - 1));
    assert_eq!(v["InventorySizeInBytes"], Value::Null);
    assert_eq!(v["InventoryRetrievalParameters"], Value::Null);
    assert_eq!(v["Completed"], true);
    assert_eq!(v["StatusCode"], "Succeeded");
    assert_eq!(v["StatusMessage"], "Succeeded");
    assert_eq!(v["Tier"], "Standard");
    assert_eq!(
        v["VaultARN"],
        "arn:aws:glacier:us-east-1:012345678901:vaults/examplevault"
    );
    let created = v["CreationDate"].as_str().unwrap();
    assert!(created.len() == 24 && created.ends_with('Z'), "{created}");
    assert!(v["CompletionDate"].is_string());
    // The account may be `-` (docs/protocol.md §1).
    let r = get(&ep, "/-/vaults/examplevault/jobs/job-a", &[]);
    assert_eq!(r.status, 200);
}

#[test]
fn describe_ranged_retrieval_hashes() {
    let ep = start();
    let payload = Payload::pattern(6 * MIB + MIB / 2, 3);
    let bytes = payload.to_vec();
    // [1 MiB, 3 MiB) is megabyte aligned but not tree-hash aligned; [2, 4) is.
    ep.add_archive_job(
        ArchiveJob::new(VAULT, "odd", payload.clone()).with_retrieval_range(MIB, 3 * MIB - 1),
    )
    .unwrap();
    ep.add_archive_job(
        ArchiveJob::new(VAULT, "even", payload.clone()).with_retrieval_range(2 * MIB, 4 * MIB - 1),
    )
    .unwrap();
    let odd = get(&ep, &ep.job_path(VAULT, "odd"), &[]).json();
    assert_eq!(odd["SHA256TreeHash"], Value::Null);
    assert_eq!(
        odd["RetrievalByteRange"],
        format!("{}-{}", MIB, 3 * MIB - 1)
    );
    assert_eq!(odd["ArchiveSizeInBytes"], payload.len());
    assert_eq!(odd["ArchiveSHA256TreeHash"], tree_hash(&bytes).to_string());
    let even = get(&ep, &ep.job_path(VAULT, "even"), &[]).json();
    assert_eq!(
        even["SHA256TreeHash"],
        tree_hash(&bytes[2 * MIB as usize..4 * MIB as usize]).to_string()
    );
}

#[test]
fn describe_faults() {
    let payload = Payload::pattern(3 * MIB, 5);
    let ep = with_job(
        payload.clone(),
        vec![
            FaultRule::nth(
                1,
                Fault::describe_status(500, "ServiceUnavailableException", "down"),
            ),
            FaultRule::nth(2, Fault::DescribeInProgress),
            FaultRule::nth(3, Fault::DescribeHashWrong),
            // Output faults do not count DescribeJob requests.
            FaultRule::always(Fault::NotReady),
        ],
    );
    let path = ep.job_path(VAULT, "job");
    get(&ep, &path, &[]).assert_error(500, "ServiceUnavailableException", "down");
    let v = get(&ep, &path, &[]).json();
    assert_eq!(
        (v["Completed"].clone(), v["StatusCode"].clone()),
        (Value::Bool(false), "InProgress".into())
    );
    assert_eq!(v["CompletionDate"], Value::Null);
    let v = get(&ep, &path, &[]).json();
    let good = payload.tree_hash().to_string();
    assert_ne!(v["SHA256TreeHash"], good);
    assert_ne!(v["ArchiveSHA256TreeHash"], good);
    assert_eq!(v["SHA256TreeHash"].as_str().unwrap().len(), 64);
    let v = get(&ep, &path, &[]).json();
    assert_eq!(v["SHA256TreeHash"], good);
    assert_eq!(v["Completed"], true);
    ep.wait_idle(Duration::from_secs(5));
    let attempts: Vec<u32> = ep.requests().iter().map(|r| r.attempt).collect();
    assert_eq!(attempts, [1, 2, 3, 4]);
}

// ---------------------------------------------------------------------------
// GetJobOutput

#[test]
fn whole_output_is_200_with_tree_hash() {
    let payload = Payload::pattern(3 * MIB + 77, 1);
    let ep = start();
    ep.add_archive_job(
        ArchiveJob::new(VAULT, "job", payload.clone()).with_description("a \"quoted\", desc"),
    )
    .unwrap();
    let r = get(&ep, &out(&ep), &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.end, End::Complete);
    assert_eq!(r.body, payload.to_vec());
    assert_eq!(r.content_length(), payload.len());
    assert_eq!(r.header("content-type"), Some("application/octet-stream"));
    assert_eq!(r.header("accept-ranges"), Some("bytes"));
    assert_eq!(r.header("content-range"), None);
    assert_eq!(
        r.header("x-amz-archive-description"),
        Some("a \"quoted\", desc")
    );
    assert!(r.header("x-amzn-requestid").is_some());
    assert!(r.header("date").unwrap().ends_with(" GMT"));
    assert_eq!(
        r.header("x-amz-sha256-tree-hash"),
        Some(tree_hash(&r.body).to_string().as_str())
    );
}

#[test]
fn ranged_output_hash_follows_alignment() {
    let size = 6 * MIB + MIB / 2;
    let payload = Payload::pattern(size, 2);
    let bytes = payload.to_vec();
    let ep = with_job(payload, vec![]);
    let mut conn = Conn::open(&ep);
    let cases = [
        (2 * MIB, 4 * MIB - 1, true),
        (MIB, 3 * MIB - 1, false),
        (4 * MIB, size - 1, true),
        (6 * MIB, size - 1, true),
        (0, MIB - 1, true),
        (0, 9, false),
        (5, MIB + 4, false),
    ];
    for (a, b, aligned) in cases {
        let r = conn.get(&out(&ep), &[("Range", &range(a, b))]);
        assert_eq!(r.status, 206);
        assert_eq!(
            r.header("content-range"),
            Some(format!("bytes {a}-{b}/{size}").as_str())
        );
        assert_eq!(r.content_length(), b - a + 1);
        assert_eq!(r.body, &bytes[a as usize..=b as usize]);
        let hash = r.header("x-amz-sha256-tree-hash");
        assert_eq!(hash.is_some(), aligned, "[{a},{b}]");
        if let Some(h) = hash {
            assert_eq!(h, tree_hash(&r.body).to_string());
        }
    }
    // Open-ended and past-the-end ranges.
    let r = conn.get(&out(&ep), &[("Range", &format!("bytes={}-", 4 * MIB))]);
    assert_eq!(r.status, 206);
    assert_eq!(r.body, &bytes[4 * MIB as usize..]);
    assert!(r.header("x-amz-sha256-tree-hash").is_some());
    let r = conn.get(&out(&ep), &[("Range", &range(6 * MIB, 8 * MIB - 1))]);
    assert_eq!(r.status, 206);
    assert_eq!(
        r.header("content-range"),
        Some(format!("bytes {}-{}/{size}", 6 * MIB, size - 1).as_str())
    );
    assert_eq!(r.body, &bytes[6 * MIB as usize..]);
    // A range covering everything is still a 206.
    let r = conn.get(&out(&ep), &[("Range", &range(0, size - 1))]);
    assert_eq!(r.status, 206);
    assert_eq!(
        r.header("x-amz-sha256-tree-hash"),
        Some(tree_hash(&bytes).to_string().as_str())
    );
}

#[test]
fn header_presence_matches_the_formal_rule_exhaustively() {
    // Every MiB-granular range of a 5.5 MiB archive, plus offsets by one.
    let size = 5 * MIB + MIB / 2;
    let payload = Payload::pattern(size, 8);
    let ep = with_job(payload.clone(), vec![]);
    let mut conn = Conn::open(&ep);
    let job = JobKind::Archive {
        archive_size: size,
        retrieval: ByteRange::whole(size).unwrap(),
    };
    let mut points: Vec<u64> = (0..=6).map(|i| (i * MIB).min(size)).collect();
    points.push(1);
    for &a in &points {
        for &end in &points {
            if end <= a {
                continue;
            }
            let r = conn.get(&out(&ep), &[("Range", &range(a, end - 1))]);
            let expect = tree_hash_header_expected(job, ByteRange::new(a, end - 1).unwrap());
            assert_eq!(
                r.header("x-amz-sha256-tree-hash").is_some(),
                expect,
                "[{a},{end})"
            );
            if expect {
                assert_eq!(
                    r.header("x-amz-sha256-tree-hash").unwrap(),
                    tree_hash(&r.body).to_string()
                );
            }
        }
    }
}

#[test]
fn ranged_retrieval_job_output() {
    let size = 6 * MIB + MIB / 2;
    let payload = Payload::pattern(size, 4);
    let bytes = payload.to_vec();
    let ep = start();
    // Not tree-hash aligned: no hashes anywhere (docs/protocol.md §2.3(d)).
    ep.add_archive_job(
        ArchiveJob::new(VAULT, "odd", payload.clone()).with_retrieval_range(MIB, 3 * MIB - 1),
    )
    .unwrap();
    // Aligned: hashes for aligned sub-ranges.
    ep.add_archive_job(
        ArchiveJob::new(VAULT, "even", payload.clone()).with_retrieval_range(4 * MIB, size - 1),
    )
    .unwrap();
    let odd = ep.output_path(VAULT, "odd");
    let r = get(&ep, &odd, &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.body, &bytes[MIB as usize..3 * MIB as usize]);
    assert_eq!(r.header("x-amz-sha256-tree-hash"), None);
    let r = get(&ep, &odd, &[("Range", &range(0, MIB - 1))]);
    assert_eq!(
        r.header("content-range"),
        Some(format!("bytes 0-{}/{}", MIB - 1, 2 * MIB).as_str())
    );
    assert_eq!(r.body, &bytes[MIB as usize..2 * MIB as usize]);
    assert_eq!(r.header("x-amz-sha256-tree-hash"), None);
    // Ranges are relative to the retrieved data (docs/protocol.md §1).
    get(&ep, &odd, &[("Range", &range(2 * MIB, 3 * MIB))]).assert_error(
        400,
        "InvalidParameterValueException",
        &format!(
            "The start of the range is larger than size of retrieved data: bytes={}-{}",
            2 * MIB,
            3 * MIB
        ),
    );

    let even = ep.output_path(VAULT, "even");
    let r = get(&ep, &even, &[]);
    assert_eq!(r.body, &bytes[4 * MIB as usize..]);
    assert_eq!(
        r.header("x-amz-sha256-tree-hash"),
        Some(tree_hash(&r.body).to_string().as_str())
    );
    let r = get(&ep, &even, &[("Range", &range(MIB, 2 * MIB - 1))]);
    assert!(is_tree_hash_aligned(
        ByteRange::new(5 * MIB, 6 * MIB - 1).unwrap(),
        size
    ));
    assert_eq!(
        r.header("x-amz-sha256-tree-hash"),
        Some(tree_hash(&r.body).to_string().as_str())
    );
    assert_eq!(
        ep.job_tree_hash("even"),
        Some(tree_hash(&bytes[4 * MIB as usize..]))
    );
    assert_eq!(ep.job_output_len("even"), Some(size - 4 * MIB));
}

#[test]
fn malformed_ranges_are_ignored() {
    let payload = Payload::pattern(2 * MIB + 5, 6);
    let ep = with_job(payload.clone(), vec![]);
    let mut conn = Conn::open(&ep);
    for bad in [
        "bytes 0-4194303/235812776",
        "Range: bytes=0-1048575",
        "bytes=5-2",
        "bytes=-100",
        "bytes=0-1,5-9",
        "items=0-5",
        "bytes= 0-5",
        "bytes=99999999999999999999999-",
    ] {
        let r = conn.get(&out(&ep), &[("Range", bad)]);
        assert_eq!(r.status, 200, "{bad}");
        assert_eq!(r.content_length(), payload.len());
        assert_eq!(r.header("content-range"), None);
        assert_eq!(r.body.len() as u64, payload.len());
    }
}

#[test]
fn range_start_past_end_is_400() {
    let payload = Payload::pattern(5 * MIB, 6);
    let ep = with_job(payload, vec![]);
    let r = get(&ep, &out(&ep), &[("Range", "bytes=8388608-12582911")]);
    r.assert_error(
        400,
        "InvalidParameterValueException",
        "The start of the range is larger than size of retrieved data: bytes=8388608-12582911",
    );
    let r = get(&ep, &out(&ep), &[("Range", &format!("bytes={}-", 5 * MIB))]);
    assert_eq!(r.status, 400);
}

#[test]
fn unknown_job_vault_account_and_not_ready() {
    let ep = start();
    ep.add_archive_job(
        ArchiveJob::new(VAULT, "later", Payload::pattern(100, 1)).with_completed(false),
    )
    .unwrap();
    get(&ep, &ep.output_path(VAULT, "nope"), &[]).assert_error(
        404,
        "ResourceNotFoundException",
        "The job ID was not found: nope",
    );
    get(&ep, &ep.job_path(VAULT, "nope"), &[]).assert_error(
        404,
        "ResourceNotFoundException",
        "The job ID was not found: nope",
    );
    get(&ep, &ep.output_path("other", "later"), &[]).assert_error(
        404,
        "ResourceNotFoundException",
        "Vault not found for ARN: arn:aws:glacier:us-east-1:012345678901:vaults/other",
    );
    // A job is only found in its own vault.
    ep.add_vault("second");
    assert_eq!(
        get(&ep, &ep.output_path("second", "later"), &[]).status,
        404
    );
    let r = get(
        &ep,
        "/999999999999/vaults/examplevault/jobs/later/output",
        &[],
    );
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["code"], "AccessDeniedException");

    let path = ep.output_path(VAULT, "later");
    get(&ep, &path, &[]).assert_error(
        400,
        "InvalidParameterValueException",
        "The job is not currently available for download: later",
    );
    let v = get(&ep, &ep.job_path(VAULT, "later"), &[]).json();
    assert_eq!(v["Completed"], false);
    assert_eq!(v["StatusCode"], "InProgress");
    ep.set_completed("later", true).unwrap();
    assert_eq!(get(&ep, &path, &[]).status, 200);
    assert_eq!(
        ep.set_completed("ghost", true),
        Err(EndpointError::UnknownJob("ghost".into()))
    );

    let r = get(&ep, "/-/vaults/examplevault/archives", &[]);
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["code"], "UnknownOperationException");
}

// ---------------------------------------------------------------------------
// Vault operations (docs/protocol.md §12)

#[test]
fn list_jobs_pages_and_filters() {
    let ep = start();
    for i in 0..7 {
        let job = ArchiveJob::new(VAULT, format!("job-{i}"), Payload::pattern(MIB, i))
            .with_completed(i % 2 == 0);
        ep.add_archive_job(job).unwrap();
    }
    let base = "/-/vaults/examplevault/jobs";
    let all = get(&ep, base, &[]).json();
    assert_eq!(all["JobList"].as_array().unwrap().len(), 7);
    assert!(all["Marker"].is_null());
    assert_eq!(all["JobList"][0]["Action"], "ArchiveRetrieval");

    let mut seen = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let path = match &marker {
            None => format!("{base}?limit=3"),
            Some(m) => format!("{base}?limit=3&marker={m}"),
        };
        let page = get(&ep, &path, &[]).json();
        let jobs = page["JobList"].as_array().unwrap();
        assert!(jobs.len() <= 3);
        seen.extend(jobs.iter().map(|j| j["JobId"].as_str().unwrap().to_owned()));
        match page["Marker"].as_str() {
            Some(m) => marker = Some(m.to_owned()),
            None => break,
        }
    }
    seen.sort();
    assert_eq!(seen, (0..7).map(|i| format!("job-{i}")).collect::<Vec<_>>());

    let done = get(&ep, &format!("{base}?completed=true"), &[]).json();
    assert_eq!(done["JobList"].as_array().unwrap().len(), 4);
    // A filtered listing pages from its marker's job, oldest first.
    let walk = |query: &str| {
        let (mut ids, mut marker) = (Vec::new(), None::<String>);
        loop {
            let path = match &marker {
                None => format!("{base}?{query}"),
                Some(m) => format!("{base}?{query}&marker={m}"),
            };
            let page = get(&ep, &path, &[]).json();
            ids.extend(
                page["JobList"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|j| j["JobId"].as_str().unwrap().to_owned()),
            );
            match page["Marker"].as_str() {
                Some(m) => marker = Some(m.to_owned()),
                None => return ids,
            }
        }
    };
    assert_eq!(
        walk("completed=true&limit=1"),
        ["job-0", "job-2", "job-4", "job-6"]
    );
    // A job forgotten (its output expired) leaves every listing.
    ep.expire_job("job-2").unwrap();
    assert_eq!(walk("completed=true&limit=1"), ["job-0", "job-4", "job-6"]);
    assert_eq!(walk("limit=2").len(), 6);
    let running = get(&ep, &format!("{base}?statuscode=InProgress"), &[]).json();
    assert_eq!(running["JobList"].as_array().unwrap().len(), 3);

    // A larger limit is served 50 at most (6 jobs are left).
    let capped = get(&ep, &format!("{base}?limit=500"), &[]).json();
    assert_eq!(capped["JobList"].as_array().unwrap().len(), 6);
    for bad in [
        "limit=0",
        "limit=x",
        "marker=nonsense",
        "completed=yes",
        "statuscode=Done",
    ] {
        let r = get(&ep, &format!("{base}?{bad}"), &[]);
        assert_eq!(r.status, 400, "{bad}");
        assert_eq!(r.json()["code"], "InvalidParameterValueException");
    }
    assert_eq!(get(&ep, "/-/vaults/nowhere/jobs", &[]).status, 404);
}

#[test]
fn vaults_policy_and_capacity() {
    let ep = start();
    ep.add_archive_job(ArchiveJob::new(VAULT, "a", Payload::pattern(3 * MIB, 1)))
        .unwrap();
    for i in 0..11 {
        ep.add_vault(&format!("v{i:02}"));
    }
    let v = get(&ep, "/-/vaults/examplevault", &[]).json();
    assert_eq!(v["VaultName"], VAULT);
    assert_eq!(v["NumberOfArchives"], 1);
    assert_eq!(v["SizeInBytes"], 3 * MIB);
    assert_eq!(
        v["VaultARN"],
        "arn:aws:glacier:us-east-1:012345678901:vaults/examplevault"
    );
    let first = get(&ep, "/-/vaults", &[]).json();
    assert_eq!(first["VaultList"].as_array().unwrap().len(), 10);
    let m = first["Marker"].as_str().unwrap().to_owned();
    let rest = get(&ep, &format!("/-/vaults?marker={m}"), &[]).json();
    assert_eq!(rest["VaultList"].as_array().unwrap().len(), 2);
    assert!(rest["Marker"].is_null());

    let p = get(&ep, "/-/policies/data-retrieval", &[]).json();
    assert_eq!(p["Policy"]["Rules"][0]["Strategy"], "FreeTier");
    let c = get(&ep, "/-/provisioned-capacity", &[]).json();
    assert_eq!(c["ProvisionedCapacityList"], Value::Array(Vec::new()));
    assert_eq!(get(&ep, "/-/vaults/nowhere", &[]).status, 404);
    assert_eq!(get(&ep, "/999999999999/vaults", &[]).status, 403);

    ep.fail_operation(Operation::ListVaults, 1, 400, "ThrottlingException");
    assert_eq!(
        get(&ep, "/-/vaults", &[]).json()["code"],
        "ThrottlingException"
    );
    assert_eq!(get(&ep, "/-/vaults", &[]).status, 200);
}

#[test]
fn job_registration_is_validated() {
    let ep = start();
    assert_eq!(
        ep.add_archive_job(
            ArchiveJob::new(VAULT, "j", Payload::pattern(10, 1)).with_retrieval_range(5, 10)
        ),
        Err(EndpointError::BadRetrievalRange {
            first: 5,
            last: 10,
            archive_size: 10
        })
    );
    assert!(
        ep.add_archive_job(
            ArchiveJob::new(VAULT, "j", Payload::pattern(10, 1)).with_retrieval_range(6, 5)
        )
        .is_err()
    );
    assert_eq!(
        ep.add_archive_job(ArchiveJob::new(VAULT, "j", Payload::bytes(Vec::new()))),
        Err(EndpointError::EmptyArchive)
    );
}

// ---------------------------------------------------------------------------
// Headers, authentication, HTTP

#[test]
fn glacier_version_header_is_required() {
    let ep = with_job(Payload::pattern(10, 1), vec![]);
    let mut c = Conn::open(&ep);
    let r = c.raw(format!("GET {} HTTP/1.1\r\nHost: h\r\n\r\n", out(&ep)).as_bytes());
    r.assert_error(
        400,
        "MissingParameterValueException",
        "Required header x-amz-glacier-version is missing",
    );
    let r = c.raw(
        format!(
            "GET {} HTTP/1.1\r\nHost: h\r\nx-amz-glacier-version: 2011-01-01\r\n\r\n",
            out(&ep)
        )
        .as_bytes(),
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["code"], "InvalidParameterValueException");
}

#[test]
fn authentication_failures() {
    let ep = Endpoint::start(Config::default().with_auth(RequireAuthorizationHeader)).unwrap();
    ep.add_archive_job(ArchiveJob::new(VAULT, "job", Payload::pattern(10, 1)))
        .unwrap();
    get(&ep, &out(&ep), &[]).assert_error(
        400,
        "MissingAuthenticationTokenException",
        "Missing Authentication Token",
    );
    let r = get(
        &ep,
        &out(&ep),
        &[("Authorization", "AWS4-HMAC-SHA256 garbage")],
    );
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["code"], "InvalidSignatureException");
    assert_eq!(r.json()["type"], "Client");
    let auth = "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/glacier/aws4_request, \
                SignedHeaders=host;x-amz-date, Signature=abcd";
    assert_eq!(get(&ep, &out(&ep), &[("Authorization", auth)]).status, 200);
    // Refused requests do not count as attempts.
    ep.wait_idle(Duration::from_secs(5));
    let log = ep.requests();
    assert_eq!(log.iter().map(|r| r.attempt).collect::<Vec<_>>(), [0, 0, 1]);
    assert_eq!(log[0].operation, Operation::Other);
    assert_eq!(log[2].operation, Operation::GetJobOutput);
}

#[test]
fn custom_auth_sees_the_raw_request() {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen2 = Arc::clone(&seen);
    let auth = move |r: &Request| {
        seen2.lock().unwrap().push((
            r.method().to_owned(),
            r.path().to_owned(),
            r.query().map(str::to_owned),
            r.headers().to_vec(),
        ));
        if r.header("x-amz-date") == Some("20240101T000000Z") {
            Ok(())
        } else {
            Err(AuthFailure::invalid_signature("Signature expired"))
        }
    };
    let ep = Endpoint::start(Config::default().with_auth(auth)).unwrap();
    ep.add_archive_job(ArchiveJob::new(VAULT, "job", Payload::pattern(10, 1)))
        .unwrap();
    let path = format!("{}?a=b%20c", out(&ep));
    let r = get(&ep, &path, &[("X-Amz-Date", "20240101T000000Z")]);
    assert_eq!(r.status, 200);
    get(&ep, &path, &[]).assert_error(403, "InvalidSignatureException", "Signature expired");
    let seen = seen.lock().unwrap();
    assert_eq!(seen[0].0, "GET");
    assert_eq!(seen[0].1, out(&ep));
    assert_eq!(seen[0].2.as_deref(), Some("a=b%20c"));
    assert!(
        seen[0]
            .3
            .contains(&("X-Amz-Date".to_owned(), "20240101T000000Z".to_owned()))
    );
}

#[test]
fn percent_encoded_paths_are_decoded() {
    let ep = start();
    ep.add_archive_job(ArchiveJob::new(
        "my.vault-1",
        "job id",
        Payload::pattern(10, 1),
    ))
    .unwrap();
    let r = get(&ep, "/-/vaults/my.vault-1/jobs/job%20id/output", &[]);
    assert_eq!(r.status, 200);
    let r = get(&ep, "/-/vaults/my.vault-1/jobs/job%2/output", &[]);
    assert_eq!(r.status, 400);
}

#[test]
fn bad_requests_get_400_and_the_server_survives() {
    let ep = with_job(Payload::pattern(10, 1), vec![]);
    let bad: Vec<Vec<u8>> = vec![
        b"garbage\r\n\r\n".to_vec(),
        b"GET /x HTTP/1.1\r\n\r\n".to_vec(),
        b"GET /x HTTP/9.9\r\nHost: h\r\n\r\n".to_vec(),
        b"GET /x HTTP/1.1\r\nHost: h\r\nBad Header: x\r\n\r\n".to_vec(),
        b"GET /x HTTP/1.1\r\nHost: h\r\nX: \xff\xfe\r\n\r\n".to_vec(),
        b"GET /x HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999\r\n\r\n".to_vec(),
        b"\x00\x01\x02\r\n\r\n".to_vec(),
        format!("GET /{} HTTP/1.1\r\nHost: h\r\n\r\n", "a".repeat(40_000)).into_bytes(),
    ];
    for req in bad {
        let mut c = Conn::open(&ep);
        let r = c.raw(&req);
        assert_eq!(
            r.status,
            400,
            "{:?}",
            String::from_utf8_lossy(&req[..req.len().min(60)])
        );
        assert_eq!(r.json()["code"], "BadRequest");
        assert_eq!(r.header("connection"), Some("close"));
        assert!(c.is_closed_by_server());
    }
    // A head that never ends is cut off at the limit.
    let mut c = Conn::open(&ep);
    let _ = c.s.write_all(&vec![b'a'; MAX_HEAD_BYTES + 100]);
    assert_eq!(c.read_response().unwrap().status, 400);
    // Half a request then EOF: a 400, no crash.
    let mut c = Conn::open(&ep);
    c.s.write_all(b"GET /x HTTP/1.1\r\nHo").unwrap();
    c.s.shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(c.read_response().unwrap().status, 400);
    // Still serving.
    assert_eq!(get(&ep, &out(&ep), &[]).status, 200);
}

#[test]
fn random_garbage_does_not_hurt_the_server() {
    let ep = with_job(Payload::pattern(10, 1), vec![]);
    let mut state = 42u64;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as usize
    };
    for _ in 0..100 {
        let len = next() % 300;
        let mut bytes: Vec<u8> = (0..len).map(|_| (next() % 256) as u8).collect();
        bytes.extend_from_slice(b"\r\n\r\n");
        let mut c = Conn::open(&ep);
        let _ = c.s.write_all(&bytes);
        if let Some(r) = c.read_response() {
            assert_eq!(r.status, 400);
        }
    }
    assert_eq!(get(&ep, &out(&ep), &[]).status, 200);
}

#[test]
fn keep_alive_pipelining_and_connection_close() {
    let payload = Payload::pattern(3 * MIB, 9);
    let ep = with_job(payload.clone(), vec![]);
    let mut c = Conn::open(&ep);
    for i in 0..3u64 {
        let r = c.get(&out(&ep), &[("Range", &range(i * MIB, (i + 1) * MIB - 1))]);
        assert_eq!(r.status, 206);
        assert_eq!(r.header("connection"), None);
    }
    // Two pipelined requests in one write.
    let one = format!(
        "GET {} HTTP/1.1\r\nHost: h\r\nx-amz-glacier-version: 2012-06-01\r\nRange: bytes=0-9\r\n\r\n",
        out(&ep)
    );
    c.s.write_all(format!("{one}{one}").as_bytes()).unwrap();
    for _ in 0..2 {
        let r = c.read_response().unwrap();
        assert_eq!(r.body, payload.range_to_vec(0, 10));
    }
    let r = c.get(&out(&ep), &[("Connection", "close")]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("connection"), Some("close"));
    assert!(c.is_closed_by_server());
    // HTTP/1.0 closes unless asked to keep alive.
    let mut c = Conn::open(&ep);
    let r = c.raw(format!("GET {} HTTP/1.0\r\nx-amz-glacier-version: 2012-06-01\r\nConnection: keep-alive\r\nRange: bytes=0-0\r\n\r\n", out(&ep)).as_bytes());
    assert_eq!(r.header("connection"), Some("keep-alive"));
    let r = c.raw(
        format!(
            "GET {} HTTP/1.0\r\nx-amz-glacier-version: 2012-06-01\r\nRange: bytes=0-0\r\n\r\n",
            out(&ep)
        )
        .as_bytes(),
    );
    assert_eq!(r.status, 206);
    assert!(c.is_closed_by_server());
}

// ---------------------------------------------------------------------------
// Faults on the wire

#[test]
fn flip_bit_changes_body_not_header() {
    let payload = Payload::pattern(4 * MIB, 12);
    let bytes = payload.to_vec();
    let ep = with_job(
        payload.clone(),
        vec![
            FaultRule::once_at(
                2 * MIB,
                Fault::FlipBit {
                    at: Offset::InBody(10),
                    bit: 3,
                },
            ),
            FaultRule::always(Fault::FlipBit {
                at: Offset::InOutput(MIB + 1),
                bit: 0,
            }),
        ],
    );
    let mut c = Conn::open(&ep);
    let part = (2 * MIB) as usize..(4 * MIB) as usize;
    let r = c.get(&out(&ep), &[("Range", &range(2 * MIB, 4 * MIB - 1))]);
    let header = r.header("x-amz-sha256-tree-hash").unwrap().to_owned();
    assert_eq!(header, tree_hash(&bytes[part.clone()]).to_string());
    assert_ne!(tree_hash(&r.body).to_string(), header);
    let diff: Vec<usize> = (0..r.body.len())
        .filter(|&i| r.body[i] != bytes[part.start + i])
        .collect();
    assert_eq!(diff, [10]);
    assert_eq!(r.body[10] ^ bytes[part.start + 10], 1 << 3);
    // Second delivery of the same part is clean.
    let r = c.get(&out(&ep), &[("Range", &range(2 * MIB, 4 * MIB - 1))]);
    assert_eq!(r.body, &bytes[part]);
    // The output-offset flip hits only the part that covers it.
    let r = c.get(&out(&ep), &[("Range", &range(MIB, 2 * MIB - 1))]);
    assert_eq!(r.body[1], bytes[MIB as usize + 1] ^ 1);
    let r = c.get(&out(&ep), &[("Range", &range(0, MIB - 1))]);
    assert_eq!(r.body, &bytes[..MIB as usize]);
    ep.wait_idle(Duration::from_secs(5));
    let log = ep.output_requests("job");
    assert_eq!(log.len(), 4);
    assert!(matches!(
        log[0].faults[..],
        [Fault::FlipBit { .. }, Fault::FlipBit { .. }]
    ));
    assert_eq!(log[1].faults.len(), 1);
}

#[test]
fn truncate_closes_early() {
    let payload = Payload::pattern(2 * MIB, 13);
    let ep = with_job(
        payload.clone(),
        vec![FaultRule::first(1, Fault::Truncate { after: 1000 })],
    );
    let mut c = Conn::open(&ep);
    let r = c.get(&out(&ep), &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.content_length(), 2 * MIB);
    assert_eq!(r.body, payload.range_to_vec(0, 1000));
    assert_eq!(r.end, End::Eof);
    // The retry succeeds.
    let r = get(&ep, &out(&ep), &[]);
    assert_eq!((r.end, r.body.len() as u64), (End::Complete, 2 * MIB));
    ep.wait_idle(Duration::from_secs(5));
    let log = ep.output_requests("job");
    assert_eq!((log[0].body_bytes_sent, log[0].complete), (1000, false));
    assert_eq!((log[1].body_bytes_sent, log[1].complete), (2 * MIB, true));
    assert_eq!(ep.body_bytes_sent(), 2 * MIB + 1000);
}

#[test]
fn content_length_lies() {
    let payload = Payload::pattern(1000, 14);
    let ep = with_job(
        payload.clone(),
        vec![
            FaultRule::nth(1, Fault::ContentLengthTooLarge { extra: 10 }),
            FaultRule::nth(2, Fault::ContentLengthTooSmall { less: 100 }),
        ],
    );
    let r = get(&ep, &out(&ep), &[]);
    assert_eq!(r.content_length(), 1010);
    assert_eq!(r.body, payload.to_vec());
    assert_eq!(r.end, End::Eof);
    let mut c = Conn::open(&ep);
    let r = c.get(&out(&ep), &[("Range", "bytes=0-999")]);
    assert_eq!(r.content_length(), 900);
    assert_eq!(r.header("content-range"), Some("bytes 0-999/1000"));
    assert_eq!(r.body, payload.range_to_vec(0, 900));
    // The connection is still in sync.
    assert_eq!(c.get(&out(&ep), &[]).body, payload.to_vec());
}

#[test]
fn wrong_content_range_and_ignored_range() {
    let payload = Payload::pattern(4 * MIB, 15);
    let ep = with_job(
        payload.clone(),
        vec![
            FaultRule::nth(
                1,
                Fault::WrongContentRange {
                    first_delta: 1,
                    last_delta: 1,
                },
            ),
            FaultRule::nth(2, Fault::IgnoreRange),
        ],
    );
    let mut c = Conn::open(&ep);
    let r = c.get(&out(&ep), &[("Range", &range(MIB, 2 * MIB - 1))]);
    assert_eq!(
        r.header("content-range"),
        Some(format!("bytes {}-{}/{}", MIB + 1, 2 * MIB, 4 * MIB).as_str())
    );
    assert_eq!(r.body, payload.range_to_vec(MIB, 2 * MIB));
    let r = c.get(&out(&ep), &[("Range", &range(MIB, 2 * MIB - 1))]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-range"), None);
    assert_eq!(r.body, payload.to_vec());
    assert_eq!(
        r.header("x-amz-sha256-tree-hash"),
        Some(payload.tree_hash().to_string().as_str())
    );
}

#[test]
fn hash_header_faults() {
    let payload = Payload::pattern(3 * MIB, 16);
    let good = payload.tree_hash().to_string();
    let part = payload.tree_hash_of_range(0, MIB).to_string();
    let cases: Vec<(Fault, Vec<String>)> = vec![
        (Fault::MissingHashHeader, vec![]),
        (Fault::WrongHashHeader, vec!["wrong".into()]),
        (
            Fault::MalformedHashHeader(MalformedHash::Truncated),
            vec![good[..63].into()],
        ),
        (
            Fault::MalformedHashHeader(MalformedHash::NonHex),
            vec![format!("{}g", &good[..63])],
        ),
        (
            Fault::MalformedHashHeader(MalformedHash::TooLong),
            vec![format!("{good}0")],
        ),
        (
            Fault::MalformedHashHeader(MalformedHash::Empty),
            vec![String::new()],
        ),
        (Fault::UppercaseHashHeader, vec![good.to_ascii_uppercase()]),
        (
            Fault::DuplicateHashHeader,
            vec![good.clone(), "wrong".into()],
        ),
    ];
    for (fault, expect) in cases {
        let ep = with_job(payload.clone(), vec![FaultRule::always(fault.clone())]);
        let r = get(&ep, &out(&ep), &[]);
        assert_eq!(r.body.len() as u64, payload.len());
        let got = r.all("x-amz-sha256-tree-hash");
        assert_eq!(got.len(), expect.len(), "{fault:?}");
        for (g, e) in got.iter().zip(&expect) {
            if e == "wrong" {
                assert_eq!(g.len(), 64);
                assert!(g.bytes().all(|b| b.is_ascii_hexdigit()));
                assert_ne!(*g, good);
            } else {
                assert_eq!(g, e, "{fault:?}");
            }
        }
    }
    // Unexpected: a correct header where none is due (non-aligned range).
    let ep = with_job(
        payload.clone(),
        vec![FaultRule::always(Fault::UnexpectedHashHeader)],
    );
    let r = get(&ep, &out(&ep), &[("Range", "bytes=0-99")]);
    assert_eq!(
        r.header("x-amz-sha256-tree-hash"),
        Some(tree_hash(&r.body).to_string().as_str())
    );
    // Wrong on a non-aligned range: present anyway.
    let ep = with_job(
        payload.clone(),
        vec![FaultRule::always(Fault::WrongHashHeader)],
    );
    let r = get(&ep, &out(&ep), &[("Range", "bytes=0-99")]);
    assert!(r.header("x-amz-sha256-tree-hash").is_some());
    assert_ne!(
        r.header("x-amz-sha256-tree-hash"),
        Some(tree_hash(&r.body).to_string().as_str())
    );
    // Aligned part hash is right without faults.
    let ep = with_job(payload, vec![]);
    let r = get(&ep, &out(&ep), &[("Range", &range(0, MIB - 1))]);
    assert_eq!(r.header("x-amz-sha256-tree-hash"), Some(part.as_str()));
}

#[test]
fn retryable_statuses_for_n_attempts() {
    let payload = Payload::pattern(100, 17);
    for (fault, status, code) in [
        (
            Fault::service_unavailable(),
            500,
            "ServiceUnavailableException",
        ),
        (Fault::http_503(), 503, "ServiceUnavailableException"),
        (Fault::throttling(), 400, "ThrottlingException"),
        (Fault::request_timeout(), 408, "RequestTimeoutException"),
    ] {
        let ep = with_job(payload.clone(), vec![FaultRule::first(2, fault)]);
        let mut c = Conn::open(&ep);
        for _ in 0..2 {
            let r = c.get(&out(&ep), &[]);
            assert_eq!(r.status, status);
            assert_eq!(r.json()["code"], code);
            assert_eq!(
                r.json()["type"],
                if status >= 500 { "Server" } else { "Client" }
            );
        }
        assert_eq!(c.get(&out(&ep), &[]).status, 200);
        ep.wait_idle(Duration::from_secs(5));
        let statuses: Vec<u16> = ep.output_requests("job").iter().map(|r| r.status).collect();
        assert_eq!(statuses, [status, status, 200]);
    }
}

#[test]
fn raw_response_and_not_ready_faults() {
    let ep = with_job(
        Payload::pattern(100, 18),
        vec![
            FaultRule::nth(
                1,
                Fault::RawResponse {
                    status: 500,
                    content_type: "text/html".into(),
                    body: "<html>oops</html>".into(),
                },
            ),
            FaultRule::nth(2, Fault::NotReady),
        ],
    );
    let r = get(&ep, &out(&ep), &[]);
    assert_eq!(
        (r.status, r.header("content-type")),
        (500, Some("text/html"))
    );
    assert_eq!(r.body, b"<html>oops</html>");
    get(&ep, &out(&ep), &[]).assert_error(
        400,
        "InvalidParameterValueException",
        "The job is not currently available for download: job",
    );
    assert_eq!(get(&ep, &out(&ep), &[]).status, 200);
}

#[test]
fn slow_drip_and_stall_trip_timeouts() {
    let payload = Payload::pattern(1000, 19);
    let ep = with_job(
        payload.clone(),
        vec![
            FaultRule::nth(
                1,
                Fault::SlowDrip {
                    bytes_per_chunk: 250,
                    delay: Duration::from_millis(60),
                },
            ),
            FaultRule::nth(
                2,
                Fault::SlowDrip {
                    bytes_per_chunk: 100,
                    delay: Duration::from_secs(2),
                },
            ),
            FaultRule::nth(3, Fault::StallBeforeHead(Duration::from_secs(2))),
        ],
    );
    let t = Instant::now();
    let r = get(&ep, &out(&ep), &[]);
    assert_eq!(r.body, payload.to_vec());
    assert!(
        t.elapsed() >= Duration::from_millis(180),
        "{:?}",
        t.elapsed()
    );

    let mut c = Conn::open(&ep);
    c.s.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let r = c.get(&out(&ep), &[]);
    assert_eq!(r.end, End::Timeout);
    assert_eq!(r.body.len(), 100);

    let mut c = Conn::open(&ep);
    c.s.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    c.s.write_all(
        format!(
            "GET {} HTTP/1.1\r\nHost: h\r\nx-amz-glacier-version: 2012-06-01\r\n\r\n",
            out(&ep)
        )
        .as_bytes(),
    )
    .unwrap();
    let mut b = [0u8; 1];
    assert_eq!(classify(&c.s.read(&mut b).unwrap_err()), End::Timeout);
}

#[test]
fn reset_mid_body_is_a_tcp_reset() {
    let payload = Payload::pattern(4 * MIB, 20);
    let ep = with_job(
        payload.clone(),
        vec![FaultRule::first(1, Fault::ResetMidBody { after: 5000 })],
    );
    let mut c = Conn::open(&ep);
    let r = c.get(&out(&ep), &[]);
    assert_eq!(r.status, 200);
    assert!(r.body.len() <= 5000);
    assert_eq!(r.body, payload.range_to_vec(0, r.body.len() as u64));
    assert_eq!(r.end, End::Reset);
    ep.wait_idle(Duration::from_secs(5));
    assert_eq!(ep.output_requests("job")[0].body_bytes_sent, 5000);
    assert_eq!(get(&ep, &out(&ep), &[]).body.len() as u64, 4 * MIB);
}

// ---------------------------------------------------------------------------
// Inventories

#[test]
fn inventory_json_and_csv() {
    let ep = start();
    let a = Payload::pattern(3 * MIB + 1, 21);
    let b = Payload::bytes(&b"hello world"[..]);
    ep.add_archive_job(
        ArchiveJob::new(VAULT, "ja", a.clone())
            .with_archive_id("A")
            .with_description("plain"),
    )
    .unwrap();
    ep.add_archive_job(
        ArchiveJob::new(VAULT, "jb", b.clone())
            .with_archive_id("B")
            .with_description("my archive description,1\"2"),
    )
    .unwrap();
    // A second job over archive A does not duplicate it.
    ep.add_archive_job(
        ArchiveJob::new(VAULT, "ja2", a.clone())
            .with_archive_id("A")
            .with_description("plain")
            .with_retrieval_range(0, MIB - 1),
    )
    .unwrap();
    ep.add_inventory_job(InventoryJob::new(VAULT, "inv-json", InventoryFormat::Json));
    ep.add_inventory_job(InventoryJob::new(VAULT, "inv-csv", InventoryFormat::Csv));

    let r = get(&ep, &ep.output_path(VAULT, "inv-json"), &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("x-amz-sha256-tree-hash"), None);
    let v = r.json();
    assert_eq!(v["VaultARN"], ep.vault_arn(VAULT));
    let list = v["ArchiveList"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    let by_id = |id: &str| list.iter().find(|e| e["ArchiveId"] == id).unwrap().clone();
    assert_eq!(by_id("A")["Size"], a.len());
    assert_eq!(by_id("A")["SHA256TreeHash"], a.tree_hash().to_string());
    assert_eq!(
        by_id("B")["SHA256TreeHash"],
        "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
    );
    let d = get(&ep, &ep.job_path(VAULT, "inv-json"), &[]).json();
    assert_eq!(d["Action"], "InventoryRetrieval");
    assert_eq!(d["InventorySizeInBytes"], r.body.len());
    assert_eq!(d["InventoryRetrievalParameters"]["Format"], "JSON");
    assert_eq!(d["ArchiveSizeInBytes"], Value::Null);
    assert_eq!(d["SHA256TreeHash"], Value::Null);

    let r = get(&ep, &ep.output_path(VAULT, "inv-csv"), &[]);
    assert_eq!(r.header("content-type"), Some("text/csv"));
    let text = String::from_utf8(r.body.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "ArchiveId,ArchiveDescription,CreationDate,Size,SHA256TreeHash"
    );
    assert!(
        lines[2].starts_with("B,\"my archive description,1\\\"2\","),
        "{}",
        lines[2]
    );
    assert_eq!(lines.len(), 3);
    // Ranges work on inventories too, without hashes.
    let r = get(
        &ep,
        &ep.output_path(VAULT, "inv-csv"),
        &[("Range", "bytes=0-8")],
    );
    assert_eq!((r.status, r.body.as_slice()), (206, &b"ArchiveId"[..]));
    assert_eq!(r.header("x-amz-sha256-tree-hash"), None);
    let d = get(&ep, &ep.job_path(VAULT, "inv-csv"), &[]).json();
    assert_eq!(d["InventoryRetrievalParameters"]["Format"], "CSV");
}

#[test]
fn inventory_explicit_and_raw_contents() {
    let ep = start();
    let entry = InventoryEntry {
        archive_id: "X".into(),
        description: "d".into(),
        creation_date: "2012-05-15T17:19:46.700Z".into(),
        size: 5,
        tree_hash: "00".into(),
    };
    ep.add_inventory_job(
        InventoryJob::new(VAULT, "e", InventoryFormat::Csv)
            .with_contents(InventoryContents::Entries(vec![entry])),
    );
    ep.add_inventory_job(
        InventoryJob::new(VAULT, "r", InventoryFormat::Json)
            .with_contents(InventoryContents::Raw(Arc::from(&b"{not json"[..])))
            .with_completed(false),
    );
    let r = get(&ep, &ep.output_path(VAULT, "e"), &[]);
    assert!(
        String::from_utf8(r.body)
            .unwrap()
            .ends_with("X,d,2012-05-15T17:19:46.700Z,5,00\n")
    );
    let d = get(&ep, &ep.job_path(VAULT, "r"), &[]).json();
    assert_eq!(d["InventorySizeInBytes"], Value::Null);
    ep.set_completed("r", true).unwrap();
    assert_eq!(
        get(&ep, &ep.output_path(VAULT, "r"), &[]).body,
        b"{not json"
    );
}

// ---------------------------------------------------------------------------
// Parallel parts, logging, lifecycle

#[test]
fn parallel_parts_compose_to_the_describe_hash() {
    let size = 13 * MIB + 12345;
    let payload = Payload::pattern(size, 22);
    let ep = with_job(
        payload.clone(),
        vec![FaultRule::once_at(
            4 * MIB,
            Fault::FlipBit {
                at: Offset::InBody(7),
                bit: 1,
            },
        )],
    );
    let ep = Arc::new(ep);
    let part = 2 * MIB;
    let parts: Vec<u64> = (0..size.div_ceil(part)).collect();
    let results: Vec<(u64, String, Vec<u8>)> = thread::scope(|s| {
        let handles: Vec<_> = parts
            .chunks(2)
            .map(|chunk| {
                let ep = Arc::clone(&ep);
                s.spawn(move || {
                    let mut c = Conn::open(&ep);
                    chunk
                        .iter()
                        .map(|&i| {
                            let a = i * part;
                            let b = (a + part).min(size) - 1;
                            let mut r = c.get(&out(&ep), &[("Range", &range(a, b))]);
                            let mut h = r.header("x-amz-sha256-tree-hash").unwrap().to_owned();
                            if tree_hash(&r.body).to_string() != h {
                                r = c.get(&out(&ep), &[("Range", &range(a, b))]);
                                h = r.header("x-amz-sha256-tree-hash").unwrap().to_owned();
                            }
                            (i, h, r.body)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let mut results = results;
    results.sort_by_key(|r| r.0);
    let mut whole = TreeHasher::new();
    let mut data = Vec::new();
    for (i, h, body) in &results {
        assert_eq!(tree_hash(body).to_string(), *h, "part {i}");
        data.extend_from_slice(body);
        let d = Digest::from_hex(h.as_bytes()).unwrap();
        if (*i + 1) * part < size {
            whole.push_subtree(d, part).unwrap();
        } else {
            let digest = whole.clone().finish_with(d, body.len() as u64).unwrap();
            let described = get(&ep, &ep.job_path(VAULT, "job"), &[]).json();
            assert_eq!(described["SHA256TreeHash"], digest.to_string());
        }
    }
    assert_eq!(data, payload.to_vec());
    ep.wait_idle(Duration::from_secs(5));
    // 7 parts + 1 retry of the corrupted one.
    let log = ep.output_requests("job");
    assert_eq!(log.len(), 8);
    let retried: Vec<_> = log
        .iter()
        .filter(|r| r.served_range == Some((4 * MIB, 6 * MIB - 1)))
        .collect();
    assert_eq!(retried.len(), 2);
    assert_eq!(ep.body_bytes_sent(), size + part);
    ep.clear_log();
    assert!(ep.requests().is_empty());
    assert_eq!(ep.body_bytes_sent(), 0);
}

#[test]
fn set_faults_replaces_rules() {
    let ep = with_job(
        Payload::pattern(10, 23),
        vec![FaultRule::always(Fault::throttling())],
    );
    assert_eq!(get(&ep, &out(&ep), &[]).status, 400);
    ep.set_faults("job", vec![]).unwrap();
    assert_eq!(get(&ep, &out(&ep), &[]).status, 200);
}

#[test]
fn shutdown_on_drop_closes_everything() {
    let payload = Payload::pattern(64 * MIB, 24);
    let ep = with_job(
        payload,
        vec![FaultRule::always(Fault::SlowDrip {
            bytes_per_chunk: 10,
            delay: Duration::from_secs(5),
        })],
    );
    let addr = ep.addr();
    // An idle keep-alive connection, and one stuck in a slow download.
    let mut idle = Conn::open(&ep);
    assert_eq!(idle.get(&ep.job_path(VAULT, "job"), &[]).status, 200);
    let mut slow = Conn::open(&ep);
    slow.s
        .write_all(
            format!(
                "GET {} HTTP/1.1\r\nHost: h\r\nx-amz-glacier-version: 2012-06-01\r\n\r\n",
                out(&ep)
            )
            .as_bytes(),
        )
        .unwrap();
    thread::sleep(Duration::from_millis(100));
    let t = Instant::now();
    drop(ep);
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "shutdown took {:?}",
        t.elapsed()
    );
    assert!(idle.is_closed_by_server());
    assert!(TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err());
}

#[test]
fn explicit_shutdown_and_lifetime_cap() {
    let ep = start();
    let addr = ep.addr();
    ep.shutdown();
    assert!(TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err());

    let ep =
        Endpoint::start(Config::default().with_max_lifetime(Duration::from_millis(200))).unwrap();
    let addr = ep.addr();
    let mut c = Conn::open(&ep);
    let t = Instant::now();
    while !ep.is_stopped() {
        assert!(t.elapsed() < Duration::from_secs(5));
        thread::sleep(Duration::from_millis(10));
    }
    assert!(c.is_closed_by_server());
    thread::sleep(Duration::from_millis(100));
    assert!(TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err());
}

#[test]
fn idle_connections_time_out() {
    let ep = Endpoint::start(Config {
        idle_timeout: Duration::from_millis(200),
        ..Config::default()
    })
    .unwrap();
    let mut c = Conn::open(&ep);
    let t = Instant::now();
    assert!(c.is_closed_by_server());
    assert!(t.elapsed() < Duration::from_secs(3));
}

#[test]
fn connections_over_the_limit_get_503() {
    let ep = Endpoint::start(Config {
        max_connections: 2,
        ..Config::default()
    })
    .unwrap();
    let _a = Conn::open(&ep);
    let _b = Conn::open(&ep);
    thread::sleep(Duration::from_millis(100));
    let mut c = Conn::open(&ep);
    let r = c.read_response().unwrap();
    assert_eq!(r.status, 503);
    assert_eq!(r.json()["code"], "ServiceUnavailableException");
}

/// Rough serving speed of a 1 GiB pattern over loopback.
/// `cargo test --release -p glacier-verify-loopback --test wire -- --ignored --nocapture throughput`
#[test]
#[ignore = "benchmark"]
fn throughput_1gib() {
    let size = 1u64 << 30;
    let ep = with_job(Payload::pattern(size, 25), vec![]);
    let t = Instant::now();
    ep.warm_up();
    println!("leaf digests of 1 GiB: {:?}", t.elapsed());
    let mut s = TcpStream::connect(ep.addr()).unwrap();
    let t = Instant::now();
    write!(
        s,
        "GET {} HTTP/1.1\r\nHost: h\r\nx-amz-glacier-version: 2012-06-01\r\nConnection: close\r\n\r\n",
        out(&ep)
    )
    .unwrap();
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = s.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        total += n as u64;
    }
    let secs = t.elapsed().as_secs_f64();
    assert!(total > size);
    println!(
        "served {total} bytes in {secs:.2} s: {:.0} MiB/s",
        total as f64 / secs / MIB as f64
    );
}

/// A glacier POST of `body` to `path`.
fn post(ep: &Endpoint, path: &str, body: &str) -> Resp {
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-amz-glacier-version: 2012-06-01\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    Conn::open(ep).raw(req.as_bytes())
}

#[test]
fn initiate_job_creates_jobs_from_the_vault() {
    let ep = start();
    let size = 5 * MIB;
    ep.add_archive_job(
        ArchiveJob::new(VAULT, "up", Payload::pattern(size, 4)).with_archive_id("arch"),
    )
    .unwrap();
    let jobs = "/-/vaults/examplevault/jobs";
    let r = post(
        &ep,
        jobs,
        r#"{"Type":"archive-retrieval","ArchiveId":"arch","RetrievalByteRange":"1048576-3145727","Tier":"Bulk"}"#,
    );
    assert_eq!(r.status, 202);
    let id = r.header("x-amz-job-id").unwrap().to_owned();
    assert_eq!(
        r.header("Location"),
        Some(format!("/012345678901/vaults/examplevault/jobs/{id}").as_str())
    );
    let d = get(&ep, &format!("{jobs}/{id}"), &[]).json();
    assert_eq!(d["RetrievalByteRange"], "1048576-3145727");
    assert_eq!(d["Tier"], "Bulk");
    assert_eq!(d["StatusCode"], "Succeeded");
    let out = get(&ep, &format!("{jobs}/{id}/output"), &[]);
    assert_eq!(out.content_length(), 2 * MIB);

    ep.set_tier_delay("Standard", Duration::from_secs(600));
    let r = post(
        &ep,
        jobs,
        r#"{"Type":"inventory-retrieval","Format":"CSV"}"#,
    );
    assert_eq!(r.status, 202);
    let id = r.header("x-amz-job-id").unwrap().to_owned();
    assert_eq!(
        get(&ep, &format!("{jobs}/{id}"), &[]).json()["StatusCode"],
        "InProgress"
    );
    ep.set_failed(&id, "broken").unwrap();
    let d = get(&ep, &format!("{jobs}/{id}"), &[]).json();
    assert_eq!(
        (d["StatusCode"].as_str(), d["Completed"].as_bool()),
        (Some("Failed"), Some(true))
    );
    assert_eq!(get(&ep, &format!("{jobs}/{id}/output"), &[]).status, 400);
    ep.expire_job(&id).unwrap();
    assert_eq!(get(&ep, &format!("{jobs}/{id}"), &[]).status, 404);

    for (body, status, code) in [
        ("nonsense", 400, "InvalidParameterValueException"),
        ("{}", 400, "MissingParameterValueException"),
        (
            r#"{"Type":"archive-retrieval"}"#,
            400,
            "MissingParameterValueException",
        ),
        (
            r#"{"Type":"archive-retrieval","ArchiveId":"none"}"#,
            404,
            "ResourceNotFoundException",
        ),
        (
            r#"{"Type":"archive-retrieval","ArchiveId":"arch","RetrievalByteRange":"1-1048575"}"#,
            400,
            "InvalidParameterValueException",
        ),
        (
            r#"{"Type":"archive-retrieval","ArchiveId":"arch","Tier":"Fast"}"#,
            400,
            "InvalidParameterValueException",
        ),
        (
            r#"{"Type":"select"}"#,
            400,
            "InvalidParameterValueException",
        ),
    ] {
        let r = post(&ep, jobs, body);
        assert_eq!(
            (r.status, r.json()["code"].as_str()),
            (status, Some(code)),
            "{body}"
        );
    }
    assert_eq!(post(&ep, "/-/vaults/nowhere/jobs", "{}").status, 404);
}
