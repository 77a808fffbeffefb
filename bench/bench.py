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
Peak RSS and CPU time come from GNU time (/usr/bin/time -f "%M %U %S").
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

    def once(self, env, scratch):
        self.clean()
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


# --- statistics and the table ----------------------------------------------


def median_ratio(num, den):
    """Median over rounds of num[i] / den[i] (paired runs of one round)."""
    return statistics.median(a / b for a, b in zip(num, den))


def fmt_ratio(x):
    return f"{x:.2f}×"


def table(rows):
    head = ["tool", "median s", "GiB/s", "ratio vs baseline", "CPU s", "peak RSS MiB", "goal", "met?"]
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
    nginx = None
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

        def hash_line(tool, r):
            got = r.stdout.split()[0] if r.stdout.split() else ""
            if got != whole:
                raise SystemExit(f"{tool.label}: printed {got!r}, expected {whole}")

        def boto_check(tool, r):
            got, secs = r.stdout.split()
            if got != whole:
                raise SystemExit(f"botocore: {got} != {whole}")
            return float(secs)

        def curl_check(tool, r):
            if os.path.getsize(out) != size:
                raise SystemExit(f"curl wrote {os.path.getsize(out)} bytes, not {size}")

        def gv_check(tool, r):
            report = json.loads(r.stdout)
            v = report["verification"]
            if v["verdict"] != "verified" or v["computedTreeHash"] != whole or os.path.getsize(out) != size:
                raise SystemExit(f"{tool.label}: {r.stdout[-2000:]}")
            tool.note = f"{v['mode']}, {v['level']}, {v['requests']} GetJobOutput request(s)"

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
        groups = [tree_tools, dl_tools]

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
        load_after = loadavg()
    finally:
        stop(nginx)
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
        return [t[k].label, f"{med[k]:.3f}", f"{gib / med[k]:.2f}", ratio, f"{cpu[k]:.2f}",
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
    g2a, g2b = r_n_1 >= 1.8, r_n_boto >= 1.8
    rows.append(row("openssl", "baseline (throughput)", "—", "—"))
    rows.append(row("gv1", f"{fmt_ratio(r_gv1)} openssl", "≥ 0.97× openssl", yes(g1)))
    rows.append(row("gvN", f"{fmt_ratio(r_n_1)} 1 thread; {fmt_ratio(r_n_boto)} botocore; "
                    f"{fmt_ratio(r_n_ssl)} openssl",
                    "≥ 1.8× 1 thread; ≥ 1.8× botocore", f"{yes(g2a)}; {yes(g2b)}"))
    rows.append(row("boto", f"{fmt_ratio(r_boto)} openssl", "—", "—"))
    goals += [("tree-hash 1 thread ≥ 0.97× openssl", g1),
              (f"tree-hash {nproc} threads ≥ 1.8× 1 thread", g2a),
              (f"tree-hash {nproc} threads ≥ 1.8× botocore", g2b)]
    # Download: ratios are wall-time ratios (tool time / curl time).
    rows.append(row("curl", "baseline (wall time)", "—", "—"))
    for k in ("gvS", "gvP"):
        rt = median_ratio(walls[k], walls["curl"])
        ok_t, ok_m = rt <= 1.10, rss[k] <= RSS_GOAL_MIB
        rows.append(row(k, f"{fmt_ratio(rt)} curl's time", f"≤ 1.10× curl; ≤ {RSS_GOAL_MIB} MiB",
                        f"{yes(ok_t)}; {yes(ok_m)}"))
        goals += [(f"{t[k].label}: wall ≤ 1.10× curl", ok_t),
                  (f"{t[k].label}: peak RSS ≤ {RSS_GOAL_MIB} MiB", ok_m)]
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
the rounds ran; load average {load_before} before, {load_after} after.

{table(rows)}

Goals met: {met} of {len(goals)}{'; missed: ' + '; '.join(missed) if missed else ''}.

- Input: one {size // MIB} MiB file of pseudo-random bytes on {src_fs}, in the page cache ({cached} resident).
- {a.rounds} interleaved rounds after a warm-up round, the tools of each group in an order rotated every
  round. **median s**: median wall time. **ratio**: median over the rounds of the ratio to the baseline
  run in the same round (throughput ratio for hashing, wall-time ratio for downloads). **CPU s**: user +
  system. **peak RSS**: the largest `/usr/bin/time -f %M` over the rounds.
- Hashing: `openssl dgst -sha256 FILE`; `glacier-verify tree-hash [--threads 1] FILE`; botocore timed
  inside Python around `calculate_tree_hash(f)` (interpreter start and `import` left out).
- Downloads: GetJobOutput from nginx on 127.0.0.1 (sendfile; a static DescribeJob;
  `x-amz-sha256-tree-hash` of exactly the bytes served, per part for the parts' ranges), written to
  {out_root} ({out_fs}) by every tool and deleted between runs, so fsync costs nothing and no disk is
  involved. `curl -s -o OUT URL` checks nothing. `glacier-verify get-job-output` runs DescribeJob first,
  then checks sizes, every header hash and DescribeJob's `SHA256TreeHash` (stream: {t['gvS'].note};
  parts: {t['gvP'].note}).{core_note}
- Versions: {versions}."""
    print()
    print(body)
    print()
    for name, ok in goals:
        print(f"goal {'MET   ' if ok else 'MISSED'}  {name}")
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
