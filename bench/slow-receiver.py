#!/usr/bin/python3
"""slow-receiver.py: a webhook receiver for bench/notify.sh that answers
every POST after a fixed delay, many requests at once (one thread each),
and logs for each one when it arrived and the alert's send time.

usage: slow-receiver.py PORTFILE LOG [DELAY_MS]
  Binds 127.0.0.1 on a free port and writes the port to PORTFILE once it
  listens. DELAY_MS (default 50) is the wait before each 200 answer.
  LOG gets one line per request: "RUN SEQ T_NS RECV_NS", where RUN, SEQ and
  T (the sender's epoch ns) come from the alert: the POSTed JSON itself, or
  its "message" string when that holds the alert (apprise's json://).
  Requests whose alert cannot be read are logged with RUN "?".
"""
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORTFILE, LOG = sys.argv[1], sys.argv[2]
DELAY = float(sys.argv[3] if len(sys.argv) > 3 else 50) / 1000
lock = threading.Lock()
log = open(LOG, "a", buffering=1)


def alert_of(raw):
    """The alert a request carries, or None."""
    try:
        body = json.loads(raw)
        if isinstance(body, dict) and "t" not in body and \
                isinstance(body.get("message"), str):
            body = json.loads(body["message"])
        return body if isinstance(body, dict) else None
    except ValueError:
        return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go in two writes: with Nagle's algorithm the body
    # would wait for the client's delayed ACK (40 ms) on a kept-alive
    # connection.
    disable_nagle_algorithm = True

    def log_message(self, *a):
        pass

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        recv = time.time_ns()
        a = alert_of(raw) or {}
        with lock:
            log.write("%s %s %s %d\n" % (a.get("run", "?"), a.get("seq", 0),
                                         a.get("t", 0), recv))
        time.sleep(DELAY)
        data = b'{"ok":true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 4096	# the default 5 would refuse a burst


srv = Server(("127.0.0.1", 0), Handler)
with open(PORTFILE + ".tmp", "w") as f:
    f.write("%d\n" % srv.server_address[1])
os.rename(PORTFILE + ".tmp", PORTFILE)
srv.serve_forever()
