use std::path::PathBuf;

use super::*;
use crate::credentials::parse_ini;
use crate::credentials::test_support::*;

#[test]
fn env_credentials_win_over_files() {
    let env = home()
        .with_var("AWS_ACCESS_KEY_ID", "ENVKEY")
        .with_var("AWS_SECRET_ACCESS_KEY", "envsecret")
        .with_file(CREDS, creds_file("default", "FILEKEY"));
    let r = resolve_credentials(&env, &profile(&env, None)).unwrap();
    assert_eq!(r.credentials, Credentials::new("ENVKEY", "envsecret", None));
    assert_eq!(r.source, Source::EnvVar("AWS_ACCESS_KEY_ID"));
    // AWS_PROFILE does not disable the environment keys.
    let env = env.with_var("AWS_PROFILE", "other");
    assert_eq!(akid(&env, None).unwrap().0, "ENVKEY");
}

#[test]
fn env_session_token() {
    let base = home()
        .with_var("AWS_ACCESS_KEY_ID", "K")
        .with_var("AWS_SECRET_ACCESS_KEY", "S");
    let token = |env: &Env| {
        resolve_credentials(env, &profile(env, None))
            .unwrap()
            .credentials
            .session_token
    };
    assert_eq!(token(&base), None);
    assert_eq!(
        token(&base.clone().with_var("AWS_SECURITY_TOKEN", "legacy")),
        Some("legacy".into())
    );
    let both = base
        .clone()
        .with_var("AWS_SECURITY_TOKEN", "legacy")
        .with_var("AWS_SESSION_TOKEN", "new");
    assert_eq!(token(&both), Some("new".into()));
    // A token alone is ignored (as botocore): falls through to the files.
    let env = home()
        .with_var("AWS_SESSION_TOKEN", "t")
        .with_file(CREDS, creds_file("default", "FILEKEY"));
    let r = resolve_credentials(&env, &profile(&env, None)).unwrap();
    assert_eq!(r.credentials.session_token, None);
}

#[test]
fn partial_env_credentials_are_an_error() {
    let env = home()
        .with_var("AWS_ACCESS_KEY_ID", "K")
        .with_file(CREDS, creds_file("default", "FILEKEY"));
    assert_eq!(
        akid(&env, None),
        Err(ConfigError::PartialCredentials {
            source: Source::EnvVar("AWS_ACCESS_KEY_ID"),
            missing: "AWS_SECRET_ACCESS_KEY"
        })
    );
    let env = home().with_var("AWS_SECRET_ACCESS_KEY", "S");
    let e = akid(&env, None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "incomplete AWS credentials from environment variable AWS_SECRET_ACCESS_KEY: AWS_ACCESS_KEY_ID is missing"
    );
}

#[test]
fn explicit_profile_skips_env_credentials() {
    let env = home()
        .with_var("AWS_ACCESS_KEY_ID", "ENVKEY")
        .with_var("AWS_SECRET_ACCESS_KEY", "envsecret")
        .with_file(CREDS, creds_file("prod", "PRODKEY"));
    assert_eq!(
        akid(&env, Some("prod")),
        Ok(("PRODKEY".into(), file_source(CREDS, "prod")))
    );
    // … and if the profile has no credentials, the env keys are still not used.
    let e = akid(&env, Some("missing")).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("ignored because --profile was given"), "{msg}");
    assert!(msg.contains("no [missing] section"), "{msg}");
}

#[test]
fn credentials_file_profile_selection() {
    let text = format!(
        "{}{}[profile prod]\naws_access_key_id = LITERAL\naws_secret_access_key = s\n",
        creds_file("default", "DEFKEY"),
        creds_file("prod", "PRODKEY")
    );
    let env = home().with_file(CREDS, text);
    assert_eq!(akid(&env, None).unwrap().0, "DEFKEY");
    let env = env.with_var("AWS_PROFILE", "prod");
    assert_eq!(akid(&env, None).unwrap().0, "PRODKEY");
    // In the credentials file "[profile x]" is just a section named "profile x".
    assert_eq!(akid(&env, Some("profile prod")).unwrap().0, "LITERAL");
}

#[test]
fn credentials_file_location() {
    // AWS_SHARED_CREDENTIALS_FILE, with ~ expansion, replaces ~/.aws/credentials.
    let env = home()
        .with_var("AWS_SHARED_CREDENTIALS_FILE", "~/elsewhere/creds")
        .with_file("/home/u/elsewhere/creds", creds_file("default", "OVERRIDE"))
        .with_file(CREDS, creds_file("default", "HOMEFILE"));
    assert_eq!(
        akid(&env, None),
        Ok((
            "OVERRIDE".into(),
            file_source("/home/u/elsewhere/creds", "default")
        ))
    );
    let env = Env::new()
        .with_var("AWS_SHARED_CREDENTIALS_FILE", "/etc/aws-creds")
        .with_file("/etc/aws-creds", creds_file("default", "ABS"));
    assert_eq!(akid(&env, None).unwrap().0, "ABS");
    // USERPROFILE stands in for HOME.
    let env = Env::new()
        .with_var("USERPROFILE", "/win")
        .with_file("/win/.aws/credentials", creds_file("default", "WIN"));
    assert_eq!(akid(&env, None).unwrap().0, "WIN");
    assert_eq!(home().shared_credentials_path(), Some(PathBuf::from(CREDS)));
    assert_eq!(home().config_path(), Some(PathBuf::from(CONFIG)));
    assert_eq!(Env::new().config_path(), None);
}

#[test]
fn config_file_credentials_come_after_credentials_file() {
    let config = "[profile prod]\naws_access_key_id = CFGKEY\naws_secret_access_key = s\n\
                  [default]\naws_access_key_id = CFGDEF\naws_secret_access_key = s\n";
    let env = home().with_file(CONFIG, config);
    assert_eq!(
        akid(&env, Some("prod")),
        Ok(("CFGKEY".into(), file_source(CONFIG, "profile prod")))
    );
    assert_eq!(akid(&env, None).unwrap().0, "CFGDEF");
    let env = env.with_file(CREDS, creds_file("prod", "CREDKEY"));
    assert_eq!(akid(&env, Some("prod")).unwrap().0, "CREDKEY");
    // In the config file only "[profile NAME]" names a profile (except default).
    let env = home().with_file(
        CONFIG,
        "[prod]\naws_access_key_id = X\naws_secret_access_key = s\n",
    );
    assert!(matches!(
        akid(&env, Some("prod")),
        Err(ConfigError::NoCredentials { .. })
    ));
    // "[profile default]" also names the default profile.
    let env = home().with_file(
        CONFIG,
        "[profile default]\naws_access_key_id = PD\naws_secret_access_key = s\n",
    );
    assert_eq!(akid(&env, None).unwrap().0, "PD");
}

#[test]
fn file_session_token_and_partial_keys() {
    let env = home().with_file(
        CREDS,
        "[default]\naws_access_key_id = K\naws_secret_access_key = S\naws_session_token = T\n",
    );
    let r = resolve_credentials(&env, &profile(&env, None)).unwrap();
    assert_eq!(r.credentials, Credentials::new("K", "S", Some("T".into())));
    let env = home().with_file(CREDS, "[default]\naws_access_key_id = K\n");
    assert_eq!(
        akid(&env, None),
        Err(ConfigError::PartialCredentials {
            source: file_source(CREDS, "default"),
            missing: "aws_secret_access_key"
        })
    );
    let env = home().with_file(CREDS, "[default]\naws_secret_access_key = S\n");
    assert!(matches!(
        akid(&env, None),
        Err(ConfigError::PartialCredentials {
            missing: "aws_access_key_id",
            ..
        })
    ));
    // Keys are case-insensitive; repeated sections merge, later values win.
    let env = home().with_file(
        CREDS,
        "[default]\nAWS_ACCESS_KEY_ID = OLD\n[other]\nx=1\n[default]\naws_access_key_id = NEW\naws_secret_access_key = S\n",
    );
    assert_eq!(akid(&env, None).unwrap().0, "NEW");
}

#[test]
fn invalid_credential_values() {
    let env = home()
        .with_var("AWS_ACCESS_KEY_ID", "K K")
        .with_var("AWS_SECRET_ACCESS_KEY", "S");
    assert_eq!(
        akid(&env, None),
        Err(ConfigError::InvalidCredentials {
            source: Source::EnvVar("AWS_ACCESS_KEY_ID"),
            what: "access key id"
        })
    );
    let env = home().with_file(
        CREDS,
        "[default]\naws_access_key_id = K\naws_secret_access_key = S\naws_session_token = a\n  b\n",
    );
    assert!(matches!(
        akid(&env, None),
        Err(ConfigError::InvalidCredentials {
            what: "session token",
            ..
        })
    ));
}

#[test]
fn no_credentials_message_lists_everything() {
    let e = akid(&home(), None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "no AWS credentials found for profile 'default'; looked at: \
         environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (not set); \
         /home/u/.aws/credentials (does not exist); /home/u/.aws/config (does not exist); \
         container credentials (neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor \
         AWS_CONTAINER_CREDENTIALS_FULL_URI is set)"
    );
    let e = akid(&Env::new(), None).unwrap_err();
    assert!(
        e.to_string()
            .contains("neither AWS_SHARED_CREDENTIALS_FILE nor HOME is set"),
        "{e}"
    );
    let env = home()
        .with_file(CREDS, "[default]\nregion = x\n")
        .with_file(CONFIG, "[profile other]\n");
    let e = akid(&env, None).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("[default] has no aws_access_key_id"), "{msg}");
    assert!(msg.contains("no [default] section"), "{msg}");
    let e = akid(&env, Some("x")).unwrap_err();
    assert!(e.to_string().contains("no [profile x] section"), "{e}");
}

#[test]
fn unreadable_and_malformed_files() {
    let env = home().with_unreadable_file(CREDS, "Permission denied (os error 13)");
    assert_eq!(
        akid(&env, None),
        Err(ConfigError::FileUnreadable {
            path: PathBuf::from(CREDS),
            reason: "Permission denied (os error 13)".into()
        })
    );
    let env = home().with_file(CONFIG, "[default\nregion=us-east-1\n");
    let e = akid(&env, None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "syntax error in /home/u/.aws/config: line 1: section header without closing ']'"
    );
    assert!(std::error::Error::source(&e).is_some());
}

#[test]
fn secrets_stay_out_of_debug_and_errors() {
    let env = home()
        .with_var("AWS_SECRET_ACCESS_KEY", "TOPSECRET")
        .with_file(
            CREDS,
            "[default]\naws_secret_access_key = FILESECRET\naws_session_token = TOK\n",
        );
    let dbg = format!("{env:?}");
    assert!(
        !dbg.contains("TOPSECRET") && !dbg.contains("FILESECRET"),
        "{dbg}"
    );
    let ini = parse_ini(
        "[default]\naws_secret_access_key = FILESECRET\naws_session_token = TOK\nregion = r\n",
    )
    .unwrap();
    let dbg = format!("{ini:?}");
    assert!(
        !dbg.contains("FILESECRET") && !dbg.contains("TOK") && dbg.contains("\"r\""),
        "{dbg}"
    );
    let e = akid(&env, None).unwrap_err();
    assert!(!format!("{e} {e:?}").contains("TOPSECRET"));
    let e = parse_ini("[a]\nsecret_without_equals FILESECRET\n").unwrap_err();
    assert!(!e.to_string().contains("FILESECRET"));
}
