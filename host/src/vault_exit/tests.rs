use super::*;

#[test]
fn shards_are_the_first_8_bytes_of_sha256_big_endian() {
    // SHA-256("abc") = ba7816bf8f01cfea…
    assert_eq!(shard_of("abc", u64::MAX), 0xba78_16bf_8f01_cfea);
    assert_eq!(shard_of("abc", 4), 0xba78_16bf_8f01_cfea % 4);
    assert_eq!(shard_of("anything", 1), 0);
    let spread: std::collections::HashSet<u64> =
        (0..200).map(|i| shard_of(&format!("id-{i}"), 4)).collect();
    assert_eq!(spread.len(), 4);
}

fn args(extra: &[&str]) -> VaultExitArgs {
    use clap::Parser;
    #[derive(Parser)]
    struct P {
        #[command(flatten)]
        a: VaultExitArgs,
    }
    let mut argv = vec!["x", "--vault-name", "v", "--dest", "/tmp"];
    argv.extend_from_slice(extra);
    P::try_parse_from(argv).unwrap().a
}

#[test]
fn the_shard_index_comes_from_the_orchestrator_when_not_given() {
    let env = |k: &str| (k == "AWS_BATCH_JOB_ARRAY_INDEX").then(|| "2".to_string());
    assert_eq!(shard_index(&args(&["--shard-count", "4"]), env).unwrap(), 2);
    let k8s = |k: &str| (k == "JOB_COMPLETION_INDEX").then(|| "1".to_string());
    assert_eq!(shard_index(&args(&["--shard-count", "4"]), k8s).unwrap(), 1);
    assert_eq!(
        shard_index(&args(&["--shard-count", "4", "--shard-index", "3"]), env).unwrap(),
        3
    );
    let e = shard_index(&args(&["--shard-count", "2"]), env)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("AWS_BATCH_JOB_ARRAY_INDEX") && e.contains("--shard-count 2"),
        "{e}"
    );
    let bad = |_: &str| Some("x".to_string());
    assert!(shard_index(&args(&[]), bad).is_err());
    assert_eq!(shard_index(&args(&[]), |_| None).unwrap(), 0);
}

#[test]
fn the_initiate_rate_is_a_positive_number_up_to_the_bound() {
    assert_eq!(parse_rate("2"), Ok(2.0));
    assert_eq!(parse_rate("0.5"), Ok(0.5));
    assert_eq!(parse_rate("100000"), Ok(MAX_INITIATE_RATE));
    for bad in ["0", "-1", "100001", "NaN", "inf", "fast"] {
        let e = parse_rate(bad).unwrap_err();
        assert!(e.contains("at most 100000"), "{bad}: {e}");
    }
}
