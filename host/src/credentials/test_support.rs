//! Fixtures shared by the resolution tests: a home directory and its two files.

use std::path::PathBuf;

use super::{Chain, ConfigError, Env, Plan, Profile, Source, plan_credentials, resolve_profile};

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
    match plan_credentials(env, &p, None)? {
        Chain::Found(Plan::Static(r)) => Ok((r.credentials.access_key_id, r.source)),
        Chain::Found(other) => panic!("not static keys: {other:?}"),
        Chain::LastResort {
            profile, looked_at, ..
        } => Err(ConfigError::NoCredentials { profile, looked_at }),
    }
}

/// The plan for the profile (`--profile` when `explicit`).
pub(super) fn plan(env: &Env, explicit_profile: Option<&str>) -> Result<Chain, ConfigError> {
    plan_credentials(env, &profile(env, explicit_profile), None)
}

pub(super) fn file_source(path: &str, section: &str) -> Source {
    Source::File {
        path: PathBuf::from(path),
        section: section.to_string(),
    }
}

/// The static keys the chain picks for `p`; any other outcome is an error or a panic.
pub(super) fn resolve_credentials(
    env: &Env,
    p: &Profile,
) -> Result<super::ResolvedCredentials, ConfigError> {
    match plan_credentials(env, p, None)? {
        Chain::Found(Plan::Static(r)) => Ok(r),
        Chain::Found(other) => panic!("not static keys: {other:?}"),
        Chain::LastResort {
            profile, looked_at, ..
        } => Err(ConfigError::NoCredentials { profile, looked_at }),
    }
}
