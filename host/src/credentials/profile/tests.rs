use super::*;
use crate::credentials::test_support::*;

#[test]
fn profile_precedence() {
    let env = home();
    assert_eq!(
        profile(&env, None),
        Profile {
            name: "default".into(),
            source: Source::Default
        }
    );
    let env = env.with_var("AWS_PROFILE", "fromenv");
    assert_eq!(profile(&env, None).name, "fromenv");
    assert_eq!(profile(&env, None).source, Source::EnvVar("AWS_PROFILE"));
    assert_eq!(profile(&env, Some("flag")).name, "flag");
    assert_eq!(
        profile(&env, Some("flag")).source,
        Source::Flag("--profile")
    );
    assert_eq!(
        resolve_profile(&env, Some("")),
        Err(ConfigError::EmptyProfileName)
    );
    // Empty variable = unset.
    let env = home().with_var("AWS_PROFILE", "");
    assert_eq!(profile(&env, None).name, "default");
}
