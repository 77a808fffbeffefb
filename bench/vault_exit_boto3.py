#!/usr/bin/env python3
"""A vault exit written with boto3, the baseline of bench/vault-exit.sh.

What a careful script does for every archive of the inventory, on a
16-thread pool (one boto3 client, which botocore makes thread-safe, with a
connection pool as large as the thread pool):

  InitiateJob (archive-retrieval), then DescribeJob until the job
  completed; GetJobOutput streamed into a temporary file while its linear
  SHA-256 is computed; the file's size against the inventory's Size; its
  tree hash (botocore.utils.calculate_tree_hash, read back from the file)
  against the response's x-amz-sha256-tree-hash, DescribeJob's
  SHA256TreeHash and the inventory's SHA256TreeHash; the file renamed under
  its name; a receipt line (RECEIPTS.jsonl) and a SHA256SUMS line appended
  under a lock.

It keeps no state: a crash means starting over, and a job is initiated
again for every archive. No fsync (a script like this does not).

Usage: vault_exit_boto3.py --endpoint-url URL --vault V --inventory FILE
           --dest DIR [--threads 16] [--limit N]
Credentials and region from the environment (AWS_ACCESS_KEY_ID, ...).
Prints one JSON line: archives, bytes, failures, seconds.
"""

import argparse
import concurrent.futures
import hashlib
import json
import os
import sys
import threading
import time

import boto3
from botocore.config import Config
from botocore.utils import calculate_tree_hash

CHUNK = 1 << 20


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--endpoint-url", required=True)
    p.add_argument("--vault", required=True)
    p.add_argument("--inventory", required=True)
    p.add_argument("--dest", required=True)
    p.add_argument("--threads", type=int, default=16)
    p.add_argument("--limit", type=int, default=0)
    a = p.parse_args()

    started = time.monotonic()
    with open(a.inventory, "rb") as f:
        archives = json.load(f)["ArchiveList"]
    if a.limit:
        archives = archives[: a.limit]
    client = boto3.client(
        "glacier",
        endpoint_url=a.endpoint_url,
        config=Config(
            max_pool_connections=a.threads,
            retries={"max_attempts": 5, "mode": "standard"},
        ),
    )
    os.makedirs(a.dest, exist_ok=True)
    receipts_lock = threading.Lock()
    receipts = open(os.path.join(a.dest, "RECEIPTS.jsonl"), "a", encoding="utf-8")
    sums = open(os.path.join(a.dest, "SHA256SUMS"), "a", encoding="utf-8")

    def one(entry):
        archive_id = entry["ArchiveId"]
        job = client.initiate_job(
            accountId="-",
            vaultName=a.vault,
            jobParameters={
                "Type": "archive-retrieval",
                "ArchiveId": archive_id,
                "Tier": "Bulk",
                "Description": "boto3 vault exit",
            },
        )["jobId"]
        while True:
            d = client.describe_job(accountId="-", vaultName=a.vault, jobId=job)
            if d["Completed"]:
                break
            if d["StatusCode"] == "Failed":
                raise RuntimeError(f"job {job} failed: {d.get('StatusMessage')}")
            time.sleep(1)
        if d["StatusCode"] != "Succeeded":
            raise RuntimeError(f"job {job}: {d['StatusCode']}")
        out = client.get_job_output(accountId="-", vaultName=a.vault, jobId=job)
        name = entry["ArchiveDescription"] or archive_id
        final = os.path.join(a.dest, name)
        os.makedirs(os.path.dirname(final), exist_ok=True)
        tmp = os.path.join(a.dest, f".part-{archive_id[:32]}")
        linear = hashlib.sha256()
        size = 0
        body = out["body"]
        with open(tmp, "wb") as f:
            while True:
                chunk = body.read(CHUNK)
                if not chunk:
                    break
                linear.update(chunk)
                f.write(chunk)
                size += len(chunk)
        if size != entry["Size"] or size != d["ArchiveSizeInBytes"]:
            raise RuntimeError(
                f"{archive_id}: {size} bytes, inventory {entry['Size']}, "
                f"DescribeJob {d['ArchiveSizeInBytes']}"
            )
        with open(tmp, "rb") as f:
            tree = calculate_tree_hash(f)
        expected = {
            "x-amz-sha256-tree-hash": out.get("checksum"),
            "DescribeJob SHA256TreeHash": d.get("SHA256TreeHash"),
            "inventory SHA256TreeHash": entry["SHA256TreeHash"],
        }
        for source, value in expected.items():
            if value != tree:
                raise RuntimeError(f"{archive_id}: tree hash {tree}, {source} {value}")
        os.rename(tmp, final)
        sha = linear.hexdigest()
        line = json.dumps(
            {
                "archiveId": archive_id,
                "name": name,
                "size": size,
                "treeHash": tree,
                "sha256": sha,
                "jobId": job,
                "checks": list(expected),
            }
        )
        with receipts_lock:
            receipts.write(line + "\n")
            receipts.flush()
            sums.write(f"{sha}  {name}\n")
            sums.flush()
        return size

    total, failures = 0, 0
    with concurrent.futures.ThreadPoolExecutor(a.threads) as pool:
        futures = [pool.submit(one, e) for e in archives]
        for fut in concurrent.futures.as_completed(futures):
            try:
                total += fut.result()
            except Exception as e:  # noqa: BLE001 - counted and reported
                failures += 1
                print(f"vault_exit_boto3: {e}", file=sys.stderr)
    receipts.close()
    sums.close()
    print(
        json.dumps(
            {
                "archives": len(archives) - failures,
                "bytes": total,
                "failures": failures,
                "seconds": time.monotonic() - started,
            }
        )
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
