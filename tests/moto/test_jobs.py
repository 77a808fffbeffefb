"""The job lifecycle against moto_server with glacier-verify alone, and its job
commands' JSON next to the AWS CLI's for the same requests.

Archives are uploaded with boto3; then glacier-verify runs `initiate-job` (a
whole archive, a tree-hash-aligned range of one, an inventory), `wait
job-completed` and `get-job-output`. `initiate-job`, `describe-job` and
`list-jobs` print what `aws glacier …` prints for the same request: the same
field names with the same values (the order of the fields is not compared).

The AWS CLI here is version 1, installed from PyPI (`awscli` in
requirements.txt); the AWS CLI v2 is not published on PyPI (AWS ships it as
its own installer), so it is not what this suite compares with. Both
versions parse Glacier's answers with botocore's model, which is what
decides the output compared here.

What was found comparing the two, and what moto does (docs/protocol.md §11):

- moto sends every DescribeJob member it has no value for as `null`
  (`SNSTopic`, `JobDescription`, `StatusMessage`, `RetrievalByteRange`,
  the hashes). botocore leaves null members out of the parsed answer, so the
  AWS CLI never prints them; glacier-verify printed them. Fixed: the job and
  vault commands now leave null members out too (a real difference: it would
  also show with Glacier, which sends null for e.g. `CompletionDate` of a
  running job).
- moto's `Location` header has no account id (`//vaults/V/jobs/ID`); both
  tools print it as sent.
- moto ignores `RetrievalByteRange`: a ranged job's output is the whole
  archive and its DescribeJob has no `RetrievalByteRange`, so nothing tells
  glacier-verify that the bytes are not the range. It verifies what it has
  (sizes only: moto sends no hash); the range's tree hash given with
  `--expected-tree-hash` is what catches the extra bytes.
- moto ignores `InventoryRetrievalParameters` (every archive is listed, and
  DescribeJob has no such member, so no `Marker`) and says
  `InventorySizeInBytes` 10000 whatever the inventory's size (inventories
  are downloaded with `--no-describe-job`).
- moto's archive ids are 32 hex digits, not Glacier's 138 characters:
  `initiate-job` warns and sends the request (it used to refuse it).
"""

from __future__ import annotations

import json
import random
import uuid

import pytest

from conftest import MIB, tree_hash

EXIT_OK, EXIT_VERIFY = 0, 1
# `wait`'s schedule (30, 60, 120 … units) in 50 ms units: polls after
# 1.5 s, 4.5 s, 10.5 s; moto completes Expedited jobs after 2 s, Standard 5 s.
POLL_UNIT_MS = "50"


class Lifecycle:
    """A vault of its own, its archives, and the jobs glacier-verify started."""

    def __init__(self, moto):
        self.moto = moto
        self.vault = f"gv-jobs-{uuid.uuid4().hex[:12]}"
        rng = random.Random(20260601)
        self.small = rng.randbytes(1000)
        self.big = rng.randbytes(3 * MIB)
        self.jobs: dict[str, str] = {}
        self.initiated: dict[str, dict] = {}

    def gv(self, *args, **kw):
        return self.moto.gv(*args, json_report=True, **kw)

    def aws(self, *args):
        r = self.moto.aws("glacier", *args, "--account-id", "-", "--vault-name", self.vault)
        assert r.code == 0, r
        return json.loads(r.stdout)

    def ours(self, *args):
        r = self.gv(*args, "--vault-name", self.vault)
        assert r.code == EXIT_OK, r
        assert r.report is not None, r
        return r

    def initiate(self, name: str, *args: str) -> str:
        r = self.ours("initiate-job", *args)
        self.initiated[name] = r.report
        self.jobs[name] = r.report["jobId"]
        return self.jobs[name]

    def wait(self, name: str):
        return self.moto.gv("wait", "job-completed", "--vault-name", self.vault, "--job-id", self.jobs[name],
                            "--poll-unit-ms", POLL_UNIT_MS, "--timeout", "60s", json_report=False)

    def get(self, name: str, outfile, *extra: str):
        return self.gv("get-job-output", "--vault-name", self.vault, "--job-id", self.jobs[name], *extra,
                       str(outfile))


@pytest.fixture(scope="module")
def life(moto) -> Lifecycle:
    life = Lifecycle(moto)
    c = moto.client
    c.create_vault(vaultName=life.vault)
    life.small_id = c.upload_archive(vaultName=life.vault, body=life.small, archiveDescription="small")["archiveId"]
    life.big_id = c.upload_archive(vaultName=life.vault, body=life.big, archiveDescription="big")["archiveId"]
    life.initiate("small", "--archive-id", life.small_id, "--tier", "Expedited")
    life.initiate("big", "--archive-id", life.big_id, "--tier", "Expedited")
    life.initiate("ranged", "--archive-id", life.big_id, "--tier", "Expedited", "--range", "bytes=0-2097151")
    life.initiate("inventory", "--inventory", "--limit", "1")
    life.waited = {name: life.wait(name) for name in list(life.jobs)}
    return life


def test_initiate_job_prints_location_and_job_id(life):
    for name, out in life.initiated.items():
        assert set(out) == {"location", "jobId"}, (name, out)
        # moto's Location has no account id (Glacier's has it).
        assert out["location"] == f"//vaults/{life.vault}/jobs/{out['jobId']}", out


def test_wait_job_completed_returns_once_each_job_succeeded(life):
    for name, r in life.waited.items():
        assert r.code == EXIT_OK, (name, r)
        assert r.stdout == b"", r
        assert r.elapsed < 30, r
    for name, job in life.jobs.items():
        d = life.moto.client.describe_job(vaultName=life.vault, jobId=job)
        assert d["StatusCode"] == "Succeeded", (name, d)


def test_whole_archives_download_verified(life, tmp_path):
    for name, data, archive in (("small", life.small, life.small_id), ("big", life.big, life.big_id)):
        out = tmp_path / f"{name}.bin"
        r = life.get(name, out, "--expected-tree-hash", tree_hash(data))
        assert r.code == EXIT_OK, r
        v = r.verification
        assert v["verdict"] == "verified" and v["level"] == "expected-hash", r
        assert v["computedTreeHash"] == tree_hash(data)
        assert out.read_bytes() == data
        # Without a hash to compare, only the sizes: said so, not "verified by hash".
        plain = life.get(name, tmp_path / f"{name}-plain.bin")
        assert plain.code == EXIT_OK, plain
        assert plain.verification["level"] == "size-only", plain
        assert plain.report.get("checksum") is None, plain
        d = life.ours("describe-job", "--job-id", life.jobs[name]).report
        assert d["ArchiveId"] == archive and d["Tier"] == "Expedited", d


def test_ranged_aligned_retrieval_gets_the_whole_archive_from_moto(life, tmp_path):
    """moto ignores RetrievalByteRange: its output is all 3 MiB, and its
    DescribeJob says nothing of a range. The range's tree hash catches it."""
    d = life.ours("describe-job", "--job-id", life.jobs["ranged"]).report
    assert "RetrievalByteRange" not in d, d
    out = tmp_path / "first-2mib.bin"
    r = life.get("ranged", out, "--expected-tree-hash", tree_hash(life.big[: 2 * MIB]), "--max-attempts", "1")
    assert r.code == EXIT_VERIFY, r
    assert "tree hash mismatch" in r.error_message, r
    assert f"computed {tree_hash(life.big)}" in r.error_message, r
    assert not out.exists()
    # What moto sent, verified as what it is: the whole archive.
    whole = life.get("ranged", out, "--expected-tree-hash", tree_hash(life.big))
    assert whole.code == EXIT_OK, whole
    assert out.read_bytes() == life.big


def test_inventory_job_downloads_and_lists_both_archives(life, tmp_path):
    out = tmp_path / "inventory.json"
    r = life.get("inventory", out, "--no-describe-job")
    assert r.code == EXIT_OK, r
    assert r.verification["verdict"] == "verified", r
    listed = life.moto.gv("inventory", str(out), "--json", endpoint=False)
    assert listed.code == EXIT_OK, listed
    archives = {a["archiveId"]: a for a in listed.report["archives"]}
    # --limit 1 was sent; moto ignores InventoryRetrievalParameters.
    assert set(archives) == {life.small_id, life.big_id}, archives
    assert archives[life.small_id]["size"] == len(life.small)
    assert archives[life.big_id]["description"] == "big"
    d = life.ours("describe-job", "--job-id", life.jobs["inventory"]).report
    assert d["Action"] == "InventoryRetrieval" and "InventoryRetrievalParameters" not in d, d


# --- the same requests through the AWS CLI ---------------------------------------


def test_describe_job_output_matches_the_aws_cli(life):
    for name, job in life.jobs.items():
        cli = life.aws("describe-job", "--job-id", job)
        ours = life.ours("describe-job", "--job-id", job).report
        assert ours == cli, name
        # moto sent these as null: left out by both.
        assert "SNSTopic" not in ours and "StatusMessage" not in ours, ours


def test_list_jobs_output_matches_the_aws_cli(life):
    # Only completed jobs (a job completing between the two requests
    # would make them differ).
    args = ("list-jobs", "--completed", "true")
    cli = life.aws(*args)
    ours = life.ours(*args).report
    assert set(ours) == set(cli) == {"JobList"}, (cli, ours)
    by_id = lambda listing: sorted(listing["JobList"], key=lambda j: j["JobId"])  # noqa: E731
    assert by_id(ours) == by_id(cli)
    assert {j["JobId"] for j in ours["JobList"]} >= set(life.jobs.values())


def test_initiate_job_output_matches_the_aws_cli(life):
    params = json.dumps({"Type": "archive-retrieval", "ArchiveId": life.small_id, "Tier": "Bulk"})
    cli = life.aws("initiate-job", "--job-parameters", params)
    ours = life.ours("initiate-job", "--job-parameters", params).report
    assert set(cli) == set(ours) == {"location", "jobId"}, (cli, ours)
    assert cli["jobId"] != ours["jobId"]
    # The same Location for each one's job.
    assert cli["location"].replace(cli["jobId"], "ID") == ours["location"].replace(ours["jobId"], "ID")
