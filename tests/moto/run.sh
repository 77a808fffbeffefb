#!/usr/bin/env bash
# The moto suite: glacier-verify against a third-party Glacier emulator
# (moto_server, docs/protocol.md §11), and the AWS CLI's download checked offline.
#
#   bash tests/moto/run.sh            # from anywhere; extra args go to pytest
#
# Idempotent. Needs python3 (3.9+) with venv, and PyPI. Installs moto, boto3,
# awscli and pytest into target/moto-venv (reinstalled only when
# tests/moto/requirements.txt changes), builds glacier-verify (release profile;
# GLACIER_VERIFY_PROFILE=debug for a debug build, or GLACIER_VERIFY_BIN=path to
# use a binary as is), starts moto_server on 127.0.0.1 at a free port, runs
# pytest, stops the server, and exits with pytest's status.
set -euo pipefail
if [ -n "${GLACIER_VERIFY_BIN:-}" ] && [ "${GLACIER_VERIFY_BIN#/}" = "$GLACIER_VERIFY_BIN" ]; then
  GLACIER_VERIFY_BIN=$PWD/$GLACIER_VERIFY_BIN
fi
cd "$(dirname "$0")/../.."
ROOT=$PWD

VENV=${MOTO_VENV:-$ROOT/target/moto-venv}
REQ=$ROOT/tests/moto/requirements.txt
LOG=$ROOT/target/moto-server.log
PY=${PYTHON:-python3}
mkdir -p "$ROOT/target"

say() { printf 'moto suite: %s\n' "$*" >&2; }

# --- Python environment ----------------------------------------------------
stamp=$(cat "$REQ" | sha256sum | cut -c1-16)
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$VENV/.moto-suite-stamp" 2>/dev/null)" != "$stamp" ]; then
  if [ ! -x "$VENV/bin/pip" ]; then
    rm -rf "$VENV"
    if ! "$PY" -m venv "$VENV" 2>/dev/null; then
      rm -rf "$VENV"
      # Debian's python3 ships venv/ensurepip separately.
      if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
        say "installing python3-venv"
        apt-get install -y -q python3-venv >/dev/null 2>&1 ||
          { apt-get update -q >/dev/null && apt-get install -y -q python3-venv >/dev/null; }
        "$PY" -m venv "$VENV"
      else
        say "cannot create a venv with $PY (install python3-venv)"
        exit 2
      fi
    fi
  fi
  say "installing $(grep -v '^#' "$REQ" | tr '\n' ' ')into $VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQ"
  echo "$stamp" > "$VENV/.moto-suite-stamp"
fi
"$VENV/bin/python" - <<'EOF' >&2
from importlib.metadata import version
print("moto suite: " + ", ".join(f"{p} {version(p)}" for p in ("moto", "boto3", "botocore", "awscli", "pytest")))
EOF

# --- the binary under test ---------------------------------------------------
if [ -z "${GLACIER_VERIFY_BIN:-}" ]; then
  profile=${GLACIER_VERIFY_PROFILE:-release}
  if [ "$profile" = release ]; then
    cargo build --release -q -p glacier-verify
  else
    cargo build -q --profile "$profile" -p glacier-verify
  fi
  dir=$profile
  [ "$profile" = dev ] && dir=debug
  GLACIER_VERIFY_BIN=${CARGO_TARGET_DIR:-$ROOT/target}/$dir/glacier-verify
fi
[ -x "$GLACIER_VERIFY_BIN" ] || { say "no binary at $GLACIER_VERIFY_BIN"; exit 2; }
say "binary $GLACIER_VERIFY_BIN ($("$GLACIER_VERIFY_BIN" --version))"

# --- moto_server on 127.0.0.1 -------------------------------------------------
server_pid=
test_pid=
cfg=
stop_server() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=
}
cleanup() {
  if [ -n "$test_pid" ]; then kill "$test_pid" 2>/dev/null || true; wait "$test_pid" 2>/dev/null || true; fi
  stop_server
  [ -n "$cfg" ] && rm -rf "$cfg"
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Answers when moto's own API does; fails fast once the server has died.
wait_for_server() { # url pid
  "$VENV/bin/python" - "$1" "$2" <<'EOF'
import os, sys, time, urllib.request
url, pid = sys.argv[1], int(sys.argv[2])
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit(1)
    try:
        with urllib.request.urlopen(url + "/moto-api/", timeout=2) as r:
            if r.status == 200:
                sys.exit(0)
    except Exception:
        time.sleep(0.2)
sys.exit(1)
EOF
}

MOTO_URL=
for try in 1 2 3; do
  port=$("$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$VENV/bin/moto_server" -H 127.0.0.1 -p "$port" > "$LOG" 2>&1 &
  server_pid=$!
  if wait_for_server "http://127.0.0.1:$port" "$server_pid"; then
    MOTO_URL=http://127.0.0.1:$port
    break
  fi
  say "moto_server did not come up on port $port (try $try):"
  tail -n 20 "$LOG" >&2 || true
  stop_server
done
[ -n "$MOTO_URL" ] || { say "giving up on moto_server"; exit 3; }
say "moto_server pid $server_pid at $MOTO_URL (log $LOG)"

# --- the suite ------------------------------------------------------------------
# Dummy credentials only; no shared config or credentials files are read.
cfg=$(mktemp -d)
export MOTO_URL GLACIER_VERIFY_BIN
export AWS_CLI="$VENV/bin/aws"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
export AWS_CONFIG_FILE=$cfg/config AWS_SHARED_CREDENTIALS_FILE=$cfg/credentials
export AWS_EC2_METADATA_DISABLED=true AWS_PAGER=""
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_SECURITY_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_GLACIER AWS_DEFAULT_PROFILE
export PYTHONDONTWRITEBYTECODE=1

# In the background so that a signal to this script stops pytest and the
# server at once; `timeout` bounds the whole run.
status=0
timeout -k 10 600 "$VENV/bin/python" -m pytest -q -c tests/moto/pytest.ini --rootdir tests/moto tests/moto "$@" &
test_pid=$!
wait "$test_pid" || status=$?
test_pid=
if [ "$status" -ne 0 ]; then
  say "pytest exited $status; last lines of the moto_server log:"
  tail -n 15 "$LOG" >&2 || true
fi
exit "$status"
