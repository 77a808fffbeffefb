//! Fixtures shared by the resolution tests: a home directory and its two files.

use std::path::PathBuf;

use super::{ConfigError, Env, Profile, Source, resolve_credentials, resolve_profile};

pub(super) const HOME: &str = "/home/u";
pub(super) const CREDS: &str = "/home/u/.aws/credentials";
pub(super) const CONFIG: &str = "/home/u/.aws/config";

pub(super) fn home() -> Env {
    Env::new().with_var("HOME", HOME)
}

pub(super) fn creds_file(profile: &str, akid: &str) -> String {
    format!("[{profile}]\naws_access_key_id = {akid}\naws_secret_access_key = secret-{akid}\n")
}

pub(super) fn profile(env: &Env, explicit: Option<&str>) -> Profile {
    resolve_profile(env, explicit).unwrap()
}

pub(super) fn akid(
    env: &Env,
    explicit_profile: Option<&str>,
) -> Result<(String, Source), ConfigError> {
    let p = profile(env, explicit_profile);
    resolve_credentials(env, &p).map(|r| (r.credentials.access_key_id, r.source))
}

pub(super) fn file_source(path: &str, section: &str) -> Source {
    Source::File {
        path: PathBuf::from(path),
        section: section.to_string(),
    }
}
