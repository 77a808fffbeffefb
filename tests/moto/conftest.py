"""Fixtures for the moto suite: a vault with two archives and their jobs.

Everything is set up once per session: both archives are uploaded, all the
jobs are initiated together, and the suite waits once for them to complete
(moto completes Expedited jobs after 2 s, docs/protocol.md §11). tests/moto/run.sh starts
moto_server and sets MOTO_URL, GLACIER_VERIFY_BIN and AWS_CLI.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import pytest

MIB = 1024 * 1024
SMALL_LEN = 1000
BIG_LEN = 3 * MIB + MIB // 2  # 3.5 MiB: four leaves, tree hash != plain SHA-256
REGION = "us-east-1"


def tree_hash(data: bytes) -> str:
    """SHA-256 tree hash (docs/protocol.md §4.1), written from the definition: 1 MiB
    leaves, pairwise SHA-256 of the raw 32-byte digests, an odd node promoted
    unchanged; the empty input hashes to SHA-256("")."""
    level = [hashlib.sha256(data[i : i + MIB]).digest() for i in range(0, len(data), MIB)]
    if not level:
        return hashlib.sha256(b"").hexdigest()
    while len(level) > 1:
        nxt = []
        for i in range(0, len(level), 2):
            if i + 1 < len(level):
                nxt.append(hashlib.sha256(level[i] + level[i + 1]).digest())
            else:
                nxt.append(level[i])
        level = nxt
    return level[0].hex()


def _require_env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.exit(f"{name} is not set: run the suite with `bash tests/moto/run.sh`", returncode=2)
    return value


@dataclass
class Result:
    """One glacier-verify (or aws) run."""

    args: list[str]
    code: int
    stdout: bytes
    stderr: str
    elapsed: float
    report: dict | None = None

    @property
    def verification(self) -> dict:
        assert self.report is not None, f"no JSON report on stdout; stderr: {self.stderr}"
        return self.report["verification"]

    @property
    def error_message(self) -> str:
        return self.verification["error"]["message"]

    def __str__(self) -> str:  # shown in assertion failures
        out = self.stdout[:4000].decode("utf-8", "replace")
        return f"$ {' '.join(self.args)}\nexit {self.code} after {self.elapsed:.2f}s\nstdout: {out}\nstderr: {self.stderr}"


@dataclass
class Moto:
    url: str
    binary: str
    aws_cli: str
    client: object
    vault: str
    small: bytes
    big: bytes
    small_tree_hash: str
    big_tree_hash: str
    small_upload: dict
    big_upload: dict
    jobs: dict[str, str] = field(default_factory=dict)
    described: dict[str, dict] = field(default_factory=dict)
    waited: float = 0.0

    def gv(self, *args: str, endpoint: bool = True, env: dict | None = None, timeout: float = 90,
           json_report: bool = True) -> Result:
        """Runs glacier-verify; parses the JSON report on stdout when there is one."""
        argv = [self.binary, "--quiet"]
        if endpoint:
            argv += ["--endpoint-url", self.url]
        argv += list(args)
        return run(argv, env=env, timeout=timeout, json_report=json_report)

    def get(self, job: str, outfile: Path, *extra: str, **kw) -> Result:
        return self.gv("get-job-output", "--vault-name", self.vault, "--job-id", self.jobs.get(job, job),
                       *extra, str(outfile), **kw)

    def aws(self, *args: str, stdout_path: Path | None = None, timeout: float = 90) -> Result:
        argv = [self.aws_cli, "--endpoint-url", self.url, "--region", REGION, *args]
        return run(argv, timeout=timeout, json_report=False, stdout_path=stdout_path)

    def initiate(self, kind: str, archive_id: str | None = None, tier: str = "Expedited") -> str:
        params = {"Type": kind, "Tier": tier}
        if archive_id:
            params["ArchiveId"] = archive_id
        return self.client.initiate_job(vaultName=self.vault, jobParameters=params)["jobId"]


def run(argv: list[str], env: dict | None = None, timeout: float = 90, json_report: bool = True,
        stdout_path: Path | None = None) -> Result:
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    start = time.monotonic()
    if stdout_path is not None:
        with open(stdout_path, "wb") as out:
            p = subprocess.run(argv, stdout=out, stderr=subprocess.PIPE, env=full_env, timeout=timeout)
        stdout = stdout_path.read_bytes()
    else:
        p = subprocess.run(argv, capture_output=True, env=full_env, timeout=timeout)
        stdout = p.stdout
    r = Result(argv, p.returncode, stdout, p.stderr.decode("utf-8", "replace"), time.monotonic() - start)
    if json_report and stdout.strip():
        try:
            r.report = json.loads(stdout)
        except ValueError:
            r.report = None
    return r


@pytest.fixture(scope="session")
def moto() -> Moto:
    url = _require_env("MOTO_URL")
    binary = _require_env("GLACIER_VERIFY_BIN")
    aws_cli = _require_env("AWS_CLI")
    client = boto3.client(
        "glacier",
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    rng = random.Random(20120601)
    small = rng.randbytes(SMALL_LEN)
    big = rng.randbytes(BIG_LEN)
    vault = f"gv-moto-{uuid.uuid4().hex[:12]}"
    client.create_vault(vaultName=vault)
    small_upload = client.upload_archive(vaultName=vault, body=small, archiveDescription="small 1000 B")
    big_upload = client.upload_archive(vaultName=vault, body=big, archiveDescription="big 3.5 MiB")
    m = Moto(url, binary, aws_cli, client, vault, small, big, tree_hash(small), tree_hash(big),
             small_upload, big_upload)

    # Every job the suite needs, initiated together, waited for once.
    m.jobs["small"] = m.initiate("archive-retrieval", small_upload["archiveId"])
    m.jobs["big"] = m.initiate("archive-retrieval", big_upload["archiveId"])
    m.jobs["inventory"] = m.initiate("inventory-retrieval")
    start = time.monotonic()
    deadline = start + 60
    pending = set(m.jobs)
    while pending and time.monotonic() < deadline:
        for name in sorted(pending):
            d = client.describe_job(vaultName=vault, jobId=m.jobs[name])
            if d.get("Completed"):
                d.pop("ResponseMetadata", None)
                m.described[name] = d
                pending.discard(name)
        if pending:
            time.sleep(0.2)
    m.waited = time.monotonic() - start
    assert not pending, f"moto did not complete jobs {sorted(pending)} within 60 s"
    return m
