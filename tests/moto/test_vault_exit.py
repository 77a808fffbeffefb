"""`vault-exit` against moto_server: a vault of a few dozen archives uploaded with boto3,
taken out whole, every file equal to what was uploaded.

moto's DescribeJob says InventorySizeInBytes 10000 whatever the inventory's length, so the
inventory job's output fails its size check (as it must); the exit then takes the
inventory that boto3 downloaded, with `--inventory`.

moto's inventory lists a plain SHA-256 as SHA256TreeHash (docs/protocol.md §11), equal to
the tree hash only up to 1 MiB: the archives here are at most 1 MiB, so the inventory's
hash is a real check. moto's DescribeJob has no hashes and ArchiveSizeInBytes 0, and its
jobs complete after a fixed delay (Expedited 2 s).
"""

from __future__ import annotations

import json
import random
import subprocess
import time
import uuid

from conftest import MIB, Moto

EXIT_OK = 0


def _vault(moto: Moto, n: int) -> tuple[str, dict[str, bytes]]:
    vault = f"gv-vexit-{uuid.uuid4().hex[:12]}"
    moto.client.create_vault(vaultName=vault)
    rng = random.Random(4242)
    uploaded: dict[str, bytes] = {}
    for i in range(n):
        size = [1, 100, MIB, MIB - 1][i] if i < 4 else rng.randrange(1, 64 * 1024)
        body = rng.randbytes(size)
        desc = f"photos/{i // 10}/img-{i}.jpg" if i % 5 else "same-name.txt"
        r = moto.client.upload_archive(vaultName=vault, body=body, archiveDescription=desc)
        uploaded[r["archiveId"]] = body
    return vault, uploaded


def _vault_exit(moto: Moto, vault: str, dest, *extra: str, timeout: float = 240):
    return moto.gv("vault-exit", "--vault-name", vault, "--dest", str(dest), "--tier", "Expedited",
                   "--poll-interval-ms", "500", "--initiate-rate", "50", "--parallel", "4", "--json",
                   *extra, timeout=timeout)


def _inventory(moto: Moto, vault: str) -> bytes:
    job = moto.client.initiate_job(vaultName=vault, jobParameters={"Type": "inventory-retrieval"})["jobId"]
    deadline = time.monotonic() + 60
    while not moto.client.describe_job(vaultName=vault, jobId=job).get("Completed"):
        assert time.monotonic() < deadline, "moto did not complete the inventory job"
        time.sleep(0.2)
    return moto.client.get_job_output(vaultName=vault, jobId=job)["body"].read()


def test_a_moto_vault_gets_out_whole(moto, tmp_path):
    vault, uploaded = _vault(moto, 36)
    dest = tmp_path / "out"
    dest.mkdir()
    # moto's inventory job: its placeholder InventorySizeInBytes fails the size check.
    bad = _vault_exit(moto, vault, dest)
    assert bad.code == 1, bad
    assert "10000" in bad.stderr, bad
    inventory = tmp_path / "inventory.json"
    inventory.write_bytes(_inventory(moto, vault))
    for state in (dest / ".glacier-verify").glob("state-*"):
        state.unlink()
    r = _vault_exit(moto, vault, dest, "--inventory", str(inventory))
    assert r.code == EXIT_OK, r
    assert r.report["counts"]["byStatus"]["verified"]["archives"] == len(uploaded), r
    names = dict(line.split("\t", 1) for line in (dest / "NAMES.tsv").read_text().splitlines())
    assert set(names) == set(uploaded)
    assert len(set(names.values())) == len(uploaded), "every archive has its own file"
    for archive_id, body in uploaded.items():
        assert (dest / names[archive_id]).read_bytes() == body, names[archive_id]
    # The inventory's hash was compared for every archive.
    for line in (dest / "RECEIPTS.jsonl").read_text().splitlines():
        receipt = json.loads(line)
        sources = [c["source"] for c in receipt["checks"]]
        assert "inventory SHA256TreeHash" in sources, receipt
    check = subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=dest, capture_output=True)
    assert check.returncode == 0, check.stdout
    # Done: a rerun changes nothing and says so.
    again = _vault_exit(moto, vault, dest, "--inventory", str(inventory))
    assert again.code == EXIT_OK, again
    assert again.report["counts"]["byStatus"]["verified"]["archives"] == len(uploaded), again
    assert len((dest / "NAMES.tsv").read_text().splitlines()) == len(uploaded)
