"""glacier-verify prints what `aws glacier` prints: the same bytes for each
command in json, text and table output, with and without --query, both run
against the same moto_server (tests/moto/run.sh installs the AWS CLI).
moto has no data retrieval policy or provisioned capacity; those two shapes
are checked by the unit tests in host/src/render/."""

from __future__ import annotations

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
    args = _commands(moto)[name] + ["--output", fmt, "--color", "off"]
    aws = moto.aws("glacier", *args, "--account-id", "-")
    assert aws.code == 0, aws
    gv = moto.gv(*args, json_report=False)
    assert gv.code == 0, gv
    assert gv.stdout.decode() == aws.stdout.decode(), f"{gv}\n--- the AWS CLI printed:\n{aws.stdout.decode()}"
