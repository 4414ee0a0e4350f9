#!/usr/bin/python3
"""smtp.py: a real SMTP server (aiosmtpd) for tf-notify's tests. Each
message it accepts is parsed with Python's email package, checked against
what tf-notify promises (RFC 5322 headers, multipart/alternative with the
text part first and the HTML part last, headers in 7-bit with RFC 2047
encoded words, no Bcc header) and recorded as a JSON line in LOG.

usage: smtp.py PORT LOG [BEHAVIOUR...]
  BEHAVIOUR  what the next messages get at the end of DATA, in order, then
             "ok" for ever: ok, 451 (try later), 550 (rejected)
  env: SMTP_USER, SMTP_PASSWORD: require AUTH (PLAIN or LOGIN) with these;
       SMTP_ECHO=1: a refused login's 535 quotes what was given (the
       password, and the AUTH PLAIN string in base64)
Binds 127.0.0.1 only.
"""
import base64
import email
import email.policy
import email.utils
import json
import os
import re
import signal
import sys
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

PORT, LOG = int(sys.argv[1]), sys.argv[2]
SCRIPT = list(sys.argv[3:])
USER = os.environ.get("SMTP_USER")
PASSWORD = os.environ.get("SMTP_PASSWORD", "")
lock = threading.Lock()
auth_log = []


def check(msg, raw, errors):
    """What every message must be; returns the decoded parts."""
    for h in ("From", "Date", "Message-ID", "Subject", "MIME-Version"):
        if len(msg.get_all(h, [])) != 1:
            errors.append("%s header not exactly once" % h)
    if msg.get_all("Bcc"):
        errors.append("Bcc header present")
    if re.search(rb"(?<!\r)\n", raw):
        errors.append("bare LF in the message")
    if any(len(l) > 998 for l in raw.split(b"\r\n")):
        errors.append("line over 998 octets")
    try:
        if email.utils.parsedate_to_datetime(msg["Date"]) is None:
            errors.append("Date unparsable")
    except Exception:
        errors.append("Date unparsable")
    if not re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>", str(msg["Message-ID"] or "")):
        errors.append("Message-ID malformed")
    if re.search(rb"[\x80-\xff]", raw.split(b"\r\n\r\n", 1)[0]):
        errors.append("8-bit bytes in the header (not RFC 2047 encoded)")
    if msg.get_content_type() != "multipart/alternative":
        errors.append("not multipart/alternative")
        return {}
    parts = msg.get_payload()
    if len(parts) < 2:
        errors.append("fewer than two alternatives")
        return {}
    if parts[0].get_content_type() != "text/plain":
        errors.append("first part is not text/plain")
    if parts[-1].get_content_type() != "text/html":
        errors.append("last part is not text/html")
    out = {}
    for p in parts:
        try:
            out[p.get_content_type()] = p.get_content()
        except Exception as e:
            errors.append("undecodable part: %s" % e)
    return out


def raw_subject(raw):
    m = re.search(rb"^Subject:([^\r\n]*(?:\r\n[ \t][^\r\n]*)*)", raw, re.M | re.I)
    return m.group(1).decode("ascii", "replace") if m else None


class Handler:
    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        errors = []
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        parts = check(msg, raw, errors)
        with lock:
            what = SCRIPT.pop(0) if SCRIPT else "ok"
        rec = {"t": time.time(), "mail_from": envelope.mail_from,
               "rcpt_to": envelope.rcpt_tos, "auth": session.authenticated,
               "headers": {k.lower(): str(v) for k, v in msg.items()},
               "subject": str(msg["Subject"]),
               "raw_subject": raw_subject(raw),
               "to": [a for _, a in email.utils.getaddresses(msg.get_all("To", []))],
               "cc": [a for _, a in email.utils.getaddresses(msg.get_all("Cc", []))],
               "text": parts.get("text/plain"), "html": parts.get("text/html"),
               "parts": [p.get_content_type() for p in msg.iter_parts()]
               if msg.is_multipart() else [],
               "errors": errors, "behaviour": what}
        with lock, open(LOG, "a") as f:
            f.write(json.dumps(rec) + "\n")
        if errors:
            return "554 5.6.0 " + "; ".join(errors)[:400]
        if what == "451":
            return "451 4.3.0 Try again later"
        if what == "550":
            return "550 5.7.1 Message rejected"
        return "250 2.0.0 OK queued"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword) and
          auth_data.login.decode() == USER and
          auth_data.password.decode() == PASSWORD)
    with lock, open(LOG + ".auth", "a") as f:
        f.write(json.dumps({"mechanism": mechanism, "ok": ok}) + "\n")
    if not ok and os.environ.get("SMTP_ECHO") and isinstance(auth_data, LoginPassword):
        plain = base64.b64encode(b"\0" + auth_data.login + b"\0" +
                                 auth_data.password).decode()
        return AuthResult(success=False, handled=False,
                          message="535 5.7.8 no user %s with password %s (%s)"
                          % (auth_data.login.decode(),
                             auth_data.password.decode(), plain))
    return AuthResult(success=ok, handled=False)


kw = {}
if USER:
    kw = dict(authenticator=authenticator, auth_required=True,
              auth_require_tls=False)
# SMTP_TLS=implicit (TLS from the first byte, as smtps://) or starttls
# (STARTTLS offered and required before MAIL), with SMTP_CERT and SMTP_KEY.
TLS = os.environ.get("SMTP_TLS")
if TLS:
    import ssl
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(os.environ["SMTP_CERT"], os.environ["SMTP_KEY"])
    if TLS == "implicit":
        kw["ssl_context"] = ctx
    else:
        kw.update(tls_context=ctx, require_starttls=True)
controller = Controller(Handler(), hostname="127.0.0.1", port=PORT, **kw)
controller.start()
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *a: stop.set())
signal.signal(signal.SIGINT, lambda *a: stop.set())
while not stop.wait(0.5):
    pass
controller.stop()
