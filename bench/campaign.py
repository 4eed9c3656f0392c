#!/usr/bin/env python3
"""siemtap crash campaign (stdlib only), plus the fault-matrix table generator.

Crash campaign: for each connector (1password, proofpoint, cortex_xdr) x sink (stdout, file),
start `siemtap sim CONNECTOR` with a populated dataset and live arrivals (`--rate`), then
repeat: start `siemtap run CONNECTOR`, SIGKILL it after a seeded random delay, check the
state file (it parses; with the file sink its committed output length only grows and ends on
a whole line). Then freeze the simulator's clock, drain once more, and compare the union of
everything delivered with the simulator's oracle: gaps, duplicates, and for stdout the most
events a single kill caused to be delivered twice against the largest page the simulator
served (the target is at most one page per kill).

State-write kills: pages of one event (1Password) or a 7-day catch-up of one-hour windows
(Proofpoint, Cortex XDR) make the runner commit constantly; kills then land inside the atomic
state write (a leftover `.state.json.*.tmp` proves it) and the state must still parse and be
the old or the new version. With `strace` on PATH, kills are also injected exactly at the
rename that publishes a new state (`strace -e inject=rename...:signal=SIGKILL:when=N`): the
state must then be the previous version and the temp file the complete new one.

Usage:
  python3 bench/campaign.py                  # CI-sized crash + state-write campaign, table
  python3 bench/campaign.py --large          # more events, more kills, longer runs
  python3 bench/campaign.py --matrix         # run the fault matrix test, print its table
  python3 bench/campaign.py --write-docs ... # also replace the generated sections of
                                             # docs/reliability.md (between marker comments)
Options: --seed N, --connectors a,b, --sinks stdout,file, --kills N, --no-build, --debug-binary.
Exit status 1 when a target is missed.
"""
import argparse, base64, json, os, random, re, shutil, signal, subprocess, sys, tempfile, time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "docs", "reliability.md")

# Per connector: drop-in prefix, credentials, namespace, client rate, simulator data, and the
# shortest kill delay (kill_ms[0]; the window itself is calibrated on a full drain).
CONNECTORS = {
    "1password": dict(
        prefix="OP", ns="op", kind="event_type", creds={"OP_BEARER_TOKEN": "sim-token"},
        rps="200", env={"OP_PAGE_LIMIT": "25"}, final_env={},
        # Without the 600 requests/min limit: a large drain alone needs more (429s and their
        # recovery are the fault matrix's subject).
        sim=lambda large: ["--events", "5000" if large else "1200", "--rate", "20", "--no-rate-limit"],
        kill_ms=(30, 0), statewrite_env={"OP_PAGE_LIMIT": "1"},
        statewrite_sim=["--events", "400", "--rate", "5", "--no-rate-limit"]),
    "proofpoint": dict(
        prefix="PP", ns="pp", kind="event_type",
        creds={"PP_PRINCIPAL": "sim-principal", "PP_SECRET": "sim-secret"},
        rps="500", env={"PP_PEOPLE_PAGE_SIZE": "20"}, final_env={"PP_SETTLE_SECONDS": "0"},
        sim=lambda large: ["--events", "1000" if large else "240", "--rate", "0.5",
                           "--people-users", "30", "--no-rate-limit"],
        kill_ms=(30, 0), statewrite_env={"PP_LOOKBACK_HOURS": "168", "PP_REQUESTS_PER_SECOND": "1000"},
        statewrite_sim=["--events", "300", "--rate", "0.2", "--no-rate-limit"]),
    "cortex_xdr": dict(
        prefix="XDR", ns="xdr", kind="type", creds={"XDR_API_KEY": "sim-api-key", "XDR_API_KEY_ID": "1"},
        rps="10", env={}, final_env={"XDR_SETTLE_SECONDS": "0"},
        # The client keeps to 10 requests/s per process; a killed run and its immediate restart
        # together would exceed the simulator's per-key limit, which is not what this measures.
        sim=lambda large: ["--events", "5000" if large else "1500", "--rate", "2", "--no-rate-limit"],
        kill_ms=(100, 0), statewrite_env={"XDR_LOOKBACK_HOURS": "168"},
        statewrite_sim=["--events", "300", "--rate", "0.2", "--no-rate-limit"]),
}


class Sim:
    def __init__(self, exe, vendor, args):
        self.proc = subprocess.Popen([exe, "sim", vendor, "--listen", "127.0.0.1:0"] + args,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        line = self.proc.stdout.readline().decode().strip()
        assert line.startswith("listening on "), line
        self.base = line[len("listening on "):]

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req) as r:
            text = r.read()
        return json.loads(text) if text else None

    def oracle(self):
        return self.call("GET", "/_sim/oracle")["streams"]

    def max_page(self):
        log = self.call("GET", "/_sim/requests")
        entries = log["requests"] if isinstance(log, dict) else log
        return max([e.get("items") or 0 for e in entries] or [0])

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def ids_of(name, events):
    """Oracle-form ids per stream, in output order (duplicates kept)."""
    out = {}
    for e in events:
        if name == "1password":
            op = e.get("op", {})
            stream = {"audit_event": "audit", "signin_attempt": "signin", "item_usage": "itemusage"}.get(op.get("event_type"))
            if stream and op.get("uuid"):
                out.setdefault(stream, []).append(op["uuid"])
        elif name == "proofpoint":
            pp = e.get("pp", {})
            kind = pp.get("event_type")
            if kind in ("messagesBlocked", "messagesDelivered"):
                out.setdefault("siem", []).append(f"{kind}:{pp['GUID']}")
            elif kind in ("clicksBlocked", "clicksPermitted"):
                out.setdefault("siem", []).append(f"{kind}:{pp['id']}")
            elif kind in ("vap", "top_clickers"):
                out.setdefault("people", []).append(f"{kind}:{pp['identity']['guid']}@{pp['report']['interval']}")
        else:
            x = e.get("xdr", {})
            if x.get("type") == "alert":
                out.setdefault("alerts", []).append(str(x["alert_id"]))
            elif x.get("type") == "incident":
                ms = iso_ms(x["modification_time"])
                out.setdefault("incidents", []).append(f"{x['incident_id']}@{ms}")
    return out


def iso_ms(text):
    """Epoch ms of `2026-01-02T03:04:05.678Z`."""
    import datetime
    t = datetime.datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    frac = text[19:].rstrip("Z")
    ms = int((frac[1:] + "000")[:3]) if frac.startswith(".") else 0
    return int(t.timestamp()) * 1000 + ms


def compare(emitted, oracle):
    """Gaps, superseded XDR incident versions, duplicates and extras of `emitted` vs the oracle."""
    r = dict(ids=0, gaps=0, superseded=0, duplicates=0, extra=0, sample=[])
    # Versioned ids (`key@version`: XDR incidents, Proofpoint People reports): a version no run
    # delivered is "superseded", not a gap, when a later version of the same key was delivered
    # (an incident updated before any run fetched the old version; a People report opened by a
    # killed run whose pages were never committed, then fetched whole by a later run).
    delivered = {}
    for stream, got in emitted.items():
        for i in got:
            if "@" in i:
                key, ver = i.split("@", 1)
                delivered.setdefault((stream, key), []).append(ver)

    def later(a, b):
        return int(a) > int(b) if a.lstrip("-").isdigit() and b.lstrip("-").isdigit() else a > b

    for stream, want in oracle.items():
        got = emitted.get(stream, [])
        counts = {}
        for i in got:
            counts[i] = counts.get(i, 0) + 1
        r["ids"] += len(want)
        r["duplicates"] += sum(n - 1 for n in counts.values())
        known = set(want)
        r["extra"] += sum(1 for i in counts if i not in known)
        for i in want:
            if i in counts:
                continue
            if "@" in i:
                key, ver = i.split("@", 1)
                if any(later(v, ver) for v in delivered.get((stream, key), [])):
                    r["superseded"] += 1
                    continue
            r["gaps"] += 1
            if len(r["sample"]) < 6:
                r["sample"].append(f"{stream}:{i}")
    for stream, got in emitted.items():
        if stream not in oracle:
            r["extra"] += len(got)
    return r


def parse_lines(text, lenient):
    out = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except ValueError:
            if not lenient:
                raise
    return out


def run_env(name, base, work):
    c = CONNECTORS[name]
    p = c["prefix"]
    env = {"PATH": os.environ.get("PATH", ""), f"{p}_BASE_URL": base,
           f"{p}_STATE_FILE": os.path.join(work, "state.json"),
           f"{p}_SECRETS_FILE": os.path.join(work, "absent.secrets"),
           f"{p}_REQUESTS_PER_SECOND": c["rps"], "SIEMTAP_NO_RETRY_SLEEP": "1",
           # The campaign runs as root; siemtap drops to `wazuh` unless told to stay root.
           "SIEMTAP_USER": "root"}
    env.update(c["creds"])
    env.update(c["env"])
    return env


def run_cmd(exe, name, work, sink, extra=()):
    cmd = [exe, "run", name, "--log-file", os.path.join(work, "siemtap.log")] + list(extra)
    if sink == "file":
        cmd += ["--output", "file:" + os.path.join(work, "events.jsonl")]
    return cmd


def errors_of(name, events):
    ns, kind = CONNECTORS[name]["ns"], CONNECTORS[name]["kind"]
    return [(e[ns].get("source") or e[ns].get("error_source"), e[ns].get("error_code"))
            for e in events if e.get(ns, {}).get(kind) == "error"]


def check_state(work, sink, committed):
    """The state parses; with the file sink the committed length grows and ends a line."""
    path = os.path.join(work, "state.json")
    if not os.path.exists(path):
        return committed
    with open(path) as f:
        state = json.load(f)  # raises on a torn file
    if sink == "file":
        out = os.path.join(work, "events.jsonl")
        n = state.get("siemtap", {}).get("outputs", {}).get("file:" + out, 0)
        data = open(out, "rb").read() if os.path.exists(out) else b""
        assert n >= committed, f"committed length went back: {n} < {committed}"
        assert n <= len(data) and (n == 0 or data[n - 1:n] == b"\n"), "committed length splits a line"
        return n
    return committed


def freeze(name, sim):
    """Freezes the simulator for the final drain. Proofpoint windows end on whole minutes of the
    client's clock: freeze early in a minute and set the simulator back to the minute's start,
    so one drain can collect everything the oracle holds (earlier runs kept the 300 s settle
    delay, so nothing newer was delivered)."""
    if name == "proofpoint":
        second = int(sim.call("GET", "/_sim/clock")["now"][17:19])
        if second >= 45:
            time.sleep(61 - second)
    sim.call("POST", "/_sim/clock", {"mode": "frozen"})
    if name == "proofpoint":
        now = sim.call("GET", "/_sim/clock")["now"]
        sim.call("POST", "/_sim/clock", {"set": now[:17] + "00Z"})


def calibrate(exe, name, sim_args, extra_env=None):
    """Wall time of one uninterrupted drain of the campaign's dataset (a separate simulator)."""
    sim = Sim(exe, name, sim_args)
    work = tempfile.mkdtemp(prefix=f"siemtap-calibrate-{name}-")
    env = run_env(name, sim.base, work)
    env.update(extra_env or {})
    try:
        start = time.monotonic()
        subprocess.run(run_cmd(exe, name, work, "stdout"), env=env,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        return time.monotonic() - start
    finally:
        sim.stop()
        shutil.rmtree(work, ignore_errors=True)


def crash(exe, name, sink, kills, seed, large):
    c = CONNECTORS[name]
    rng = random.Random(f"{seed}-{name}-{sink}")
    # Kill delays: uniform in [lo, lo + T / kills], T = one full drain, so that the kills
    # together cover about the whole backlog and most of them interrupt a running process.
    # The faster of two drains: a cold first run would stretch the window past the backlog.
    full_ms = min(calibrate(exe, name, ["--seed", str(seed)] + c["sim"](large)) for _ in range(2)) * 1000
    lo = min(c["kill_ms"][0], full_ms / 20)
    window = (lo, lo + max(full_ms / kills, 10))
    sim = Sim(exe, name, ["--seed", str(seed)] + c["sim"](large))
    work = tempfile.mkdtemp(prefix=f"siemtap-crash-{name}-{sink}-")
    runs, mid_run, committed = [], 0, 0
    # Known defect: what a run writes to the output file before its first state commit is not
    # cut by the next run (no committed length yet), so it repeats. Tracked to report it apart.
    before_first_commit = set()
    try:
        for _ in range(kills):
            # stdout into a file: a pipe nobody reads during the run would fill and block it.
            out_path = os.path.join(work, "stdout.txt")
            with open(out_path, "wb") as out_file:
                proc = subprocess.Popen(run_cmd(exe, name, work, sink), env=run_env(name, sim.base, work),
                                        stdin=subprocess.DEVNULL, stdout=out_file, stderr=subprocess.DEVNULL)
                time.sleep(rng.uniform(*window) / 1000)
                if proc.poll() is None:
                    mid_run += 1
                proc.kill()
                proc.wait()
            runs.append(parse_lines(open(out_path, "rb").read().decode(errors="replace"), lenient=True))
            committed = check_state(work, sink, committed)
            out_file = os.path.join(work, "events.jsonl")
            if sink == "file" and not os.path.exists(os.path.join(work, "state.json")) and os.path.exists(out_file):
                written = parse_lines(open(out_file, "rb").read().decode(errors="replace"), lenient=True)
                before_first_commit.update(i for v in ids_of(name, written).values() for i in v)
        freeze(name, sim)
        env = run_env(name, sim.base, work)
        env.update(c["final_env"])
        last = subprocess.run(run_cmd(exe, name, work, sink, ["--max-runtime", "0"]), env=env,
                              stdin=subprocess.DEVNULL, capture_output=True)
        assert last.returncode == 0, f"{name} {sink}: final drain exited {last.returncode}; see {work}"
        runs.append(parse_lines(last.stdout.decode(), lenient=False))
        if sink == "file":
            events = parse_lines(open(os.path.join(work, "events.jsonl")).read(), lenient=False)
        else:
            events = [e for r in runs for e in r]
        ids = ids_of(name, events)
        cmp = compare(ids, sim.oracle())
        seen, first_commit = set(), 0
        for i in (i for v in ids.values() for i in v):
            if i in seen and i in before_first_commit:
                first_commit += 1
            seen.add(i)
        repeats = []
        if sink == "stdout":
            for k in range(len(runs) - 1):
                later = {i for r in runs[k + 1:] for v in ids_of(name, r).values() for i in v}
                repeats.append(sum(1 for v in ids_of(name, runs[k]).values() for i in v if i in later))
        row = dict(connector=name, sink=sink, kills=kills, mid_run=mid_run, window=[round(w) for w in window], errors=errors_of(name, events),
                   max_repeat=max(repeats or [0]), total_repeat=sum(repeats), page=sim.max_page(),
                   first_commit=first_commit, **cmp)
        row["ok"] = (cmp["gaps"] == 0 and cmp["extra"] == 0 and not row["errors"]
                     and (cmp["duplicates"] == 0 if sink == "file" else row["max_repeat"] <= row["page"]))
        if row["ok"]:
            shutil.rmtree(work, ignore_errors=True)
        else:
            row["work"] = work
        return row
    finally:
        sim.stop()


def temps(work):
    """Leftover state temp files. A killed run's temp file may still be removed by a process
    that was not yet reaped (strace -f), so a vanished directory entry is not an error."""
    try:
        names = os.listdir(work)
    except FileNotFoundError:
        return []
    return [os.path.join(work, n) for n in names if n.startswith(".state.json.") and n.endswith(".tmp")]


def complete_versions(paths):
    """Texts of the temp files that parse as a whole JSON document (a complete new version)."""
    out = []
    for p in paths:
        try:
            text = open(p).read()
        except FileNotFoundError:
            continue
        try:
            json.loads(text)
        except ValueError:
            continue
        out.append(text)
    return out


def state_write(exe, name, kills, seed, use_strace):
    """Kills inside the state write (random, and with strace exactly at the rename)."""
    c = CONNECTORS[name]
    rng = random.Random(f"{seed}-{name}-statewrite")
    sim_args = ["--seed", str(seed)] + c["statewrite_sim"]
    full_ms = calibrate(exe, name, sim_args, c["statewrite_env"]) * 1000
    sim = Sim(exe, name, sim_args)
    work = tempfile.mkdtemp(prefix=f"siemtap-statewrite-{name}-")
    row = dict(connector=name, kills=0, in_write=0, before_rename=0, strace_kills=0, strace_old=0,
               window=[round(0.02 * full_ms), round(0.6 * full_ms)])
    committed = 0
    try:
        env = run_env(name, sim.base, work)
        env.update(c["statewrite_env"])
        for i in range(kills):
            strace = use_strace and i % 2 == 1
            cmd = run_cmd(exe, name, work, "file")
            before = open(os.path.join(work, "state.json")).read() if os.path.exists(os.path.join(work, "state.json")) else None
            if strace:
                # Early runs commit hundreds of times, later ones a few: N stays small.
                n = rng.randint(1, 4)
                cmd = ["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=rename,renameat,renameat2",
                       "-e", f"inject=rename,renameat,renameat2:signal=SIGKILL:when={n}"] + cmd
                proc = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True)
                killed = proc.returncode in (-9, 137)
            else:
                p = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
                time.sleep(rng.uniform(0.02, 0.6) * full_ms / 1000)
                killed = p.poll() is None
                p.kill()
                p.wait()
            row["kills"] += 1
            left = temps(work)
            state_text = open(os.path.join(work, "state.json")).read() if os.path.exists(os.path.join(work, "state.json")) else None
            complete = complete_versions(left)
            if left:
                row["in_write"] += 1
                row["before_rename"] += int(bool(complete))
            if strace and killed:
                row["strace_kills"] += 1
                # Killed at the rename: the new version is complete in the temp file, and the
                # state file (absent before the first commit) is an older or equal version: its
                # committed output length is at most the new version's.
                key = "file:" + os.path.join(work, "events.jsonl")
                length = lambda text: json.loads(text).get("siemtap", {}).get("outputs", {}).get(key, 0)
                old = 0 if state_text is None else length(state_text)
                if complete and all(old <= length(text) for text in complete):
                    row["strace_old"] += 1
            committed = check_state(work, "file", committed)
        freeze(name, sim)
        env.update(c["final_env"])
        env.pop("OP_PAGE_LIMIT", None)
        last = subprocess.run(run_cmd(exe, name, work, "file", ["--max-runtime", "0"]), env=env,
                              stdin=subprocess.DEVNULL, capture_output=True)
        assert last.returncode == 0, f"{name}: final drain exited {last.returncode}; see {work}"
        row["temps_after"] = len(temps(work))
        events = parse_lines(open(os.path.join(work, "events.jsonl")).read(), lenient=False)
        row["errors"] = errors_of(name, events)
        row.update(compare(ids_of(name, events), sim.oracle()))
        row["ok"] = (row["gaps"] == 0 and row["duplicates"] == 0 and row["extra"] == 0
                     and row["temps_after"] == 0 and not row["errors"]
                     and (not use_strace or row["strace_old"] == row["strace_kills"]))
        if row["ok"]:
            shutil.rmtree(work, ignore_errors=True)
        else:
            row["work"] = work
        return row
    finally:
        sim.stop()


def crash_table(rows):
    out = ["| Connector | Sink | Kill delay (ms) | Kills | Hit a running process | Ids | Gaps | Duplicates | Most repeated by one kill (largest page) | Result |",
           "|---|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        rep = f"{r['max_repeat']} ({r['page']})" if r["sink"] == "stdout" else "—"
        sup = f" (+{r['superseded']} superseded)" if r["superseded"] else ""
        dup = f"{r['duplicates']}" + (f" ({r['first_commit']} before the first commit)" if r.get("first_commit") else "")
        brief = dict(r, errors=sorted({f"{s} {c}" for s, c in r["errors"]})[:3], sample=r["sample"][:3])
        if r["ok"]:
            res = "ok"
        elif r["sink"] == "file" and r["duplicates"] == r["first_commit"] and not (r["gaps"] or r["errors"] or r["extra"]):
            res = "**MISSED**: every repeat was written before a run's first state commit (see Missed targets)"
        else:
            res = "**MISSED** " + json.dumps({k: brief[k] for k in ("errors", "sample", "extra") if brief.get(k)})
        out.append(f"| {r['connector']} | {r['sink']} | {r['window'][0]}–{r['window'][1]} | {r['kills']} | {r['mid_run']} | {r['ids']:,} | {r['gaps']}{sup} | "
                   f"{dup} | {rep} | {res} |")
    return "\n".join(out)


def state_table(rows, use_strace):
    out = ["| Connector | Kill delay (ms) | Kills | Landed inside a state write | New version written, not renamed | "
           "strace kills at the rename | State was the old version | Temp files after the next run | Gaps | Duplicates | Result |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        st = (f"{r['strace_kills']} | {r['strace_old']}" if use_strace else "— | —")
        res = "ok" if r["ok"] else "**MISSED** " + json.dumps({k: r.get(k) for k in ("errors", "sample")})
        out.append(f"| {r['connector']} | {r['window'][0]}–{r['window'][1]} | {r['kills']} | {r['in_write']} | {r['before_rename']} | {st} | "
                   f"{r['temps_after']} | {r['gaps']} | {r['duplicates']} | {res} |")
    return "\n".join(out)


def matrix(no_build):
    """Runs the fault-matrix test with SIEMTAP_MATRIX_OUT and returns its cells."""
    out = tempfile.mkdtemp(prefix="siemtap-matrix-")
    env = dict(os.environ, SIEMTAP_MATRIX_OUT=out)
    cmd = ["cargo", "test", "-p", "siemtap", "--test", "it", "--", "campaign::matrix", "--test-threads", "3"]
    res = subprocess.run(cmd, cwd=ROOT, env=env)
    cells = []
    for name in CONNECTORS:
        path = os.path.join(out, f"matrix-{name}.json")
        if os.path.exists(path):
            cells += json.load(open(path))
    shutil.rmtree(out, ignore_errors=True)
    return res.returncode, cells


def matrix_table(cells):
    faults = []
    for c in cells:
        if c["fault"] not in faults:
            faults.append(c["fault"])
    by = {(c["fault"], c["connector"]): c for c in cells}
    out = ["| Fault | 1Password | Proofpoint | Cortex XDR |", "|---|---|---|---|"]
    for f in faults:
        row = [f]
        for name in CONNECTORS:
            c = by.get((f, name))
            if c is None:
                row.append("not run")
            elif c["expected"] == "n/a":
                row.append("n/a")
            elif not c["ok"]:
                row.append(f"**FAILED**: {c['failure']}")
            else:
                got = ", ".join(f"`{o.split(':', 1)[1]}`" for o in c["observed"]) or "none (absorbed)"
                streams = {o.split(":", 1)[0] for o in c["observed"]}
                where = f" on {'/'.join(sorted(streams))}" if streams else ""
                row.append(f"{got}{where}; {c['recovery']}")
        out.append("| " + " | ".join(row) + " |")
    ok = sum(1 for c in cells if c["ok"] and c["expected"] != "n/a")
    bad = sum(1 for c in cells if not c["ok"])
    out.append("")
    out.append(f"{ok} cells passed, {bad} failed, {sum(1 for c in cells if c['expected'] == 'n/a')} not applicable.")
    return "\n".join(out)


def replace_section(doc, key, text):
    begin, end = f"<!-- campaign:{key}:begin -->", f"<!-- campaign:{key}:end -->"
    body = open(doc).read()
    if begin not in body:
        raise SystemExit(f"{doc}: marker {begin} missing")
    pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
    body = pattern.sub(lambda _: f"{begin}\n{text}\n{end}", body)
    open(doc, "w").write(body)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--large", action="store_true", help="more events and kills")
    ap.add_argument("--matrix", action="store_true", help="run the fault matrix test and print its table")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--kills", type=int, help="kills per connector x sink (default 6, --large 40)")
    ap.add_argument("--connectors", default=",".join(CONNECTORS))
    ap.add_argument("--sinks", default="stdout,file")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--debug-binary", action="store_true", help="use target/debug/siemtap (no release build)")
    ap.add_argument("--no-strace", action="store_true", help="skip kills injected with strace")
    ap.add_argument("--write-docs", action="store_true", help="replace the generated sections of docs/reliability.md")
    args = ap.parse_args()
    # The command as documented: flags that do not change the measurement are left out.
    command = "python3 bench/campaign.py " + " ".join(
        a for a in sys.argv[1:] if a not in ("--write-docs", "--no-build"))
    if args.matrix:
        code, cells = matrix(args.no_build)
        table = matrix_table(cells)
        print(table)
        if args.write_docs and cells:
            replace_section(DOC, "matrix", f"Generated by `{command.strip()}` "
                            f"(runs `cargo test -p siemtap --test it campaign::matrix` with `SIEMTAP_MATRIX_OUT`).\n\n{table}")
        sys.exit(1 if code != 0 else 0)
    profile = "debug" if args.debug_binary else "release"
    if not args.no_build:
        build = ["cargo", "build", "--locked", "-p", "siemtap"] + ([] if args.debug_binary else ["--release"])
        subprocess.run(build, cwd=ROOT, check=True)
    exe = os.path.join(ROOT, "target", profile, "siemtap")
    kills = args.kills or (40 if args.large else 6)
    names = [n for n in args.connectors.split(",") if n]
    use_strace = not args.no_strace and shutil.which("strace") is not None
    if use_strace:
        probe = subprocess.run(["strace", "-qq", "-o", "/dev/null", "true"], capture_output=True)
        use_strace = probe.returncode == 0
    started = time.monotonic()
    rows = []
    for name in names:
        for sink in args.sinks.split(","):
            rows.append(crash(exe, name, sink, kills, args.seed, args.large))
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    srows = []
    for name in names:
        srows.append(state_write(exe, name, 2 * kills, args.seed, use_strace))
        print(json.dumps(srows[-1]), file=sys.stderr, flush=True)
    elapsed = time.monotonic() - started
    t1, t2 = crash_table(rows), state_table(srows, use_strace)
    print(f"## Crash campaign (`{command.strip()}`, seed {args.seed}, {elapsed:.0f} s)\n\n{t1}\n\n"
          f"## Kills during the state write{' (strace: yes)' if use_strace else ' (strace not available)'}\n\n{t2}")
    if args.write_docs:
        key = "crash-large" if args.large else "crash"
        replace_section(DOC, key, f"Generated by `{command.strip()}` (seed {args.seed}, {elapsed:.0f} s, "
                        f"release build, {os.cpu_count()} CPUs).\n\n{t1}\n\nKills during the state write"
                        f"{' (half of them injected with strace at the rename)' if use_strace else ''}:\n\n{t2}")
    sys.exit(0 if all(r["ok"] for r in rows + srows) else 1)


if __name__ == "__main__":
    main()
