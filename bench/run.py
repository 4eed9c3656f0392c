#!/usr/bin/env python3
"""siemtap drain benchmark (stdlib only).

For each N: start `siemtap sim 1password` with N events per stream, then in the same run
  * the floor: `siemtap-floor` fetches the same sign-in pages with a bare client and discards them;
  * siemtap into /dev/null (stdout sink) and into the file sink (exactly-once, fsync per page);
  * a zero-new-events run (the wodle's common case), CPU time.
Prints a table: events/s, ratio to the floor, peak RSS. Usage:
  python3 bench/run.py [--sizes 10000,1000000] [--repeat 2] [--page 1000]
"""
import argparse, json, os, shutil, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REL = os.path.join(ROOT, "target", "release")


def run_measured(cmd, env=None, stdout=subprocess.DEVNULL):
    """Runs cmd, returns (exit code, wall seconds, cpu seconds, peak RSS KiB, stdout text)."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=stdout, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    out = proc.stdout.read().decode() if stdout == subprocess.PIPE else ""
    return os.waitstatus_to_exitcode(status), wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, out


def start_sim(events):
    sim = subprocess.Popen(
        [os.path.join(REL, "siemtap"), "sim", "1password", "--listen", "127.0.0.1:0", "--seed", "1",
         "--events", str(events), "--no-rate-limit"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    line = sim.stdout.readline().decode().strip()
    assert line.startswith("listening on "), line
    return sim, line[len("listening on "):]


def siemtap_env(base, state, page):
    return {"PATH": os.environ.get("PATH", ""), "OP_BASE_URL": base, "OP_BEARER_TOKEN": "sim-token",
            "OP_STATE_FILE": state, "OP_SECRETS_FILE": "/nonexistent", "OP_PAGE_LIMIT": str(page),
            "OP_REQUESTS_PER_SECOND": "100000"}


def drain(base, page, output, tmp, tag):
    state = os.path.join(tmp, f"state-{tag}.json")
    for p in (state, state + ".lock", output[5:] if output.startswith("file:") else ""):
        if p and os.path.exists(p):
            os.remove(p)
    cmd = [os.path.join(REL, "siemtap"), "run", "1password", "--source", "signin", "--max-runtime", "0",
           "--output", output, "--log-file", os.path.join(tmp, "bench.log")]
    code, wall, cpu, rss, _ = run_measured(cmd, env=siemtap_env(base, state, page))
    assert code == 0, f"siemtap exited {code}; see {tmp}/bench.log"
    return wall, rss, cmd, state


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,1000000")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--page", type=int, default=1000)
    ap.add_argument("--no-build", action="store_true")
    args = ap.parse_args()
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "--locked", "-p", "siemtap", "-p", "siemtap-bench"],
                       cwd=ROOT, check=True)
    tmp = tempfile.mkdtemp(prefix="siemtap-bench-")
    rows = []
    try:
        for n in [int(s) for s in args.sizes.split(",")]:
            sim, base = start_sim(n)
            try:
                floor = min(
                    (run_measured([os.path.join(REL, "siemtap-floor"), base, "sim-token", "/api/v2/signinattempts",
                                   str(args.page)], stdout=subprocess.PIPE) for _ in range(args.repeat)),
                    key=lambda r: r[1])
                assert floor[0] == 0, "floor client failed"
                fields = dict(kv.split("=") for kv in floor[4].split())
                assert int(fields["events"]) == n, f"floor saw {fields['events']} events, expected {n}"
                stdout_runs = [drain(base, args.page, "stdout", tmp, "stdout") for _ in range(args.repeat)]
                out_file = os.path.join(tmp, "events.jsonl")
                file_runs = [drain(base, args.page, f"file:{out_file}", tmp, "file") for _ in range(args.repeat)]
                with open(out_file) as f:
                    lines = sum(1 for _ in f)
                assert lines == n + 1, f"file sink wrote {lines} lines, expected {n} events + 1 summary"
                best_stdout = min(stdout_runs, key=lambda r: r[0])
                best_file = min(file_runs, key=lambda r: r[0])
                # Zero-new-events run: same state again, CPU time, median of 5.
                _, _, cmd, state = best_file
                cpu = sorted(run_measured(cmd, env=siemtap_env(base, state, args.page))[2] for _ in range(5))[2]
                rows.append({
                    "events": n,
                    "floor_eps": n / floor[1],
                    "stdout_eps": n / best_stdout[0],
                    "file_eps": n / best_file[0],
                    "stdout_ratio": floor[1] / best_stdout[0],
                    "file_ratio": floor[1] / best_file[0],
                    "stdout_rss_mib": max(r[1] for r in stdout_runs) / 1024,
                    "file_rss_mib": max(r[1] for r in file_runs) / 1024,
                    "zero_event_cpu_ms": cpu * 1000,
                })
            finally:
                sim.terminate()
                sim.wait()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"siemtap drain benchmark: 1Password sign-in stream, page limit {args.page}, best of {args.repeat}")
    print("| events | floor ev/s | /dev/null ev/s | ratio | file ev/s | ratio | peak RSS stdout | peak RSS file | zero-event run CPU |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['events']:,} | {r['floor_eps']:,.0f} | {r['stdout_eps']:,.0f} | {r['stdout_ratio']:.0%} | "
              f"{r['file_eps']:,.0f} | {r['file_ratio']:.0%} | {r['stdout_rss_mib']:.1f} MiB | "
              f"{r['file_rss_mib']:.1f} MiB | {r['zero_event_cpu_ms']:.1f} ms |")
    if len(rows) >= 2:
        small, large = rows[0], rows[-1]
        growth = large["stdout_rss_mib"] / small["stdout_rss_mib"] - 1
        print(f"RSS growth {small['events']:,} -> {large['events']:,} events: {growth:+.0%} (target within 20%)")
    print(json.dumps(rows), file=sys.stderr)


if __name__ == "__main__":
    main()
