use super::*;
use crate::credentials::test_support::*;

fn bundle(
    env: &Env,
    explicit: Option<&str>,
    profile_flag: Option<&str>,
) -> Option<(String, Source)> {
    let p = profile(env, profile_flag);
    resolve_ca_bundle(env, explicit, &p)
        .unwrap()
        .map(|b| (b.path.display().to_string(), b.source))
}

#[test]
fn ca_bundle_precedence() {
    let env = home().with_file(
        CONFIG,
        "[default]\nca_bundle = ~/corp.pem\n[profile p]\nca_bundle = /etc/p.pem\n",
    );
    assert_eq!(
        bundle(&env, None, None),
        Some(("/home/u/corp.pem".into(), file_source(CONFIG, "default")))
    );
    assert_eq!(
        bundle(&env, None, Some("p")),
        Some(("/etc/p.pem".into(), file_source(CONFIG, "profile p")))
    );
    let env = env.with_var("AWS_CA_BUNDLE", "/env.pem");
    assert_eq!(
        bundle(&env, None, Some("p")),
        Some(("/env.pem".into(), Source::EnvVar("AWS_CA_BUNDLE")))
    );
    assert_eq!(
        bundle(&env, Some("flag.pem"), Some("p")),
        Some(("flag.pem".into(), Source::Flag("--ca-bundle")))
    );
}

#[test]
fn no_ca_bundle() {
    assert_eq!(bundle(&home(), None, None), None);
    let env = home()
        .with_file(
            CONFIG,
            "[profile q]\nca_bundle = /q.pem\n[default]\nca_bundle =\n",
        )
        .with_var("AWS_CA_BUNDLE", "");
    assert_eq!(bundle(&env, None, None), None);
    assert_eq!(bundle(&env, Some(""), Some("other")), None);
}

#[test]
fn a_broken_config_file_is_an_error() {
    let env = home().with_unreadable_file(CONFIG, "permission denied");
    let p = profile(&env, None);
    assert!(resolve_ca_bundle(&env, None, &p).is_err());
    // Not read at all when the option or the variable decides.
    assert!(resolve_ca_bundle(&env, Some("x.pem"), &p).is_ok());
}
