#!/usr/bin/python3
# client.py: a real WebSocket client (Debian's python3-websockets) for tf's
# tests; the same basic interface and output as client.js. Run it with
# /usr/bin/python3: another python3 on PATH may lack the module.
#
#   /usr/bin/python3 test/ws/client.py [--protocol P] [--header 'N: v']
#       [--origin URL] [--ca FILE] [--send TEXT]... [--count N]
#       [--until REGEX] [--timeout S] URL
#
# Frames go to stdout, one per line; "#open P", "#close CODE REASON",
# "#http STATUS", "#error MESSAGE", "#timeout" to stderr. Exit: 0 done,
# 1 closed before --count/--until or error, 3 handshake refused, 124 timeout.
import argparse
import asyncio
import re
import ssl
import sys

import websockets


def note(s):
    print(s, file=sys.stderr, flush=True)


async def run(a):
    kw = {"max_size": None, "open_timeout": a.timeout, "close_timeout": 1}
    if a.protocol:
        kw["subprotocols"] = a.protocol
    if a.header:
        kw["extra_headers"] = [tuple(x.strip() for x in h.split(":", 1))
                               for h in a.header]
    if a.origin:
        kw["origin"] = a.origin
    if a.url.startswith("wss:"):
        ctx = ssl.create_default_context(cafile=a.ca)
        kw["ssl"] = ctx
    until = re.compile(a.until) if a.until else None
    try:
        ws = await websockets.connect(a.url, **kw)
    except websockets.exceptions.InvalidStatusCode as e:
        note("#http %d" % e.status_code)
        return 3
    note("#open %s" % (ws.subprotocol or "-"))
    for m in a.send:
        await ws.send(m)
    n = 0
    try:
        while True:
            m = await ws.recv()
            n += 1
            if isinstance(m, bytes):
                note("#binary %d" % len(m))
            else:
                sys.stdout.write(m + "\n")
                sys.stdout.flush()
            if (a.count and n >= a.count) or (until and isinstance(m, str)
                                              and until.search(m)):
                await ws.close()
                return 0
    except websockets.exceptions.ConnectionClosed as e:
        code = e.rcvd.code if e.rcvd else 1006
        reason = e.rcvd.reason if e.rcvd else ""
        note(("#close %d %s" % (code, reason)).rstrip())
        return 1 if (a.count or until) else 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--protocol", action="append", default=[])
    p.add_argument("--header", action="append", default=[])
    p.add_argument("--origin")
    p.add_argument("--ca")
    p.add_argument("--send", action="append", default=[])
    p.add_argument("--count", type=int, default=0)
    p.add_argument("--until")
    p.add_argument("--timeout", type=float, default=10)
    p.add_argument("url")
    a = p.parse_args()
    try:
        rc = asyncio.run(asyncio.wait_for(run(a), a.timeout))
    except asyncio.TimeoutError:
        note("#timeout")
        rc = 124
    except (OSError, websockets.exceptions.WebSocketException) as e:
        note("#error %s" % e)
        rc = 1
    sys.exit(rc)


main()
