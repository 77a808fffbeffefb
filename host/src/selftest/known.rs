//! Known answers: the published tree-hash vectors, subtree composition,
//! the Glacier SigV4 example, and a flipped bit caught by its header hash.

use glacier_verify_core::{
    DrainError, Error, Expectation, HashSource, LEAF_SIZE, TreeHasher, tree_hash, verify_response,
};

use super::Report;
use crate::sigv4::{self, AmzDate, Credentials, SignableRequest, SigningParams, SigningSettings};

/// Published tree-hash vectors: (name, input, tree hash).
fn vectors() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let a = |n: usize| vec![b'a'; n];
    let mib = LEAF_SIZE as usize;
    vec![
        (
            "empty input",
            vec![],
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ),
        (
            "'a' x 1024",
            a(1024),
            "2edc986847e209b4016e141a6dc8716d3207350f416969382d431539bf292e4a",
        ),
        (
            "'a' x 1 MiB",
            a(mib),
            "9bc1b2a288b26af7257a36277ae3816a7d4f16e89c1e7e77d0a5c48bad62b360",
        ),
        (
            "'a' x 2 MiB",
            a(2 * mib),
            "560c2c9333c719cb00cfdffee3ba293db17f58743cdd1f7e4055373ae6300afa",
        ),
        (
            "'a' x 4 MiB",
            a(4 * mib),
            "9491cb2ed1d4e7cd53215f4017c23ec4ad21d7050a1e6bb636c4f67e8cddb844",
        ),
        (
            "'a' x (4 MiB + 20)",
            a(4 * mib + 20),
            "12f3cbd6101b981cde074039f6f728071da8879d6f632de8afc7cdf00661b08f",
        ),
        (
            "'0' x 5.5 MiB",
            vec![b'0'; 5 * mib + mib / 2],
            "154e26c78fd74d0c2c9b3cc4644191619dc4f2cd539ae2a74d5fd07957a3ee6a",
        ),
        (
            "'hello world'",
            b"hello world".to_vec(),
            "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9",
        ),
        (
            "'Welcome to Amazon Glacier.'",
            b"Welcome to Amazon Glacier.".to_vec(),
            "726e392cb4d09924dbad1cc0ba3b00c3643d03d14cb4b823e2f041cff612a628",
        ),
    ]
}

/// Runs the known-answer checks.
pub(super) fn check(r: &mut Report) {
    println!("known answers");
    for (name, data, hex) in &vectors() {
        r.check(
            &format!("tree hash of {name} (published vector)"),
            expect_hash(data, hex),
        );
    }
    composition(r);
    r.check(
        "SigV4 Glacier example (the AWS documentation's)",
        sigv4_example(),
    );
    r.check(
        "a flipped bit under a correct x-amz-sha256-tree-hash is caught",
        flipped_bit_is_caught(),
    );
}

/// 6.5 MiB of bytes(i % 251): whole, composed from [0, 4 MiB) + [4 MiB,
/// end), and a misaligned composition refused.
fn composition(r: &mut Report) {
    let mib = LEAF_SIZE as usize;
    let data: Vec<u8> = (0..(6 * mib + mib / 2)).map(|i| (i % 251) as u8).collect();
    r.check(
        "tree hash of 6.5 MiB bytes(i % 251) (published vector)",
        expect_hash(
            &data,
            "8bcaa7b4b8f991ca140f306627f2c4e84601364cde8e054b6e0924433ca7482f",
        ),
    );
    let composed = (|| {
        let mut h = TreeHasher::new();
        h.push_subtree(tree_hash(&data[..4 * mib]), 4 * LEAF_SIZE)
            .map_err(|e| e.to_string())?;
        h.finish_with(tree_hash(&data[4 * mib..]), (data.len() - 4 * mib) as u64)
            .map_err(|e| e.to_string())
    })();
    r.check(
        "composition of 4 MiB + 2.5 MiB part hashes",
        match composed {
            Ok(d) if d == tree_hash(&data) => Ok(String::new()),
            Ok(d) => Err(format!("composed {d} differs from direct")),
            Err(e) => Err(e),
        },
    );
    let mut refused = TreeHasher::new();
    let misaligned = refused
        .push_subtree(tree_hash(&data[..mib]), LEAF_SIZE)
        .and_then(|()| refused.push_subtree(tree_hash(&data[mib..3 * mib]), 2 * LEAF_SIZE));
    r.check(
        "a misaligned composition (1 MiB then 2 MiB) is refused",
        if misaligned.is_err() {
            Ok(String::new())
        } else {
            Err("accepted".into())
        },
    );
}

fn expect_hash(data: &[u8], hex: &str) -> Result<String, String> {
    let got = tree_hash(data);
    if got.matches_hex(hex.as_bytes()) {
        Ok(String::new())
    } else {
        Err(format!("got {got}, want {hex}"))
    }
}

fn flipped_bit_is_caught() -> Result<String, String> {
    let mut body: Vec<u8> = (0..(3 * LEAF_SIZE as usize + 777))
        .map(|i| (i % 251) as u8)
        .collect();
    let truth = tree_hash(&body);
    body[LEAF_SIZE as usize + 12_345] ^= 1 << 3;
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\
         Content-Length: {}\r\nx-amz-sha256-tree-hash: {truth}\r\n\r\n",
        body.len()
    );
    let response = [head.as_bytes(), &body].concat();
    let mut reader: &[u8] = &response;
    let mut buf = [0u8; 4096];
    match verify_response(&mut reader, Expectation::unknown(None), &mut buf) {
        Err(DrainError::Verify(Error::TreeHashMismatch {
            source: HashSource::Header,
            computed,
            expected,
        })) if expected == truth && computed != truth => Ok(format!("computed {computed}")),
        Err(e) => Err(format!("failed for another reason: {e}")),
        Ok(v) => Err(format!("accepted at level {:?}", v.level())),
    }
}

fn sigv4_example() -> Result<String, String> {
    let creds = Credentials::new(
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        None,
    );
    let headers = [
        ("host", "glacier.us-east-1.amazonaws.com"),
        (
            "x-amz-glacier-version",
            glacier_verify_core::GLACIER_VERSION,
        ),
    ];
    let out = sigv4::sign(
        &SignableRequest::new(
            "PUT",
            "/-/vaults/examplevault",
            &headers,
            sigv4::EMPTY_PAYLOAD_SHA256,
        ),
        &SigningParams {
            credentials: &creds,
            region: "us-east-1",
            service: glacier_verify_core::SIGNING_SERVICE,
            time: AmzDate::parse("20120525T002453Z").map_err(|e| e.to_string())?,
            settings: SigningSettings::default(),
        },
    )
    .map_err(|e| e.to_string())?;
    let want = "3ce5b2f2fffac9262b4da9256f8d086b4aaf42eba5f111c21681a65a127b7c2a";
    if out.signature == want {
        Ok(String::new())
    } else {
        Err(format!("signature {} != {want}", out.signature))
    }
}
