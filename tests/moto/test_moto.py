"""glacier-verify against moto_server (docs/protocol.md §11): what must verify, and what
must fail, and how clearly.

moto deviates from Glacier: no x-amz-sha256-tree-hash header, DescribeJob with
ArchiveSizeInBytes 0 and no hashes, InventorySizeInBytes fixed at 10000, Range
ignored, a plain SHA-256 where a tree hash belongs. Each case below says which.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import re

import pytest
from botocore.utils import calculate_tree_hash

from conftest import BIG_LEN, MIB, SMALL_LEN, tree_hash

ZERO_HASH = "0" * 64
EXIT_OK, EXIT_VERIFY, EXIT_USAGE, EXIT_SERVICE = 0, 1, 2, 3


# --- the reference tree hash ----------------------------------------------


@pytest.mark.parametrize(
    "data, expected",
    [
        (b"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        (b"a" * 1024, "2edc986847e209b4016e141a6dc8716d3207350f416969382d431539bf292e4a"),
        (b"a" * MIB, "9bc1b2a288b26af7257a36277ae3816a7d4f16e89c1e7e77d0a5c48bad62b360"),
        (b"a" * 2 * MIB, "560c2c9333c719cb00cfdffee3ba293db17f58743cdd1f7e4055373ae6300afa"),
        (b"a" * (4 * MIB + 20), "12f3cbd6101b981cde074039f6f728071da8879d6f632de8afc7cdf00661b08f"),
        (b"a" * 3 * MIB, "70239f4f2ead7561f69d48b956b547edef52a1280a93c262c0b582190be7db17"),
        (b"a" * (7 * MIB + 1), "836b6b7f501bf8ea8b9dacc72fad2bb26d2de4ca062723f991eaf5ab16982840"),
    ],
    ids=["empty", "1KiB", "1MiB", "2MiB", "4MiB+20", "3MiB", "7MiB+1"],
)
def test_reference_tree_hash_matches_spec_vectors_and_botocore(data, expected):
    # docs/protocol.md §7 vectors; botocore's calculate_tree_hash as a second opinion.
    assert tree_hash(data) == expected
    assert calculate_tree_hash(io.BytesIO(data)) == expected


def test_upload_time_hashes_and_moto_facts(moto):
    """What the suite computed at upload, and the moto behaviour docs/protocol.md §11
    describes (so a moto release that changes it is noticed here)."""
    assert len(moto.small) == SMALL_LEN and len(moto.big) == BIG_LEN
    assert moto.small_tree_hash == calculate_tree_hash(io.BytesIO(moto.small))
    assert moto.big_tree_hash == calculate_tree_hash(io.BytesIO(moto.big))
    # <= 1 MiB the tree hash is the plain SHA-256; above it is not.
    assert moto.small_tree_hash == hashlib.sha256(moto.small).hexdigest()
    assert moto.big_tree_hash != hashlib.sha256(moto.big).hexdigest()
    # moto's upload checksum is a plain SHA-256, its archive id the MD5.
    assert moto.small_upload["checksum"] == moto.small_tree_hash
    assert moto.big_upload["checksum"] == hashlib.sha256(moto.big).hexdigest()
    assert moto.big_upload["archiveId"] == hashlib.md5(moto.big).hexdigest()
    # DescribeJob placeholders; moto honours Tier (Expedited = 2 s).
    for name in ("small", "big"):
        d = moto.described[name]
        assert d["StatusCode"] == "Succeeded" and d["Action"] == "ArchiveRetrieval"
        assert d["ArchiveSizeInBytes"] == 0
        assert not d.get("SHA256TreeHash") and not d.get("ArchiveSHA256TreeHash")
    for name in ("small", "big", "inventory"):
        d = moto.described[name]
        assert d["Tier"] == "Expedited"
        took = _when(d["CompletionDate"]) - _when(d["CreationDate"])
        assert took == datetime.timedelta(seconds=2), f"{name}: {took} (Standard would be 5 s)"
    assert moto.described["inventory"]["InventorySizeInBytes"] == 10000
    assert moto.waited < 15, f"waited {moto.waited:.1f}s for 2-second jobs"


def _when(text: str) -> datetime.datetime:
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")


def test_describe_job_prints_moto_json(moto):
    r = moto.gv("describe-job", "--vault-name", moto.vault, "--job-id", moto.jobs["small"])
    assert r.code == EXIT_OK, r
    assert r.report["JobId"] == moto.jobs["small"]
    assert r.report["ArchiveId"] == moto.small_upload["archiveId"]
    assert r.report["ArchiveSizeInBytes"] == 0


# --- 1. the 1,000-byte archive -------------------------------------------


def _assert_verified(r, outfile, data, level):
    assert r.code == EXIT_OK, r
    v = r.verification
    assert v["verdict"] == "verified", r
    assert v["level"] == level, r
    assert v["bytes"] == len(data)
    assert v["computedTreeHash"] == tree_hash(data)
    assert r.report["status"] == 200
    assert r.report["contentType"] == "application/octet-stream"
    # The report's checksum is the verified tree hash of OUTFILE; with no
    # hash to verify it (moto sends no x-amz-sha256-tree-hash) there is none.
    assert r.report.get("checksum") == (None if level == "size-only" else tree_hash(data)), r
    assert outfile.read_bytes() == data
    assert not outfile.with_name(outfile.name + ".part").exists()
    return v


def test_small_archive_verifies_by_size_only(moto, tmp_path):
    out = tmp_path / "small.bin"
    r = moto.get("small", out)
    v = _assert_verified(r, out, moto.small, "size-only")
    assert v["mode"] == "single-stream"
    assert v["comparisons"] == []
    # Honest about what was not checked.
    assert any("no tree hash" in w for w in v["warnings"]), r
    assert any("ArchiveSizeInBytes" in n for n in v["notes"]), r


def test_small_archive_verifies_against_upload_tree_hash(moto, tmp_path):
    # Also: a 12-digit account id, and the endpoint from AWS_ENDPOINT_URL_GLACIER.
    out = tmp_path / "small.bin"
    r = moto.get("small", out, "--account-id", "123456789012", "--expected-tree-hash", moto.small_tree_hash,
                 endpoint=False, env={"AWS_ENDPOINT_URL_GLACIER": moto.url})
    v = _assert_verified(r, out, moto.small, "expected-hash")
    assert v["comparisons"] == [
        {"with": "--expected-tree-hash", "expected": moto.small_tree_hash, "result": "match"}
    ]
    assert not any("no tree hash" in w for w in v["warnings"]), r


def test_small_archive_to_stdout(moto, tmp_path):
    r = moto.get("small", "-", "--expected-tree-hash", moto.small_tree_hash, json_report=False)
    assert r.code == EXIT_OK, r
    assert r.stdout == moto.small
    report = json.loads(r.stderr)
    assert report["verification"]["level"] == "expected-hash"
    assert report["outfile"] is None


# --- 2. the 3.5 MiB archive ------------------------------------------------


def test_big_archive_verifies_against_upload_tree_hash(moto, tmp_path):
    out = tmp_path / "big.bin"
    r = moto.get("big", out, "--expected-tree-hash", moto.big_tree_hash)
    v = _assert_verified(r, out, moto.big, "expected-hash")
    assert v["mode"] == "single-stream"
    assert v["requests"] == 1


def test_big_archive_with_wrong_expected_hash_fails_and_leaves_no_outfile(moto, tmp_path):
    out = tmp_path / "big.bin"
    r = moto.get("big", out, "--expected-tree-hash", ZERO_HASH, "--max-attempts", "2")
    assert r.code == EXIT_VERIFY, r
    assert r.verification["verdict"] == "failed"
    assert r.verification["error"]["kind"] == "verification"
    msg = r.error_message
    assert "tree hash mismatch" in msg, r
    assert moto.big_tree_hash in msg and ZERO_HASH in msg, r
    assert not out.exists()
    assert r.report["outfile"] is None
    assert r.elapsed < 30, r


# --- 3. Range: moto ignores it ------------------------------------------------


def test_range_ignored_by_moto_is_a_clear_failure(moto, tmp_path):
    out = tmp_path / "first-mib.bin"
    r = moto.get("big", out, "--range", "bytes=0-1048575")
    assert r.code == EXIT_VERIFY, r
    assert r.verification["verdict"] == "failed"
    assert r.verification["error"]["kind"] == "verification"
    msg = r.error_message
    assert re.search(r"ignored the Range", msg), r
    assert str(BIG_LEN) in msg, r
    assert "ignored the Range" in r.stderr
    assert not out.exists()
    assert r.elapsed < 30, r


def test_open_range_from_zero_is_the_whole_output(moto, tmp_path):
    # bytes=0- asks for everything: moto's 200 with the whole body is a
    # correct answer to it (docs/protocol.md §9.2).
    out = tmp_path / "big.bin"
    r = moto.get("big", out, "--range", "bytes=0-", "--expected-tree-hash", moto.big_tree_hash)
    _assert_verified(r, out, moto.big, "expected-hash")


# --- 4. parallel parts ---------------------------------------------------------


def test_parallel_parts_need_a_known_length_so_one_stream_verifies(moto, tmp_path):
    """moto's DescribeJob gives ArchiveSizeInBytes 0 and ignores
    RetrievalByteRange, so the output length is unknown before the response
    and parts mode cannot be planned: one verified stream, one request."""
    out = tmp_path / "big.bin"
    r = moto.get("big", out, "--part-size", "1MiB", "--parallel", "4", "--expected-tree-hash", moto.big_tree_hash)
    v = _assert_verified(r, out, moto.big, "expected-hash")
    assert v["mode"] == "single-stream", r
    assert "parts" not in v
    assert v["requests"] == 1
    assert not out.with_name(out.name + ".part.journal").exists()


# --- 5. the inventory ------------------------------------------------------------


def test_inventory_with_describe_job_fails_on_moto_fixed_size(moto, tmp_path):
    # moto's InventorySizeInBytes is always 10000: trusting it must fail, precisely.
    out = tmp_path / "inventory.json"
    r = moto.get("inventory", out)
    assert r.code == EXIT_VERIFY, r
    msg = r.error_message
    m = re.search(r"Content-Length (\d+) differs from the expected 10000 bytes", msg)
    assert m, r
    assert int(m.group(1)) != 10000
    assert not out.exists()


@pytest.fixture(scope="session")
def inventory(moto, tmp_path_factory):
    out = tmp_path_factory.mktemp("inventory") / "inventory.json"
    r = moto.get("inventory", out, "--no-describe-job")
    return r, out


def test_inventory_downloads_without_describe_job(moto, inventory):
    r, out = inventory
    assert r.code == EXIT_OK, r
    v = r.verification
    assert v["verdict"] == "verified" and v["level"] == "size-only", r
    assert r.report["contentType"] == "application/json"
    assert v["bytes"] == out.stat().st_size
    assert any("--no-describe-job" in n for n in v["notes"]), r
    body = json.loads(out.read_bytes())
    assert {a["ArchiveId"] for a in body["ArchiveList"]} == {
        moto.small_upload["archiveId"], moto.big_upload["archiveId"]}


def test_inventory_command_parses_moto_inventory(moto, inventory):
    r0, out = inventory
    assert r0.code == EXIT_OK, r0
    r = moto.gv("inventory", str(out), "--json", endpoint=False)
    assert r.code == EXIT_OK, r
    archives = {a["archiveId"]: a for a in r.report["archives"]}
    small = archives[moto.small_upload["archiveId"]]
    big = archives[moto.big_upload["archiveId"]]
    assert small["size"] == SMALL_LEN and big["size"] == BIG_LEN
    assert (small["description"], big["description"]) == ("small 1000 B", "big 3.5 MiB")
    assert small["treeHash"] == moto.small_tree_hash
    # moto's "SHA256TreeHash" is a plain SHA-256 (docs/protocol.md §11).
    assert big["treeHash"] == hashlib.sha256(moto.big).hexdigest() != moto.big_tree_hash
    assert r.report["vaultArn"].endswith(f":vaults/{moto.vault}")
    table = moto.gv("inventory", str(out), endpoint=False, json_report=False)
    assert table.code == EXIT_OK, table
    assert moto.big_upload["archiveId"].encode() in table.stdout


def test_inventory_hash_verifies_small_archive(moto, inventory, tmp_path):
    _, inv = inventory
    out = tmp_path / "small.bin"
    r = moto.get("small", out, "--inventory", str(inv))
    v = _assert_verified(r, out, moto.small, "expected-hash")
    assert v["comparisons"] == [
        {"with": f"inventory {inv}", "expected": moto.small_tree_hash, "result": "match"}
    ]


def test_inventory_plain_sha256_is_a_mismatch_for_big_archive(moto, inventory, tmp_path):
    _, inv = inventory
    out = tmp_path / "big.bin"
    moto_hash = hashlib.sha256(moto.big).hexdigest()
    r = moto.get("big", out, "--inventory", str(inv), "--max-attempts", "1")
    assert r.code == EXIT_VERIFY, r
    msg = r.error_message
    assert "tree hash mismatch" in msg, r
    assert f"computed {moto.big_tree_hash}" in msg and moto_hash in msg, r
    assert not out.exists()


# --- 6. the AWS CLI's download, checked offline ------------------------------------


def test_aws_cli_download_verified_and_tampering_detected(moto, tmp_path):
    out, resp = tmp_path / "out.bin", tmp_path / "resp.json"
    a = moto.aws("glacier", "get-job-output", "--account-id", "-", "--vault-name", moto.vault,
                 "--job-id", moto.jobs["big"], str(out), stdout_path=resp)
    assert a.code == 0, a
    cli = json.loads(resp.read_bytes())
    assert cli["status"] == 200 and "checksum" not in cli, cli
    assert out.read_bytes() == moto.big

    ok = moto.gv("verify", str(out), "--aws-cli-json", str(resp), "--expected-tree-hash", moto.big_tree_hash,
                 endpoint=False)
    assert ok.code == EXIT_OK, ok
    assert ok.verification["verdict"] == "verified"
    assert ok.verification["level"] == "expected-hash", ok
    assert ok.verification["computedTreeHash"] == moto.big_tree_hash

    # Without an expected hash nothing but the file's own size is known.
    weak = moto.gv("verify", str(out), "--aws-cli-json", str(resp), endpoint=False)
    assert weak.code == EXIT_OK, weak
    assert weak.verification["level"] == "size-only", weak

    data = bytearray(moto.big)
    data[2 * MIB + 12345] ^= 0x01
    out.write_bytes(bytes(data))
    bad = moto.gv("verify", str(out), "--aws-cli-json", str(resp), "--expected-tree-hash", moto.big_tree_hash,
                  endpoint=False)
    assert bad.code == EXIT_VERIFY, bad
    assert bad.verification["verdict"] == "failed"
    assert "tree hash mismatch" in bad.error_message, bad
    assert f"computed {tree_hash(bytes(data))}" in bad.error_message, bad


# --- 7. service errors ------------------------------------------------------------------


def test_unknown_job_is_a_service_error_not_retried_forever(moto, tmp_path):
    # moto answers an unknown job id with 500 and an HTML page (docs/protocol.md §11).
    out = tmp_path / "x.bin"
    r = moto.get("NO-SUCH-JOB", out, "--max-attempts", "2", timeout=60)
    assert r.code == EXIT_SERVICE, r
    assert "500" in r.stderr, r
    assert r.elapsed < 10, r
    assert not out.exists()

    # Straight to GetJobOutput: a 500 is retried (docs/protocol.md §9.5), but only
    # --max-attempts times.
    r = moto.get("NO-SUCH-JOB", out, "--max-attempts", "2", "--no-describe-job", timeout=60)
    assert r.code == EXIT_SERVICE, r
    assert r.verification["error"]["kind"] == "service"
    assert "HTTP 500" in r.error_message, r
    assert r.elapsed < 10, r
    assert not out.exists()


def test_job_not_yet_complete_is_a_clear_service_error(moto, tmp_path):
    job = moto.initiate("inventory-retrieval", tier="Bulk")  # moto: 10 s
    out = tmp_path / "early.json"
    r = moto.get(job, out)
    assert r.code == EXIT_SERVICE, r
    assert "not completed" in r.stderr and "InProgress" in r.stderr, r
    assert r.elapsed < 10, r
    assert not out.exists()

    # Without DescribeJob, moto's plain-text 404 (Glacier: 400
    # InvalidParameterValueException) is not retried.
    r = moto.get(job, out, "--no-describe-job")
    assert r.code == EXIT_SERVICE, r
    assert "HTTP 404" in r.error_message, r
    assert r.elapsed < 10, r
    assert not out.exists()
    assert moto.client.describe_job(vaultName=moto.vault, jobId=job)["StatusCode"] == "InProgress", \
        "the Bulk job completed during the test: the checks above did not test an incomplete job"


def test_failures_before_download_also_print_a_json_report(moto, tmp_path):
    r = moto.get("NO-SUCH-JOB", tmp_path / "x.bin", "--max-attempts", "1")
    assert r.code == EXIT_SERVICE, r
    assert r.report is not None, r
    assert r.verification["verdict"] == "failed"
    assert "500" in r.error_message


@pytest.mark.parametrize("length", [0, 1, 1000, MIB - 1, MIB, MIB + 1, 3 * MIB + 7, 8 * MIB, 9 * MIB + 12345])
@pytest.mark.parametrize("threads", ["1", "2"])
def test_tree_hash_command_agrees_with_botocore(tmp_path, length, threads):
    """`glacier-verify tree-hash` equals botocore's calculate_tree_hash on any file."""
    import os
    import random
    import subprocess

    data = random.Random(length).randbytes(length)
    path = tmp_path / f"f{length}.bin"
    path.write_bytes(data)
    out = subprocess.run(
        [os.environ["GLACIER_VERIFY_BIN"], "tree-hash", "--threads", threads, str(path)],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout
    hex_, name = out.rstrip("\n").split("  ", 1)
    assert name == str(path)
    assert hex_ == calculate_tree_hash(io.BytesIO(data))
