use std::path::PathBuf;
use std::time::Duration;

use super::*;
use crate::credentials::test_support::*;

fn found(env: &Env, explicit: Option<&str>) -> Plan {
    match plan(env, explicit).unwrap() {
        Chain::Found(p) => p,
        other => panic!("{other:?}"),
    }
}

fn static_akid(p: &Plan) -> &str {
    match p {
        Plan::Static(r) => &r.credentials.access_key_id,
        other => panic!("not static: {other:?}"),
    }
}

const ROLE: &str = "arn:aws:iam::123456789012:role/reader";

#[test]
fn assume_role_with_a_source_profile() {
    let env = home()
        .with_file(
            CONFIG,
            format!(
                "[profile r]\nrole_arn = {ROLE}\nsource_profile = base\nexternal_id = ext-1\n\
                 role_session_name = me\nduration_seconds = 1800\nregion = eu-west-1\n"
            ),
        )
        .with_file(CREDS, creds_file("base", "BASEKEY"));
    let Plan::AssumeRole {
        role,
        sts,
        source,
        from,
    } = found(&env, Some("r"))
    else {
        panic!()
    };
    assert_eq!(role.role_arn, ROLE);
    assert_eq!(role.external_id.as_deref(), Some("ext-1"));
    assert_eq!(role.session_name, "me");
    assert_eq!(role.duration_seconds, Some(1800));
    assert_eq!(static_akid(&source), "BASEKEY");
    assert_eq!(from, file_source(CONFIG, "profile r"));
    // No region given to the planner: the global endpoint.
    assert_eq!(sts.url.host_header(), "sts.amazonaws.com");
    let region = Region::new("eu-west-1").unwrap();
    let p = plan_credentials(&env, &profile(&env, Some("r")), Some(&region)).unwrap();
    let Chain::Found(Plan::AssumeRole { sts, role, .. }) = p else {
        panic!()
    };
    assert_eq!(sts.url.host_header(), "sts.eu-west-1.amazonaws.com");
    assert_eq!(sts.region, "eu-west-1");
    // Without role_session_name, a generated one.
    let env = home().with_file(
        CONFIG,
        format!("[default]\nrole_arn = {ROLE}\nsource_profile = default\naws_access_key_id = A\naws_secret_access_key = S\n"),
    );
    let Plan::AssumeRole {
        role: r2, source, ..
    } = found(&env, None)
    else {
        panic!()
    };
    assert!(
        r2.session_name.starts_with("glacier-verify-"),
        "{}",
        r2.session_name
    );
    assert_ne!(r2.session_name, role.session_name);
    // A profile may be its own source when it has keys.
    assert_eq!(static_akid(&source), "A");
}

#[test]
fn chained_roles_and_loops() {
    let env = home().with_file(
        CONFIG,
        format!(
            "[profile a]\nrole_arn = {ROLE}\nsource_profile = b\n\
             [profile b]\nrole_arn = {ROLE}2\nsource_profile = c\n\
             [profile c]\naws_access_key_id = CKEY\naws_secret_access_key = S\n\
             [profile x]\nrole_arn = {ROLE}\nsource_profile = y\n\
             [profile y]\nrole_arn = {ROLE}\nsource_profile = x\n\
             [profile self]\nrole_arn = {ROLE}\nsource_profile = self\n"
        ),
    );
    let Plan::AssumeRole { source, .. } = found(&env, Some("a")) else {
        panic!()
    };
    let Plan::AssumeRole { role, source, .. } = *source else {
        panic!()
    };
    assert_eq!(role.role_arn, format!("{ROLE}2"));
    assert_eq!(static_akid(&source), "CKEY");
    let e = plan(&env, Some("x")).unwrap_err();
    assert_eq!(
        e,
        ConfigError::SourceProfileLoop {
            chain: vec!["x".into(), "y".into(), "x".into()]
        }
    );
    assert_eq!(
        e.to_string(),
        "source_profile settings form a loop: x -> y -> x"
    );
    assert!(matches!(
        plan(&env, Some("self")),
        Err(ConfigError::SourceProfileLoop { .. })
    ));
}

#[test]
fn role_settings_that_cannot_work() {
    let bad = |config: String| {
        plan(&home().with_file(CONFIG, config), Some("r"))
            .unwrap_err()
            .to_string()
    };
    let e = bad(format!("[profile r]\nrole_arn = {ROLE}\n"));
    assert!(e.contains("needs source_profile, credential_source"), "{e}");
    let e = bad(format!(
        "[profile r]\nrole_arn = {ROLE}\nsource_profile = a\ncredential_source = Environment\n"
    ));
    assert!(
        e.contains("both source_profile and credential_source"),
        "{e}"
    );
    let e = bad(format!(
        "[profile r]\nrole_arn = {ROLE}\ncredential_source = Laptop\n"
    ));
    assert!(e.contains("\"Laptop\" is not one of Environment"), "{e}");
    let e = bad(format!(
        "[profile r]\nrole_arn = {ROLE}\nsource_profile = none\n"
    ));
    assert!(
        e.contains("profile 'none' (the source of profile 'r') has no credentials"),
        "{e}"
    );
    let e = bad(format!(
        "[profile r]\nrole_arn = {ROLE}\ncredential_source = Ec2InstanceMetadata\nduration_seconds = 60\n"
    ));
    assert!(
        e.contains("duration_seconds") && e.contains("900 to 43200"),
        "{e}"
    );
    let e = bad(format!(
        "[profile r]\nrole_arn = {ROLE}\nsource_profile = a\nmfa_serial = arn:aws:iam::1:mfa/me\n"
    ));
    assert!(e.contains("`mfa_serial`"), "{e}");
    let e = bad(format!(
        "[profile r]\nrole_arn = {ROLE}\ncredential_source = EcsContainer\n"
    ));
    assert!(e.contains("EcsContainer: neither"), "{e}");
}

#[test]
fn credential_sources() {
    let config = |cs: &str| format!("[profile r]\nrole_arn = {ROLE}\ncredential_source = {cs}\n");
    let env = home()
        .with_file(CONFIG, config("Environment"))
        .with_var("AWS_ACCESS_KEY_ID", "ENVKEY")
        .with_var("AWS_SECRET_ACCESS_KEY", "S");
    // --profile skips the environment keys as the chain's first source, but
    // `credential_source = Environment` uses them.
    let Plan::AssumeRole { source, .. } = found(&env, Some("r")) else {
        panic!()
    };
    assert_eq!(static_akid(&source), "ENVKEY");
    let env = home().with_file(CONFIG, config("Ec2InstanceMetadata"));
    let Plan::AssumeRole { source, .. } = found(&env, Some("r")) else {
        panic!()
    };
    assert!(matches!(*source, Plan::Imds(_)));
    let env = home().with_file(CONFIG, config("EcsContainer")).with_var(
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "/v2/credentials/x",
    );
    let Plan::AssumeRole { source, .. } = found(&env, Some("r")) else {
        panic!()
    };
    assert!(matches!(*source, Plan::Container(_)));
}

#[test]
fn web_identity_from_the_environment_and_the_profile() {
    let env = home()
        .with_var("AWS_WEB_IDENTITY_TOKEN_FILE", "~/token")
        .with_var("AWS_ROLE_ARN", ROLE)
        .with_var("AWS_ROLE_SESSION_NAME", "pod-1")
        .with_file(CREDS, creds_file("default", "FILEKEY"));
    let Plan::WebIdentity {
        token_file,
        role_arn,
        session_name,
        from,
        ..
    } = found(&env, None)
    else {
        panic!()
    };
    assert_eq!(token_file, PathBuf::from("/home/u/token"));
    assert_eq!((role_arn.as_str(), session_name.as_str()), (ROLE, "pod-1"));
    assert_eq!(from, Source::EnvVar("AWS_WEB_IDENTITY_TOKEN_FILE"));
    // Environment keys come first.
    let with_keys = env
        .clone()
        .with_var("AWS_ACCESS_KEY_ID", "ENVKEY")
        .with_var("AWS_SECRET_ACCESS_KEY", "S");
    assert_eq!(static_akid(&found(&with_keys, None)), "ENVKEY");
    // A token without a role.
    let e = plan(&env.clone().with_var("AWS_ROLE_ARN", ""), None).unwrap_err();
    assert!(e.to_string().contains("no role to assume"), "{e}");
    // The profile's own settings, and role_arn + source_profile before web identity.
    let env = home()
        .with_var("AWS_WEB_IDENTITY_TOKEN_FILE", "/env/token")
        .with_var("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/env")
        .with_file(
            CONFIG,
            format!(
                "[profile w]\nweb_identity_token_file = /p/token\nrole_arn = {ROLE}\n\
                 [profile r]\nrole_arn = {ROLE}\nsource_profile = k\n\
                 [profile k]\naws_access_key_id = K\naws_secret_access_key = S\n"
            ),
        );
    let Plan::WebIdentity {
        token_file,
        role_arn,
        ..
    } = found(&env, Some("w"))
    else {
        panic!()
    };
    assert_eq!(
        (token_file, role_arn.as_str()),
        (PathBuf::from("/p/token"), ROLE)
    );
    assert!(matches!(found(&env, Some("r")), Plan::AssumeRole { .. }));
}

#[test]
fn sso_profiles() {
    let env = home().with_file(
        CONFIG,
        "[profile dev]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Reader\n\
         [sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-central-1\n\
         [profile old]\nsso_start_url = https://old.awsapps.com/start\nsso_region = us-east-2\n\
         sso_account_id = 111122223333\nsso_role_name = Admin\n\
         [profile broken]\nsso_session = nowhere\nsso_account_id = 1\nsso_role_name = R\n",
    );
    let Plan::Sso(p) = found(&env, Some("dev")) else {
        panic!()
    };
    assert_eq!(p.session.as_deref(), Some("corp"));
    assert_eq!(
        p.cache_file,
        PathBuf::from(format!(
            "/home/u/.aws/sso/cache/{}.json",
            super::cache_key("corp")
        ))
    );
    assert_eq!(
        p.portal.host_header(),
        "portal.sso.eu-central-1.amazonaws.com"
    );
    assert_eq!(
        (p.account_id.as_str(), p.role_name.as_str()),
        ("111122223333", "Reader")
    );
    let Plan::Sso(p) = found(&env, Some("old")) else {
        panic!()
    };
    assert_eq!(p.session, None);
    assert!(p.cache_file.ends_with(format!(
        "{}.json",
        super::cache_key("https://old.awsapps.com/start")
    )));
    let e = plan(&env, Some("broken")).unwrap_err().to_string();
    assert!(
        e.contains("sso_start_url") && e.contains("[sso-session nowhere]"),
        "{e}"
    );
    let env = env.with_var("AWS_ENDPOINT_URL_SSO", "http://127.0.0.1:5");
    let Plan::Sso(p) = found(&env, Some("dev")) else {
        panic!()
    };
    assert_eq!(p.portal.port(), 5);
}

#[test]
fn credential_process_between_the_two_files() {
    let env = home()
        .with_file(CONFIG, "[default]\ncredential_process = /bin/creds --x\naws_access_key_id = CFG\naws_secret_access_key = S\n");
    let Plan::Process { command, from } = found(&env, None) else {
        panic!()
    };
    assert_eq!(command, "/bin/creds --x");
    assert_eq!(from, file_source(CONFIG, "default"));
    let env = env.with_file(CREDS, creds_file("default", "CREDKEY"));
    assert_eq!(static_akid(&found(&env, None)), "CREDKEY");
}

#[test]
fn container_then_instance_metadata() {
    let env = home().with_var(
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "http://127.0.0.1:9/creds",
    );
    assert!(matches!(found(&env, None), Plan::Container(_)));
    // Profile keys come before the container.
    let with_file = env.clone().with_file(CREDS, creds_file("default", "K"));
    assert_eq!(static_akid(&found(&with_file, None)), "K");

    let Chain::LastResort {
        imds, looked_at, ..
    } = plan(&home(), None).unwrap()
    else {
        panic!()
    };
    assert_eq!(imds.endpoint.host_header(), "169.254.169.254");
    assert_eq!((imds.timeout, imds.attempts), (Duration::from_secs(1), 2));
    assert_eq!(looked_at.len(), 4, "{looked_at:?}");
    let env = home()
        .with_var("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv6")
        .with_var("AWS_METADATA_SERVICE_NUM_ATTEMPTS", "3");
    let Chain::LastResort { imds, .. } = plan(&env, None).unwrap() else {
        panic!()
    };
    assert_eq!(
        (imds.endpoint.host_header().as_str(), imds.attempts),
        ("[fd00:ec2::254]", 3)
    );
    let env = home().with_file(
        CONFIG,
        "[default]\nec2_metadata_service_endpoint = http://127.0.0.1:7\nmetadata_service_timeout = 2\n",
    );
    let Chain::LastResort { imds, .. } = plan(&env, None).unwrap() else {
        panic!()
    };
    assert_eq!(
        (imds.endpoint.port(), imds.timeout),
        (7, Duration::from_secs(2))
    );
    let env = home().with_var("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv5");
    assert!(
        plan(&env, None)
            .unwrap_err()
            .to_string()
            .contains("neither IPv4 nor IPv6")
    );
}

#[test]
fn nothing_found_lists_every_source() {
    let env = home().with_var("AWS_EC2_METADATA_DISABLED", "true");
    let e = plan(&env, None).unwrap_err().to_string();
    assert_eq!(
        e,
        "no AWS credentials found for profile 'default'; looked at: \
         environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (not set); \
         /home/u/.aws/credentials (does not exist); /home/u/.aws/config (does not exist); \
         container credentials (neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor \
         AWS_CONTAINER_CREDENTIALS_FULL_URI is set); \
         EC2 instance metadata (disabled by AWS_EC2_METADATA_DISABLED)"
    );
}

#[test]
fn plans_hide_secrets() {
    let env = home()
        .with_var(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "http://127.0.0.1:9/creds",
        )
        .with_var(
            "AWS_CONTAINER_AUTHORIZATION_TOKEN",
            "container-secret-token",
        );
    let text = format!("{:?}", found(&env, None));
    assert!(!text.contains("container-secret-token"), "{text}");
    let env = home().with_file(CREDS, creds_file("default", "K"));
    let text = format!("{:?}", found(&env, None));
    assert!(!text.contains("secret-K"), "{text}");
}
