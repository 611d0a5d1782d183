#!/usr/bin/env python3
"""Helpers for bench/run.sh and bench/cache.sh (Python 3 standard library only).

  launch   start a server, print "PID READY_MS" once it is ready (its port accepts, or a log line appeared)
  rss      print the summed VmRSS (or VmHWM, the peak) in KiB of some processes and all their descendants
  cpu      print the CPU time (user + system, seconds) of some processes and all their descendants
  idle     open N keep-alive connections, one request on each, hold them and report the RSS they cost
  descendants  print a process and all its descendants
  check    one GET through a proxy: fail unless it answers 200 with a body of the expected size (and headers)
  fill     GET N distinct URLs (PATH?n=I) over a few keep-alive connections; print counts as "name value" lines
"""
import argparse
import asyncio
import concurrent.futures
import http.client
import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import time


def launch(args):
    """Starts args.cmd with stdout/stderr to files and prints "PID READY_MS" once it is ready. Then stays its
    parent until it exits, so that it is reaped (run.sh runs this in the background and reaps this process)."""
    out = open(args.out, "ab")
    err = open(args.err, "ab")
    t0 = time.monotonic_ns()
    proc = subprocess.Popen(args.cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
    pattern = re.compile(args.log_pattern.encode()) if args.log_pattern else None
    deadline = t0 + int(args.timeout * 1e9)
    while True:
        if proc.poll() is not None:
            sys.stderr.write(f"launch: {args.cmd[0]} exited with {proc.returncode} before it was ready; "
                             f"see {args.err}\n")
            return 1
        if pattern is not None:
            with open(args.log_pattern_file, "rb") as f:
                ready = pattern.search(f.read()) is not None
        else:
            ready = port_accepts(args.port)
        now = time.monotonic_ns()
        if ready:
            print(proc.pid, f"{(now - t0) / 1e6:.1f}", flush=True)
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # run.sh stops the server; outlive it, then reap it
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            return 0 if proc.wait() in (0, -signal.SIGTERM, 143) else 1
        if now > deadline:
            proc.kill()
            sys.stderr.write(f"launch: {args.cmd[0]} not ready after {args.timeout}s; see {args.err}\n")
            return 1
        time.sleep(0.001)


def port_accepts(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.connect(("127.0.0.1", port))
            return True
        except OSError:
            return False


def descendants(pids):
    """The given PIDs and all their descendants (from /proc/*/stat)."""
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(d))
    seen, todo = set(), list(pids)
    while todo:
        p = todo.pop()
        if p not in seen:
            seen.add(p)
            todo.extend(children.get(p, []))
    return seen


def rss_kib(pids, field="VmRSS"):
    total = 0
    for p in descendants(pids):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith(field + ":"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def cpu_split(pids):
    """(utime, stime) in seconds (fields 14 and 15 of /proc/PID/stat: every thread's, exited ones included) of the
    given processes and their descendants."""
    user = system = 0
    for p in descendants(pids):
        try:
            with open(f"/proc/{p}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        user += int(fields[11])
        system += int(fields[12])
    tick = os.sysconf("SC_CLK_TCK")
    return user / tick, system / tick


def cpu_seconds(pids):
    """utime + stime of the given processes and their descendants."""
    return sum(cpu_split(pids))


def cpu(args):
    if args.split:
        user, system = cpu_split(args.pids)
        print(f"{user:.2f} {system:.2f}")
    else:
        print(f"{cpu_seconds(args.pids):.2f}")
    return 0


def print_descendants(args):
    print(" ".join(str(p) for p in sorted(descendants([args.pid]))))
    return 0


def check(args):
    if args.tls:  # the benchmark's own self-signed certificate: encryption is what is measured, not trust
        import ssl
        conn = http.client.HTTPSConnection("127.0.0.1", args.port, timeout=10,
                                           context=ssl._create_unverified_context())
    else:
        conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=10)
    conn.request("GET", args.path)
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    if resp.status != 200 or len(body) != args.size:
        sys.stderr.write(f"check: GET {args.path} on port {args.port}: {resp.status}, {len(body)} bytes "
                         f"(expected 200, {args.size})\n")
        return 1
    for expected in args.header:
        name, _, pattern = expected.partition(":")
        value = resp.getheader(name.strip())
        if value is None or not re.search(pattern.strip(), value):
            sys.stderr.write(f"check: GET {args.path} on port {args.port}: {name.strip()}: {value} "
                             f"(expected to match '{pattern.strip()}')\n")
            return 1
    return 0


def fill(args):
    """GET PATH?n=FIRST .. PATH?n=FIRST+N-1, each once, over CONCURRENCY keep-alive connections; counts the answers
    by Cache-Status ("stored": the cache kept it; "hit"; "other")."""
    counts = {"requests": 0, "ok": 0, "failed": 0, "stored": 0, "hit": 0, "other": 0, "bytes": 0}
    sep = "&" if "?" in args.path else "?"

    def worker(indices):
        mine = dict.fromkeys(counts, 0)
        conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
        for i in indices:
            mine["requests"] += 1
            try:
                conn.request("GET", f"{args.path}{sep}n={i}")
                resp = conn.getresponse()
                body = resp.read()
            except (OSError, http.client.HTTPException):
                mine["failed"] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
                continue
            mine["bytes"] += len(body)
            if resp.status != 200 or (args.size is not None and len(body) != args.size):
                mine["failed"] += 1
                continue
            mine["ok"] += 1
            status = resp.getheader("Cache-Status") or ""
            mine["stored" if "stored" in status else "hit" if re.search(r";\s*hit", status) else "other"] += 1
        conn.close()
        return mine

    t0 = time.monotonic()
    first = args.first
    chunks = [range(first + k, first + args.n, args.concurrency) for k in range(args.concurrency)]
    with concurrent.futures.ThreadPoolExecutor(args.concurrency) as pool:
        for mine in pool.map(worker, chunks):
            for k, v in mine.items():
                counts[k] += v
    counts["seconds"] = round(time.monotonic() - t0, 2)
    for k, v in counts.items():
        print(k, v)
    return 0 if counts["failed"] == 0 else 3


def rss(args):
    print(rss_kib(args.pids, args.field))
    return 0


async def idle_connections(args):
    request = (f"GET {args.path} HTTP/1.1\r\nHost: 127.0.0.1:{args.port}\r\n"
               f"User-Agent: portico-bench-idle\r\n\r\n").encode()
    gate = asyncio.Semaphore(args.concurrency)
    held, failures = [], []

    async def one():
        async with gate:
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection("127.0.0.1", args.port), args.timeout)
                writer.write(request)
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), args.timeout)
                status = int(head.split(b" ", 2)[1])
                m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
                if m:
                    await asyncio.wait_for(reader.readexactly(int(m.group(1))), args.timeout)
                if status != 200:
                    failures.append(f"status {status}")
                held.append(writer)
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError) as e:
                failures.append(type(e).__name__ + ": " + str(e))

    before = rss_kib(args.pids)
    t0 = time.monotonic()
    await asyncio.gather(*(one() for _ in range(args.n)))
    opened = time.monotonic() - t0
    await asyncio.sleep(args.settle)
    alive = sum(1 for w in held if not w.transport.is_closing())
    after = rss_kib(args.pids)
    result = {
        "requested": args.n, "held": len(held), "still_open": alive, "failed": len(failures),
        "failure_examples": sorted(set(failures))[:5], "open_seconds": round(opened, 2),
        "rss_before_kib": before, "rss_after_kib": after,
        "kib_per_connection": round((after - before) / len(held), 2) if held else None,
    }
    for w in held:
        w.close()
    await asyncio.sleep(0.2)
    print(json.dumps(result))
    return 0 if not failures else 3


def idle(args):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.n + 100
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard) if hard != resource.RLIM_INFINITY else want,
                                                    hard))
    return asyncio.run(idle_connections(args))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)

    a = sub.add_parser("launch", help="start a server and wait until it is ready")
    a.add_argument("--out", required=True, help="file for the server's stdout")
    a.add_argument("--err", required=True, help="file for the server's stderr")
    a.add_argument("--port", type=int, help="ready once 127.0.0.1:PORT accepts a connection")
    a.add_argument("--log-pattern", help="ready once this regex appears in --log-pattern-file instead")
    a.add_argument("--log-pattern-file")
    a.add_argument("--timeout", type=float, default=60)
    a.add_argument("cmd", nargs=argparse.REMAINDER)
    a.set_defaults(func=launch)

    r = sub.add_parser("rss", help="summed VmRSS (KiB) of processes and their descendants")
    r.add_argument("--field", default="VmRSS", help="the /proc/PID/status line to sum (VmHWM: peak RSS)")
    r.add_argument("pids", type=int, nargs="+")
    r.set_defaults(func=rss)

    u = sub.add_parser("cpu", help="CPU seconds (user + system) of processes and their descendants")
    u.add_argument("--split", action="store_true", help="print user and system seconds apart")
    u.add_argument("pids", type=int, nargs="+")
    u.set_defaults(func=cpu)

    d = sub.add_parser("descendants", help="a process and all its descendants")
    d.add_argument("pid", type=int)
    d.set_defaults(func=print_descendants)

    c = sub.add_parser("check", help="one GET: 200 with a body of the expected size")
    c.add_argument("--port", type=int, required=True)
    c.add_argument("--path", required=True)
    c.add_argument("--size", type=int, required=True)
    c.add_argument("--tls", action="store_true", help="HTTPS (any certificate accepted)")
    c.add_argument("--header", action="append", default=[], metavar="'NAME: REGEX'",
                   help="fail unless the response has this field with a value the regex matches (repeatable)")
    c.set_defaults(func=check)

    f = sub.add_parser("fill", help="GET N distinct URLs PATH?n=I; print counts by Cache-Status")
    f.add_argument("--port", type=int, required=True)
    f.add_argument("--path", required=True)
    f.add_argument("--n", type=int, default=10000)
    f.add_argument("--first", type=int, default=0, help="the first I")
    f.add_argument("--size", type=int, help="fail an answer whose body has another size")
    f.add_argument("--concurrency", type=int, default=8)
    f.set_defaults(func=fill)

    i = sub.add_parser("idle", help="hold N idle keep-alive connections and measure RSS")
    i.add_argument("--port", type=int, required=True)
    i.add_argument("--n", type=int, default=10000)
    i.add_argument("--path", default="/small")
    i.add_argument("--pids", type=int, nargs="+", required=True, help="the proxy's processes, for RSS")
    i.add_argument("--concurrency", type=int, default=64, help="connections being opened at once")
    i.add_argument("--settle", type=float, default=2.0, help="seconds to wait before reading RSS")
    i.add_argument("--timeout", type=float, default=30)
    i.set_defaults(func=idle)

    args = p.parse_args()
    if args.command == "launch":
        if args.cmd and args.cmd[0] == "--":
            args.cmd = args.cmd[1:]
        if not args.cmd or (args.port is None and not args.log_pattern):
            p.error("launch needs a command and --port or --log-pattern")
    sys.exit(args.func(args))


if __name__ == "__main__":
    main()
