#!/usr/bin/env python3
"""Turns the raw outputs of bench/run.sh (or bench/cache.sh) into one markdown report (printed on stdout).

  report.py RAW_DIR

RAW_DIR holds PHASE__TARGET__rROUND.txt (wrk --latency outputs), p5__TARGET.json (idle connections),
metrics.tsv (phase, target, round, name, value) and meta.txt (key=value); with kind=cache in meta.txt it is the
raw output of bench/cache.sh and the report has its rows. Every figure is the median over the
rounds with the min-max range beside it; each proxy's ratio to nginx is median / median.
"""
import json
import os
import re
import statistics
import sys
from collections import defaultdict

TARGETS = ["nginx", "haproxy", "portico"]
NAMES = {"direct": "direct to backend", "nginx": "nginx", "haproxy": "HAProxy", "portico": "Portico"}
TIME_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}
SIZE_UNITS = {"B": 1, "KB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3, "TB": 1024 ** 4}  # wrk's units are binary


def parse_wrk(text):
    """The figures of one `wrk --latency` output: req/s, p99 (ms), transfer (MiB/s), errors."""
    def number(pattern):
        m = re.search(pattern, text, re.M)
        return m.groups() if m else None

    out = {}
    m = number(r"^Requests/sec:\s+([\d.]+)")
    if m:
        out["rps"] = float(m[0])
    m = number(r"^Transfer/sec:\s+([\d.]+)([KMGT]?B)")
    if m:
        out["mibps"] = float(m[0]) * SIZE_UNITS[m[1]] / 1024 ** 2
    m = number(r"^\s+99%\s+([\d.]+)(us|ms|s|m|h)\s*$")
    if m:
        out["p99_ms"] = float(m[0]) * TIME_UNITS[m[1]]
    m = number(r"^\s+(\d+) requests in")
    out["requests"] = int(m[0]) if m else 0
    m = number(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
    out["socket_errors"] = sum(int(x) for x in m) if m else 0
    m = number(r"Non-2xx or 3xx responses: (\d+)")
    out["non2xx"] = int(m[0]) if m else 0
    m = number(r"^finished in [\d.]+m?s, ([\d.]+) req/s")  # h2load
    if m:
        out["rps"] = float(m[0])
        m = number(r"^requests: \d+ total, \d+ started, (\d+) done, \d+ succeeded, (\d+) failed, (\d+) errored, "
                   r"(\d+) timeout")
        if m:
            out["requests"] = int(m[0])
            out["socket_errors"] = sum(int(x) for x in m[1:])
        m = number(r"^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx")
        out["non2xx"] = sum(int(x) for x in m[1:]) if m else 0
    return out


def load(raw):
    wrk = defaultdict(dict)        # (phase, target) -> {round: figures}
    metrics = defaultdict(dict)    # (phase, target, name) -> {round: value}
    idle = {}
    for f in sorted(os.listdir(raw)):
        m = re.fullmatch(r"(\w+?)__(\w+)__r(\d+)\.txt", f)
        if m:
            with open(os.path.join(raw, f)) as fh:
                wrk[(m[1], m[2])][int(m[3])] = parse_wrk(fh.read())
        m = re.fullmatch(r"p5__(\w+)\.json", f)
        if m:
            with open(os.path.join(raw, f)) as fh:
                text = fh.read().strip()
            try:
                idle[m[1]] = json.loads(text.splitlines()[-1]) if text else None
            except json.JSONDecodeError:
                idle[m[1]] = None
    with open(os.path.join(raw, "metrics.tsv")) as fh:
        for line in fh:
            phase, target, rnd, name, value = line.rstrip("\n").split("\t")
            metrics[(phase, target, name)][int(rnd)] = float(value)
    meta = {}
    with open(os.path.join(raw, "meta.txt")) as fh:
        for line in fh:
            k, _, v = line.rstrip("\n").partition("=")
            meta[k] = v
    return wrk, metrics, idle, meta


def fmt(x, integer=False):
    if x is None:
        return "-"
    if integer:
        return f"{x:,.0f}"
    a = abs(x)
    if a >= 1000:
        return f"{x:,.0f}"
    if a >= 100:
        return f"{x:.0f}"
    if a >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def ratio(a, b):
    if a is None or not b:
        return "-"
    r = a / b
    return f"{r:.2f}" if abs(r) < 10 else f"{r:.1f}" if abs(r) < 100 else f"{r:.0f}"


def cell(values, integer=False):
    values = [v for v in values if v is not None]
    if not values:
        return "-", None
    med = statistics.median(values)
    if len(values) == 1:
        return fmt(med, integer), med
    return f"{fmt(med, integer)} ({fmt(min(values), integer)}-{fmt(max(values), integer)})", med


def run_rows(wrk, metrics, idle, meta, targets, wrk_values, metric_values):
    """The rows of bench/run.sh's report: (section, metric, better, {column: values over the rounds})."""
    def cpu_cost(target):
        direct = {r: f.get("rps") for r, f in wrk.get(("p4", "direct"), {}).items()}
        out = []
        for r, f in sorted(wrk.get(("p4", target), {}).items()):
            if f.get("rps") and direct.get(r):
                out.append(1e6 * (1 / f["rps"] - 1 / direct[r]))
        return out

    def cpu_per_request(phase, target):  # microseconds of the proxy's CPU time per request completed
        out = []
        for r, f in sorted(wrk.get((phase, target), {}).items()):
            cpu = metrics.get((phase, target, "cpu_s"), {}).get(r)
            if cpu is not None and f.get("requests"):
                out.append(1e6 * cpu / f["requests"])
        return out

    def policy_cost(target):  # CPU per request with policies minus without, same round
        plain = dict(zip(sorted(wrk.get(("p1", target), {})), cpu_per_request("p1", target)))
        return [c - plain[r] for r, c in zip(sorted(wrk.get(("p8", target), {})), cpu_per_request("p8", target))
                if r in plain]

    def idle_value(target, key, scale=1.0):
        d = idle.get(target)
        return [d[key] * scale] if d and d.get(key) is not None else []

    show_direct = ("p4", "direct") in wrk
    warm, conns, conns_high, large_conns = (meta.get(k, "?") for k in
                                            ("warm_duration", "conns", "conns_high", "large_conns"))
    n_idle = max((d.get("requested", 0) for d in idle.values() if d), default=0)
    def wrk_row(section, metric, better, phase, key, columns=None):
        return (section, metric, better, {t: wrk_values(phase, t, key) for t in (columns or targets)})

    p1, p2 = f"1: /small, {conns} conns", f"2: /small, {conns_high} conns"
    p3, p4 = f"3: /large (1 MiB), {large_conns} conns", f"4: one core for all, {conns} conns"
    p6, p7 = f"6: HTTPS keep-alive /small, {conns} conns", f"7: HTTP/2 over TLS, h2load -c{conns} -m10"
    p8 = f"8: /p/small with headers, security headers, rate limit, {conns} conns"
    return [
        ("start-up", "time from start to ready, ms", "lower",
         {t: metric_values("start", t, "ready_ms") for t in targets}),
        ("start-up", "time from start to ready, not pinned (both cores), ms", "lower",
         {t: metric_values("start", t, "ready_ms_free") for t in targets}),
        wrk_row("start-up", f"req/s in the first {warm} s after start", "higher", "warm", "rps"),
        wrk_row("start-up", f"p99 latency in the first {warm} s, ms", "lower", "warm", "p99_ms"),
        wrk_row(p1, "req/s", "higher", "p1", "rps"),
        wrk_row(p1, "p99 latency, ms", "lower", "p1", "p99_ms"),
        (p1, "proxy CPU time per request, us", "lower", {t: cpu_per_request("p1", t) for t in targets}),
        wrk_row(p2, "req/s", "higher", "p2", "rps"),
        wrk_row(p2, "p99 latency, ms", "lower", "p2", "p99_ms"),
        wrk_row(p3, "MiB/s", "higher", "p3", "mibps"),
        wrk_row(p3, "p99 latency, ms", "lower", "p3", "p99_ms"),
        wrk_row(p4, "req/s", "higher", "p4", "rps", (["direct"] if show_direct else []) + targets),
        wrk_row(p4, "p99 latency, ms", "lower", "p4", "p99_ms", (["direct"] if show_direct else []) + targets),
        (p4, "proxy CPU time per request, us", "lower", {t: cpu_cost(t) for t in targets}),
        ("5: memory", "RSS at start (idle, no request yet), MiB", "lower",
         {t: metric_values("start", t, "rss_start_kib", 1 / 1024) for t in targets}),
        ("5: memory", f"RSS after each {conns_high}-connection run, MiB", "lower",
         {t: metric_values("p2", t, "rss_after_kib", 1 / 1024) for t in targets}),
        ("5: memory", "RSS idle after all load, before phase 5, MiB", "lower",
         {t: idle_value(t, "rss_before_kib", 1 / 1024) for t in targets}),
        ("5: memory", f"RSS holding {n_idle:,} idle keep-alive connections, MiB", "lower",
         {t: idle_value(t, "rss_after_kib", 1 / 1024) for t in targets}),
        ("5: memory", "KiB per idle keep-alive connection", "lower",
         {t: idle_value(t, "kib_per_connection") for t in targets}),
        wrk_row(p6, "req/s", "higher", "p6", "rps"),
        wrk_row(p6, "p99 latency, ms", "lower", "p6", "p99_ms"),
        (p6, "proxy CPU time per request, us", "lower", {t: cpu_per_request("p6", t) for t in targets}),
        wrk_row(p7, "req/s", "higher", "p7", "rps"),
        (p7, "proxy CPU time per request, us", "lower", {t: cpu_per_request("p7", t) for t in targets}),
        wrk_row(p8, "req/s", "higher", "p8", "rps"),
        wrk_row(p8, "p99 latency, ms", "lower", "p8", "p99_ms"),
        (p8, "proxy CPU time per request, us", "lower", {t: cpu_per_request("p8", t) for t in targets}),
        (p8, "proxy CPU time per request with policies minus phase 1's (same round), us", "lower",
         {t: policy_cost(t) for t in targets}),
        ("errors", "wrk socket errors + non-2xx responses, all runs", "lower",
         {t: [sum(f.get("socket_errors", 0) + f.get("non2xx", 0)
                  for (_, tt), rs in wrk.items() if tt == t for f in rs.values())] for t in targets}),
        ("errors", "failed idle connections (phase 5)", "lower",
         {t: idle_value(t, "failed") for t in targets}),
        ("errors", "problem lines in the server's log", "lower",
         {t: metric_values("logs", t, "problem_lines") for t in targets}),
    ]


def cache_rows(wrk, metrics, meta, targets, wrk_values, metric_values):
    """The rows of bench/cache.sh's report."""
    def cpu_per_request(phase, target, name="cpu_s"):  # microseconds of CPU per request served
        out = []
        for r, f in sorted(wrk.get((phase, target), {}).items()):
            cpu = metrics.get((phase, target, name), {}).get(r)
            if cpu is not None and f.get("requests"):
                out.append(1e6 * cpu / f["requests"])
        return out

    conns, n = meta.get("conns", "?"), int(meta.get("mem_responses", 0))
    rows = []
    for phase, size in (("hit1k", "1 KiB"), ("hit100k", "100 KiB")):
        section = f"hits, {size}, {conns} conns"
        rows += [
            (section, "req/s", "higher", {t: wrk_values(phase, t, "rps") for t in targets}),
            (section, "MiB/s", "higher", {t: wrk_values(phase, t, "mibps") for t in targets}),
            (section, "p99 latency, ms", "lower", {t: wrk_values(phase, t, "p99_ms") for t in targets}),
            (section, "proxy CPU per request, us", "lower", {t: cpu_per_request(phase, t) for t in targets}),
            (section, "backend CPU during the run, s (0: every request a hit)", "lower",
             {t: metric_values(phase, t, "backend_cpu_s") for t in targets}),
        ]
    memory = f"memory, {meta.get('max_size', '?')} cache"
    mib = 1 / 1024
    rows += [
        (memory, "RSS after start, MiB", "lower", {"portico": metric_values("mem0", "portico", "rss_kib", mib)}),
        (memory, f"RSS after {n:,} distinct 100 KiB responses, MiB", "lower",
         {"portico": metric_values("mem1", "portico", "rss_kib", mib)}),
        (memory, f"peak RSS (VmHWM) during them, MiB", "lower",
         {"portico": metric_values("mem1", "portico", "hwm_kib", mib)}),
        (memory, f"RSS after {n:,} more, MiB", "lower", {"portico": metric_values("mem2", "portico", "rss_kib", mib)}),
        (memory, "peak RSS (VmHWM) over both, MiB", "lower",
         {"portico": metric_values("mem2", "portico", "hwm_kib", mib)}),
        (memory, "responses stored (Cache-Status: stored), per pass", "-",
         {"portico": metric_values("mem1", "portico", "stored") + metric_values("mem2", "portico", "stored")}),
        (memory, "requests per second, per pass (all misses)", "-",
         {"portico": [v / s for v, s in zip(metric_values("mem1", "portico", "requests")
                                            + metric_values("mem2", "portico", "requests"),
                                            metric_values("mem1", "portico", "seconds")
                                            + metric_values("mem2", "portico", "seconds")) if s]}),
        ("errors", "wrk socket errors + non-2xx responses, all runs", "lower",
         {t: [sum(f.get("socket_errors", 0) + f.get("non2xx", 0)
                  for (_, tt), rs in wrk.items() if tt == t for f in rs.values())] for t in targets}),
        ("errors", "failed requests, memory passes", "lower",
         {"portico": [sum(metric_values("mem1", "portico", "failed") + metric_values("mem2", "portico", "failed"))]}),
        ("errors", "problem lines in the server's log", "lower",
         {t: metric_values("logs", t, "problem_lines") for t in targets}),
    ]
    return rows


def main():
    raw = sys.argv[1]
    wrk, metrics, idle, meta = load(raw)
    cache = meta.get("kind") == "cache"
    targets = [t for t in TARGETS if any(k[1] == t for k in wrk) or t in idle]
    show_direct = ("p4", "direct") in wrk

    def wrk_values(phase, target, key):
        return [r.get(key) for _, r in sorted(wrk.get((phase, target), {}).items())]

    def metric_values(phase, target, name, scale=1.0):
        return [v * scale for _, v in sorted(metrics.get((phase, target, name), {}).items())]

    if cache:
        rows = cache_rows(wrk, metrics, meta, targets, wrk_values, metric_values)
    else:
        rows = run_rows(wrk, metrics, idle, meta, targets, wrk_values, metric_values)

    columns = (["direct"] if show_direct else []) + targets
    others = [t for t in targets if t != "nginx"] if "nginx" in targets else []
    head = ["phase", "metric", "better"] + [NAMES[c] for c in columns] + [f"{NAMES[t]} / nginx" for t in others]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for section, metric, better, values in rows:
        cells, medians = [], {}
        for c in columns:
            text, med = cell(values.get(c, []), integer=section == "errors")
            cells.append(text if c in values else "")
            medians[c] = med
        ratios = []
        for t in others:
            a, b = medians.get(t), medians.get("nginx")
            ratios.append(ratio(a, b))
        lines.append("| " + " | ".join([section, metric, better] + cells + ratios) + " |")

    rounds = max((len(v) for k, v in wrk.items() if not k[0].startswith("warm")), default=0)
    title = "Cache hits and memory, Portico vs nginx proxy_cache" if cache else "Portico vs nginx vs HAProxy"
    print(f"# {title}: {meta.get('date', '')}\n")
    print(f"Median over {rounds} round(s), min-max in parentheses; targets interleaved within each round. "
          "Ratios are median / nginx's median (for 'lower is better' rows, below 1 means better than nginx). "
          "Set-up and phases: bench/README.md.\n")
    print("\n".join(lines))
    print("\n## Machine and versions\n")
    for key, label in [("nproc", "cores (nproc)"), ("cpu", "CPU"), ("mem", "memory"), ("kernel", "kernel"),
                       ("nofile", "open-file limit"),
                       ("java", "Java"), ("nginx", "nginx"), ("haproxy", "HAProxy"), ("wrk", "wrk"),
                       ("portico", "Portico"), ("load_average", "load average (1, 5, 15 min) at the end")]:
        if key in meta or key not in ("haproxy", "load_average"):  # reports of older runs lack these
            print(f"- {label}: {meta.get(key, '?')}")
    print("\n## Command\n")
    print(f"```\n{meta.get('command', '?')}\n```\n")
    print("Server command lines (as run, from /proc/PID/cmdline):\n")
    print("```")
    for k, v in meta.items():
        if k.startswith("cmdline_"):
            print(f"{k[len('cmdline_'):]}: {v.strip()}")
    print("```")
    problems = []
    for t in targets:
        p = os.path.join(raw, f"problems__{t}.txt")
        if os.path.exists(p) and os.path.getsize(p):
            with open(p) as fh:
                problems.append((t, fh.read().rstrip()))
    idle_failures = [(t, d.get("failure_examples")) for t, d in idle.items() if d and d.get("failed")]
    if problems or idle_failures:
        print("\n## Problems seen\n")
        for t, text in problems:
            print(f"{NAMES[t]} (first lines):\n\n```\n{text}\n```\n")
        for t, ex in idle_failures:
            print(f"{NAMES[t]}, idle connections that failed, e.g.: {ex}\n")


if __name__ == "__main__":
    main()
