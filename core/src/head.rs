//! GetJobOutput response heads (docs/protocol.md §2): a strict, incremental parser for a
//! raw HTTP/1.1 head (status line and header lines, as a socket delivers it
//! or `curl -D` saves it) and a builder for heads that an HTTP stack has
//! already split into (name, value) pairs. Both produce one [`ResponseHead`]
//! holding the fields verification needs, borrowed from the caller's buffer.
//!
//! Strict by default, after RFC 9112: CRLF line endings, token header names
//! with no space before the colon, no obsolete line folding, no control
//! characters in values, bounded line length, and conflicting duplicates of
//! a field we interpret are errors (a smuggled second `Content-Length` must
//! never decide how many bytes we trust).

use nom::{
    IResult, Parser,
    bytes::complete::{take_while, take_while1},
    character::complete::char,
};

use crate::Error;
use crate::range::ContentRange;
use crate::tree::Digest;

/// Longest accepted line of a head, CRLF included. A full
/// `x-amz-archive-description` (1024 characters) fits with room to spare.
pub const MAX_LINE_LEN: usize = 8 * 1024;

/// Longest accepted head. A buffer this full without a complete head is
/// [`Error::HeadTooLarge`]; smaller buffers get [`Parsed::Partial`].
pub const MAX_HEAD_LEN: usize = 64 * 1024;

/// Longest `x-amz-archive-description` accepted: the description limit.
pub const MAX_ARCHIVE_DESCRIPTION_LEN: usize = crate::protocol::MAX_DESCRIPTION_LEN;

/// The response fields that verification uses (docs/protocol.md §2.2).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ResponseHead<'a> {
    /// HTTP status code.
    pub status: u16,
    /// `Content-Length`.
    pub content_length: Option<u64>,
    /// `Content-Range` (206 responses).
    pub content_range: Option<ContentRange>,
    /// `Content-Type`.
    pub content_type: Option<&'a str>,
    /// `x-amz-sha256-tree-hash`, the tree hash of this response's body (docs/protocol.md §2.3).
    pub tree_hash: Option<Digest>,
    /// `Accept-Ranges`.
    pub accept_ranges: Option<&'a str>,
    /// `x-amz-archive-description`: printable ASCII, at most 1024 characters.
    pub archive_description: Option<&'a str>,
    /// `x-amzn-RequestId`.
    pub request_id: Option<&'a str>,
    /// A `Transfer-Encoding` header was present.
    pub transfer_encoding: bool,
}

/// A header this crate interprets, named in errors.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum HeaderField {
    /// `Content-Length`
    ContentLength,
    /// `Content-Range`
    ContentRange,
    /// `Content-Type`
    ContentType,
    /// `x-amz-sha256-tree-hash`
    TreeHash,
    /// `Accept-Ranges`
    AcceptRanges,
    /// `x-amz-archive-description`
    ArchiveDescription,
    /// `x-amzn-RequestId`
    RequestId,
}

impl HeaderField {
    /// The header's canonical name.
    pub const fn name(self) -> &'static str {
        match self {
            HeaderField::ContentLength => "Content-Length",
            HeaderField::ContentRange => "Content-Range",
            HeaderField::ContentType => "Content-Type",
            HeaderField::TreeHash => "x-amz-sha256-tree-hash",
            HeaderField::AcceptRanges => "Accept-Ranges",
            HeaderField::ArchiveDescription => "x-amz-archive-description",
            HeaderField::RequestId => "x-amzn-RequestId",
        }
    }
}

/// Outcome of an incremental parse.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Parsed<T> {
    /// Done: `value`, and the number of bytes of the buffer the head took.
    /// The body starts right after.
    Complete {
        /// The parsed value.
        value: T,
        /// Bytes consumed from the start of the buffer.
        consumed: usize,
    },
    /// The buffer ends before the head does: read more and call again with
    /// the longer buffer.
    Partial,
}

/// Builds a [`ResponseHead`] from a status and headers already split by an
/// HTTP stack (ureq, a gateway's driver). Applies the same rules as the raw
/// parser.
///
/// ```
/// use glacier_verify_core::HeadBuilder;
/// let mut b = HeadBuilder::new(206).unwrap();
/// b.header(b"Content-Range", b"bytes 0-1048575/8388608").unwrap();
/// b.header(b"content-length", b"1048576").unwrap();
/// let head = b.finish().unwrap();
/// assert_eq!(head.content_length, Some(1048576));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct HeadBuilder<'a> {
    head: ResponseHead<'a>,
}

impl<'a> HeadBuilder<'a> {
    /// Starts a head with status `status` (100–999).
    pub fn new(status: u16) -> Result<Self, Error> {
        if !(100..=999).contains(&status) {
            return Err(Error::InvalidStatusLine);
        }
        Ok(HeadBuilder {
            head: ResponseHead {
                status,
                ..ResponseHead::default()
            },
        })
    }

    /// Adds one header. Names are matched case-insensitively; surrounding
    /// spaces and tabs of the value are ignored.
    pub fn header(&mut self, name: &'a [u8], value: &'a [u8]) -> Result<(), Error> {
        if name.is_empty() || !name.iter().all(|&c| is_tchar(c)) {
            return Err(Error::InvalidHeaderName);
        }
        let value = trim_ows(value);
        if !value
            .iter()
            .all(|&c| is_field_vchar(c) || c == b' ' || c == b'\t')
        {
            return Err(Error::InvalidHeaderValue);
        }
        let head = &mut self.head;
        if name.eq_ignore_ascii_case(b"content-length") {
            let n = parse_content_length(value)?;
            set_once(&mut head.content_length, n, HeaderField::ContentLength)
                .map_err(|_| Error::ConflictingContentLength)
        } else if name.eq_ignore_ascii_case(b"content-range") {
            let cr = ContentRange::parse(value)?;
            set_once(&mut head.content_range, cr, HeaderField::ContentRange)
        } else if name.eq_ignore_ascii_case(b"x-amz-sha256-tree-hash") {
            let d = Digest::from_hex(value).map_err(|_| Error::InvalidTreeHashHeader)?;
            set_once(&mut head.tree_hash, d, HeaderField::TreeHash)
        } else if name.eq_ignore_ascii_case(b"content-type") {
            let s = ascii_str(value, HeaderField::ContentType)?;
            set_once(&mut head.content_type, s, HeaderField::ContentType)
        } else if name.eq_ignore_ascii_case(b"accept-ranges") {
            let s = ascii_str(value, HeaderField::AcceptRanges)?;
            set_once(&mut head.accept_ranges, s, HeaderField::AcceptRanges)
        } else if name.eq_ignore_ascii_case(b"x-amz-archive-description") {
            if value.len() > MAX_ARCHIVE_DESCRIPTION_LEN
                || !value.iter().all(|&c| (0x20..=0x7e).contains(&c))
            {
                return Err(Error::InvalidArchiveDescription);
            }
            let s = ascii_str(value, HeaderField::ArchiveDescription)?;
            set_once(
                &mut head.archive_description,
                s,
                HeaderField::ArchiveDescription,
            )
        } else if name.eq_ignore_ascii_case(b"x-amzn-requestid") {
            let s = ascii_str(value, HeaderField::RequestId)?;
            set_once(&mut head.request_id, s, HeaderField::RequestId)
        } else {
            if name.eq_ignore_ascii_case(b"transfer-encoding") {
                head.transfer_encoding = true;
            }
            Ok(())
        }
    }

    /// The finished head. A `Transfer-Encoding` together with a
    /// `Content-Length` is refused (RFC 9112 §6.1: a smuggling vector).
    pub fn finish(self) -> Result<ResponseHead<'a>, Error> {
        if self.head.transfer_encoding && self.head.content_length.is_some() {
            return Err(Error::TransferEncodingWithContentLength);
        }
        Ok(self.head)
    }
}

fn set_once<T: PartialEq>(slot: &mut Option<T>, value: T, field: HeaderField) -> Result<(), Error> {
    match slot {
        Some(existing) if *existing != value => Err(Error::DuplicateHeader(field)),
        _ => {
            *slot = Some(value);
            Ok(())
        }
    }
}

fn ascii_str(value: &[u8], field: HeaderField) -> Result<&str, Error> {
    if !value.is_ascii() {
        return Err(Error::NonAsciiHeader(field));
    }
    core::str::from_utf8(value).map_err(|_| Error::NonAsciiHeader(field))
}

/// `Content-Length = 1*DIGIT`; a list of identical values (`42, 42`) is
/// accepted as RFC 9112 §6.3 allows, differing ones are a conflict.
fn parse_content_length(value: &[u8]) -> Result<u64, Error> {
    let mut result: Option<u64> = None;
    for item in value.split(|&c| c == b',') {
        let item = trim_ows(item);
        if item.is_empty() || !item.iter().all(u8::is_ascii_digit) {
            return Err(Error::InvalidContentLength);
        }
        let n = item.iter().try_fold(0u64, |acc, d| {
            acc.checked_mul(10)?
                .checked_add(u64::from(d.wrapping_sub(b'0')))
        });
        let n = n.ok_or(Error::InvalidContentLength)?;
        match result {
            Some(prev) if prev != n => return Err(Error::ConflictingContentLength),
            _ => result = Some(n),
        }
    }
    result.ok_or(Error::InvalidContentLength)
}

/// RFC 9110 §5.6.2 `tchar`: the characters of a token (a method, a
/// header name).
///
/// ```
/// use glacier_verify_core::is_tchar;
/// assert!(b"x-amz-date".iter().all(|&b| is_tchar(b)));
/// assert!(!is_tchar(b' ') && !is_tchar(b':'));
/// ```
pub fn is_tchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c)
}

/// RFC 9110 `field-vchar` = VCHAR / obs-text.
fn is_field_vchar(c: u8) -> bool {
    (0x21..=0x7e).contains(&c) || c >= 0x80
}

fn trim_ows(mut v: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = v {
        v = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = v {
        v = rest;
    }
    v
}

/// `HTTP-version SP status-code [SP reason-phrase]`. `HTTP/1.0`, `HTTP/1.1`
/// and the `HTTP/2` / `HTTP/3` forms curl writes are accepted; the reason is
/// optional (curl writes none for HTTP/2).
///
/// Slice patterns rather than nom: nom's `take_while_m_n` keeps a bounds
/// check that the optimiser cannot remove, and the C ABI's builds prove
/// that no panic path is linked (core/capi).
fn status_line(line: &[u8]) -> Option<u16> {
    let rest = line.strip_prefix(b"HTTP/")?;
    let rest = match rest {
        [major, b'.', minor, rest @ ..] if major.is_ascii_digit() && minor.is_ascii_digit() => rest,
        [major, rest @ ..] if major.is_ascii_digit() => rest,
        _ => return None,
    };
    let ([a, b, c], reason) = match rest {
        [b' ', a, b, c, reason @ ..] if [a, b, c].iter().all(|d| d.is_ascii_digit()) => {
            ([*a, *b, *c], reason)
        }
        _ => return None,
    };
    let reason_ok = match reason {
        [] => true,
        [b' ', text @ ..] => text
            .iter()
            .all(|&c| c == b' ' || c == b'\t' || is_field_vchar(c)),
        _ => false,
    };
    let digit = |d: u8| u16::from(d.wrapping_sub(b'0'));
    reason_ok.then(|| {
        digit(a)
            .wrapping_mul(100)
            .wrapping_add(digit(b).wrapping_mul(10))
            .wrapping_add(digit(c))
    })
}

/// `field-name ":" OWS field-value OWS` (no space before the colon).
fn header_line(input: &[u8]) -> IResult<&[u8], (&[u8], &[u8])> {
    (take_while1(is_tchar), char(':'), take_while(|_| true))
        .map(|(name, _, value)| (name, value))
        .parse(input)
}

/// Parses a raw response head from the start of `buf`.
///
/// Returns [`Parsed::Partial`] while the blank line that ends the head has
/// not arrived, so a caller reading a socket in small pieces appends and
/// calls again. Interim `1xx` heads (`100 Continue`) are skipped; `consumed`
/// then covers them too.
///
/// ```
/// use glacier_verify_core::{parse_head, Parsed};
/// let raw = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";
/// assert_eq!(parse_head(&raw[..20]).unwrap(), Parsed::Partial);
/// match parse_head(raw).unwrap() {
///     Parsed::Complete { value, consumed } => {
///         assert_eq!(value.status, 200);
///         assert_eq!(&raw[consumed..], b"abc");
///     }
///     Parsed::Partial => unreachable!(),
/// }
/// ```
pub fn parse_head(buf: &[u8]) -> Result<Parsed<ResponseHead<'_>>, Error> {
    let mut offset = 0usize;
    loop {
        let rest = buf.get(offset..buf.len().min(MAX_HEAD_LEN)).unwrap_or(&[]);
        match parse_one_head(rest)? {
            Parsed::Partial => {
                return if buf.len() >= MAX_HEAD_LEN {
                    Err(Error::HeadTooLarge)
                } else {
                    Ok(Parsed::Partial)
                };
            }
            Parsed::Complete { value, consumed } => {
                offset = offset.saturating_add(consumed);
                if offset > MAX_HEAD_LEN {
                    return Err(Error::HeadTooLarge);
                }
                if (100..200).contains(&value.status) {
                    continue;
                }
                return Ok(Parsed::Complete {
                    value,
                    consumed: offset,
                });
            }
        }
    }
}

/// One head (which may be interim), with no 1xx skipping.
fn parse_one_head(buf: &[u8]) -> Result<Parsed<ResponseHead<'_>>, Error> {
    let mut lines = Lines { buf, pos: 0 };
    let Some(first) = lines.next_line()? else {
        return Ok(Parsed::Partial);
    };
    let status = status_line(first).ok_or(Error::InvalidStatusLine)?;
    let mut builder = HeadBuilder::new(status)?;
    loop {
        let Some(line) = lines.next_line()? else {
            return Ok(Parsed::Partial);
        };
        if line.is_empty() {
            return Ok(Parsed::Complete {
                value: builder.finish()?,
                consumed: lines.pos,
            });
        }
        if matches!(line.first(), Some(b' ' | b'\t')) {
            return Err(Error::ObsoleteLineFolding);
        }
        let (_, (name, value)) = header_line(line).map_err(|_| Error::InvalidHeaderName)?;
        builder.header(name, value)?;
    }
}

/// CRLF-terminated lines of a buffer, without the CRLF.
struct Lines<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Lines<'a> {
    /// The next complete line, `None` if it has not fully arrived.
    fn next_line(&mut self) -> Result<Option<&'a [u8]>, Error> {
        let rest = self.buf.get(self.pos..).unwrap_or(&[]);
        let window = rest.get(..MAX_LINE_LEN).unwrap_or(rest);
        match window.iter().position(|&c| c == b'\n') {
            None if rest.len() >= MAX_LINE_LEN => Err(Error::LineTooLong),
            None => Ok(None),
            Some(nl) => {
                let line = rest.get(..nl).unwrap_or(&[]);
                let Some(line) = line.strip_suffix(b"\r") else {
                    return Err(Error::BareLineFeed);
                };
                if line.contains(&b'\r') {
                    return Err(Error::InvalidHeaderValue);
                }
                self.pos = self.pos.saturating_add(nl).saturating_add(1);
                Ok(Some(line))
            }
        }
    }
}
