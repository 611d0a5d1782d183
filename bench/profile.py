#!/usr/bin/env python3
"""Helpers for bench/profile.sh: where a proxied request's CPU time, and Portico's memory, go (standard library only).

  jfr RECORDING [THREAD_PREFIX]   split the event loop's CPU samples (jdk.ExecutionSample) into the parts of a
                                  request; "self" gives a sample to the category of its innermost frame that has
                                  one (where the CPU was spent), "inclusive" counts it for every category on its
                                  stack (what a part costs with everything it calls)
  alloc RECORDING [THREAD_PREFIX] the event loop's allocation (jdk.ObjectAllocationSample) by class and by the
                                  first Portico frame that allocated
  threads PID SECONDS             CPU seconds of each thread (grouped by name) over the next SECONDS
  smaps PID                       resident KiB by mapping: the Java heap, the class-data-sharing archives,
                                  libjvm.so, other files, other anonymous memory
  histo BEFORE AFTER N            Java heap growth between two `jmap -histo:live` outputs, per connection (N held)
"""
import os
import re
import subprocess
import sys
import time
from collections import Counter

CATEGORIES = [  # (name, class-name prefixes); the first that matches a frame names it
    ("header rewriting", ("dev.portico.internal.proxy.HeaderRewriter", "dev.portico.internal.upstream.ProxyHeader")),
    ("request id, correlation", ("dev.portico.internal.proxy.Correlation", "java.util.UUID")),
    ("access log", ("dev.portico.internal.proxy.AccessLog", "dev.portico.internal.proxy.ExchangeLog")),
    ("metrics", ("dev.portico.internal.metrics", "dev.portico.internal.server.RuntimeMeters", "io.micrometer",
                 "io.prometheus")),
    ("routing", ("dev.portico.internal.route",)),
    ("policy chain", ("dev.portico.internal.policy", "dev.portico.policy")),
    ("tracing", ("dev.portico.internal.trace", "io.opentelemetry")),
    ("timers, scheduling", ("io.netty.util.concurrent.AbstractScheduledEventExecutor",
                            "io.netty.util.concurrent.ScheduledFutureTask", "io.netty.util.internal.DefaultPriorityQueue",
                            "io.netty.handler.timeout", "java.util.PriorityQueue")),
    ("HTTP decode (Netty)", ("io.netty.handler.codec.http.HttpObjectDecoder", "io.netty.handler.codec.ByteToMessage",
                             "io.netty.handler.codec.http.HttpResponseDecoder",
                             "io.netty.handler.codec.http.HttpRequestDecoder")),
    ("HTTP encode (Netty)", ("io.netty.handler.codec.http.HttpObjectEncoder",
                             "io.netty.handler.codec.MessageToMessageEncoder",
                             "io.netty.handler.codec.http.HttpHeadersEncoder")),
    ("HTTP header maps (Netty)", ("io.netty.handler.codec.DefaultHeaders", "io.netty.handler.codec.http.DefaultHttpHeaders",
                                  "io.netty.handler.codec.http.HttpHeaders", "io.netty.handler.codec.http.HttpUtil",
                                  "io.netty.util.AsciiString", "io.netty.handler.codec.http.DefaultHttpHeadersFactory")),
    ("buffers (allocation, copy, release)", ("io.netty.buffer", "io.netty.util.Recycler",
                                             "io.netty.util.internal.PlatformDependent",
                                             "io.netty.util.AbstractReferenceCounted", "io.netty.util.ReferenceCountUtil")),
    ("socket I/O, epoll (Java side)", ("io.netty.channel.epoll", "io.netty.channel.unix")),
    ("channel pipeline, promises (Netty)", ("io.netty.channel", "io.netty.util.concurrent")),
    ("exchange, admission, codecs (Portico)", ("dev.portico",)),
    ("JDK", ("java.", "jdk.", "sun.")),
    ("other Netty", ("io.netty",)),
]


def category(frame):
    for name, prefixes in CATEGORIES:
        if frame.startswith(prefixes):
            return name
    return None


def events(path, kind, depth, prefix):
    """(event text, frames innermost first) of the recording's events of one kind on threads named prefix*."""
    text = subprocess.run(["jfr", "print", "--events", kind, "--stack-depth", str(depth), path],
                          check=True, capture_output=True, text=True).stdout
    for event in text.split(kind + " {")[1:]:
        m = re.search(r'(?:sampledThread|eventThread) = "([^"]*)"', event)
        if not m or not m.group(1).startswith(prefix) or "stackTrace = [" not in event:
            continue
        body = event.split("stackTrace = [", 1)[1].split("\n  ]", 1)[0]
        frames = [re.sub(r"\s+line: \d+.*$", "", f.strip()) for f in body.splitlines()]
        yield event, [f for f in frames if f and f != "..."]


def jfr(args):
    path, prefix = args[0], args[1] if len(args) > 1 else "portico-loop"
    self_counts, incl_counts, total = Counter(), Counter(), 0
    for _, frames in events(path, "jdk.ExecutionSample", 96, prefix):
        total += 1
        cats = [c for c in map(category, frames) if c]
        self_counts[cats[0] if cats else "unknown"] += 1
        for c in set(cats):
            incl_counts[c] += 1
    if not total:
        print("no samples")
        return 1
    print(f"{total} CPU samples of the event loop (threads {prefix}*)\n")
    print("| part | self | inclusive |\n|---|---:|---:|")
    for name, _ in CATEGORIES + [("unknown", ())]:
        s, i = self_counts.get(name, 0), incl_counts.get(name, 0)
        if s or i:
            print(f"| {name} | {100 * s / total:.1f}% | {100 * i / total:.1f}% |")
    return 0


def alloc(args):
    path, prefix = args[0], args[1] if len(args) > 1 else "portico-loop"
    units = {"bytes": 1, "kB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3}
    by_class, by_site, total = Counter(), Counter(), 0.0
    for event, frames in events(path, "jdk.ObjectAllocationSample", 24, prefix):
        c = re.search(r"objectClass = (\S+)", event)
        w = re.search(r"weight = ([\d.]+) (\w+)", event)
        if not c or not w:
            continue
        bytes_ = float(w.group(1)) * units.get(w.group(2), 1)
        total += bytes_
        by_class[c.group(1)] += bytes_
        by_site[next((f for f in frames if f.startswith("dev.portico")), frames[0] if frames else "?")] += bytes_
    if not total:
        print("no samples")
        return 1
    print("| allocated class | share |\n|---|---:|")
    for k, v in by_class.most_common(12):
        print(f"| `{k}` | {100 * v / total:.1f}% |")
    print("\n| first Portico frame (or the allocating frame) | share |\n|---|---:|")
    for k, v in by_site.most_common(15):
        print(f"| `{k}` | {100 * v / total:.1f}% |")
    return 0


def thread_times(pid):
    out = {}
    hz = os.sysconf("SC_CLK_TCK")
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{t}/stat") as f:
                s = f.read()
        except OSError:
            continue
        name = re.sub(r"[-#\d]+$", "", s[s.index("(") + 1:s.rindex(")")]) or "?"
        fields = s[s.rindex(")") + 2:].split()
        out[t] = (name, (int(fields[11]) + int(fields[12])) / hz)
    return out


def threads(args):
    pid, seconds = int(args[0]), float(args[1])
    before = thread_times(pid)
    time.sleep(seconds)
    after = thread_times(pid)
    by_name, count = Counter(), Counter()
    for t, (name, cpu) in after.items():
        by_name[name] += cpu - before.get(t, (name, 0.0))[1]
        count[name] += 1
    total = sum(by_name.values())
    print(f"| thread (number of them) | CPU seconds over {seconds:g} s | share |\n|---|---:|---:|")
    for name, cpu in by_name.most_common():
        if cpu > 0:
            print(f"| {name} ({count[name]}) | {cpu:.2f} | {100 * cpu / total:.1f}% |")
    print(f"| all ({sum(count.values())} threads) | {total:.2f} | |")
    return 0


def smaps(args):
    pid = args[0]
    groups, current = Counter(), "anonymous"
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                parts = line.split()
                path = parts[5] if len(parts) > 5 else ""
                if path.endswith(".jsa"):
                    current = "class-data-sharing archive " + os.path.basename(path)
                elif path.endswith("libjvm.so"):
                    current = "libjvm.so"
                elif path.startswith("/") or path.startswith("["):
                    current = "other files, [heap], [stack]" if path else "anonymous"
                else:
                    current = "anonymous (Java heap, metaspace, code, malloc, thread stacks, direct buffers)"
            elif line.startswith("Rss:"):
                groups[current] += int(line.split()[1])
    total = sum(groups.values())
    print("| mapping | resident MiB |\n|---|---:|")
    for k, v in groups.most_common():
        print(f"| {k} | {v / 1024:.1f} |")
    print(f"| all (VmRSS) | {total / 1024:.1f} |")
    return 0


def histo(args):
    def load(path):
        d = {}
        with open(path) as f:
            for line in f:
                p = line.split()
                if len(p) >= 4 and p[0].rstrip(":").isdigit():
                    d[p[3]] = (int(p[1]), int(p[2]))
        return d
    a, b, n = load(args[0]), load(args[1]), int(args[2])
    rows = sorted(((b[k][1] - a.get(k, (0, 0))[1], b[k][0] - a.get(k, (0, 0))[0], k) for k in b), reverse=True)
    total = sum(r[0] for r in rows)
    # A few large arrays (int[] above all) come and go between two histograms of the same process by up to 2 MB,
    # whatever the connections: the classes with at least one instance more per two connections are the figure.
    per_connection = sum(r[0] for r in rows if r[1] >= n / 2)
    print(f"Java heap growth with {n:,} idle connections: {total / n:,.0f} bytes per connection, "
          f"{per_connection / n:,.0f} in the classes with at least one instance more per two connections\n")
    print("| class | bytes per connection | instances per connection |\n|---|---:|---:|")
    for size, count, k in rows[:20]:
        print(f"| `{k}` | {size / n:.0f} | {count / n:.2f} |")
    return 0


def main():
    commands = {"jfr": jfr, "alloc": alloc, "threads": threads, "smaps": smaps, "histo": histo}
    if len(sys.argv) < 3 or sys.argv[1] not in commands:
        sys.stderr.write(__doc__)
        return 2
    return commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
