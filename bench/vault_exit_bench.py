#!/usr/bin/env python3
"""The driver behind bench/vault-exit.sh (which installs and builds).

Starts serve_vault (the loopback endpoint with a generated vault; it writes
the vault's JSON inventory, which every client is given), then measures on
that one server, one after the other:

  glacier-verify vault-exit   --inventory, high --initiate-rate, --parallel N,
                              into a directory on disk
  vault_exit_boto3.py         the same work with boto3 on 16 threads
  aws glacier (shell loop)    initiate-job + get-job-output for 50 small
                              archives, extrapolated to the whole vault
  the disk alone (the baseline of what any client must wait for): the
                              same files, of the same sizes, written and
                              fsynced by --parallel threads, no network
  the plan of a generated 1,000,000-archive inventory: --dry-run (parse and
                              shard, in memory) and the plan stage into
                              SQLite (--max-bytes-per-day 0: the run stops
                              after planning, before any request)

Wall time, user and system CPU and peak RSS come from GNU time
(/usr/bin/time -f "%e %U %S %M") around each process; the endpoint's CPU
during each client's run from /proc/PID/stat. Prints a markdown
table and the goals; --readme also writes it into README.md between
<!-- vault-bench:begin --> and <!-- vault-bench:end -->.
"""

import argparse
import datetime
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time

MIB = 1 << 20
RSS_GOAL_MIB = 64
SPEED_GOAL = 10.0
BEGIN, END = "<!-- vault-bench:begin -->", "<!-- vault-bench:end -->"


def log(msg):
    print(f"[vault-bench] {msg}", file=sys.stderr, flush=True)


def timed(cmd, env, out=None, cwd=None):
    """Runs cmd under GNU time; returns (exit code, wall s, user s, sys s,
    peak RSS KiB, stdout text)."""
    tf = os.path.join(ARGS.work, "time.txt")
    full = ["/usr/bin/time", "-o", tf, "-f", "%e %U %S %M"] + cmd
    p = subprocess.run(full, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=out or subprocess.PIPE, text=True)
    if p.returncode != 0 and out is None:
        sys.stderr.write(p.stderr[-4000:])
    with open(tf) as f:
        last = f.read().strip().splitlines()[-1]
    e, u, s, m = last.split()
    return p.returncode, float(e), float(u), float(s), int(m), p.stdout


def rm(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)


def count_lines(path):
    with open(path, "rb") as f:
        return sum(1 for _ in f)


def client_env(srv):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.path.join(ARGS.work, "home"),
        "AWS_ACCESS_KEY_ID": srv["accessKeyId"],
        "AWS_SECRET_ACCESS_KEY": srv["secretAccessKey"],
        "AWS_REGION": srv["region"],
        "AWS_DEFAULT_REGION": srv["region"],
        "AWS_CONFIG_FILE": os.path.join(ARGS.work, "home", "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(ARGS.work, "home", "no-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "LC_ALL": "C",
    }
    os.makedirs(env["HOME"], exist_ok=True)
    return env


def cpu_seconds(pid):
    """A process's user + system CPU so far (/proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def endpoint_cpu(server, run):
    """Runs run(); adds to its result the endpoint's CPU meanwhile."""
    before = cpu_seconds(server.pid)
    r = run()
    r["endpoint_cpu"] = cpu_seconds(server.pid) - before
    return r


def run_disk_floor(inventory):
    """The same files, of the inventory's sizes, written and fsynced by
    --parallel threads (no network, no hashing): what the disk alone needs
    for this vault, whatever the client. Kept until the next run, like the
    clients' files."""
    import threading
    with open(inventory, "rb") as f:
        sizes = [x["Size"] for x in json.load(f)["ArchiveList"]]
    dest = os.path.join(ARGS.work, "floor-dest")
    rm(dest)
    os.makedirs(dest)
    block = memoryview(os.urandom(MIB))
    todo = iter(range(len(sizes)))
    lock = threading.Lock()

    def writer():
        while True:
            with lock:
                i = next(todo, None)
            if i is None:
                return
            fd = os.open(os.path.join(dest, str(i)), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            left = sizes[i]
            while left:
                left -= os.write(fd, block[: min(left, MIB)])
            os.fsync(fd)
            os.close(fd)

    log(f"disk alone: {len(sizes):,} files written and fsynced, {ARGS.parallel} threads")
    t0, c0 = time.monotonic(), os.times()
    threads = [threading.Thread(target=writer) for _ in range(ARGS.parallel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    d = os.open(dest, os.O_RDONLY)
    os.fsync(d)
    os.close(d)
    wall, c1 = time.monotonic() - t0, os.times()
    return {"archives": len(sizes), "bytes": sum(sizes), "wall": wall,
            "user": c1.user - c0.user, "sys": c1.system - c0.system, "rss": None}


def start_server(inventory):
    cmd = [
        ARGS.server,
        "--small", str(ARGS.small),
        "--large", str(ARGS.large),
        "--large-size", str(ARGS.large_size),
        "--inventory", inventory,
    ]
    log("starting " + " ".join(cmd))
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if not line:
        raise SystemExit("serve_vault did not start")
    return p, json.loads(line)


def stop_server(p):
    p.stdin.close()
    try:
        p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()


def run_gv(srv, inventory, env):
    dest = os.path.join(ARGS.work, "gv-dest")
    rm(dest)
    os.makedirs(dest)
    cmd = [
        ARGS.gv, "vault-exit",
        "--vault-name", srv["vault"],
        "--dest", dest,
        "--inventory", inventory,
        # As fast as it goes, like the boto3 script (no rate of its own):
        # at 1000/s the 10,004 InitiateJob calls alone would take 10 s.
        "--initiate-rate", "100000",
        "--parallel", str(ARGS.parallel),
        "--poll-interval-ms", "200",
        "--endpoint-url", srv["url"],
        "--quiet",
    ]
    log("glacier-verify: " + " ".join(cmd[1:]))
    code, e, u, s, m, out = timed(cmd, env)
    if code != 0:
        raise SystemExit(f"glacier-verify vault-exit exited {code}:\n{out}")
    n = count_lines(os.path.join(dest, "SHA256SUMS"))
    if n != srv["archives"]:
        raise SystemExit(f"glacier-verify: {n} receipt lines, {srv['archives']} archives")
    return {"archives": n, "bytes": srv["bytes"], "wall": e, "user": u, "sys": s, "rss": m}


def run_boto3(srv, inventory, env):
    dest = os.path.join(ARGS.work, "boto3-dest")
    rm(dest)
    cmd = [
        sys.executable, ARGS.boto3_script,
        "--endpoint-url", srv["url"],
        "--vault", srv["vault"],
        "--inventory", inventory,
        "--dest", dest,
        "--threads", "16",
    ]
    log("boto3: 16 threads")
    code, e, u, s, m, out = timed(cmd, env)
    if code != 0:
        raise SystemExit(f"vault_exit_boto3.py exited {code}:\n{out}")
    r = json.loads(out.strip().splitlines()[-1])
    if r["archives"] != srv["archives"]:
        raise SystemExit(f"boto3: {r}")
    return {"archives": r["archives"], "bytes": r["bytes"], "wall": e, "user": u, "sys": s, "rss": m}


def run_cli(srv, inventory, env):
    with open(inventory, "rb") as f:
        entries = json.load(f)["ArchiveList"]
    small = [x for x in entries if x["Size"] <= ARGS.small_max][: ARGS.cli_archives]
    dest = os.path.join(ARGS.work, "cli-dest")
    rm(dest)
    os.makedirs(dest)
    ids = os.path.join(ARGS.work, "cli-ids.txt")
    with open(ids, "w") as f:
        for x in small:
            f.write(x["ArchiveId"] + "\n")
    script = f"""set -eu
n=0
while read -r id; do
  n=$((n+1))
  job=$("$AWS" glacier initiate-job --account-id - --vault-name "$VAULT" --endpoint-url "$URL" \\
        --job-parameters "{{\\"Type\\":\\"archive-retrieval\\",\\"ArchiveId\\":\\"$id\\"}}" \\
        --query jobId --output text)
  "$AWS" glacier get-job-output --account-id - --vault-name "$VAULT" --endpoint-url "$URL" \\
        --job-id "$job" "$DEST/archive-$n.bin" > /dev/null
done < "$IDS"
"""
    sh = os.path.join(ARGS.work, "cli-loop.sh")
    with open(sh, "w") as f:
        f.write(script)
    env = dict(env, AWS=ARGS.aws, VAULT=srv["vault"], URL=srv["url"], DEST=dest, IDS=ids)
    log(f"aws CLI: {len(small)} archives in a shell loop")
    code, e, u, s, m, out = timed(["bash", sh], env)
    if code != 0:
        raise SystemExit(f"the aws CLI loop exited {code}")
    done = len(os.listdir(dest))
    if done != len(small):
        raise SystemExit(f"aws CLI: {done} files for {len(small)} archives")
    nbytes = sum(x["Size"] for x in small)
    rm(dest)
    return {"archives": done, "bytes": nbytes, "wall": e, "user": u, "sys": s, "rss": m}


def write_big_inventory(path, n):
    """A Glacier JSON inventory of n archives (~250 bytes each)."""
    log(f"writing a {n}-archive inventory")
    with open(path, "w", encoding="ascii") as f:
        f.write('{"VaultARN":"arn:aws:glacier:us-east-1:012345678901:vaults/plan-bench",')
        f.write('"InventoryDate":"2026-01-01T00:00:00Z","ArchiveList":[')
        buf = []
        for i in range(n):
            h = hashlib.sha256(b"plan:%d" % i).hexdigest()
            aid = h + hashlib.sha256(h.encode()).hexdigest() + "_-" + h[:8]
            buf.append(
                '%s{"ArchiveId":"%s","ArchiveDescription":"photos/%04d/%02d/IMG_%07d.jpg",'
                '"CreationDate":"2019-%02d-%02dT12:00:00Z","Size":%d,"SHA256TreeHash":"%s"}'
                % ("," if i else "", aid, 2000 + i % 20, i % 12 + 1, i, i % 12 + 1, i % 28 + 1,
                   4096 + (i * 7919) % 262144, h)
            )
            if len(buf) >= 10000:
                f.write("".join(buf))
                buf.clear()
        f.write("".join(buf))
        f.write("]}")
    return os.path.getsize(path)


def run_plan(srv, env):
    inv = os.path.join(ARGS.work, "plan-inventory.json")
    dest = os.path.join(ARGS.work, "plan-dest")
    rm(dest)
    os.makedirs(dest)
    size = write_big_inventory(inv, ARGS.plan_archives)
    base = [ARGS.gv, "vault-exit", "--vault-name", "plan-bench", "--dest", dest,
            "--inventory", inv, "--endpoint-url", srv["url"], "--quiet"]
    log("plan: --dry-run")
    code, e1, u1, s1, m1, _ = timed(base + ["--dry-run"], env)
    if code != 0:
        raise SystemExit(f"--dry-run exited {code}")
    log("plan: the plan stage into SQLite (--max-bytes-per-day 0)")
    code, e2, u2, s2, m2, _ = timed(base + ["--max-bytes-per-day", "0"], env)
    if code != 8:
        raise SystemExit(f"the plan run exited {code}, not 8 (stopped by the daily budget)")
    state = os.path.join(dest, ".glacier-verify")
    db = sum(os.path.getsize(os.path.join(state, f)) for f in os.listdir(state)
             if f.startswith("state-0-of-1.sqlite"))
    rm(inv)
    rm(dest)
    return {
        "archives": ARGS.plan_archives, "json_bytes": size,
        "dry": {"wall": e1, "user": u1, "sys": s1, "rss": m1},
        "plan": {"wall": e2, "user": u2, "sys": s2, "rss": m2},
        "db_bytes": db,
    }


def mib(kib):
    return kib / 1024


def row(label, r, extrapolate=None):
    a_s = r["archives"] / r["wall"]
    b_s = r["bytes"] / r["wall"] / MIB
    cpu = (r["user"] + r["sys"]) / r["wall"] * 100
    wall = f"{r['wall']:.1f} s"
    if extrapolate:
        wall += f" ({r['archives']} archives; {extrapolate / a_s:,.0f} s for {extrapolate:,} extrapolated)"
    rss = "—" if r["rss"] is None else f"{mib(r['rss']):.1f} MiB"
    endpoint = f"{r['endpoint_cpu']:.1f} s" if "endpoint_cpu" in r else "—"
    return (f"| {label} | {r['archives']:,} | {wall} | {a_s:,.1f} | {b_s:,.1f} | "
            f"{r['user']:.1f} + {r['sys']:.1f} s ({cpu:.0f} %) | {rss} | {endpoint} |")


def table(results, srv):
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=os.path.dirname(os.path.abspath(ARGS.readme_file))).stdout.strip()
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"Measured by `{os.environ.get('GV_BENCH_COMMAND', 'bash bench/vault-exit.sh')}` "
        f"at {commit}, {when}; {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.2f} at the start. One loopback endpoint (jobs complete at once, "
        f"SigV4 checked) serving {srv['archives']:,} archives, {srv['bytes'] / MIB:,.0f} MiB "
        f"({ARGS.small:,} of 4-256 KiB, {ARGS.large} of {ARGS.large_size // MIB} MiB); "
        "archives written to the machine's disk; "
        + ("page cache dropped before each step." if os.access("/proc/sys/vm/drop_caches", os.W_OK)
           else "page cache not dropped (not root)."),
        "",
        "| client | archives | wall | archives/s | MiB/s | CPU user + sys | peak RSS | endpoint CPU |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    gv = results.get("gv")
    if gv:
        lines.append(row(f"glacier-verify vault-exit --parallel {ARGS.parallel}", gv))
    if results.get("boto3"):
        lines.append(row("boto3, 16 threads", results["boto3"]))
    if results.get("cli"):
        lines.append(row("aws glacier CLI, shell loop", results["cli"], srv["archives"]))
    floor = results.get("floor")
    if floor:
        lines.append(row(f"baseline, the disk alone: the same files written and fsynced, "
                         f"{ARGS.parallel} threads, no network", floor))
    lines.append("")
    goals = []
    if gv and results.get("boto3"):
        ratio = (gv["archives"] / gv["wall"]) / (results["boto3"]["archives"] / results["boto3"]["wall"])
        goals.append(f"- glacier-verify ≥ {SPEED_GOAL:.0f}× boto3's archives/s: "
                     f"{ratio:.1f}× — {'met' if ratio >= SPEED_GOAL else 'not met'}")
        if floor:
            need = results["boto3"]["wall"] / SPEED_GOAL
            goals.append(f"  ({SPEED_GOAL:.0f}× means {need:.1f} s for the vault; the disk alone "
                         f"took {floor['wall']:.1f} s of it, and glacier-verify took "
                         f"{gv['wall'] / floor['wall']:.2f}× the disk's time)")
    if gv:
        goals.append(f"- glacier-verify peak RSS ≤ {RSS_GOAL_MIB} MiB: {mib(gv['rss']):.1f} MiB — "
                     f"{'met' if mib(gv['rss']) <= RSS_GOAL_MIB else 'not met'}")
    p = results.get("plan")
    if p:
        lines += [
            f"Plan of a generated {p['archives']:,}-archive inventory "
            f"({p['json_bytes'] / 1e6:,.0f} MB of JSON):",
            "",
            "| stage | wall | CPU user + sys | peak RSS |",
            "|---|---:|---:|---:|",
            f"| `--dry-run` (parse, shard, count) | {p['dry']['wall']:.1f} s | "
            f"{p['dry']['user']:.1f} + {p['dry']['sys']:.1f} s | {mib(p['dry']['rss']):.1f} MiB |",
            f"| plan into SQLite (parse, name, write; `--max-bytes-per-day 0`) | "
            f"{p['plan']['wall']:.1f} s | {p['plan']['user']:.1f} + {p['plan']['sys']:.1f} s | "
            f"{mib(p['plan']['rss']):.1f} MiB |",
            "",
            f"State database after the plan: {p['db_bytes'] / MIB:,.0f} MiB "
            f"({p['db_bytes'] / p['archives']:.0f} bytes an archive).",
            "",
        ]
        worst = max(mib(p["dry"]["rss"]), mib(p["plan"]["rss"]))
        goals.append(f"- plan of {p['archives']:,} archives, peak RSS ≤ {RSS_GOAL_MIB} MiB: "
                     f"{worst:.1f} MiB — {'met' if worst <= RSS_GOAL_MIB else 'not met'}")
    lines.append("Goals:")
    lines.append("")
    lines += goals
    return "\n".join(lines) + "\n"


def write_readme(text):
    with open(ARGS.readme_file, encoding="utf-8") as f:
        readme = f.read()
    pat = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.S)
    if not pat.search(readme):
        raise SystemExit(f"{ARGS.readme_file}: no {BEGIN} ... {END} markers")
    readme = pat.sub(lambda _: f"{BEGIN}\n{text}{END}", readme, count=1)
    with open(ARGS.readme_file, "w", encoding="utf-8") as f:
        f.write(readme)
    log(f"wrote the table into {ARGS.readme_file}")


DESTS = ["floor-dest", "gv-dest", "boto3-dest", "cli-dest", "plan-dest"]
# ext4 does not hand out an inode freed less than a minute ago (longer
# while its inode table block is dirty), and skips such inodes one by
# one: files created just after 10,000 were deleted cost far more CPU
# than on a directory a user starts a vault exit in. So the downloaded
# files are kept (until the next run), and a run that deletes an earlier
# run's files syncs and drops the page cache (root) or else waits this
# long before measuring.
RECENTLY_DELETED_S = 65


def drop_caches():
    """Writes the dirty pages back and, when allowed (root), empties the
    page cache, so that every measured step starts from the same memory: a
    cache full of earlier steps' files makes each new page cost a reclaim
    (seen as 9 -> 15 s of system CPU for the same run). True if dropped."""
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return True
    except OSError:
        return False


def clear_earlier_runs():
    """Deletes what an earlier run downloaded; if anything, syncs and, unless
    the cache could be dropped, waits until ext4 no longer counts those
    inodes as recently deleted (it looks a freed inode's deletion time up
    only in a cached inode table block)."""
    found = [d for d in DESTS if os.path.lexists(os.path.join(ARGS.work, d))]
    if not found:
        return
    for d in found:
        rm(os.path.join(ARGS.work, d))
    if drop_caches():
        log(f"deleted an earlier run's {', '.join(found)}; page cache dropped")
        return
    log(f"deleted an earlier run's {', '.join(found)}; waiting {RECENTLY_DELETED_S} s "
        "(ext4 skips recently freed inodes one by one)")
    time.sleep(RECENTLY_DELETED_S)


def measured(step, *args):
    """Runs one measured step from a settled machine (see drop_caches)."""
    drop_caches()
    return step(*args)


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--gv", required=True)
    p.add_argument("--server", required=True)
    p.add_argument("--boto3-script", required=True)
    p.add_argument("--aws", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--readme-file", required=True)
    p.add_argument("--readme", action="store_true", help="write the table into README.md")
    p.add_argument("--parallel", type=int, default=8)
    p.add_argument("--small", type=int, default=10_000)
    p.add_argument("--small-max", type=int, default=256 << 10)
    p.add_argument("--large", type=int, default=4)
    p.add_argument("--large-size", type=int, default=256 << 20)
    p.add_argument("--cli-archives", type=int, default=50)
    p.add_argument("--plan-archives", type=int, default=1_000_000)
    p.add_argument("--skip-gv", action="store_true")
    p.add_argument("--skip-boto3", action="store_true")
    p.add_argument("--skip-cli", action="store_true")
    p.add_argument("--skip-plan", action="store_true")
    p.add_argument("--skip-floor", action="store_true")
    ARGS = p.parse_args()
    os.makedirs(ARGS.work, exist_ok=True)
    clear_earlier_runs()
    inventory = os.path.join(ARGS.work, "inventory.json")
    server, srv = start_server(inventory)
    results = {}
    try:
        env = client_env(srv)
        if not ARGS.skip_floor:
            results["floor"] = measured(run_disk_floor, inventory)
            log(f"disk alone: {results['floor']}")
        if not ARGS.skip_gv:
            results["gv"] = measured(endpoint_cpu, server, lambda: run_gv(srv, inventory, env))
            log(f"glacier-verify: {results['gv']}")
        if not ARGS.skip_boto3:
            results["boto3"] = measured(endpoint_cpu, server, lambda: run_boto3(srv, inventory, env))
            log(f"boto3: {results['boto3']}")
        if not ARGS.skip_cli:
            results["cli"] = measured(endpoint_cpu, server, lambda: run_cli(srv, inventory, env))
            log(f"aws CLI: {results['cli']}")
        if not ARGS.skip_plan:
            results["plan"] = measured(run_plan, srv, env)
            log(f"plan: {results['plan']}")
    finally:
        stop_server(server)
    text = table(results, srv)
    print(text)
    if ARGS.readme:
        write_readme(text)


if __name__ == "__main__":
    main()
