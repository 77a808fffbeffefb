use super::*;
use crate::credentials::test_support::*;

fn output(
    env: &Env,
    explicit: Option<&str>,
    profile_flag: Option<&str>,
) -> Option<(String, Source)> {
    let p = profile(env, profile_flag);
    resolve_output(env, explicit, &p)
        .unwrap()
        .map(|o| (o.name, o.source))
}

#[test]
fn output_precedence_is_the_aws_clis() {
    let env = home().with_file(
        CONFIG,
        "[default]\noutput = table\n[profile p]\noutput = text\n",
    );
    assert_eq!(
        output(&env, None, None),
        Some(("table".into(), file_source(CONFIG, "default")))
    );
    assert_eq!(
        output(&env, None, Some("p")),
        Some(("text".into(), file_source(CONFIG, "profile p")))
    );
    let env = env.with_var("AWS_DEFAULT_OUTPUT", "json");
    assert_eq!(
        output(&env, None, Some("p")),
        Some(("json".into(), Source::EnvVar("AWS_DEFAULT_OUTPUT")))
    );
    assert_eq!(
        output(&env, Some("yaml"), Some("p")),
        Some(("yaml".into(), Source::Flag("--output")))
    );
}

#[test]
fn no_setting_is_none() {
    assert_eq!(output(&home(), None, None), None);
    // The credentials file is not where the AWS CLI looks for `output`.
    let env = home().with_file(CREDS, "[default]\noutput = table\n");
    assert_eq!(output(&env, None, None), None);
    let env = home().with_var("AWS_DEFAULT_OUTPUT", "");
    assert_eq!(output(&env, None, None), None);
}
