//! The response writer: heads, in-memory bodies, and job output streamed
//! through a buffer.

use std::io::{self, Write};
use std::sync::atomic::Ordering;
use std::time::SystemTime;

use super::Reply;
#[cfg(feature = "faults")]
use super::output::BodyEnd;
use super::output::OutputPlan;
use crate::http;
use crate::server::Shared;

/// What happens to the connection after a response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum After {
    KeepAlive,
    /// Close cleanly (FIN).
    Close,
    /// Abort with a TCP reset.
    #[cfg(feature = "faults")]
    Reset,
}

/// An interim response a client must skip (RFC 9110 §15.2).
#[cfg(feature = "faults")]
pub(crate) const INTERIM_CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// What was sent.
pub(crate) struct Sent {
    pub status: u16,
    pub content_length: u64,
    pub body_bytes: u64,
    pub complete: bool,
    pub after: After,
}

/// Sends a reply. `keep` is whether the client allows keep-alive; `http10`
/// whether it spoke HTTP/1.0 (which needs an explicit `keep-alive`).
pub(crate) fn send(
    shared: &Shared,
    stream: &mut impl Write,
    buf: &mut [u8],
    reply: Reply,
    keep: bool,
    http10: bool,
) -> Sent {
    let connection = match (keep, http10) {
        (false, _) => Some("close"),
        (true, true) => Some("keep-alive"),
        (true, false) => None,
    };
    let after_ok = if keep { After::KeepAlive } else { After::Close };
    match reply {
        Reply::Simple {
            status,
            headers,
            body,
            interim,
        } => {
            let head = head_text(shared, status, &headers, body.len() as u64, connection);
            let mut bytes = Vec::new();
            #[cfg(feature = "faults")]
            if interim {
                bytes.extend_from_slice(INTERIM_CONTINUE);
            }
            #[cfg(not(feature = "faults"))]
            let _ = interim;
            bytes.extend_from_slice(head.as_bytes());
            bytes.extend_from_slice(&body);
            let ok = stream.write_all(&bytes).is_ok();
            Sent {
                status,
                content_length: body.len() as u64,
                body_bytes: if ok { body.len() as u64 } else { 0 },
                complete: ok,
                after: if ok { after_ok } else { After::Close },
            }
        }
        Reply::Output(plan) => send_output(shared, stream, buf, &plan, connection, after_ok),
    }
}

/// Sends a streamed GetJobOutput response; `after_ok` is what follows a complete one.
fn send_output(
    shared: &Shared,
    stream: &mut impl Write,
    buf: &mut [u8],
    plan: &OutputPlan,
    connection: Option<&str>,
    after_ok: After,
) -> Sent {
    let body = &plan.body;
    #[cfg(feature = "faults")]
    if let Some(d) = body.faults.stall {
        shared.nap(d);
    }
    let head = head_text(
        shared,
        plan.status,
        &plan.headers,
        body.announced,
        connection,
    );
    #[cfg(feature = "faults")]
    let head = with_raw_lines(head, &body.faults.raw_lines);
    let mut sent = Sent {
        status: plan.status,
        content_length: body.announced,
        body_bytes: 0,
        complete: false,
        after: After::Close,
    };
    #[cfg(feature = "faults")]
    if body.faults.interim && stream.write_all(INTERIM_CONTINUE).is_err() {
        return sent;
    }
    if stream.write_all(head.as_bytes()).is_err() {
        return sent;
    }
    if stream_body(shared, stream, buf, plan, &mut sent.body_bytes).is_err() {
        return sent;
    }
    sent.complete = sent.body_bytes == body.announced;
    sent.after = if sent.complete {
        after_ok
    } else {
        After::Close
    };
    #[cfg(feature = "faults")]
    match body.faults.end {
        Some(BodyEnd::Reset) => sent.after = After::Reset,
        Some(BodyEnd::Close) => sent.after = After::Close,
        None => {}
    }
    sent
}

/// Writes the planned body bytes, counting them in `counter`; `Err` when the socket
/// failed or the endpoint stopped mid-body.
fn stream_body(
    shared: &Shared,
    stream: &mut impl Write,
    buf: &mut [u8],
    plan: &OutputPlan,
    counter: &mut u64,
) -> Result<(), ()> {
    let body = &plan.body;
    #[cfg(feature = "faults")]
    let buf = match body.faults.drip {
        Some((n, _)) => {
            let n = n.min(buf.len());
            &mut buf[..n]
        }
        None => buf,
    };
    let mut pos = 0u64;
    while pos < body.send {
        let want = usize::try_from(body.send - pos)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let n = plan.job.read_output(plan.first + pos, &mut buf[..want]);
        if n == 0 {
            break;
        }
        #[cfg(feature = "faults")]
        flip_bits(&mut buf[..n], pos, &body.faults.flips);
        write_counted(stream, &buf[..n], counter, shared).map_err(|_| ())?;
        pos += n as u64;
        #[cfg(feature = "faults")]
        if let Some((_, delay)) = body.faults.drip {
            shared.nap(delay);
            if shared.stopping() {
                return Err(());
            }
        }
    }
    Ok(())
}

/// XORs the planned bits that fall into `piece`, which starts at body offset `pos`.
#[cfg(feature = "faults")]
fn flip_bits(piece: &mut [u8], pos: u64, flips: &[(u64, u8)]) {
    for &(at, bit) in flips {
        if let Some(i) = at.checked_sub(pos).filter(|i| *i < piece.len() as u64) {
            piece[i as usize] ^= 1 << bit;
        }
    }
}

fn head_text(
    shared: &Shared,
    status: u16,
    headers: &[(String, String)],
    content_length: u64,
    connection: Option<&str>,
) -> String {
    let request_id = shared.next_request_id();
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\nx-amzn-RequestId: {request_id}\r\nDate: {}\r\n",
        http::reason(status),
        http::http_date(SystemTime::now())
    );
    for (n, v) in headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str(&format!("Content-Length: {content_length}\r\n"));
    if let Some(c) = connection {
        head.push_str(&format!("Connection: {c}\r\n"));
    }
    head.push_str("\r\n");
    head
}

/// The head with `lines` inserted before its blank line.
#[cfg(feature = "faults")]
fn with_raw_lines(mut head: String, lines: &[String]) -> String {
    if lines.is_empty() {
        return head;
    }
    head.truncate(head.len().saturating_sub(2));
    for l in lines {
        head.push_str(l);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    head
}

/// Writes `data`, counting what the socket took even when it fails.
fn write_counted(
    stream: &mut impl Write,
    data: &[u8],
    counter: &mut u64,
    shared: &Shared,
) -> io::Result<()> {
    let mut rest = data;
    while !rest.is_empty() {
        match stream.write(rest) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                *counter += n as u64;
                shared.body_bytes.fetch_add(n as u64, Ordering::SeqCst);
                rest = &rest[n..];
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
