//! Fault injection: what goes wrong ([`Fault`]) and on which requests of a
//! job ([`Attempts`]), paired in a [`FaultRule`].
//!
//! Faults are the failure modes of docs/protocol.md §1–§3 and §8 (corrupt and
//! truncated bodies, lying headers, ignored ranges, retryable errors, slow
//! and reset connections) and the moto deviations of docs/protocol.md §11.

use std::time::Duration;

/// Where a [`Fault::FlipBit`] lands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Offset {
    /// Offset within this response's body (0 = first byte sent). A body
    /// shorter than that is sent unchanged.
    InBody(u64),
    /// Offset within the job output (the coordinates of `Range`); only a
    /// response whose body covers it is changed, so the same rule corrupts
    /// exactly one part of a parallel download.
    InOutput(u64),
}

/// How [`Fault::MalformedHashHeader`] spoils `x-amz-sha256-tree-hash`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MalformedHash {
    /// The right digest with its last hex digit cut off (63 characters).
    Truncated,
    /// 64 characters, one of them not hex (`g`).
    NonHex,
    /// The right digest with an extra `0` (65 characters).
    TooLong,
    /// An empty value.
    Empty,
}

/// One misbehaviour. Variants named `Describe…` affect DescribeJob; all
/// others affect GetJobOutput. Several faults may apply to one request:
/// an error fault (`Status`, `RawResponse`, `NotReady`) wins and replaces
/// the response; head and body faults combine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    // ---- GetJobOutput: whole-response errors -------------------------------
    /// A JSON error `{"code","message","type"}` (docs/protocol.md §3) with this status;
    /// `type` is `Server` for 5xx, else `Client`. See the constructors
    /// [`Fault::service_unavailable`], [`Fault::throttling`], ….
    Status {
        /// HTTP status.
        status: u16,
        /// The `code` field (e.g. `ThrottlingException`).
        code: String,
        /// The `message` field.
        message: String,
    },
    /// A response with any status, content type and body (e.g. moto's HTML
    /// 500 page or its plain-text 404, docs/protocol.md §11).
    RawResponse {
        /// HTTP status.
        status: u16,
        /// `Content-Type`.
        content_type: String,
        /// Body, sent as is.
        body: String,
    },
    /// 400 InvalidParameterValueException "The job is not currently
    /// available for download: `<id>`" (docs/protocol.md §1), as for a job that is not
    /// completed.
    NotReady,

    // ---- GetJobOutput: head faults -----------------------------------------
    /// Serve the whole output with 200 whatever the `Range` asked, like
    /// moto (docs/protocol.md §11) or a malformed range (docs/protocol.md §1).
    IgnoreRange,
    /// On a 206, a `Content-Range` whose first/last are shifted by these
    /// amounts (total unchanged); the body is still the requested range.
    WrongContentRange {
        /// Added to the first byte.
        first_delta: i64,
        /// Added to the last byte.
        last_delta: i64,
    },
    /// No `x-amz-sha256-tree-hash` even where docs/protocol.md §2.3 requires one.
    MissingHashHeader,
    /// `x-amz-sha256-tree-hash` present (even where none is expected) with
    /// valid hex that is not the body's tree hash.
    WrongHashHeader,
    /// `x-amz-sha256-tree-hash` present with a value that is not 64 hex digits.
    MalformedHashHeader(MalformedHash),
    /// The correct hash in upper case — valid (docs/protocol.md §4.1: compare
    /// case-insensitively), for checking a client accepts it.
    UppercaseHashHeader,
    /// The correct hash of the body sent even where docs/protocol.md §2.3 says there
    /// is none (a non-aligned range, an inventory; docs/protocol.md §2.3(c)).
    UnexpectedHashHeader,
    /// Two `x-amz-sha256-tree-hash` headers: the correct one, then a wrong one.
    DuplicateHashHeader,
    /// Wait this long before sending the response head (trips a client's
    /// response timeout).
    StallBeforeHead(Duration),

    // ---- GetJobOutput: body faults -----------------------------------------
    /// XOR one bit of the body (`bit` 0–7, taken mod 8); headers, including
    /// the tree hash, describe the uncorrupted data.
    FlipBit {
        /// Which byte.
        at: Offset,
        /// Which bit of it.
        bit: u8,
    },
    /// Announce the full `Content-Length`, send at most `after` body bytes,
    /// then close the connection cleanly (FIN): a short body.
    Truncate {
        /// Body bytes sent before closing.
        after: u64,
    },
    /// Announce `extra` more bytes than the body has, send the body, close.
    ContentLengthTooLarge {
        /// Bytes announced but never sent.
        extra: u64,
    },
    /// Announce `less` fewer bytes than the range has and send only that
    /// many (`Content-Range` still describes the full range); the
    /// connection stays usable.
    ContentLengthTooSmall {
        /// Bytes missing.
        less: u64,
    },
    /// Send the body `bytes_per_chunk` bytes at a time with `delay` between
    /// writes (trips a client's read timeout or makes a download slow).
    SlowDrip {
        /// Bytes per write (at least 1).
        bytes_per_chunk: usize,
        /// Pause after each write.
        delay: Duration,
    },
    /// One more line in the head, sent verbatim (a header no Glacier sends:
    /// a second, different `Content-Length`, a line without a colon).
    RawHeaderLine(String),
    /// Send `after` body bytes, then abort the connection with a TCP reset
    /// (`SO_LINGER` 0): the client sees `ECONNRESET`, not an EOF.
    ResetMidBody {
        /// Body bytes sent before the reset.
        after: u64,
    },

    // ---- DescribeJob -------------------------------------------------------
    /// DescribeJob answers with this JSON error instead (docs/protocol.md §3).
    DescribeStatus {
        /// HTTP status.
        status: u16,
        /// The `code` field.
        code: String,
        /// The `message` field.
        message: String,
    },
    /// DescribeJob's `SHA256TreeHash` (and `ArchiveSHA256TreeHash` when the
    /// whole archive is retrieved) disagrees with the data: one bit flipped.
    /// A ranged job whose range is not tree-hash aligned still reports null.
    DescribeHashWrong,
    /// DescribeJob says `Completed: false`, `StatusCode: InProgress`
    /// (pair with [`Fault::NotReady`] on the output for a job that becomes
    /// ready after a few polls).
    DescribeInProgress,
    /// DescribeJob's field `name` says `value` instead (an absurd
    /// `ArchiveSizeInBytes`, a range no job has).
    DescribeField {
        /// The field, e.g. `ArchiveSizeInBytes`.
        name: String,
        /// What it says.
        value: serde_json::Value,
    },
    /// DescribeJob's JSON is padded with an extra string field to at least
    /// this many bytes.
    DescribeOversized {
        /// Body length.
        bytes: usize,
    },

    // ---- both --------------------------------------------------------------
    /// An interim `HTTP/1.1 100 Continue` response before the real one
    /// (RFC 9110 §15.2: a client must accept and skip any number of them).
    InterimContinue,
}

impl Fault {
    /// 500 ServiceUnavailableException (docs/protocol.md §3; retryable).
    pub fn service_unavailable() -> Self {
        Fault::Status {
            status: 500,
            code: "ServiceUnavailableException".into(),
            message: "Service is unavailable. Please try again later.".into(),
        }
    }

    /// 503 ServiceUnavailableException (retryable).
    pub fn http_503() -> Self {
        Fault::Status {
            status: 503,
            code: "ServiceUnavailableException".into(),
            message: "Service is unavailable. Please try again later.".into(),
        }
    }

    /// 400 ThrottlingException (docs/protocol.md §3; retryable although 400).
    pub fn throttling() -> Self {
        Fault::Status {
            status: 400,
            code: "ThrottlingException".into(),
            message: "Rate exceeded".into(),
        }
    }

    /// 408 RequestTimeoutException (docs/protocol.md §3; retryable).
    pub fn request_timeout() -> Self {
        Fault::Status {
            status: 408,
            code: "RequestTimeoutException".into(),
            message: "Request timed out.".into(),
        }
    }

    /// Any JSON error on GetJobOutput.
    pub fn status(status: u16, code: &str, message: &str) -> Self {
        Fault::Status {
            status,
            code: code.into(),
            message: message.into(),
        }
    }

    /// Any JSON error on DescribeJob.
    pub fn describe_status(status: u16, code: &str, message: &str) -> Self {
        Fault::DescribeStatus {
            status,
            code: code.into(),
            message: message.into(),
        }
    }

    /// Whether the fault acts on DescribeJob (else on GetJobOutput).
    pub fn is_describe(&self) -> bool {
        matches!(
            self,
            Fault::DescribeStatus { .. }
                | Fault::DescribeHashWrong
                | Fault::DescribeInProgress
                | Fault::DescribeField { .. }
                | Fault::DescribeOversized { .. }
        )
    }

    /// Whether the fault changes DescribeJob responses.
    pub fn on_describe(&self) -> bool {
        self.is_describe() || *self == Fault::InterimContinue
    }

    /// Whether the fault changes GetJobOutput responses.
    pub fn on_output(&self) -> bool {
        !self.is_describe()
    }
}

/// Which requests of a job a [`FaultRule`] applies to. GetJobOutput and
/// DescribeJob requests are counted separately, from 1, per job; requests
/// rejected before reaching the job (authentication, unknown vault) are
/// not counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attempts {
    /// Every request.
    All,
    /// The first `n` requests (a retryable error that clears after `n` tries).
    First(u32),
    /// Only the `n`-th request (1-based).
    Nth(u32),
    /// The first `times` GetJobOutput requests whose range starts at
    /// `offset` of the job output (a request without a usable `Range`
    /// starts at 0); `u32::MAX` for all of them. One part of a parallel
    /// download, on its first delivery only: `StartingAt { offset, times: 1 }`.
    /// Never matches DescribeJob.
    StartingAt {
        /// First byte of the requested range, relative to the job output.
        offset: u64,
        /// How many such requests.
        times: u32,
    },
}

impl Attempts {
    /// Whether the request matches: `attempt` is its number among the
    /// job's requests of its kind, `start` the first byte it asks for
    /// (None for DescribeJob) and `at_start` its number among the job's
    /// requests starting there.
    pub(crate) fn matches(&self, attempt: u32, start: Option<u64>, at_start: u32) -> bool {
        match *self {
            Attempts::All => true,
            Attempts::First(n) => attempt <= n,
            Attempts::Nth(n) => attempt == n,
            Attempts::StartingAt { offset, times } => start == Some(offset) && at_start <= times,
        }
    }
}

/// A fault and the requests it applies to.
///
/// ```
/// use glacier_verify_loopback::{Attempts, Fault, FaultRule, Offset};
/// // Corrupt the part starting at 8 MiB on its first delivery only.
/// let rule = FaultRule::new(
///     Fault::FlipBit { at: Offset::InBody(100), bit: 0 },
///     Attempts::StartingAt { offset: 8 << 20, times: 1 },
/// );
/// // Two 500s, then success.
/// let flaky = FaultRule::new(Fault::service_unavailable(), Attempts::First(2));
/// # let _ = (rule, flaky);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultRule {
    /// What goes wrong.
    pub fault: Fault,
    /// On which requests.
    pub when: Attempts,
}

impl FaultRule {
    /// `fault` on the requests `when` selects.
    pub fn new(fault: Fault, when: Attempts) -> Self {
        FaultRule { fault, when }
    }

    /// `fault` on every request.
    pub fn always(fault: Fault) -> Self {
        FaultRule::new(fault, Attempts::All)
    }

    /// `fault` on the first `n` requests.
    pub fn first(n: u32, fault: Fault) -> Self {
        FaultRule::new(fault, Attempts::First(n))
    }

    /// `fault` on the `n`-th request only.
    pub fn nth(n: u32, fault: Fault) -> Self {
        FaultRule::new(fault, Attempts::Nth(n))
    }

    /// `fault` on the first request whose range starts at `offset`.
    pub fn once_at(offset: u64, fault: Fault) -> Self {
        FaultRule::new(fault, Attempts::StartingAt { offset, times: 1 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_select() {
        assert!(Attempts::All.matches(9, None, 0));
        assert!(Attempts::First(2).matches(2, Some(0), 2));
        assert!(!Attempts::First(2).matches(3, Some(0), 3));
        assert!(Attempts::Nth(3).matches(3, None, 0));
        assert!(!Attempts::Nth(3).matches(2, None, 0));
        let at = Attempts::StartingAt {
            offset: 5,
            times: 1,
        };
        assert!(at.matches(7, Some(5), 1));
        assert!(!at.matches(8, Some(5), 2));
        assert!(!at.matches(1, Some(0), 1));
        assert!(!at.matches(1, None, 1));
    }

    #[test]
    fn describe_faults_are_classified() {
        assert!(Fault::DescribeHashWrong.is_describe());
        assert!(Fault::describe_status(500, "X", "y").is_describe());
        assert!(!Fault::NotReady.is_describe());
        assert!(!Fault::throttling().is_describe());
    }
}
