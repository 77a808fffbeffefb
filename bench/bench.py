#!/usr/bin/env python3
"""The bench driver behind bench/run.sh; run.sh installs and builds.

One generated file (1 GiB by default) in the page cache. Each round runs
every tool once, in an order rotated from round to round; a warm-up round
is not counted. A tool's time is its median over the rounds, and a ratio is
the median over rounds of the per-round ratio against the baseline measured
in the same round, so a burst of load on the machine moves both sides.

Tree hash:  openssl dgst -sha256 (baseline: SHA-NI, read included),
            glacier-verify tree-hash --threads 1 and with all threads,
            botocore.utils.calculate_tree_hash (timed inside Python: the
            interpreter start and `import botocore` are left out).
Download:   curl -s -o (baseline) of GetJobOutput from nginx on 127.0.0.1,
            glacier-verify get-job-output in single-stream mode
            (--part-size >= the file) and in parts mode (16 MiB parts,
            4 in parallel: the default for a 1 GiB output), both after a
            DescribeJob and checking every header hash and the whole hash.
Disk:       the same downloads to a directory on the machine's disk, durable
            (glacier-verify fsyncs before the rename) against curl -o (not
            durable) and curl -o && sync OUT (durable).
Large:      8 and 64 GiB (GV_BENCH_BIG_GIB) of a generated payload from
            `glacier-verify selftest --serve` to the disk, against curl -o;
            a size that does not fit in the free space is reported as not
            measured.
Peak RSS and CPU time come from GNU time (/usr/bin/time -f "%M %U %S").
The README is rewritten only when the other load on the machine stayed
within IDLE_MEDIAN_CORES / IDLE_MAX_CORES while the rounds ran.
"""

import argparse
import datetime
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

MIB = 1 << 20
GIB = 1 << 30
LEAF = MIB
VAULT, JOB = "benchvault", "benchjob"
PART = 16 * MIB  # parts mode: the default part size for a 1 GiB output
PARALLEL = 4  # parts mode: the default --parallel
RSS_GOAL_MIB = 16
# The README is written only from a run on an idle machine: the other
# processes' CPU while the rounds ran (median over rounds, and the worst
# round) must stay at or below these, in cores.
IDLE_MEDIAN_CORES = 0.10
IDLE_MAX_CORES = 0.30
# Large outputs (GiB) written to disk from a generated loopback payload.
BIG_GIB_DEFAULT = "8,64"


def log(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


# --- tree hash in Python (for nginx's per-range header) --------------------


def tree_of(digests):
    """Root of the Glacier tree over leaf digests (pairwise, odd promoted)."""
    level = list(digests)
    while len(level) > 1:
        nxt = [
            hashlib.sha256(level[i] + level[i + 1]).digest()
            for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0] if level else hashlib.sha256(b"").digest()


def part_tree_hashes(path, size, part):
    """Tree hash of every `part`-byte piece, of the whole file, and its
    plain SHA-256 (what openssl prints)."""
    parts, leaves = [], []
    plain = hashlib.sha256()
    with open(path, "rb", buffering=0) as f:
        pos = 0
        while pos < size:
            part_leaves = []
            end = min(pos + part, size)
            while pos < end:
                chunk = f.read(min(LEAF, end - pos))
                if not chunk:
                    raise SystemExit(f"{path}: short read at {pos}")
                part_leaves.append(hashlib.sha256(chunk).digest())
                plain.update(chunk)
                pos += len(chunk)
            parts.append(tree_of(part_leaves).hex())
            leaves.extend(part_leaves)
    return parts, tree_of(leaves).hex(), plain.hexdigest()


# --- machine facts ---------------------------------------------------------


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            text = f.read()
    except OSError:
        return "unknown CPU"
    m = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
    model = m.group(1).strip() if m else "unknown CPU"
    flags = re.search(r"^flags\s*:\s*(.+)$", text, re.M)
    sha_ni = bool(flags and "sha_ni" in flags.group(1).split())
    return f"{model}{' (SHA-NI)' if sha_ni else ' (no SHA-NI)'}"


def first_line(cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, check=False)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, IndexError):
        return "?"


def git_rev(root):
    try:
        rev = subprocess.run(
            ["git", "-C", root, "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", root, "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
        return rev + ("+local changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "?"


TICK = os.sysconf("SC_CLK_TCK")


def busy_ticks():
    """Non-idle CPU ticks of the whole machine (/proc/stat)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    return sum(v) - v[3] - v[4]  # minus idle and iowait


def own_ticks(nginx_pid):
    """CPU ticks of this driver and of nginx (master and workers): the part
    of busy_ticks that is the benchmark's own, besides the measured tools."""
    ticks = 0
    pids = [str(os.getpid()), str(nginx_pid)]
    try:
        with open(f"/proc/{nginx_pid}/task/{nginx_pid}/children") as f:
            pids += f.read().split()
    except OSError:
        pass
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            pass
    return ticks


def busy_cores(seconds=3.0):
    b0, t0 = busy_ticks(), time.monotonic()
    time.sleep(seconds)
    return (busy_ticks() - b0) / TICK / (time.monotonic() - t0)


def wait_idle(limit):
    """Waits up to `limit` seconds for the machine to look idle."""
    deadline = time.monotonic() + limit
    while True:
        busy = busy_cores()
        if busy < 0.3:
            log(f"machine idle ({busy:.2f} busy cores)")
            return
        if time.monotonic() > deadline:
            log(f"still {busy:.2f} busy cores after {limit} s: measuring anyway")
            return
        log(f"{busy:.2f} cores busy with other work; waiting (up to {limit} s)")
        time.sleep(10)


# --- running one measured command ------------------------------------------


class Run:
    def __init__(self, wall, cpu, rss_kib, stdout):
        self.wall, self.cpu, self.rss_kib, self.stdout = wall, cpu, rss_kib, stdout


def measure(cmd, env, scratch):
    """Runs cmd under GNU time: wall time (measured here), user + system
    CPU and peak RSS (GNU time's %U %S %M). Not wait4 on cmd itself: a
    child forked from this Python process starts with Python's RSS, which
    ru_maxrss keeps across exec."""
    out_path = os.path.join(scratch, "stdout")
    err_path = os.path.join(scratch, "stderr")
    time_path = os.path.join(scratch, "time")
    timed = ["/usr/bin/time", "-f", "%M %U %S", "-o", time_path, *cmd]
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(timed, stdout=out, stderr=err, env=env)
        proc.wait()
        wall = time.perf_counter() - start
    with open(out_path, "rb") as f:
        stdout = f.read().decode("utf-8", "replace")
    if proc.returncode != 0:
        with open(err_path, "rb") as f:
            stderr = f.read().decode("utf-8", "replace")
        raise SystemExit(
            f"{' '.join(cmd)} exited {proc.returncode}\n{stdout[-2000:]}\n{stderr[-2000:]}"
        )
    with open(time_path) as f:
        rss_kib, user, system = f.read().split()[-3:]
    return Run(wall, float(user) + float(system), int(rss_kib), stdout)


class Tool:
    """A command measured once per round; `check` validates each run and
    may return the time to use (botocore reports its own)."""

    def __init__(self, key, label, cmd, check, cleanup=()):
        self.key, self.label, self.cmd, self.check = key, label, cmd, check
        self.cleanup = cleanup
        self.runs = []
        self.note = ""

    def clean(self):
        for p in self.cleanup:
            try:
                os.remove(p)
            except FileNotFoundError:
                pass

    settle = False  # flush other dirty data to disk first (untimed)

    def once(self, env, scratch):
        self.clean()
        if self.settle:
            os.sync()
        r = measure(self.cmd, env, scratch)
        t = self.check(self, r)
        if t is not None:
            r.wall = t
        self.clean()
        return r


# --- nginx -----------------------------------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_nginx(conf_dir, data, size, whole_hash, part_hashes, part):
    port = free_port()
    describe = {
        "JobId": JOB,
        "Action": "ArchiveRetrieval",
        "ArchiveId": "bench-archive",
        "ArchiveSizeInBytes": size,
        "ArchiveSHA256TreeHash": whole_hash,
        "RetrievalByteRange": f"0-{size - 1}",
        "SHA256TreeHash": whole_hash,
        "Completed": True,
        "StatusCode": "Succeeded",
        "StatusMessage": "Succeeded",
        "Tier": "Standard",
    }
    with open(os.path.join(conf_dir, "describe-job.json"), "w") as f:
        json.dump(describe, f)
    # The header is the tree hash of exactly the bytes served: the whole
    # file without Range, each part's own hash for the parts' exact ranges.
    ranges = "\n".join(
        f'        "bytes={i * part}-{min((i + 1) * part, size) - 1}" {h};'
        for i, h in enumerate(part_hashes)
    )
    user = "user root root;" if os.geteuid() == 0 else ""
    conf = f"""
daemon off;
{user}
worker_processes 1;
pid {conf_dir}/nginx.pid;
error_log {conf_dir}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {conf_dir}/tmp-body;
    proxy_temp_path {conf_dir}/tmp-proxy;
    fastcgi_temp_path {conf_dir}/tmp-fastcgi;
    uwsgi_temp_path {conf_dir}/tmp-uwsgi;
    scgi_temp_path {conf_dir}/tmp-scgi;
    sendfile on;
    tcp_nopush on;
    types {{ }}
    default_type application/octet-stream;
    map $http_range $glacier_tree_hash {{
        default {whole_hash};
{ranges}
    }}
    server {{
        listen 127.0.0.1:{port};
        location = /-/vaults/{VAULT}/jobs/{JOB}/output {{
            alias {data};
            add_header x-amz-sha256-tree-hash $glacier_tree_hash;
        }}
        location = /-/vaults/{VAULT}/jobs/{JOB} {{
            default_type application/json;
            alias {conf_dir}/describe-job.json;
        }}
    }}
}}
"""
    conf_path = os.path.join(conf_dir, "nginx.conf")
    with open(conf_path, "w") as f:
        f.write(conf)
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    proc = subprocess.Popen(
        [nginx, "-p", conf_dir + "/", "-c", conf_path, "-e", f"{conf_dir}/error.log"],
        stdout=subprocess.DEVNULL,
        stderr=open(os.path.join(conf_dir, "nginx.stderr"), "wb"),
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while True:
        try:
            with urllib.request.urlopen(f"{base}/-/vaults/{VAULT}/jobs/{JOB}", timeout=2) as r:
                json.load(r)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                with open(os.path.join(conf_dir, "error.log"), errors="replace") as f:
                    raise SystemExit(f"nginx did not start:\n{f.read()[-2000:]}")
            time.sleep(0.05)
    # The part header must be the part's hash: check the first part.
    req = urllib.request.Request(
        f"{base}/-/vaults/{VAULT}/jobs/{JOB}/output",
        headers={"Range": f"bytes=0-{min(part, size) - 1}"},
    )
    with urllib.request.urlopen(req, timeout=5) as r:
        got = r.headers.get("x-amz-sha256-tree-hash")
        if r.status != 206 or got != part_hashes[0]:
            raise SystemExit(f"nginx: part 0 answered {r.status} with hash {got}")
    return proc, base


def stop(proc):
    if proc and proc.poll() is None:
        proc.send_signal(signal.SIGQUIT)  # graceful: our child, by its pid
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- the generated loopback payload (large outputs) --------------------------


def start_loopback(gv, size, log_path, seconds):
    """`glacier-verify selftest --serve`: a generated payload of `size`
    bytes behind an endpoint that checks SigV4 and serves DescribeJob and
    per-range tree-hash headers. Returns the process, the endpoint URL and
    the credentials it accepts (read from the line it prints when ready)."""
    proc = subprocess.Popen(
        [gv, "selftest", "--serve", str(seconds), "--size-mib", str(size // MIB)],
        stdout=subprocess.PIPE, stderr=open(log_path, "wb"), text=True,
    )
    line = proc.stdout.readline()
    m = re.search(r"AWS_ACCESS_KEY_ID=(\S+) AWS_SECRET_ACCESS_KEY=(\S+) .*--endpoint-url (\S+)", line)
    if not m:
        proc.kill()
        raise SystemExit(f"selftest --serve printed {line!r}")
    return proc, m.group(3), (m.group(1), m.group(2))


def stop_loopback(proc):
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_big(a, gib, rounds, disk_dir, scratch, env, foreign_cores):
    """`curl -o` and `glacier-verify get-job-output` of a `gib` GiB
    generated payload to disk, interleaved; returns the tools, or why the
    size was skipped. Appends the other load of each round to foreign_cores."""
    size = gib * GIB
    need = size + GIB
    free = free_bytes(disk_dir)
    if free < need:
        return (f"not measured: {gib} GiB needs {need / GIB:.0f} GiB free where the output goes, "
                f"{free / GIB:.0f} GiB were free")
    log(f"{gib} GiB: starting the loopback (it hashes the payload's leaves first)")
    proc, base, (key, secret) = start_loopback(a.gv, size, os.path.join(scratch, f"serve-{gib}.log"),
                                               seconds=24 * 3600)
    try:
        benv = dict(env, AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret)
        vault, job = "selftest-vault", "selftest-job"
        out = os.path.join(disk_dir, f"big-{gib}.bin")
        files = [out, out + ".part", out + ".part.journal"]
        url = f"{base}/-/vaults/{vault}/jobs/{job}/output"

        def curl_ok(tool, r):
            if os.path.getsize(out) != size:
                raise SystemExit(f"{tool.label} wrote {os.path.getsize(out)} bytes, not {size}")

        def gv_ok(tool, r):
            v = json.loads(r.stdout)["verification"]
            if v["verdict"] != "verified" or "expected" not in v["level"] or os.path.getsize(out) != size:
                raise SystemExit(f"{tool.label}: {r.stdout[-2000:]}")
            tool.note = f"{v['mode']}, {v['level']}, {v['requests']} GetJobOutput request(s)"

        tools = [
            Tool("curl", f"{gib} GiB to disk: curl -s -o (not durable; SigV4 by curl --aws-sigv4)",
                 ["curl", "-s", "-S", "-f", "--aws-sigv4", "aws:amz:us-east-1:glacier",
                  "--user", f"{key}:{secret}", "-H", "x-amz-glacier-version: 2012-06-01",
                  "-o", out, url], curl_ok, files),
            Tool("gv", f"{gib} GiB to disk: glacier-verify get-job-output (default parts; durable)",
                 [a.gv, "--quiet", "--endpoint-url", base, "get-job-output", "--vault-name", vault,
                  "--job-id", job, out], gv_ok, files),
        ]
        for tool in tools:
            tool.settle = True
        t0 = time.monotonic()
        for rnd in range(rounds):
            busy0, own0, wall0 = busy_ticks(), own_ticks(proc.pid), time.monotonic()
            ran = 0.0
            for tool in tools[rnd % 2:] + tools[:rnd % 2]:
                r = tool.once(benv, scratch)
                ran += r.cpu
                tool.runs.append(r)
            foreign = ((busy_ticks() - busy0) - (own_ticks(proc.pid) - own0)) / TICK - ran
            foreign_cores.append(max(foreign, 0.0) / (time.monotonic() - wall0))
            log(f"{gib} GiB: round {rnd + 1}/{rounds} done ({time.monotonic() - t0:.0f} s, "
                f"other load {foreign_cores[-1]:.2f} cores)")
        return {t.key: t for t in tools}
    finally:
        stop_loopback(proc)


def free_bytes(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


# --- statistics and the table ----------------------------------------------


def median_ratio(num, den):
    """Median over rounds of num[i] / den[i] (paired runs of one round)."""
    return statistics.median(a / b for a, b in zip(num, den))


def fmt_ratio(x):
    return f"{x:.2f}×"


def table(rows):
    head = ["tool", "median s", "GiB/s", "ratio vs baseline", "CPU s/GiB", "peak RSS MiB", "goal", "met?"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] * len(head)) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(r) + " |")
    return "\n".join(lines)


def read_core(path):
    """RESULT lines of the core's interleaved bench."""
    out = {}
    if not path or not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            if line.startswith("RESULT "):
                fields = dict(kv.split("=", 1) for kv in line.split()[1:])
                out[fields["name"]] = fields
    return out


def on_signal(signum, _frame):
    raise SystemExit(f"stopped by signal {signum}")  # runs the finally: nginx stops


def main():
    # Background jobs of a script start with SIGINT ignored: handle INT and
    # TERM explicitly so nginx and the temporary files always go.
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gv", required=True, help="the glacier-verify binary")
    ap.add_argument("--readme", help="README.md to update between the bench markers")
    ap.add_argument("--core-results", help="output of cargo bench --bench interleaved")
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("GV_BENCH_ROUNDS", "7")))
    ap.add_argument("--no-readme", action="store_true", help="print only")
    ap.add_argument("--skip-core", action="store_true", help="(handled by run.sh)")
    ap.add_argument("--wait-idle", type=int, metavar="SECONDS",
                    default=int(os.environ.get("GV_BENCH_WAIT_IDLE", "0")),
                    help="first wait up to SECONDS for the other load on the machine to stop")
    ap.add_argument("--serve", type=int, metavar="SECONDS",
                    help="only serve the file from nginx for SECONDS and print the commands "
                         "(for profiling with perf), then exit")
    a = ap.parse_args()

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    size = int(os.environ.get("GV_BENCH_SIZE_MIB", "1024")) * MIB
    data_dir = os.environ.get("GV_BENCH_DATA_DIR", os.path.join(root, "target", "bench"))
    out_root = os.environ.get("GV_BENCH_OUT_DIR", "/dev/shm")
    # Durable writes are measured on the machine's disk (not tmpfs).
    disk_root = os.environ.get("GV_BENCH_DISK_DIR", os.path.join(root, "target", "bench-disk"))
    os.makedirs(disk_root, exist_ok=True)
    big_gib = [int(x) for x in os.environ.get("GV_BENCH_BIG_GIB", BIG_GIB_DEFAULT).split(",") if x]
    big_rounds = int(os.environ.get("GV_BENCH_BIG_ROUNDS", "3"))
    os.makedirs(data_dir, exist_ok=True)
    data = os.path.join(data_dir, f"data-{size // MIB}MiB.bin")
    nproc = os.cpu_count() or 1

    # The source file: pseudo-random (AES-CTR keystream), made once.
    if not os.path.exists(data) or os.path.getsize(data) != size:
        log(f"generating {data}")
        with open(data + ".tmp", "wb") as out:
            gen = subprocess.Popen(
                ["openssl", "enc", "-aes-128-ctr", "-nosalt",
                 "-K", "676c61636965722d7665726966792121", "-iv", "0" * 32, "-in", "/dev/zero"],
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            )
            left = size
            while left:
                chunk = gen.stdout.read(min(8 * MIB, left))
                out.write(chunk)
                left -= len(chunk)
            gen.kill()
            gen.wait()
        os.replace(data + ".tmp", data)

    # Into the page cache, and the hashes nginx serves (computed here with
    # hashlib, checked against botocore and glacier-verify below).
    log("reading the source into the page cache; part and whole tree hashes")
    part_size = PART if size > PART else size
    part_hashes, whole, plain_hex = part_tree_hashes(data, size, part_size)
    cached = first_line(["fincore", "--noheadings", "--output", "RES", data])

    stream_part = MIB
    while stream_part < size:
        stream_part *= 2
    stream_part_arg = f"{stream_part // MIB}MiB"

    scratch = tempfile.mkdtemp(prefix="gv-bench-")
    out_dir = tempfile.mkdtemp(prefix="gv-bench-out-", dir=out_root)
    disk_dir = tempfile.mkdtemp(prefix="gv-bench-disk-", dir=disk_root)
    nginx = None
    big = []  # (GiB, {key: Tool}) or (GiB, reason skipped)
    foreign_cores = []
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("AWS_"):
            del env[k]
    env.update({
        "AWS_ACCESS_KEY_ID": "AKIDBENCHEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "bench/secret/not/checked/by/nginx",
        "AWS_REGION": "us-east-1",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    })
    try:
        conf_dir = os.path.join(scratch, "nginx")
        os.makedirs(conf_dir)
        nginx, base = start_nginx(conf_dir, data, size, whole, part_hashes, part_size)
        url = f"{base}/-/vaults/{VAULT}/jobs/{JOB}/output"
        if a.serve:
            creds = " ".join(f"{k}={env[k]}" for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                                        "AWS_REGION"))
            print(f"serving {data} ({size} bytes, tree hash {whole}) for {a.serve} s:\n"
                  f"  curl -s -o {out_root}/out.bin {url}\n"
                  f"  {creds} {a.gv} --quiet --endpoint-url {base} get-job-output "
                  f"--vault-name {VAULT} --job-id {JOB} --part-size {stream_part // MIB}MiB "
                  f"{out_root}/out.bin", flush=True)
            time.sleep(a.serve)
            return
        out = os.path.join(out_dir, "output.bin")
        out_files = [out, out + ".part", out + ".part.journal"]
        dout = os.path.join(disk_dir, "output.bin")
        dout_files = [dout, dout + ".part", dout + ".part.journal"]

        def hash_line(tool, r):
            got = r.stdout.split()[0] if r.stdout.split() else ""
            if got != whole:
                raise SystemExit(f"{tool.label}: printed {got!r}, expected {whole}")

        def boto_check(tool, r):
            got, secs = r.stdout.split()
            if got != whole:
                raise SystemExit(f"botocore: {got} != {whole}")
            return float(secs)

        def curl_check_of(path, want):
            def check(tool, r):
                if os.path.getsize(path) != want:
                    raise SystemExit(f"{tool.label} wrote {os.path.getsize(path)} bytes, not {want}")
            return check

        def gv_check_of(path, want, want_hash):
            def check(tool, r):
                report = json.loads(r.stdout)
                v = report["verification"]
                if (v["verdict"] != "verified" or v["computedTreeHash"] != want_hash
                        or os.path.getsize(path) != want):
                    raise SystemExit(f"{tool.label}: {r.stdout[-2000:]}")
                tool.note = f"{v['mode']}, {v['level']}, {v['requests']} GetJobOutput request(s)"
            return check

        curl_check = curl_check_of(out, size)
        gv_check = gv_check_of(out, size, whole)

        boto_py = (
            "import sys, time\n"
            "from botocore.utils import calculate_tree_hash\n"
            "with open(sys.argv[1], 'rb') as f:\n"
            "    t = time.perf_counter()\n"
            "    h = calculate_tree_hash(f)\n"
            "    print(h, time.perf_counter() - t)\n"
        )
        gjo = [a.gv, "--quiet", "--endpoint-url", base, "get-job-output",
               "--vault-name", VAULT, "--job-id", JOB]
        tree_tools = [
            Tool("openssl", "openssl dgst -sha256", ["openssl", "dgst", "-sha256", "-r", data], hash_line),
            Tool("gv1", "glacier-verify tree-hash --threads 1",
                 [a.gv, "tree-hash", "--threads", "1", data], hash_line),
            Tool("gvN", f"glacier-verify tree-hash (all {nproc} threads)",
                 [a.gv, "tree-hash", data], hash_line),
            Tool("boto", "botocore calculate_tree_hash", [sys.executable, "-c", boto_py, data], boto_check),
        ]
        # openssl prints the plain SHA-256, not the tree hash.
        def openssl_check(tool, r):
            got = r.stdout.split()[0] if r.stdout.split() else ""
            if got != plain_hex:
                raise SystemExit(f"openssl: {got} != {plain_hex}")

        tree_tools[0].check = openssl_check
        dl_tools = [
            Tool("curl", "curl -s -o (no verification)", ["curl", "-s", "-S", "-f", "-o", out, url],
                 curl_check, out_files),
            Tool("gvS", f"glacier-verify get-job-output, single stream (--part-size {stream_part_arg})",
                 gjo + ["--part-size", stream_part_arg, out], gv_check, out_files),
            Tool("gvP", f"glacier-verify get-job-output, {part_size // MIB} MiB parts × {PARALLEL}",
                 gjo + ["--part-size", f"{part_size // MIB}MiB", "--parallel", str(PARALLEL), out],
                 gv_check, out_files),
        ]
        disk_curl = ["curl", "-s", "-S", "-f", "-o", dout, url]
        disk_tools = [
            Tool("curlD", "disk: curl -s -o (not durable)", disk_curl, curl_check_of(dout, size),
                 dout_files),
            Tool("curlDS", "disk: curl -s -o && sync OUT (durable)",
                 ["sh", "-c", f"{' '.join(disk_curl)} && sync {dout}"], curl_check_of(dout, size),
                 dout_files),
            Tool("gvPD", f"disk: glacier-verify get-job-output, {part_size // MIB} MiB parts × {PARALLEL} (durable)",
                 gjo + ["--part-size", f"{part_size // MIB}MiB", "--parallel", str(PARALLEL), dout],
                 gv_check_of(dout, size, whole), dout_files),
            Tool("gvSD", f"disk: glacier-verify get-job-output, single stream (durable)",
                 gjo + ["--part-size", stream_part_arg, dout], gv_check_of(dout, size, whole),
                 dout_files),
        ]
        for tool in disk_tools:
            tool.settle = True
        groups = [tree_tools, dl_tools, disk_tools]

        if a.wait_idle:
            wait_idle(a.wait_idle)
        log(f"warm-up round, then {a.rounds} timed rounds; load average {loadavg()}")
        load_before = loadavg()
        t0 = time.monotonic()
        for rnd in range(a.rounds + 1):
            busy0, own0, wall0 = busy_ticks(), own_ticks(nginx.pid), time.monotonic()
            ran = 0.0
            for group in groups:
                k = rnd % len(group)
                for tool in group[k:] + group[:k]:
                    r = tool.once(env, scratch)
                    ran += r.cpu
                    if rnd > 0:
                        tool.runs.append(r)
            # CPU used by everything else on the machine during the round.
            foreign = ((busy_ticks() - busy0) - (own_ticks(nginx.pid) - own0)) / TICK - ran
            if rnd > 0:
                foreign_cores.append(max(foreign, 0.0) / (time.monotonic() - wall0))
                log(f"round {rnd}/{a.rounds} done ({time.monotonic() - t0:.0f} s, "
                    f"other load {foreign_cores[-1]:.2f} cores, load average {loadavg()})")
        stop(nginx)
        nginx = None
        for gib in big_gib:
            big.append((gib, run_big(a, gib, big_rounds, disk_dir, scratch, env, foreign_cores)))
        load_after = loadavg()
    finally:
        stop(nginx)
        shutil.rmtree(disk_dir, ignore_errors=True)
        shutil.rmtree(out_dir, ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)

    t = {tool.key: tool for g in groups for tool in g}
    walls = {k: [r.wall for r in v.runs] for k, v in t.items()}
    med = {k: statistics.median(w) for k, w in walls.items()}
    cpu = {k: statistics.median(r.cpu for r in v.runs) for k, v in t.items()}
    rss = {k: max(r.rss_kib for r in v.runs) / 1024 for k, v in t.items()}
    gib = size / GIB

    def yes(ok):
        return "**yes**" if ok else "**no**"

    def row(k, ratio, goal, met):
        return [t[k].label, f"{med[k]:.3f}", f"{gib / med[k]:.2f}", ratio, f"{cpu[k] / gib:.2f}",
                f"{rss[k]:.1f}", goal, met]

    goals = []
    rows = []
    # Tree hash: ratios are throughput ratios (baseline time / tool time).
    r_gv1 = median_ratio(walls["openssl"], walls["gv1"])
    r_boto = median_ratio(walls["openssl"], walls["boto"])
    r_n_1 = median_ratio(walls["gv1"], walls["gvN"])
    r_n_boto = median_ratio(walls["boto"], walls["gvN"])
    r_n_ssl = median_ratio(walls["openssl"], walls["gvN"])
    g1 = r_gv1 >= 0.97
    g2a, g2b = r_n_1 >= 1.9, r_n_boto >= 1.8
    rows.append(row("openssl", "baseline (throughput)", "—", "—"))
    rows.append(row("gv1", f"{fmt_ratio(r_gv1)} openssl", "≥ 0.97× openssl", yes(g1)))
    rows.append(row("gvN", f"{fmt_ratio(r_n_1)} 1 thread; {fmt_ratio(r_n_boto)} botocore; "
                    f"{fmt_ratio(r_n_ssl)} openssl",
                    "≥ 1.9× 1 thread; ≥ 1.8× botocore", f"{yes(g2a)}; {yes(g2b)}"))
    rows.append(row("boto", f"{fmt_ratio(r_boto)} openssl", "—", "—"))
    goals += [("tree-hash 1 thread ≥ 0.97× openssl", g1),
              (f"tree-hash {nproc} threads ≥ 1.9× 1 thread", g2a),
              (f"tree-hash {nproc} threads ≥ 1.8× botocore", g2b)]
    # Download: ratios are wall-time ratios (tool time / curl time).
    rows.append(row("curl", "baseline (wall time)", "—", "—"))
    for k, limit in (("gvS", 1.10), ("gvP", 1.00)):
        rt = median_ratio(walls[k], walls["curl"])
        ok_t, ok_m = rt <= limit, rss[k] <= RSS_GOAL_MIB
        rows.append(row(k, f"{fmt_ratio(rt)} curl's time", f"≤ {limit:.2f}× curl; ≤ {RSS_GOAL_MIB} MiB",
                        f"{yes(ok_t)}; {yes(ok_m)}"))
        goals += [(f"{t[k].label}: wall ≤ {limit:.2f}× curl", ok_t),
                  (f"{t[k].label}: peak RSS ≤ {RSS_GOAL_MIB} MiB", ok_m)]
    # CPU of the verified download against curl's plus openssl's over the same bytes.
    cpus = {k: [r.cpu for r in v.runs] for k, v in t.items()}
    r_cpu = statistics.median(g / (c + o) for g, c, o in zip(cpus["gvP"], cpus["curl"], cpus["openssl"]))
    ok_cpu = r_cpu <= 1.00
    rows.append(["CPU: parts download vs curl's + openssl dgst's CPU", "—", "—",
                 f"{fmt_ratio(r_cpu)} (curl + openssl)",
                 f"{cpu['gvP'] / gib:.2f} vs {(cpu['curl'] + cpu['openssl']) / gib:.2f}", "—",
                 "≤ 1.00×", yes(ok_cpu)])
    goals.append(("parts download CPU ≤ 1.00× curl's + openssl's", ok_cpu))
    # A real disk: durable downloads against curl without and with sync.
    rows.append(row("curlD", "baseline (wall time)", "—", "—"))
    rows.append(row("curlDS", f"{fmt_ratio(median_ratio(walls['curlDS'], walls['curlD']))} curl's time",
                    "—", "—"))
    r_d = median_ratio(walls["gvPD"], walls["curlD"])
    r_ds = median_ratio(walls["gvPD"], walls["curlDS"])
    ok_d, ok_ds = r_d <= 1.10, r_ds <= 0.80
    rows.append(row("gvPD", f"{fmt_ratio(r_d)} curl; {fmt_ratio(r_ds)} curl && sync",
                    "≤ 1.10× curl; ≤ 0.80× curl && sync", f"{yes(ok_d)}; {yes(ok_ds)}"))
    goals += [("disk, durable parts ≤ 1.10× curl -o (not durable)", ok_d),
              ("disk, durable parts ≤ 0.80× curl -o && sync", ok_ds)]
    # The disk's own time to make the output durable, in the same rounds:
    # what `sync` added to curl. No durable download can take less than it.
    floor = [ds - d for ds, d in zip(walls["curlDS"], walls["curlD"])]
    r_floor = statistics.median(g / f for g, f in zip(walls["gvPD"], floor) if f > 0)
    rows.append(["disk: the disk's time to make the output durable (curl -o && sync minus curl -o)",
                 f"{statistics.median(floor):.3f}", f"{gib / statistics.median(floor):.2f}",
                 f"durable parts take {fmt_ratio(r_floor)} of it", "—", "—", "—", "—"])
    r_sd = median_ratio(walls["gvSD"], walls["curlD"])
    rows.append(row("gvSD", f"{fmt_ratio(r_sd)} curl; "
                    f"{fmt_ratio(median_ratio(walls['gvSD'], walls['curlDS']))} curl && sync", "—", "—"))
    # Large outputs to disk.
    for gib_n, got in big:
        if isinstance(got, str):
            rows.append([f"{gib_n} GiB to disk", "—", "—", got, "—", "—",
                         f"≤ 1.10× curl; ≤ {RSS_GOAL_MIB} MiB", "**not measured**"])
            goals.append((f"{gib_n} GiB to disk ≤ 1.10× curl, ≤ {RSS_GOAL_MIB} MiB ({got})", False))
            continue
        bw = {k: [r.wall for r in v.runs] for k, v in got.items()}
        bmed = {k: statistics.median(w) for k, w in bw.items()}
        bcpu = {k: statistics.median(r.cpu for r in v.runs) for k, v in got.items()}
        brss = {k: max(r.rss_kib for r in v.runs) / 1024 for k, v in got.items()}
        for k in ("curl", "gv"):
            tool = got[k]
            if k == "curl":
                ratio, goal, met = "baseline (wall time)", "—", "—"
            else:
                rt = median_ratio(bw["gv"], bw["curl"])
                # Flat: no more than the 1 GiB durable parts download's peak plus 2 MiB.
                ok_t, ok_m = rt <= 1.10, brss["gv"] <= min(RSS_GOAL_MIB, rss["gvPD"] + 2)
                ratio, goal = f"{fmt_ratio(rt)} curl's time", f"≤ 1.10× curl; ≤ {RSS_GOAL_MIB} MiB, flat"
                met = f"{yes(ok_t)}; {yes(ok_m)}"
                goals += [(f"{gib_n} GiB to disk ≤ 1.10× curl", ok_t),
                          (f"{gib_n} GiB to disk: peak RSS ≤ {RSS_GOAL_MIB} MiB and within 2 MiB of 1 GiB's on disk", ok_m)]
            rows.append([tool.label, f"{bmed[k]:.2f}", f"{gib_n / bmed[k]:.2f}", ratio,
                         f"{bcpu[k] / gib_n:.2f}", f"{brss[k]:.1f}", goal, met])
    # The core, from cargo bench --bench interleaved.
    core = read_core(a.core_results)
    core_note = ""
    if core:
        labels = {
            "sha256": "core bench: sha2 SHA-256, 64 MiB in memory",
            "tree_hash": "core bench: tree_hash, same buffer",
            "tree_hasher_256k": "core bench: TreeHasher, 256 KiB updates",
            "verifier_256k": "core bench: Verifier (all checks), 256 KiB updates",
        }
        for name, label in labels.items():
            c = core.get(name)
            if not c:
                continue
            ratio = float(c["ratio_vs_sha256"])
            if name == "sha256":
                rt, goal, met = "baseline (throughput)", "—", "—"
            elif name == "tree_hash":
                ok = ratio >= 0.98
                rt, goal, met = f"{fmt_ratio(ratio)} sha2", "≥ 0.98× sha2", yes(ok)
                goals.append(("core tree hash ≥ 0.98× plain SHA-256", ok))
            else:
                rt, goal, met = f"{fmt_ratio(ratio)} sha2", "—", "—"
            rows.append([label.replace("64 MiB", f"{c['mib']} MiB"), f"{float(c['median_s']):.4f}",
                         f"{float(c['gib_s']):.2f}", rt, "—", "—", goal, met])
        any_c = next(iter(core.values()))
        core_note = (f"\n- Core rows: `cargo bench -p glacier-verify-core --bench interleaved`: "
                     f"{any_c['rounds']} interleaved rounds over {any_c['mib']} MiB in memory, in one process.")

    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    command = os.environ.get("GV_BENCH_COMMAND", "bash bench/run.sh")
    overrides = " ".join(f"{k}={os.environ[k]}" for k in sorted(os.environ)
                         if k.startswith("GV_BENCH_") and k != "GV_BENCH_COMMAND")
    out_fs = first_line(["findmnt", "-n", "-o", "FSTYPE", "-T", out_root])
    disk_fs = first_line(["findmnt", "-n", "-o", "FSTYPE", "-T", disk_root])
    # Named relative to the checkout when inside it: the README names no
    # machine's paths.
    disk_shown = os.path.relpath(disk_root, root) if disk_root.startswith(root + os.sep) else disk_root
    idle = (statistics.median(foreign_cores) <= IDLE_MEDIAN_CORES
            and max(foreign_cores) <= IDLE_MAX_CORES)
    src_fs = first_line(["findmnt", "-n", "-o", "FSTYPE", "-T", data_dir])
    versions = "; ".join([
        f"glacier-verify {git_rev(root)}",
        first_line(["openssl", "version"]).split(" (")[0],
        first_line(["curl", "--version"]).split(" (")[0],
        first_line([shutil.which("nginx") or "/usr/sbin/nginx", "-v"]).replace("nginx version: ", ""),
        f"botocore {first_line([sys.executable, '-c', 'import botocore; print(botocore.__version__)'])}",
        f"Python {sys.version.split()[0]}",
    ])
    met = sum(ok for _, ok in goals)
    missed = [name for name, ok in goals if not ok]
    body = f"""Measured {when} by `{(overrides + ' ') if overrides else ''}{command}`: {nproc} cores, {cpu_model()};
other processes used {statistics.median(foreign_cores):.2f} cores (median over rounds, max {max(foreign_cores):.2f}) while
the rounds ran (the README is written only when these stay within {IDLE_MEDIAN_CORES:.2f} and {IDLE_MAX_CORES:.2f});
load average {load_before} before, {load_after} after.

{table(rows)}

Goals met: {met} of {len(goals)}{'; missed: ' + '; '.join(missed) if missed else ''}.

- Input: one {size // MIB} MiB file of pseudo-random bytes on {src_fs}, in the page cache ({cached} resident).
- {a.rounds} interleaved rounds after a warm-up round, the tools of each group in an order rotated every
  round. **median s**: median wall time. **ratio**: median over the rounds of the ratio to the baseline
  run in the same round (throughput ratio for hashing, wall-time ratio for downloads). **CPU s/GiB**: user +
  system per GiB of output. **peak RSS**: the largest `/usr/bin/time -f %M` over the rounds.
- Hashing: `openssl dgst -sha256 FILE`; `glacier-verify tree-hash [--threads 1] FILE`; botocore timed
  inside Python around `calculate_tree_hash(f)` (interpreter start and `import` left out).
- Downloads: GetJobOutput from nginx on 127.0.0.1 (sendfile; a static DescribeJob;
  `x-amz-sha256-tree-hash` of exactly the bytes served, per part for the parts' ranges), written to
  {out_root} ({out_fs}) by every tool and deleted between runs, so fsync costs nothing and no disk is
  involved. `curl -s -o OUT URL` checks nothing. `glacier-verify get-job-output` runs DescribeJob first,
  then checks sizes, every header hash and DescribeJob's `SHA256TreeHash` (stream: {t['gvS'].note};
  parts: {t['gvP'].note}).
- Disk rows: the same downloads written to {disk_shown} ({disk_fs}, the machine's disk), `sync` run
  untimed before each; glacier-verify's output is durable before it is renamed into place
  (`fsync`), `curl -o` leaves it in the page cache, `curl -o && sync OUT` makes it durable too.
- Large rows: `glacier-verify selftest --serve --size-mib N` (a generated payload behind a loopback
  endpoint that checks SigV4; curl signs with `--aws-sigv4`), written to the same disk; {big_rounds}
  interleaved rounds per size.{core_note}
- Versions: {versions}."""
    print()
    print(body)
    print()
    for name, ok in goals:
        print(f"goal {'MET   ' if ok else 'MISSED'}  {name}")
    if a.readme and not a.no_readme and not idle:
        log(f"README not written: the machine was not idle (other processes used "
            f"{statistics.median(foreign_cores):.2f} cores in the median round, "
            f"{max(foreign_cores):.2f} at most; the limits are {IDLE_MEDIAN_CORES:.2f} and "
            f"{IDLE_MAX_CORES:.2f})")
        raise SystemExit(3)
    if a.readme and not a.no_readme:
        with open(a.readme) as f:
            text = f.read()
        begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
        i, j = text.find(begin), text.find(end)
        if i < 0 or j < i:
            raise SystemExit(f"{a.readme}: no {begin} … {end} markers; table not written")
        text = text[: i + len(begin)] + "\n" + body + "\n" + text[j:]
        with open(a.readme + ".tmp", "w") as f:
            f.write(text)
        os.replace(a.readme + ".tmp", a.readme)
        log(f"wrote the table into {a.readme}")


if __name__ == "__main__":
    main()
