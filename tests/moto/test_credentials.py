"""The credential chain against moto's STS: glacier-verify gets temporary
credentials through AssumeRole (a profile with role_arn + source_profile) and
AssumeRoleWithWebIdentity (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN) from
moto_server (AWS_ENDPOINT_URL_STS), then downloads and verifies a Glacier job
from the same server with them.

moto checks no signature (docs/protocol.md §11), so what proves the source is
the binary's own --debug trace: which source it used, and that the Glacier
requests carry an access key other than the suite's `testing` key, with a
session token.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

ROLE = "arn:aws:iam::123456789012:role/glacier-reader"


def _env(tmp_path: Path, moto, **extra: str) -> dict:
    """The suite's environment without its static keys, with files in tmp_path."""
    env = dict(os.environ)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        env.pop(name, None)
    env["HOME"] = str(tmp_path)
    env["AWS_CONFIG_FILE"] = str(tmp_path / "config")
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(tmp_path / "credentials")
    env["AWS_ENDPOINT_URL_STS"] = moto.url
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    env.update(extra)
    return env


def _download(moto, tmp_path: Path, env: dict, *extra: str) -> subprocess.CompletedProcess:
    out = tmp_path / "small.bin"
    argv = [moto.binary, "--quiet", "--debug", "--endpoint-url", moto.url, "get-job-output",
            "--vault-name", moto.vault, "--job-id", moto.jobs["small"],
            "--expected-tree-hash", moto.small_tree_hash, *extra, str(out)]
    p = subprocess.run(argv, capture_output=True, env=env, timeout=90)
    assert p.returncode == 0, f"exit {p.returncode}\nstdout: {p.stdout[:2000]!r}\nstderr: {p.stderr.decode()}"
    assert out.read_bytes() == moto.small
    return p


def _glacier_access_keys(stderr: str) -> set[str]:
    """The access key ids of the signed Glacier requests in a --debug trace."""
    return set(re.findall(r"> authorization: AWS4-HMAC-SHA256 Credential=([^/]+)/\d{8}/us-east-1/glacier/", stderr))


def test_assume_role_with_source_profile_from_moto_sts(moto, tmp_path):
    (tmp_path / "credentials").write_text("[base]\naws_access_key_id = testing\naws_secret_access_key = testing\n")
    (tmp_path / "config").write_text(
        f"[profile reader]\nrole_arn = {ROLE}\nsource_profile = base\nrole_session_name = moto-e2e\n"
        "duration_seconds = 900\n"
    )
    p = _download(moto, tmp_path, _env(tmp_path, moto), "--profile", "reader")
    stderr = p.stderr.decode()
    assert f"* credentials: STS AssumeRole of {ROLE}" in stderr, stderr
    assert re.search(r"\* credentials from STS AssumeRole .* expire at 20\d\d-", stderr), stderr
    keys = _glacier_access_keys(stderr)
    assert keys and "testing" not in keys, stderr
    assert "> x-amz-security-token: ***" in stderr, stderr
    # The STS request itself was signed with the source profile's key.
    assert re.search(r"> authorization: AWS4-HMAC-SHA256 Credential=testing/\d{8}/us-east-1/sts/aws4_request", stderr), stderr


def test_assume_role_with_web_identity_from_moto_sts(moto, tmp_path):
    token = tmp_path / "token"
    token.write_text("eyJhbGciOiJSUzI1NiJ9.moto-web-identity.sig\n")
    env = _env(tmp_path, moto, AWS_WEB_IDENTITY_TOKEN_FILE=str(token), AWS_ROLE_ARN=ROLE,
               AWS_ROLE_SESSION_NAME="moto-irsa")
    p = _download(moto, tmp_path, env)
    stderr = p.stderr.decode()
    assert f"* credentials: STS AssumeRoleWithWebIdentity of {ROLE}" in stderr, stderr
    keys = _glacier_access_keys(stderr)
    assert keys and "testing" not in keys, stderr
    # Unsigned: no authorization header on the STS request, and the token never printed.
    assert "/sts/aws4_request" not in stderr, stderr
    assert "moto-web-identity" not in stderr, stderr


def test_no_credentials_anywhere_lists_every_source(moto, tmp_path):
    env = _env(tmp_path, moto)
    argv = [moto.binary, "--endpoint-url", moto.url, "describe-job", "--vault-name", moto.vault,
            "--job-id", moto.jobs["small"]]
    p = subprocess.run(argv, capture_output=True, env=env, timeout=30)
    stderr = p.stderr.decode()
    assert p.returncode == 2, stderr
    for source in ("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (not set)", "credentials (does not exist)",
                   "config (does not exist)", "container credentials", "disabled by AWS_EC2_METADATA_DISABLED"):
        assert source in stderr, stderr
