#!/usr/bin/env python3
"""siemtap performance bench (stdlib only). One command, prints Markdown tables.

For each connector and each N: start `siemtap sim <vendor>` holding N events, then in the same run
  * the floor: `siemtap-floor <connector>` makes the connector's requests with a bare client,
    parses only what it needs to continue, and discards the items;
  * siemtap into /dev/null (stdout sink) and into the file sink (exactly-once, fsync per page),
    events/s and the ratio to the floor, peak RSS (ru_maxrss);
  * a zero-new-events run (the wodle's common case: same state again), CPU ms, median of 5.
Then the wazuh-socket sink: a 1Password drain into a local AF_UNIX/SOCK_DGRAM listener (Python,
counting datagrams), events/s.

Usage:
  python3 bench/run.py [--connectors 1password,proofpoint,cortex_xdr] [--sizes 10000,1000000]
                       [--pp-sizes 10000,500000] [--xdr-sizes 10000,50000] [--repeat 2] [--socket-events 100000] [--no-build]

Simulators run with --no-rate-limit and the connectors with their request-rate variables at the
maximum they accept, so neither side's quota bounds the measurement -- except Cortex XDR, whose
connector refuses XDR_REQUESTS_PER_SECOND above the vendor's 10 requests/s per tenant: its
figures are bounded by that limiter (the "limiter ceiling" column), so --xdr-sizes is smaller.
"""
import argparse, json, os, shutil, socket, statistics, subprocess, sys, tempfile, threading, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REL = os.path.join(ROOT, "target", "release")
SIEMTAP = os.path.join(REL, "siemtap")
FLOOR = os.path.join(REL, "siemtap-floor")
OP_PAGE = 1000
XDR_RPS = 10.0  # the connector's maximum (the vendor limit per tenant)


def run_measured(cmd, env=None, stdout=subprocess.DEVNULL):
    """Runs cmd, returns (exit code, wall s, cpu s, peak RSS KiB, stdout text)."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=stdout, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    out = proc.stdout.read().decode() if stdout == subprocess.PIPE else ""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    return os.waitstatus_to_exitcode(status), wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, out


class Connector:
    """What differs per connector: simulator flags, drop-in environment, floor arguments."""

    def __init__(self, name, sim, source, sim_events, env, floor):
        self.name, self.sim, self.source = name, sim, source
        self.sim_events = sim_events  # N -> --events value
        self.env = env  # (base, state) -> dict
        self.floor = floor  # base -> argv tail


CONNECTORS = {
    "1password": Connector(
        "1password", "1password", "signin", lambda n: n,
        lambda base, state: {"OP_BASE_URL": base, "OP_BEARER_TOKEN": "sim-token", "OP_STATE_FILE": state,
                             "OP_SECRETS_FILE": "/nonexistent", "OP_PAGE_LIMIT": str(OP_PAGE),
                             "OP_REQUESTS_PER_SECOND": "100000"},
        lambda base: ["1password", base, "sim-token", "/api/v2/signinattempts", str(OP_PAGE)]),
    # --events is per SIEM category (4 categories): N events = 4 x N/4.
    "proofpoint": Connector(
        "proofpoint", "proofpoint", "siem", lambda n: n // 4,
        lambda base, state: {"PP_BASE_URL": base, "PP_PRINCIPAL": "sim-principal", "PP_SECRET": "sim-secret",
                             "PP_STATE_FILE": state, "PP_SECRETS_FILE": "/nonexistent", "PP_LOOKBACK_HOURS": "24",
                             "PP_SETTLE_SECONDS": "300", "PP_PEOPLE_INTERVAL": "0",
                             "PP_REQUESTS_PER_SECOND": "100000"},
        lambda base: ["proofpoint", base, "sim-principal", "sim-secret", "24", "300"]),
    # --events is alerts and incidents each; the bench drains the alerts stream.
    "cortex_xdr": Connector(
        "cortex_xdr", "cortex_xdr", "alerts", lambda n: n,
        lambda base, state: {"XDR_BASE_URL": base, "XDR_API_KEY": "sim-api-key", "XDR_API_KEY_ID": "1",
                             "XDR_FQDN": "sim.invalid", "XDR_SECURITY_LEVEL": "advanced", "XDR_STATE_FILE": state,
                             "XDR_SECRETS_FILE": "/nonexistent", "XDR_LOOKBACK_HOURS": "24",
                             "XDR_SETTLE_SECONDS": "120", "XDR_REQUESTS_PER_SECOND": str(XDR_RPS)},
        lambda base: ["cortex_xdr", base, "1", "sim-api-key", "24", "120"]),
}


def start_sim(vendor, events):
    sim = subprocess.Popen(
        [SIEMTAP, "sim", vendor, "--listen", "127.0.0.1:0", "--seed", "1", "--events", str(events),
         "--no-rate-limit"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    line = sim.stdout.readline().decode().strip()
    assert line.startswith("listening on "), f"{vendor} simulator: {line!r}"
    return sim, line[len("listening on "):]


def fresh(*paths):
    for p in paths:
        if p and os.path.exists(p):
            os.remove(p)


def siemtap_run(c, base, output, tmp, tag, keep_state=False, extra_env=None):
    """One `siemtap run`; returns (wall, cpu, rss KiB)."""
    state = os.path.join(tmp, f"{c.name}-state-{tag}.json")
    if not keep_state:
        fresh(state, state + ".lock", output[5:] if output.startswith("file:") else "")
    # The bench runs as root; siemtap drops to `wazuh` unless told to stay root.
    env = {"PATH": os.environ.get("PATH", ""), "SIEMTAP_USER": "root", **c.env(base, state), **(extra_env or {})}
    log = os.path.join(tmp, f"{c.name}-{tag}.log")
    cmd = [SIEMTAP, "run", c.name, "--source", c.source, "--max-runtime", "0", "--output", output,
           "--log-file", log]
    code, wall, cpu, rss, _ = run_measured(cmd, env=env)
    assert code == 0, f"{' '.join(cmd)} exited {code}; see {log}"
    return wall, cpu, rss


def count_lines(path):
    with open(path, "rb") as f:
        return sum(1 for _ in f)


def first_error(path):
    with open(path, "rb") as f:
        for line in f:
            if b'"error_message"' in line:
                doc = json.loads(line)
                event = next((v for v in doc.values() if isinstance(v, dict) and "error_message" in v), doc)
                return f"{event.get('error_code')}: {event.get('error_message')} ({event.get('error_detail')})"
    return None


def bench_connector(c, n, repeat, tmp):
    sim, base = start_sim(c.sim, c.sim_events(n))
    try:
        floors = []
        for _ in range(repeat):
            code, wall, _, _, out = run_measured([FLOOR, *c.floor(base)], stdout=subprocess.PIPE)
            assert code == 0, f"floor {c.name} failed"
            fields = dict(kv.split("=") for kv in out.split())
            # Contiguous closed windows can re-read a record at a window edge (the ledger drops it).
            assert int(fields["events"]) >= n, f"floor {c.name} saw {fields['events']} events, expected {n}"
            floors.append((wall, int(fields["pages"])))
        floor_wall, pages = min(floors)
        stdout_runs = [siemtap_run(c, base, "stdout", tmp, "stdout") for _ in range(repeat)]
        out_file = os.path.join(tmp, f"{c.name}-events.jsonl")
        file_runs = [siemtap_run(c, base, f"file:{out_file}", tmp, "file") for _ in range(repeat)]
        lines = count_lines(out_file)
        # N events + the run summary (no error events expected).
        assert lines == n + 1, (f"{c.name}: file sink wrote {lines} lines, expected {n} events + 1 summary; "
                                f"first error event: {first_error(out_file)}")
        # Zero-new-events run: the file run's state again, CPU time, median of 5.
        zero = [siemtap_run(c, base, f"file:{out_file}", tmp, "file", keep_state=True)[1] for _ in range(5)]
        assert count_lines(out_file) <= n + 6, f"{c.name}: zero-event runs delivered events"
        best_stdout = min(r[0] for r in stdout_runs)
        best_file = min(r[0] for r in file_runs)
        row = {
            "connector": c.name, "events": n, "requests": pages,
            "floor_eps": n / floor_wall, "stdout_eps": n / best_stdout, "file_eps": n / best_file,
            "stdout_ratio": floor_wall / best_stdout, "file_ratio": floor_wall / best_file,
            "stdout_rss_mib": max(r[2] for r in stdout_runs) / 1024,
            "file_rss_mib": max(r[2] for r in file_runs) / 1024,
            "zero_cpu_ms": statistics.median(zero) * 1000,
            "stdout_cpu_s": min(r[1] for r in stdout_runs),
        }
        if c.name == "cortex_xdr":
            row["limiter_ceiling_eps"] = n / (pages / XDR_RPS)
        return row
    finally:
        sim.terminate()
        sim.wait()


class DatagramCounter:
    """A local AF_UNIX / SOCK_DGRAM listener counting datagrams (stand-in for analysisd's queue)."""

    def __init__(self, path):
        self.path, self.count, self.bytes = path, 0, 0
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        except OSError:
            pass
        self.sock.bind(path)
        self.sock.settimeout(0.2)
        self.stop = False
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while not self.stop:
            try:
                data = self.sock.recv(1 << 17)
            except socket.timeout:
                continue
            self.count += 1
            self.bytes += len(data)

    def close(self):
        time.sleep(0.5)  # drain what is queued
        self.stop = True
        self.thread.join()
        self.sock.close()


def bench_socket(n, tmp):
    c = CONNECTORS["1password"]
    sim, base = start_sim(c.sim, n)
    path = os.path.join(tmp, "queue.sock")
    listener = DatagramCounter(path)
    try:
        wall, cpu, rss = siemtap_run(c, base, f"wazuh-socket:{path}", tmp, "socket")
    finally:
        listener.close()
        sim.terminate()
        sim.wait()
    assert listener.count >= n, f"listener counted {listener.count} datagrams, expected at least {n}"
    return {"events": n, "datagrams": listener.count, "eps": n / wall, "rss_mib": rss / 1024,
            "avg_bytes": listener.bytes / max(listener.count, 1), "cpu_s": cpu}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--connectors", default="1password,proofpoint,cortex_xdr")
    ap.add_argument("--sizes", default="10000,1000000")
    ap.add_argument("--pp-sizes", default="10000,500000",
                    help="Proofpoint sizes (at 1,000,000 an hour window exceeds the 64 MiB response cap)")
    ap.add_argument("--xdr-sizes", default="10000,50000",
                    help="Cortex XDR sizes (its connector is capped at 10 requests/s)")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--socket-events", type=int, default=100000)
    ap.add_argument("--no-build", action="store_true")
    args = ap.parse_args()
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "--locked", "-p", "siemtap", "-p", "siemtap-bench"],
                       cwd=ROOT, check=True)
    load_start = os.getloadavg()
    tmp = tempfile.mkdtemp(prefix="siemtap-bench-")
    rows, sock, failures = [], None, []
    try:
        for name in [s for s in args.connectors.split(",") if s]:
            c = CONNECTORS[name]
            sizes = {"cortex_xdr": args.xdr_sizes, "proofpoint": args.pp_sizes}.get(name, args.sizes)
            for n in [int(s) for s in sizes.split(",")]:
                repeat = args.repeat if n <= 100000 else 1
                try:
                    rows.append(bench_connector(c, n, repeat, tmp))
                except AssertionError as e:
                    failures.append(f"{name} N={n:,}: {e}")
                    print(f"FAILED: {failures[-1]}", file=sys.stderr, flush=True)
                    continue
                print(f"done: load {os.getloadavg()[0]:.2f} {json.dumps(rows[-1])}", file=sys.stderr, flush=True)
        if args.socket_events > 0:
            sock = bench_socket(args.socket_events, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    load_end = os.getloadavg()

    print(f"siemtap bench: {os.cpu_count()} CPUs, load average {load_start[0]:.2f} {load_start[1]:.2f} "
          f"{load_start[2]:.2f} at start, {load_end[0]:.2f} {load_end[1]:.2f} {load_end[2]:.2f} at end; "
          f"best of {args.repeat} up to 100,000 events, 1 run above")
    print()
    print("| connector | events | requests | floor ev/s | /dev/null ev/s | ratio | file ev/s | ratio "
          "| peak RSS stdout | peak RSS file | zero-event run CPU |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['connector']} | {r['events']:,} | {r['requests']:,} | {r['floor_eps']:,.0f} | "
              f"{r['stdout_eps']:,.0f} | {r['stdout_ratio']:.0%} | {r['file_eps']:,.0f} | {r['file_ratio']:.0%} | "
              f"{r['stdout_rss_mib']:.1f} MiB | {r['file_rss_mib']:.1f} MiB | {r['zero_cpu_ms']:.1f} ms |")
    print()
    by = {}
    for r in rows:
        by.setdefault(r["connector"], []).append(r)
    for name, rs in by.items():
        if len(rs) >= 2:
            small, large = rs[0], rs[-1]
            growth = large["stdout_rss_mib"] / small["stdout_rss_mib"] - 1
            print(f"{name}: peak RSS {small['events']:,} -> {large['events']:,} events: {growth:+.0%} "
                  f"(target: <= 32 MiB and within 20%)")
        for r in rs:
            if "limiter_ceiling_eps" in r:
                print(f"{name} N={r['events']:,}: the connector's 10 requests/s limiter allows at most "
                      f"{r['limiter_ceiling_eps']:,.0f} ev/s for these {r['requests']:,} requests")
    if sock:
        print()
        print("| wazuh-socket sink (1Password sim) | events | datagrams | ev/s | peak RSS | avg datagram |")
        print("|---|---:|---:|---:|---:|---:|")
        print(f"| AF_UNIX SOCK_DGRAM listener | {sock['events']:,} | {sock['datagrams']:,} | {sock['eps']:,.0f} | "
              f"{sock['rss_mib']:.1f} MiB | {sock['avg_bytes']:.0f} B |")
    for f in failures:
        print(f"FAILED: {f}")
    print(json.dumps({"rows": rows, "socket": sock, "load": [load_start, load_end]}), file=sys.stderr)


if __name__ == "__main__":
    main()
