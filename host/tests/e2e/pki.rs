//! A certificate authority and server certificates made at test time with
//! rcgen: nothing secret or expiring is checked in.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

/// A CA and one server certificate it signed.
pub struct Pki {
    /// The CA certificate (what a client must trust).
    pub ca_pem: String,
    /// The server certificate.
    pub cert_pem: String,
    /// Its private key (PKCS#8).
    pub key_pem: String,
}

impl Pki {
    /// A CA named `ca_name` and a server certificate for `names` (addresses
    /// become IP SANs).
    pub fn new(ca_name: &str, names: &[&str]) -> Pki {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params
            .distinguished_name
            .push(DnType::CommonName, ca_name);
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();

        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "glacier-verify test endpoint");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &ca).unwrap();
        Pki {
            ca_pem: ca.pem(),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }

    /// A CA and a certificate for `127.0.0.1`, `::1` and `localhost`.
    pub fn localhost() -> Pki {
        Pki::new("glacier-verify test CA", &["127.0.0.1", "::1", "localhost"])
    }

    /// The loopback endpoint's TLS identity.
    pub fn identity(&self) -> glacier_verify_loopback::TlsIdentity {
        glacier_verify_loopback::TlsIdentity::from_pem(&self.cert_pem, &self.key_pem).unwrap()
    }

    /// Writes `ca.pem`, `server.pem` and `server.key` into `dir`; returns the CA's path.
    pub fn write(&self, dir: &Path) -> PathBuf {
        std::fs::write(dir.join("server.pem"), &self.cert_pem).unwrap();
        std::fs::write(dir.join("server.key"), &self.key_pem).unwrap();
        let ca = dir.join("ca.pem");
        std::fs::write(&ca, &self.ca_pem).unwrap();
        ca
    }
}
