//! [`RawVerifier`]: one GetJobOutput response pushed in as the raw bytes a
//! socket delivers — status line, headers, then body — in pieces cut
//! anywhere, in fixed memory.
//!
//! [`verify_response`](crate::verify_response) pulls the same bytes from an
//! `embedded_io::Read`; this is its push form, for a caller whose receive
//! loop owns the buffer (a C gateway's `recv`, an interrupt-driven driver).
//! The head is gathered in a buffer of [`RAW_HEAD_LEN`] bytes inside the
//! state, parsed by [`parse_head`](crate::parse_head) as soon as its last
//! line has arrived, and handed to a [`Verifier`]; every byte after it is
//! body. The checks and their order are the verifier's (docs/protocol.md §9).
//!
//! The first failure ends the response: it is returned by the call that
//! found it and by every later call, so a receive loop may feed to the end
//! and look only at [`finish`](RawVerifier::finish).

use core::fmt;

use crate::Error;
use crate::head::{Parsed, parse_head};
use crate::verify::{Expectation, Verified, Verifier};

/// Bytes of response head a [`RawVerifier`] holds.
///
/// A Glacier GetJobOutput head is well under 1 KiB unless it carries an
/// `x-amz-archive-description` near its limit of 1024 characters
/// (docs/protocol.md §2.2); 2 KiB holds that largest head with some 600
/// bytes to spare for headers a proxy adds (and any interim `1xx` head,
/// docs/protocol.md §2.5). A longer head is [`Error::HeadTooLarge`].
pub const RAW_HEAD_LEN: usize = 2048;

/// Where the response is.
#[derive(Clone, Copy, Debug)]
enum Phase {
    /// Gathering the head.
    Head,
    /// The head was accepted; body bytes go to the verifier.
    Body,
    /// Ended: a failure, or the verdict of [`RawVerifier::finish`].
    Done(Result<Verified, Error>),
}

/// Verifies one raw response fed in any split, in fixed memory (no
/// allocation; the head is kept in [`RAW_HEAD_LEN`] bytes of the state).
///
/// ```
/// use glacier_verify_core::{Expectation, Level, RawVerifier, tree_hash};
/// let body = vec![0x5au8; 3 << 20];
/// let head = format!(
///     "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nx-amz-sha256-tree-hash: {}\r\n\r\n",
///     body.len(),
///     tree_hash(&body)
/// );
/// let response = [head.as_bytes(), &body].concat();
///
/// let mut v = RawVerifier::new(Expectation::unknown(None)).unwrap();
/// for piece in response.chunks(1460) {
///     v.feed(piece).unwrap();
/// }
/// assert_eq!(v.finish().unwrap().level(), Level::HeaderHash);
/// ```
#[derive(Clone)]
pub struct RawVerifier {
    verifier: Verifier,
    head: [u8; RAW_HEAD_LEN],
    /// Bytes of `head` in use.
    filled: usize,
    phase: Phase,
}

impl fmt::Debug for RawVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawVerifier")
            .field("head_bytes", &self.filled)
            .field("phase", &self.phase)
            .field("verifier", &self.verifier)
            .finish()
    }
}

/// A verifier that knows nothing about the response
/// (`Expectation::unknown(None)`): what [`RawVerifier::restart`] sets up
/// in place.
impl Default for RawVerifier {
    fn default() -> Self {
        RawVerifier {
            verifier: Verifier::unknown(),
            head: [0; RAW_HEAD_LEN],
            filled: 0,
            phase: Phase::Head,
        }
    }
}

impl RawVerifier {
    /// A verifier for one response; refuses what [`Verifier::new`] refuses.
    pub fn new(expect: Expectation) -> Result<Self, Error> {
        Ok(RawVerifier {
            verifier: Verifier::new(expect)?,
            head: [0; RAW_HEAD_LEN],
            filled: 0,
            phase: Phase::Head,
        })
    }

    /// Starts over, in place, for a new response with `expect`: what
    /// [`new`](Self::new) does, without a second state on the stack (the
    /// state is some 4 KB; a gateway keeps one and restarts it). On an
    /// inconsistent expectation the error is returned and kept: every call
    /// returns it until the next successful restart.
    pub fn restart(&mut self, expect: Expectation) -> Result<(), Error> {
        self.filled = 0;
        self.phase = Phase::Head;
        let result = self.verifier.restart(expect);
        if let Err(e) = result {
            self.phase = Phase::Done(Err(e));
        }
        result
    }

    /// Feeds the next bytes of the response, cut anywhere. Fails as soon as
    /// the bytes so far cannot be a passing response: a malformed or
    /// refused head, a head longer than [`RAW_HEAD_LEN`]
    /// ([`Error::HeadTooLarge`]), a body byte past `Content-Length`
    /// ([`Error::BodyTooLong`], the excess is not hashed). After the first
    /// failure every call returns it again; after [`finish`](Self::finish)
    /// more bytes mean a response longer than the one concluded
    /// ([`Error::BodyTooLong`]).
    pub fn feed(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let result = match self.phase {
            Phase::Done(Err(e)) => Err(e),
            Phase::Done(Ok(_)) if bytes.is_empty() => Ok(()),
            Phase::Done(Ok(v)) => Err(Error::BodyTooLong {
                content_length: v.body_len,
            }),
            Phase::Body => self.verifier.update(bytes),
            Phase::Head => self.feed_head(bytes),
        };
        if let Err(e) = result {
            self.phase = Phase::Done(Err(e));
        }
        result
    }

    /// Buffers head bytes; once the head is complete, checks it and passes
    /// what follows it to the verifier as body.
    fn feed_head(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let start = self.filled;
        let free = self.head.get_mut(start..).unwrap_or(&mut []);
        let mut taken = 0usize;
        for (slot, byte) in free.iter_mut().zip(bytes) {
            *slot = *byte;
            taken = taken.saturating_add(1);
        }
        self.filled = start.saturating_add(taken);
        let full = self.filled >= RAW_HEAD_LEN;
        let buffered = self.head.get(..self.filled).unwrap_or(&[]);
        // A head ends with a line feed: without a new one it cannot have
        // become complete (and every error of the parser is about a
        // complete line), so most small pieces are not parsed again.
        let fresh = buffered.get(start..).unwrap_or(&[]);
        if !full && !fresh.contains(&b'\n') {
            return Ok(());
        }
        match parse_head(buffered)? {
            Parsed::Partial if full => Err(Error::HeadTooLarge),
            Parsed::Partial => Ok(()),
            Parsed::Complete { value, consumed } => {
                self.verifier.on_head(&value)?;
                self.phase = Phase::Body;
                self.verifier
                    .update(buffered.get(consumed..).unwrap_or(&[]))?;
                self.verifier.update(bytes.get(taken..).unwrap_or(&[]))
            }
        }
    }

    /// Ends the response — the stream is over — and gives the verdict
    /// (what [`Verifier::finish`] gives, or [`Error::HeadIncomplete`] if
    /// the head never ended). Works in place: later calls return the same
    /// result.
    pub fn finish(&mut self) -> Result<Verified, Error> {
        let result = match self.phase {
            Phase::Done(result) => return result,
            Phase::Head => Err(Error::HeadIncomplete),
            Phase::Body => self.verifier.conclude(),
        };
        self.phase = Phase::Done(result);
        result
    }

    /// Body bytes accepted so far.
    pub fn received(&self) -> u64 {
        self.verifier.received()
    }
}
