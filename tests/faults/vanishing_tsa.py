#!/usr/bin/env python3
"""A time-stamping authority that disappears: forwards RFC 3161 requests to the kit's
TSA for the first N requests, then closes its port and exits (as a TSA host that dies
in the middle of a batch). Binds 127.0.0.1 only.

  vanishing_tsa.py PORT UPSTREAM_URL N
"""
import http.server
import sys
import threading
import urllib.request

port, upstream, budget = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
served = 0
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        global served
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with lock:
            served += 1
            last = served >= budget
        req = urllib.request.Request(upstream, data=body, headers={"Content-Type": "application/timestamp-query"})
        with urllib.request.urlopen(req, timeout=10) as r:
            answer = r.read()
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(answer)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(answer)
        if last:
            threading.Thread(target=server.shutdown).start()

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
print("ready", flush=True)
server.serve_forever()
server.server_close()
