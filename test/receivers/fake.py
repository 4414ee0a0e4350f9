#!/usr/bin/python3
"""fake.py: a local stand-in for Slack, Discord, Telegram or a generic
webhook, for tf-notify's tests. It checks every request against the
service's documented API, records each one as a JSON line in --log, and
answers as the service would, following a script of behaviours.

usage: fake.py SERVICE PORT LOG [BEHAVIOUR...]
  SERVICE    slack, discord, telegram or webhook
  BEHAVIOUR  what the next requests get, in order, then "ok" for ever:
             ok, 429 (with the service's retry hint), 500, 503, 400, 404,
             slow (2 s, then ok), hang (never answers), empty (ok, but
             Discord's rate limit bucket is empty for FAKE_RETRY_AFTER s),
             echo (an error that quotes the request: its path, its Basic
             login decoded, its Authorization and X-* headers, its body,
             as a careless endpoint does), echo-url (the same
             percent-encoded), echo-json (the same as a JSON string with
             '/' escaped, as PHP writes it)
  env: FAKE_TOKEN (telegram bot token expected), FAKE_RETRY_AFTER
       (seconds in 429 hints, default 1), FAKE_ECHO_STATUS (the echo's
       HTTP status, default 400)
Binds 127.0.0.1 only.
"""
import base64
import html.parser
import json
import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qs, quote

SERVICE, PORT, LOG = sys.argv[1], int(sys.argv[2]), sys.argv[3]
SCRIPT = list(sys.argv[4:])
TOKEN = os.environ.get("FAKE_TOKEN", "123:ABC")
RETRY_AFTER = float(os.environ.get("FAKE_RETRY_AFTER", "1"))
ECHO_STATUS = int(os.environ.get("FAKE_ECHO_STATUS", "400"))
lock = threading.Lock()
counter = [0]
inflight = [0]     # requests being answered right now


def u16(s):
    return len(s.encode("utf-16-le")) // 2


TG_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a",
           "code", "pre", "span", "tg-spoiler", "blockquote", "tg-emoji"}


class TgHTML(html.parser.HTMLParser):
    """Parses Telegram's HTML subset; collects errors and the plain text."""

    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.stack, self.errors, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        if tag not in TG_TAGS:
            self.errors.append("unsupported start tag %r" % tag)
        self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.errors.append("unmatched end tag %r" % tag)

    def handle_data(self, d):
        if "<" in d or ">" in d:
            self.errors.append("raw < or > in text")
        self.text.append(d)

    def handle_entityref(self, name):
        if name not in ("lt", "gt", "amp", "quot"):
            self.errors.append("unsupported entity &%s;" % name)
        self.text.append("x")

    def handle_charref(self, name):
        self.text.append("x")


def check_entities(s, errors):
    for m in re.finditer(r"&", s):
        if not re.match(r"&(amp|lt|gt|quot|#\d+|#x[0-9a-fA-F]+);", s[m.start():]):
            errors.append("bare & at %d" % m.start())
            break


def check_slack(path, q, body, errors):
    if not isinstance(body, dict):
        return errors.append("body is not a JSON object")
    if not isinstance(body.get("text"), str) and "blocks" not in body:
        errors.append("neither text nor blocks")
    if u16(body.get("text", "")) > 40000:
        errors.append("text over 40000")
    blocks = list(body.get("blocks", []))
    for a in body.get("attachments", []):
        if "color" in a and not re.fullmatch(r"#[0-9a-fA-F]{6}", a["color"]):
            errors.append("bad attachment color")
        blocks += a.get("blocks", [])
    if len(blocks) > 50:
        errors.append("over 50 blocks")
    for b in blocks:
        t = b.get("text", {})
        if b.get("type") == "header":
            if t.get("type") != "plain_text":
                errors.append("header text is not plain_text")
            if u16(t.get("text", "")) > 150:
                errors.append("header text over 150")
        elif b.get("type") == "section":
            if not 1 <= u16(t.get("text", "")) <= 3000:
                errors.append("section text not 1..3000 characters")
            if t.get("type") == "mrkdwn":
                s = t.get("text", "")
                if "<" in s or ">" in s:
                    errors.append("unescaped < or > in mrkdwn")
                check_entities(s, errors)
        else:
            errors.append("unexpected block type %r" % b.get("type"))


def check_discord(path, q, body, errors):
    if q.get("wait") != ["true"]:
        errors.append("no ?wait=true")
    if not re.fullmatch(r"/api/webhooks/\d+/[^/]+", path):
        errors.append("path is not /api/webhooks/ID/TOKEN")
    if not isinstance(body, dict):
        return errors.append("body is not a JSON object")
    embeds = body.get("embeds", [])
    if not embeds and not body.get("content"):
        errors.append("no content and no embeds")
    if len(embeds) > 10:
        errors.append("over 10 embeds")
    total = 0
    for e in embeds:
        limits = [("title", 256), ("description", 4096)]
        for k, n in limits:
            if u16(e.get(k, "")) > n:
                errors.append("%s over %d" % (k, n))
            total += u16(e.get(k, ""))
        fields = e.get("fields", [])
        if len(fields) > 25:
            errors.append("over 25 fields")
        for f in fields:
            if not 1 <= u16(f.get("name", "")) <= 256:
                errors.append("field name not 1..256")
            if not 1 <= u16(f.get("value", "")) <= 1024:
                errors.append("field value not 1..1024")
            total += u16(f.get("name", "")) + u16(f.get("value", ""))
        ft = e.get("footer", {}).get("text", "")
        if u16(ft) > 2048:
            errors.append("footer over 2048")
        total += u16(ft)
        if not isinstance(e.get("color", 0), int) or not 0 <= e.get("color", 0) <= 0xffffff:
            errors.append("bad color")
    if total > 6000:
        errors.append("embeds over 6000 characters in all")


def check_telegram(path, q, body, errors):
    if path != "/bot%s/sendMessage" % TOKEN:
        errors.append("path is not /bot<TOKEN>/sendMessage")
    if not isinstance(body, dict):
        return errors.append("body is not a JSON object")
    if not isinstance(body.get("chat_id"), (int, str)):
        errors.append("chat_id missing")
    if body.get("parse_mode") != "HTML":
        errors.append("parse_mode is not HTML")
    text = body.get("text", "")
    p = TgHTML()
    p.feed(text)
    p.close()
    errors += p.errors
    if p.stack:
        errors.append("unclosed tags %r" % p.stack)
    check_entities(text, errors)
    plain = "".join(p.text)
    if not 1 <= u16(plain) <= 4096:
        errors.append("text not 1..4096 UTF-16 units after entities")
    if u16(text) > 4096:
        errors.append("text over 4096 UTF-16 units")
    if "disable_notification" in body and not isinstance(body["disable_notification"], bool):
        errors.append("disable_notification is not a boolean")


CHECKS = {"slack": check_slack, "discord": check_discord,
          "telegram": check_telegram, "webhook": lambda *a: None}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def answer(self, status, body, headers=()):
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if not isinstance(body, str) else "text/plain")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.answer(405, "method not allowed")

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(n)
        url = urlsplit(self.path)
        q = parse_qs(url.query)
        errors = []
        ctype = self.headers.get("Content-Type", "")
        if not ctype.startswith("application/json"):
            errors.append("content-type is %r" % ctype)
        try:
            body = json.loads(raw.decode("utf-8"))
        except Exception:
            body = None
            errors.append("body is not JSON")
        if body is not None:
            CHECKS[SERVICE](url.path, q, body, errors)
        with lock:
            counter[0] += 1
            seq = counter[0]
            what = SCRIPT.pop(0) if SCRIPT else "ok"
            inflight[0] += 1
            now_inflight = inflight[0]
        try:
            self.serve(raw, url, q, body, errors, seq, what, now_inflight)
        finally:
            with lock:
                inflight[0] -= 1

    def serve(self, raw, url, q, body, errors, seq, what, now_inflight):
        rec = {"seq": seq, "t": time.time(), "method": "POST",
               "inflight": now_inflight,
               "path": url.path, "query": url.query,
               "headers": {k.lower(): v for k, v in self.headers.items()},
               "raw": raw.decode("utf-8", "replace"), "body": body,
               "errors": errors, "behaviour": what}
        with lock, open(LOG, "a") as f:
            f.write(json.dumps(rec) + "\n")
        if errors:
            return self.bad(400, "; ".join(errors))
        if what == "hang":
            time.sleep(3600)
            return
        if what == "slow":
            time.sleep(2)
            what = "ok"
        if what == "ok":
            return self.ok(seq)
        if what == "empty":
            return self.answer(200, {"id": str(1000 + seq), "type": 0},
                               [("X-RateLimit-Limit", "5"),
                                ("X-RateLimit-Remaining", "0"),
                                ("X-RateLimit-Reset-After", "%.3f" % RETRY_AFTER)])
        if what == "429":
            return self.too_many()
        if what.startswith("echo"):
            return self.echo(what, raw)
        return self.bad(int(what), "scripted %s" % what)

    def echo(self, what, raw):
        """An error quoting the request, in the service's error shape."""
        parts = ["%s %s" % (self.command, self.path)]
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            try:
                parts.append("login " + base64.b64decode(auth[6:]).decode())
            except Exception:
                pass
        if auth:
            parts.append("authorization: " + auth)
        for k, v in self.headers.items():
            if k.lower().startswith("x-"):
                parts.append("%s: %s" % (k.lower(), v))
        parts.append(raw.decode("utf-8", "replace"))
        text = " | ".join(parts)
        if what == "echo-url":
            text = quote(text, safe="")
        elif what == "echo-json":
            text = json.dumps(text)[1:-1].replace("/", "\\/")
        if SERVICE == "discord":
            return self.answer(ECHO_STATUS, {"message": text, "code": 0})
        if SERVICE == "telegram":
            return self.answer(ECHO_STATUS, {"ok": False,
                                             "error_code": ECHO_STATUS,
                                             "description": text})
        return self.answer(ECHO_STATUS, text)

    def ok(self, seq):
        if SERVICE == "slack":
            return self.answer(200, "ok")
        if SERVICE == "discord":
            return self.answer(200, {"id": str(1000 + seq), "type": 0},
                               [("X-RateLimit-Limit", "5"),
                                ("X-RateLimit-Remaining", "4"),
                                ("X-RateLimit-Reset-After", "1")])
        if SERVICE == "telegram":
            return self.answer(200, {"ok": True, "result": {"message_id": seq}})
        return self.answer(200, {"ok": True})

    def too_many(self):
        ra = RETRY_AFTER
        if SERVICE == "slack":
            return self.answer(429, "rate_limited", [("Retry-After", "%d" % ra)])
        if SERVICE == "discord":
            return self.answer(429, {"message": "You are being rate limited.",
                                     "retry_after": ra, "global": False})
        if SERVICE == "telegram":
            return self.answer(429, {"ok": False, "error_code": 429,
                                     "description": "Too Many Requests: retry after %d" % ra,
                                     "parameters": {"retry_after": int(ra)}})
        return self.answer(429, "slow down", [("Retry-After", "%d" % ra)])

    def bad(self, status, why):
        if SERVICE == "slack":
            return self.answer(status, "invalid_payload" if status == 400 else "no_service")
        if SERVICE == "discord":
            return self.answer(status, {"message": why, "code": 50006})
        if SERVICE == "telegram":
            return self.answer(status, {"ok": False, "error_code": status,
                                        "description": "Bad Request: " + why})
        return self.answer(status, why)


class Server(ThreadingHTTPServer):
    daemon_threads = True


Server(("127.0.0.1", PORT), Handler).serve_forever()
