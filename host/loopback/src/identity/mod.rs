//! Local fakes of the AWS credential sources, for the end-to-end tests of the default
//! credential chain (feature `identity`; the shipped binary has none of it):
//!
//! - [`Sts`]: `AssumeRole` (SigV4 of the caller checked, service `sts`) and
//!   `AssumeRoleWithWebIdentity` (the token checked), Query API, XML answers;
//! - [`Imds`]: EC2 instance metadata, IMDSv2 only: credential requests without the
//!   session token from `PUT /latest/api/token` are refused with 401;
//! - [`ContainerCredentials`]: the ECS / EKS Pod Identity endpoint, checking `Authorization`;
//! - [`SsoPortal`]: the IAM Identity Center portal's `GetRoleCredentials`, checking the
//!   bearer token.
//!
//! Every fake issues fresh session credentials into one [`Issued`] store. The Glacier
//! endpoint, configured with [`Issued::auth`], accepts a request only when it is signed
//! with credentials in that store (or with a long-term key given to it), and answers 403
//! `ExpiredTokenException` once they are past their expiry. So a download that verifies
//! proves the credentials came from the source under test.
//!
//! Each fake is a small HTTP/1.1 server on 127.0.0.1 (a random port, one request per
//! connection, stopped on drop) with a request log.

mod container;
mod imds;
mod issued;
mod server;
mod sso;
mod sts;

pub use container::ContainerCredentials;
pub use imds::Imds;
pub use issued::{Issued, IssuedUse, SessionAuth};
pub use server::{FakeServer, Reply, Served};
pub use sso::SsoPortal;
pub use sts::{Lifetime, Sts, StsCall};
