use super::*;

fn loc() -> JobLocation {
    JobLocation {
        account_id: "-".into(),
        vault: "v".into(),
        job_id: "j".into(),
    }
}

const SIZE: u64 = 40 << 20;

fn archive_facts(retrieval: ByteRange, hash: Option<Digest>) -> JobFacts {
    JobFacts {
        kind: JobKind::Archive {
            archive_size: SIZE,
            retrieval,
        },
        output_len: Some(retrieval.len()),
        output_tree_hash: hash,
        archive_id: Some("archive-1".into()),
        notes: Vec::new(),
    }
}

fn whole() -> ByteRange {
    ByteRange::new(0, SIZE - 1).unwrap()
}

fn inventory(hash: Digest) -> Inventory {
    let json = format!(
        r#"{{"VaultARN":"arn:aws:glacier:us-east-1:012345678901:vaults/v","InventoryDate":"2024-01-01T00:00:00Z",
            "ArchiveList":[{{"ArchiveId":"archive-1","ArchiveDescription":"","CreationDate":"2024-01-01T00:00:00Z","Size":{SIZE},"SHA256TreeHash":"{hash}"}}]}}"#
    );
    crate::inventory::parse(json.as_bytes()).unwrap()
}

fn plan(facts: Option<&JobFacts>, request: &Request<'_>) -> Result<Plan, HostError> {
    Plan::new(loc(), facts, request, RetryPolicy::standard())
}

fn sources(p: &Plan) -> Vec<HashSource> {
    p.expected.iter().map(|e| e.hash.source).collect()
}

#[test]
fn whole_output_takes_every_source_in_order() {
    let h = Digest([3; 32]);
    let facts = archive_facts(whole(), Some(h));
    let inv = inventory(h);
    let request = Request {
        expected_tree_hash: Some(h),
        inventory: Some((Path::new("inv.json"), &inv)),
        ..Request::default()
    };
    let p = plan(Some(&facts), &request).unwrap();
    assert_eq!(
        sources(&p),
        [
            HashSource::CommandLine,
            HashSource::Inventory,
            HashSource::DescribeJob
        ]
    );
    assert_eq!(p.expected[1].label, "inventory inv.json");
    assert_eq!(p.mode(), Mode::ParallelParts);
    assert_eq!(p.target_len(), Some(SIZE));
}

#[test]
fn describe_job_hash_does_not_apply_to_a_range() {
    let facts = archive_facts(whole(), Some(Digest([1; 32])));
    let request = Request {
        range: Some(RangeRequest::parse(b"bytes=0-1048575").unwrap()),
        ..Request::default()
    };
    let p = plan(Some(&facts), &request).unwrap();
    assert!(p.expected.is_empty());
    assert!(p.notes.iter().any(|n| n.contains("not compared")));
    assert_eq!(p.mode(), Mode::SingleStream);
    assert_eq!(p.target_len(), Some(1 << 20));
}

#[test]
fn inventory_needs_a_whole_archive_download() {
    let h = Digest([2; 32]);
    let inv = inventory(h);
    let with_inventory = |range| Request {
        range,
        inventory: Some((Path::new("inv.json"), &inv)),
        ..Request::default()
    };
    // Not with --range.
    let facts = archive_facts(whole(), None);
    let r = with_inventory(Some(RangeRequest::parse(b"bytes=0-99").unwrap()));
    assert!(matches!(plan(Some(&facts), &r), Err(HostError::Usage(m)) if m.contains("--range")));
    // Not for a job that retrieved part of the archive.
    let facts = archive_facts(ByteRange::new(0, (8 << 20) - 1).unwrap(), None);
    let e = plan(Some(&facts), &with_inventory(None)).unwrap_err();
    assert!(e.to_string().contains("retrieved only"), "{e}");
    // Not without DescribeJob (no ArchiveId).
    let e = plan(None, &with_inventory(None)).unwrap_err();
    assert!(e.to_string().contains("ArchiveId"), "{e}");
    // An archive the inventory does not list.
    let mut facts = archive_facts(whole(), None);
    facts.archive_id = Some("other".into());
    let e = plan(Some(&facts), &with_inventory(None)).unwrap_err();
    assert!(e.to_string().contains("not in the inventory"), "{e}");
}

#[test]
fn ranges_outside_the_output_are_refused_before_download() {
    let facts = archive_facts(whole(), None);
    let request = Request {
        range: Some(RangeRequest::parse(format!("bytes={SIZE}-").as_bytes()).unwrap()),
        ..Request::default()
    };
    let e = plan(Some(&facts), &request).unwrap_err();
    assert!(e.to_string().contains("the job output is"), "{e}");
}

#[test]
fn without_describe_job_only_the_command_line_hash_applies() {
    let request = Request {
        expected_tree_hash: Some(Digest([9; 32])),
        part_size: Some(32 << 20),
        ..Request::default()
    };
    let p = plan(None, &request).unwrap();
    assert_eq!(sources(&p), [HashSource::CommandLine]);
    assert_eq!(p.mode(), Mode::SingleStream);
    assert_eq!(p.target_len(), None);
    assert!(p.notes.iter().any(|n| n.contains("--no-describe-job")));
    assert!(p.notes.iter().any(|n| n.contains("--part-size ignored")));
}

#[test]
fn default_part_sizes_are_powers_of_two_mib() {
    assert_eq!(default_part_size(1 << 30), 16 << 20);
    assert_eq!(default_part_size(40 << 40), 1 << 30);
    for len in [1u64, 5 << 20, 3 << 33, 40 << 40] {
        let p = default_part_size(len);
        assert!(p.is_power_of_two() && p >= LEAF_SIZE, "{len} -> {p}");
        assert!(len.div_ceil(p) <= 65_536);
    }
}

#[test]
fn small_outputs_are_one_stream() {
    let facts = archive_facts(ByteRange::new(0, (16 << 20) - 1).unwrap(), None);
    let p = plan(Some(&facts), &Request::default()).unwrap();
    assert_eq!(p.mode(), Mode::SingleStream);
}

#[test]
fn an_inventory_entry_is_one_more_source_for_the_whole_archive_only() {
    let (inv, job) = (Digest([4; 32]), Digest([5; 32]));
    let facts = archive_facts(whole(), Some(job));
    let request = Request {
        inventory_entry: Some(("inventory of vault v", inv)),
        ..Request::default()
    };
    let p = plan(Some(&facts), &request).unwrap();
    assert_eq!(
        sources(&p),
        [HashSource::Inventory, HashSource::DescribeJob]
    );
    assert_eq!(p.expected[0].hash.digest, inv);
    assert_eq!(p.expected[0].label, "inventory of vault v");
    let part = archive_facts(ByteRange::new(0, (8 << 20) - 1).unwrap(), None);
    let e = plan(Some(&part), &request).unwrap_err();
    assert!(e.to_string().contains("retrieved only"), "{e}");
}
