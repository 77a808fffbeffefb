use super::*;
use crate::credentials::test_support::*;

fn region(
    env: &Env,
    explicit: Option<&str>,
    profile_flag: Option<&str>,
) -> Result<(String, Source), ConfigError> {
    let p = profile(env, profile_flag);
    resolve_region(env, explicit, &p).map(|r| (r.region.0, r.source))
}

#[test]
fn region_precedence() {
    let env = home().with_file(
        CONFIG,
        "[default]\nregion = eu-west-1\n[profile p]\nregion = ap-south-1\n",
    );
    assert_eq!(
        region(&env, None, None),
        Ok(("eu-west-1".into(), file_source(CONFIG, "default")))
    );
    assert_eq!(region(&env, None, Some("p")).unwrap().0, "ap-south-1");
    let env = env.with_var("AWS_DEFAULT_REGION", "us-west-2");
    assert_eq!(
        region(&env, None, Some("p")),
        Ok(("us-west-2".into(), Source::EnvVar("AWS_DEFAULT_REGION")))
    );
    let env = env.with_var("AWS_REGION", "us-east-2");
    assert_eq!(
        region(&env, None, None),
        Ok(("us-east-2".into(), Source::EnvVar("AWS_REGION")))
    );
    assert_eq!(
        region(&env, Some("cn-north-1"), None),
        Ok(("cn-north-1".into(), Source::Flag("--region")))
    );
    // AWS_CONFIG_FILE replaces ~/.aws/config.
    let env = home()
        .with_var("AWS_CONFIG_FILE", "/etc/aws.conf")
        .with_file("/etc/aws.conf", "[default]\nregion = sa-east-1\n")
        .with_file(CONFIG, "[default]\nregion = eu-west-1\n");
    assert_eq!(region(&env, None, None).unwrap().0, "sa-east-1");
    // The credentials file is not a place for the region.
    let env = home().with_file(CREDS, "[default]\nregion = eu-west-1\n");
    assert!(matches!(
        region(&env, None, None),
        Err(ConfigError::NoRegion { .. })
    ));
}

#[test]
fn region_errors() {
    let e = region(&home(), None, None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "no AWS region configured (use --region); looked at: option --region (not given); \
         environment variables AWS_REGION and AWS_DEFAULT_REGION (not set); \
         /home/u/.aws/config (does not exist)"
    );
    let env = home().with_file(CONFIG, "[profile other]\nregion = eu-west-1\n");
    assert!(
        region(&env, None, None)
            .unwrap_err()
            .to_string()
            .contains("no region in the section of profile 'default'")
    );
    // A bad value is reported, not skipped for the next source.
    let env = home()
        .with_var("AWS_REGION", "US-EAST-1")
        .with_var("AWS_DEFAULT_REGION", "us-east-1");
    assert_eq!(
        region(&env, None, None),
        Err(ConfigError::InvalidRegion {
            value: "US-EAST-1".into(),
            source: Source::EnvVar("AWS_REGION")
        })
    );
    let env = home().with_file(CONFIG, "[default]\nregion = us-east-1 extra\n");
    assert!(matches!(
        region(&env, None, None),
        Err(ConfigError::InvalidRegion { .. })
    ));
    assert!(matches!(
        region(&home(), Some(""), None),
        Err(ConfigError::InvalidRegion { .. })
    ));
}

#[test]
fn region_names() {
    for good in [
        "us-east-1",
        "eu-central-2",
        "us-gov-west-1",
        "cn-north-1",
        "cn-northwest-1",
        "ap-southeast-4",
        "il-central-1",
        "us-isob-east-1",
        "eusc-de-east-1",
        "me-south-1",
        "ca-west-1",
        "mx-central-1",
    ] {
        assert_eq!(
            Region::new(good).map(|r| r.to_string()),
            Some(good.to_string()),
            "{good}"
        );
    }
    for bad in [
        "",
        "us",
        "us-east",
        "us-east1",
        "useast1",
        "US-EAST-1",
        "us_east_1",
        "us-east-1 ",
        " us-east-1",
        "us-east-100",
        "us--east-1",
        "-us-east-1",
        "us-east-1-",
        "u-east-1",
        "abcde-east-1",
        "us-3ast-1",
        "us-east-x",
        "global",
        "aws-global",
        "us-east-1\n",
        "ús-east-1",
        "us-east-1.evil.com",
    ] {
        assert_eq!(Region::new(bad), None, "{bad:?}");
    }
}
