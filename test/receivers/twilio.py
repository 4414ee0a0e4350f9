#!/usr/bin/python3
"""twilio.py: a local stand-in for Twilio's Messages API, for tf-notify's
tests. It checks each request as Twilio would (path, Basic auth, form
encoding, To, From or MessagingServiceSid, Body), counts the segments the
Body takes (GSM-7 or UCS-2), records each request as a JSON line in LOG,
and answers as Twilio does, following a script of behaviours.

usage: twilio.py PORT LOG [BEHAVIOUR...]
  BEHAVIOUR  what the next requests get, in order, then "ok" for ever:
             ok (201), 429 (20429, Retry-After 1), 500, 400 (21211, an
             invalid To number), 401 (20003), echo (400, a message
             quoting the request: the Basic login decoded, the
             Authorization header, the path)
  env: FAKE_SID (account SID expected), FAKE_TOKEN (auth token expected)
Binds 127.0.0.1 only.
"""
import base64
import json
import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

PORT, LOG = int(sys.argv[1]), sys.argv[2]
SCRIPT = list(sys.argv[3:])
SID = os.environ.get("FAKE_SID", "AC" + "0" * 32)
TOKEN = os.environ.get("FAKE_TOKEN", "twiliosecret")
lock = threading.Lock()
counter = [0]

GSM_BASIC = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789"
                ":;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM_EXT = set("\f^{}\\[]~|€")


def segments(body):
    """(encoding, units, segments) as a carrier splits the text."""
    if all(c in GSM_BASIC or c in GSM_EXT for c in body):
        enc, units = "GSM-7", [2 if c in GSM_EXT else 1 for c in body]
        single, multi = 160, 153
    else:
        enc, units = "UCS-2", [len(c.encode("utf-16-le")) // 2 for c in body]
        single, multi = 70, 67
    if sum(units) <= single:
        return enc, sum(units), 1
    seg, used = 1, 0
    for u in units:
        if used + u > multi:
            seg, used = seg + 1, u
        else:
            used += u
    return enc, sum(units), seg


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def answer(self, status, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def error(self, status, code, message, headers=()):
        self.answer(status, {"code": code, "message": message,
                             "more_info": "https://www.twilio.com/docs/errors/%d" % code,
                             "status": status}, headers)

    def do_GET(self):
        self.error(405, 20004, "Method not allowed")

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(n)
        errors = []
        if self.path != "/2010-04-01/Accounts/%s/Messages.json" % SID:
            errors.append("path is not /2010-04-01/Accounts/SID/Messages.json")
        ctype = self.headers.get("Content-Type", "")
        if not ctype.startswith("application/x-www-form-urlencoded"):
            errors.append("content-type is %r" % ctype)
        auth = self.headers.get("Authorization", "")
        want = "Basic " + base64.b64encode(("%s:%s" % (SID, TOKEN)).encode()).decode()
        auth_ok = auth == want
        try:
            text = raw.decode("utf-8")
            if re.search(r"[^A-Za-z0-9%+=&._~*-]", text):
                errors.append("body is not form-encoded")
            form = parse_qs(text, keep_blank_values=True, strict_parsing=True)
        except Exception:
            form = {}
            errors.append("body is not form-encoded")
        for k, v in form.items():
            if len(v) != 1:
                errors.append("%s given %d times" % (k, len(v)))
        f = {k: v[0] for k, v in form.items()}
        if not re.fullmatch(r"\+[1-9]\d{6,14}", f.get("To", "")):
            errors.append("To is not +E.164")
        if ("From" in f) == ("MessagingServiceSid" in f):
            errors.append("not exactly one of From and MessagingServiceSid")
        if "From" in f and not re.fullmatch(r"\+[1-9]\d{6,14}", f["From"]):
            errors.append("From is not +E.164")
        if "MessagingServiceSid" in f and not re.fullmatch(r"MG[0-9a-fA-F]{32}", f["MessagingServiceSid"]):
            errors.append("MessagingServiceSid is not MG + 32 hex")
        body = f.get("Body", "")
        if not body:
            errors.append("no Body")
        if len(body) > 1600:
            errors.append("Body over 1600 characters")
        enc, units, segs = segments(body)
        with lock:
            counter[0] += 1
            seq = counter[0]
            what = SCRIPT.pop(0) if SCRIPT and auth_ok and not errors else "ok"
        rec = {"seq": seq, "t": time.time(), "path": self.path,
               "auth_ok": auth_ok, "form": f, "encoding": enc,
               "units": units, "segments": segs, "errors": errors,
               "behaviour": what}
        with lock, open(LOG, "a") as fh:
            fh.write(json.dumps(rec) + "\n")
        if not auth_ok:
            return self.error(401, 20003, "Authenticate")
        if errors:
            return self.error(400, 21602 if "no Body" in errors else 11200,
                              "; ".join(errors))
        if what == "429":
            return self.error(429, 20429, "Too Many Requests", [("Retry-After", "1")])
        if what == "500":
            return self.error(500, 20500, "Internal Server Error")
        if what == "400":
            return self.error(400, 21211, "The 'To' number %s is not a valid phone number." % f["To"])
        if what == "401":
            return self.error(401, 20003, "Authenticate")
        if what == "echo":
            login = base64.b64decode(auth[6:]).decode()
            return self.error(400, 21211, "login %s | authorization: %s | %s"
                              % (login, auth, self.path))
        self.answer(201, {"sid": "SM%032x" % seq, "account_sid": SID,
                          "to": f["To"], "from": f.get("From"),
                          "messaging_service_sid": f.get("MessagingServiceSid"),
                          "body": body, "status": "queued",
                          "num_segments": str(segs)})


class Server(ThreadingHTTPServer):
    daemon_threads = True


Server(("127.0.0.1", PORT), Handler).serve_forever()
