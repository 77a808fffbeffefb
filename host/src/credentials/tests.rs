use super::test_support::*;
use super::*;

#[test]
fn resolve_all() {
    let env = home()
        .with_var("AWS_PROFILE", "p")
        .with_file(CREDS, creds_file("p", "PKEY"))
        .with_file(CONFIG, "[profile p]\nregion = cn-north-1\n");
    let c = resolve(&env, &Overrides::default()).unwrap();
    assert_eq!(c.profile.name, "p");
    let Chain::Found(Plan::Static(keys)) = &c.credentials else {
        panic!("{:?}", c.credentials)
    };
    assert_eq!(keys.credentials.access_key_id, "PKEY");
    assert_eq!(c.region.region.as_str(), "cn-north-1");
    assert_eq!(
        c.endpoint.url.host_header(),
        "glacier.cn-north-1.amazonaws.com.cn"
    );
    let o = Overrides {
        profile: Some("p"),
        region: Some("us-east-1"),
        endpoint_url: Some("http://127.0.0.1:1234"),
    };
    let c = resolve(&env, &o).unwrap();
    assert_eq!(c.region.source, Source::Flag("--region"));
    assert_eq!(c.endpoint.url.host_header(), "127.0.0.1:1234");
    assert!(!format!("{c:?}").contains("secret-PKEY"));
}
