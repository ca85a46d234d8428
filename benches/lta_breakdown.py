#!/usr/bin/env python3
"""Where the wall time of one signing run goes: the command under strace (network and
process syscalls, timestamps), then each HTTP exchange from connect to the last byte of
its answer, and the wall time not covered by any exchange (the process's own work).

  benches/lta_breakdown.py COMMAND ARGS...      (needs strace)

Prints one line per exchange (start, duration, request line) and a summary: wall,
time waiting for responders (the union of the exchanges), and the rest.
"""
import os
import re
import subprocess
import sys
import tempfile

trace = tempfile.mktemp(suffix=".strace")
subprocess.run(["strace", "-f", "-ttt", "-o", trace,
                "-e", "trace=connect,sendto,write,writev,recvfrom,read,close,execve,exit_group"]
               + sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
lines = open(trace).read().splitlines()
os.unlink(trace)
start = float(lines[0].split()[1])
end = float(lines[-1].split()[1]) - start
open_conns, exchanges = {}, []
for line in lines:
    parts = line.split(None, 2)
    if len(parts) < 3:
        continue
    t, call = float(parts[1]) - start, parts[2]
    m = re.match(r"(\w+)\((\d+)", call)
    if not m:
        continue
    name, fd = m.group(1), int(m.group(2))
    if name == "connect" and "sin_port" in call:
        port = re.search(r"htons\((\d+)\)", call).group(1)
        open_conns[fd] = {"start": t, "end": t, "what": f":{port}"}
    elif fd in open_conns:
        c = open_conns[fd]
        if name in ("writev", "write", "sendto"):
            req = re.search(r'"((?:GET|POST) [^ ]+)', call)
            if req and c["what"].startswith(":"):
                c["what"] = req.group(1)
        if name in ("recvfrom", "read") and not call.rstrip().endswith("= -1 EAGAIN (Resource temporarily unavailable)"):
            c["end"] = t
        if name == "close":
            exchanges.append(open_conns.pop(fd))
exchanges += open_conns.values()
exchanges.sort(key=lambda c: c["start"])
covered, cur_s, cur_e = 0.0, None, None
for c in exchanges:
    print(f"  {c['start'] * 1000:7.1f} ms  {(c['end'] - c['start']) * 1000:6.1f} ms  {c['what']}")
    if cur_e is None or c["start"] > cur_e:
        if cur_e is not None:
            covered += cur_e - cur_s
        cur_s, cur_e = c["start"], c["end"]
    else:
        cur_e = max(cur_e, c["end"])
if cur_e is not None:
    covered += cur_e - cur_s
wall = end
first = exchanges[0]["start"] if exchanges else wall
print(f"wall {wall * 1000:.1f} ms: {len(exchanges)} exchanges waiting {covered * 1000:.1f} ms, "
      f"the rest {(wall - covered) * 1000:.1f} ms ({first * 1000:.1f} ms before the first request)")
