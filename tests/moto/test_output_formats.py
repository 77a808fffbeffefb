"""glacier-verify prints what `aws glacier` prints: the same bytes for each
command in json, text and table output, with and without --query, both run
against the same moto_server (tests/moto/run.sh installs the AWS CLI).
moto has no data retrieval policy or provisioned capacity; those two shapes
are checked by the unit tests in host/src/render/."""

from __future__ import annotations

import time

import pytest

FORMATS = ["json", "text", "table"]


def _commands(moto) -> dict[str, list[str]]:
    job = ["--vault-name", moto.vault]
    return {
        "describe-job archive": ["describe-job", *job, "--job-id", moto.jobs["small"]],
        "describe-job inventory": ["describe-job", *job, "--job-id", moto.jobs["inventory"]],
        "list-jobs": ["list-jobs", *job],
        "list-jobs query": ["list-jobs", *job, "--query", "JobList[].[JobId, Action, Completed]"],
        "list-jobs hash query": ["list-jobs", *job, "--query", "JobList[?Action=='InventoryRetrieval'].{z: JobId, a: StatusCode}"],
        "list-vaults": ["list-vaults"],
        "describe-vault": ["describe-vault", *job],
        "describe-vault query": ["describe-vault", *job, "--query", "VaultName"],
        "describe-job missing field": ["describe-job", *job, "--job-id", moto.jobs["small"], "--query", "NoSuchField"],
    }


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", [
    "describe-job archive", "describe-job inventory", "list-jobs", "list-jobs query",
    "list-jobs hash query", "list-vaults", "describe-vault", "describe-vault query",
    "describe-job missing field",
])
def test_same_bytes_as_the_aws_cli(moto, name, fmt):
    _wait_for_settled_jobs(moto)
    args = _commands(moto)[name] + ["--output", fmt, "--color", "off"]
    aws = moto.aws("glacier", *args, "--account-id", "-")
    assert aws.code == 0, aws
    gv = moto.gv(*args, json_report=False)
    assert gv.code == 0, gv
    assert gv.stdout.decode() == aws.stdout.decode(), f"{gv}\n--- the AWS CLI printed:\n{aws.stdout.decode()}"


def _wait_for_settled_jobs(moto, timeout: float = 90.0) -> None:
    """Waits until no job of the shared vault is in progress. moto completes
    a job some seconds after it was initiated (other tests initiate jobs in
    this vault and move on), and a job that completes between the AWS CLI's
    call and ours would make the two answers differ."""
    deadline = time.monotonic() + timeout
    while True:
        jobs = moto.client.list_jobs(vaultName=moto.vault)["JobList"]
        if not any(j["StatusCode"] == "InProgress" for j in jobs):
            return
        assert time.monotonic() < deadline, f"jobs still in progress after {timeout} s: {jobs}"
        time.sleep(0.5)
