//! Fetching a [`Plan`] over the network, and the [`CredentialsProvider`] that fetches it
//! again when its credentials are due for refresh.

use super::chain::{Chain, Plan};
use super::net::Net;
use super::provider::{CredentialsProvider, Expiring};
use super::{ConfigError, process, sts};

impl Plan {
    /// Names the source in messages and `--debug` traces (never a secret).
    pub fn describe(&self) -> String {
        match self {
            Plan::Static(r) => format!("static keys from {}", r.source),
            Plan::AssumeRole { role, from, .. } => {
                format!("STS AssumeRole of {} ({from})", role.role_arn)
            }
            Plan::WebIdentity { role_arn, from, .. } => {
                format!("STS AssumeRoleWithWebIdentity of {role_arn} (token file from {from})")
            }
            Plan::Process { from, .. } => format!("credential_process in {from}"),
            Plan::Sso(p) => p.describe(),
            Plan::Container(p) => p.describe(),
            Plan::Imds(p) => p.describe(),
        }
    }

    /// New credentials from this source.
    pub fn fetch(&self, net: &Net) -> Result<Expiring, ConfigError> {
        let failed = |message: String| ConfigError::CredentialSource {
            source_name: self.describe(),
            message,
        };
        match self {
            Plan::Static(r) => Ok(Expiring {
                credentials: r.credentials.clone(),
                expires: None,
            }),
            Plan::AssumeRole {
                role, sts, source, ..
            } => {
                let signing = source.fetch(net)?;
                sts::assume_role(net, sts, &signing.credentials, role).map_err(failed)
            }
            Plan::WebIdentity {
                token_file,
                role_arn,
                session_name,
                duration_seconds,
                sts,
                ..
            } => {
                let token = std::fs::read_to_string(token_file)
                    .map_err(|e| failed(format!("cannot read {}: {e}", token_file.display())))?;
                let token = token.trim();
                if token.is_empty() {
                    return Err(failed(format!("{} is empty", token_file.display())));
                }
                sts::assume_role_with_web_identity(
                    net,
                    sts,
                    role_arn,
                    session_name,
                    token,
                    *duration_seconds,
                )
                .map_err(failed)
            }
            Plan::Process { command, .. } => process::run(command).map_err(failed),
            Plan::Sso(p) => p.fetch(net).map_err(failed),
            Plan::Container(p) => p.fetch(net).map_err(failed),
            Plan::Imds(p) => p.fetch(net).map_err(failed),
        }
    }
}

/// The provider of a run: static keys as they are; any other source fetched once now
/// (so that a broken source fails before the first request) and again when due.
pub fn provider(chain: Chain, net: Net) -> Result<CredentialsProvider, ConfigError> {
    let plan = match chain {
        Chain::Found(Plan::Static(r)) => return Ok(CredentialsProvider::fixed(r.credentials)),
        Chain::Found(plan) => plan,
        Chain::LastResort {
            imds,
            profile,
            mut looked_at,
        } => {
            let plan = Plan::Imds(imds);
            match plan.fetch(&net) {
                Ok(first) => return Ok(refreshing(plan, first, net)),
                Err(ConfigError::CredentialSource {
                    source_name,
                    message,
                }) => {
                    looked_at.push(format!("{source_name} ({message})"));
                    return Err(ConfigError::NoCredentials { profile, looked_at });
                }
                Err(e) => return Err(e),
            }
        }
    };
    if net.debug {
        eprintln!("* credentials: {}", plan.describe());
    }
    let first = plan.fetch(&net)?;
    Ok(refreshing(plan, first, net))
}

fn refreshing(plan: Plan, first: Expiring, net: Net) -> CredentialsProvider {
    if net.debug {
        match first.expires {
            Some(t) => eprintln!(
                "* credentials from {} expire at {}",
                plan.describe(),
                super::expiry::format(t)
            ),
            None => eprintln!("* credentials from {} do not expire", plan.describe()),
        }
    }
    let describe = plan.describe();
    CredentialsProvider::refreshing(
        describe,
        first,
        Box::new(move || {
            if net.debug {
                eprintln!("* refreshing credentials: {}", plan.describe());
            }
            plan.fetch(&net)
        }),
    )
}
