//! ureq and an interim `100 Continue` before a response whose body arrives
//! in the same read: with ureq's default limits it reports "response header
//! is too big" for a head of a few dozen bytes; with the client's limits
//! (`glacier_verify::client::INPUT_BUFFER`) it reads the response.

use std::io::{Read, Write};
use std::net::TcpListener;

/// Serves one connection: interim response, head and a 200 KiB body in
/// one write, so the client's first read holds all of them.
fn serve_once() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut req = [0u8; 4096];
        let _ = s.read(&mut req);
        let body = vec![b'x'; 200 * 1024];
        let mut out = b"HTTP/1.1 100 Continue\r\n\r\n".to_vec();
        out.extend_from_slice(
            format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).as_bytes(),
        );
        out.extend_from_slice(&body);
        let _ = s.write_all(&out);
    });
    format!("http://{addr}/")
}

fn get(agent: &ureq::Agent) -> Result<usize, ureq::Error> {
    let mut resp = agent.get(&serve_once()).call()?;
    Ok(resp.body_mut().read_to_vec()?.len())
}

#[test]
fn default_limits_trip_over_an_interim_response() {
    // Whether one read brings more than 64 KiB is up to the kernel: a few
    // tries make it all but certain.
    let agent: ureq::Agent = ureq::Agent::config_builder().build().into();
    let tripped = (0..20).any(|_| matches!(get(&agent), Err(ureq::Error::LargeResponseHeader(..))));
    assert!(
        tripped,
        "ureq no longer reports a false LargeResponseHeader after a 1xx: \
         the workaround in host/src/client.rs (INPUT_BUFFER) can go"
    );
}

#[test]
fn the_clients_limits_read_the_response() {
    let size = glacier_verify::client::INPUT_BUFFER;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .input_buffer_size(size)
        .max_response_header_size(size)
        .build()
        .into();
    for _ in 0..20 {
        assert_eq!(get(&agent).unwrap(), 200 * 1024);
    }
}
