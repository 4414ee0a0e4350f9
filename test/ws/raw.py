#!/usr/bin/python3
# raw.py: a WebSocket peer written on a bare socket, for what real clients
# refuse to do: malformed handshakes and frames, never answering pings,
# vanishing mid-frame, not reading at all.
#
#   python3 test/ws/raw.py [--path P] [--protocol P] [--rcvbuf N]
#       [--timeout S] [--resume-when FILE] PORT SCENARIO [ARG]
#
# Scenarios (each does a valid upgrade first unless it says otherwise):
#   garbage        sends junk instead of an HTTP request (no upgrade)
#   nohandshake    sends a WebSocket frame without any upgrade
#   unmasked       a text frame without the mask a client must set
#   oversized N    a masked text frame of N bytes
#   len63          a frame header claiming 2^63 bytes of payload
#   rsv            a text frame with RSV1 set (no extension agreed)
#   opcode         a frame with reserved opcode 0x3
#   bigping        a ping frame with 200 bytes (control frames are <= 125)
#   badutf8        a text frame that is not UTF-8
#   fragctl        a fragmented ping (control frames must not be fragmented)
#   midframe       half a frame, then a TCP reset
#   midheader      half an HTTP upgrade request, then a TCP reset
#   noping         reads everything, answers no ping ("#ping" per ping)
#   stall          reads nothing until --resume-when FILE exists, then
#                  reads everything (answering pings)
#   burst N        sends N small text frames at once, then reads
#   text MSG       sends MSG as a text frame, then reads
#   frames MSG     sends MSG as a text message in frames of 1000 bytes,
#                  a ping of 125 bytes (the most a control frame holds)
#                  after the first, then reads ("#pong N" per pong)
# Then it reads until the server ends the connection: text frames on stdout,
# and on stderr "#http STATUS", "#close CODE REASON", "#eof" (closed with
# no close frame), "#reset", or "#timeout" (exit 124).
import argparse
import base64
import os
import socket
import struct
import sys
import time


def note(s):
    print(s, file=sys.stderr, flush=True)


class Peer:
    def __init__(self, a):
        self.a = a
        self.s = socket.socket()
        if a.rcvbuf:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, a.rcvbuf)
        self.s.settimeout(a.timeout)
        self.s.connect(("127.0.0.1", a.port))
        self.buf = b""
        self.deadline = time.monotonic() + a.timeout

    def send(self, b):
        try:
            self.s.sendall(b)
        except OSError:
            pass  # the server may close first; what it said is read later

    def recv(self):
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        self.s.settimeout(left)
        b = self.s.recv(65536)
        if not b:
            raise EOFError
        self.buf += b

    def need(self, n):
        while len(self.buf) < n:
            self.recv()
        b, self.buf = self.buf[:n], self.buf[n:]
        return b

    def upgrade(self):
        key = base64.b64encode(os.urandom(16)).decode()
        req = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
               "Upgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
               % (self.a.path, self.a.port, key))
        if self.a.protocol:
            req += "Sec-WebSocket-Protocol: %s\r\n" % self.a.protocol
        self.send((req + "\r\n").encode())
        while b"\r\n\r\n" not in self.buf:
            self.recv()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        status = int(head.split(b" ")[1])
        if status != 101:
            note("#http %d" % status)
            sys.exit(3)

    def frame(self):
        b0, b1 = self.need(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self.need(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self.need(8))[0]
        if b1 & 0x80:
            self.need(4)  # a server must not mask; tolerate it anyway
        return b0, b0 & 0x0F, self.need(n)

    def listen(self, pong=True):
        """Reads frames until the connection ends; prints what happened."""
        try:
            while True:
                b0, op, data = self.frame()
                if op == 0x1 or op == 0x0:
                    sys.stdout.write(data.decode("utf-8", "replace") + "\n")
                    sys.stdout.flush()
                elif op == 0xA:
                    note("#pong %d" % len(data))
                elif op == 0x9:
                    note("#ping")
                    if pong:
                        self.send(mk(0xA, data))
                elif op == 0x8:
                    code = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else 1005
                    note(("#close %d %s" % (code, data[2:].decode("utf-8", "replace"))).rstrip())
                    self.send(mk(0x8, data[:2]))
                    return 0
        except EOFError:
            note("#eof")
            return 0
        except ConnectionResetError:
            note("#reset")
            return 0
        except (TimeoutError, socket.timeout):
            note("#timeout")
            return 124


def mk(op, payload, mask=True, fin=True, rsv=0, length=None):
    """A client frame; length overrides the length in the header."""
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | rsv | op
    m = 0x80 if mask else 0
    if n < 126:
        h = struct.pack("!BB", b0, m | n)
    elif n < 65536:
        h = struct.pack("!BBH", b0, m | 126, n)
    else:
        h = struct.pack("!BBQ", b0, m | 127, n)
    if not mask:
        return h + payload
    key = os.urandom(4)
    return h + key + bytes(c ^ key[i % 4] for i, c in enumerate(payload))


def reset(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--path", default="/")
    p.add_argument("--protocol")
    p.add_argument("--rcvbuf", type=int, default=0)
    p.add_argument("--timeout", type=float, default=10)
    p.add_argument("--resume-when")
    p.add_argument("port", type=int)
    p.add_argument("scenario")
    p.add_argument("arg", nargs="?")
    a = p.parse_args()
    try:
        c = Peer(a)
    except OSError as e:
        note("#error %s" % e)
        return 1
    sc = a.scenario
    if sc == "garbage":
        c.send(b"\x16\x03\x01\x00\xa5garbage \xff\xfe\r\n\r\n")
        try:
            while b"\r\n" not in c.buf:
                c.recv()
            note("#http %s" % c.buf.split(b" ")[1].decode())
            return 0
        except EOFError:
            note("#eof")
            return 0
        except ConnectionResetError:
            note("#reset")
            return 0
    if sc == "midheader":
        c.send(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgra")
        time.sleep(0.1)
        reset(c.s)
        note("#sent")
        return 0
    if sc == "nohandshake":
        c.send(mk(0x1, b'{"a":1}'))
        return c.listen()
    c.upgrade()
    note("#open")
    if sc == "unmasked":
        c.send(mk(0x1, b'{"a":1}', mask=False))
    elif sc == "oversized":
        c.send(mk(0x1, b"x" * int(a.arg)))
    elif sc == "len63":
        c.send(struct.pack("!BBQ", 0x81, 0xFF, 1 << 63) + os.urandom(4) + b"x" * 100)
    elif sc == "rsv":
        c.send(mk(0x1, b'{"a":1}', rsv=0x40))
    elif sc == "opcode":
        c.send(mk(0x3, b'{"a":1}'))
    elif sc == "bigping":
        c.send(mk(0x9, b"p" * 200))
    elif sc == "badutf8":
        c.send(mk(0x1, b'{"a":"\xff\xfe"}'))
    elif sc == "fragctl":
        c.send(mk(0x9, b"ping", fin=False))
    elif sc == "midframe":
        f = mk(0x1, b"y" * 1000)
        c.send(f[:300])
        time.sleep(0.1)
        reset(c.s)
        note("#sent")
        return 0
    elif sc == "noping":
        return c.listen(pong=False)
    elif sc == "stall":
        while a.resume_when and not os.path.exists(a.resume_when):
            if time.monotonic() > c.deadline:
                note("#timeout")
                return 124
            time.sleep(0.02)
        note("#reading")
    elif sc == "burst":
        c.send(b"".join(mk(0x1, b'{"i":%d}' % i) for i in range(int(a.arg))))
    elif sc == "text":
        c.send(mk(0x1, a.arg.encode()))
    elif sc == "frames":
        m = a.arg.encode()
        parts = [m[i:i + 1000] for i in range(0, len(m), 1000)]
        for i, part in enumerate(parts):
            c.send(mk(0x1 if i == 0 else 0x0, part, fin=i == len(parts) - 1))
            if i == 0:
                c.send(mk(0x9, b"p" * 125))
    else:
        note("raw.py: unknown scenario %s" % sc)
        return 2
    return c.listen()


sys.exit(main())
