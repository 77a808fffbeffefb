use std::path::PathBuf;

use super::*;
use crate::credentials::Source;

/// A file in a fresh directory of its own.
fn file(name: &str, contents: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "glacier-verify-tls-unit-{}-{name}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

fn bundle(path: PathBuf) -> CaBundle {
    CaBundle {
        path,
        source: Source::EnvVar("AWS_CA_BUNDLE"),
    }
}

fn ca_pem() -> (String, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    (params.self_signed(&key).unwrap().pem(), key.serialize_pem())
}

fn error_text(path: PathBuf) -> String {
    read_bundle(&bundle(path)).unwrap_err().to_string()
}

#[test]
fn a_bundle_adds_its_certificates() {
    let (a, key) = ca_pem();
    let (b, _) = ca_pem();
    // Keys and other blocks between certificates are skipped.
    let path = file(
        "two.pem",
        format!("{a}\n{key}\nsome comment\n{b}").as_bytes(),
    );
    assert_eq!(read_bundle(&bundle(path.clone())).unwrap().len(), 2);
    let options = TrustOptions {
        ca_bundle: Some(bundle(path.clone())),
        ..TrustOptions::default()
    };
    let RootCerts::Specific(roots) = tls_config(&options).unwrap().root_certs().clone() else {
        panic!("a bundle gives specific roots");
    };
    let bundled = webpki_root_certs::TLS_SERVER_ROOT_CERTS.len();
    assert!(bundled > 100);
    assert_eq!(roots.len(), bundled + 2, "added to the bundled roots");
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}

#[test]
fn defaults_and_no_verify() {
    let c = tls_config(&TrustOptions::default()).unwrap();
    assert!(matches!(c.root_certs(), RootCerts::WebPki));
    assert!(!c.disable_verification());
    let c = tls_config(&TrustOptions {
        no_verify: true,
        // Not even read when nothing is verified.
        ca_bundle: Some(bundle(PathBuf::from("/nonexistent/ca.pem"))),
        ..TrustOptions::default()
    })
    .unwrap();
    assert!(c.disable_verification());
}

#[test]
fn unusable_bundles_are_named_with_their_source() {
    let missing = error_text(PathBuf::from("/nonexistent/ca.pem"));
    assert!(
        missing.starts_with("cannot read the CA bundle /nonexistent/ca.pem (from environment variable AWS_CA_BUNDLE)"),
        "{missing}"
    );
    let empty = error_text(file("empty.pem", b""));
    assert!(empty.contains("no PEM certificate"), "{empty}");
    let text = error_text(file("text.pem", b"hello, not a certificate\n"));
    assert!(text.contains("no PEM certificate"), "{text}");
    let (_, key) = ca_pem();
    let key_only = error_text(file("key.pem", key.as_bytes()));
    assert!(key_only.contains("no PEM certificate"), "{key_only}");
    let bad_base64 = error_text(file(
        "b64.pem",
        b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
    ));
    assert!(bad_base64.contains("not valid PEM"), "{bad_base64}");
    // Valid PEM around bytes that are no certificate.
    let not_der = error_text(file(
        "der.pem",
        b"-----BEGIN CERTIFICATE-----\nAAECAwQF\n-----END CERTIFICATE-----\n",
    ));
    assert!(not_der.contains("certificate 1 is not usable"), "{not_der}");
    let dir = std::env::temp_dir().join(format!(
        "glacier-verify-tls-unit-{}-dir",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    assert!(error_text(dir.clone()).starts_with("cannot read"));
    for name in [
        "empty.pem",
        "text.pem",
        "key.pem",
        "b64.pem",
        "der.pem",
        "dir",
    ] {
        let _ = std::fs::remove_dir_all(std::env::temp_dir().join(format!(
            "glacier-verify-tls-unit-{}-{name}",
            std::process::id()
        )));
    }
}

#[test]
fn certificate_problems_are_recognised_inside_io_errors() {
    let unknown = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
    // The handshake's errors reach ureq as io::Error.
    let e = ureq::Error::Io(std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        unknown.clone(),
    ));
    assert!(is_tls(&e));
    assert_eq!(
        certificate_problem(&e).as_deref(),
        Some("it is not signed by a trusted certificate authority")
    );
    let e = ureq::Error::Rustls(unknown);
    assert!(certificate_problem(&e).is_some());
    let e = ureq::Error::Rustls(rustls::Error::InvalidCertificate(
        rustls::CertificateError::Expired,
    ));
    assert_eq!(certificate_problem(&e).as_deref(), Some("it has expired"));
    // A handshake failure that is no certificate problem is still TLS.
    let e = ureq::Error::Rustls(rustls::Error::HandshakeNotComplete);
    assert!(is_tls(&e) && certificate_problem(&e).is_none());
    let e = ureq::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
    assert!(!is_tls(&e) && certificate_problem(&e).is_none());
    assert!(!is_tls(&ureq::Error::ConnectionFailed));
}
