#!/usr/bin/python3
# seqcheck.py: checks a tf.v1 client's frames (one JSON object per line, as
# client.js prints them) from a client subscribed to every topic:
#   - the first frame is the welcome, and every event carries its epoch;
#   - event sequence numbers only go up, by one, except across a gap whose
#     from/to are exactly the sequence numbers skipped, with missed = to-from+1;
#   - with --n-is-seq, every event's line has "n" equal to its seq;
#   - no event is delivered twice.
# Prints "events=E gaps=G missed=M last=L reasons=R,..." and exits 0, or
# prints what is wrong and exits 1.
import json
import sys


def main():
    args = sys.argv[1:]
    n_is_seq = "--n-is-seq" in args
    path = [a for a in args if not a.startswith("--")][0]
    frames = [json.loads(l) for l in open(path, encoding="utf-8") if l.strip()]
    if not frames or frames[0].get("type") != "welcome":
        return "first frame is not a welcome: %r" % (frames[:1],)
    epoch = frames[0]["epoch"]
    prev = frames[0]["seq"]
    events = gaps = missed = 0
    reasons = []
    for i, f in enumerate(frames[1:], 2):
        t = f.get("type")
        if t == "event":
            if f.get("epoch") != epoch:
                return "frame %d: epoch %r, welcome said %r" % (i, f.get("epoch"), epoch)
            if f["seq"] != prev + 1:
                return "frame %d: seq %d after %d" % (i, f["seq"], prev)
            data = f["data"]
            if n_is_seq and data.get("n") != f["seq"]:
                return "frame %d: seq %d carries n=%r" % (i, f["seq"], data.get("n"))
            prev = f["seq"]
            events += 1
        elif t == "gap":
            if f["from"] != prev + 1 or f["to"] < f["from"]:
                return "frame %d: gap %d..%d after seq %d" % (i, f["from"], f["to"], prev)
            if f["missed"] != f["to"] - f["from"] + 1:
                return "frame %d: gap %d..%d says missed %r" % (i, f["from"], f["to"], f["missed"])
            prev = f["to"]
            gaps += 1
            missed += f["missed"]
            reasons.append(f.get("reason"))
    print("events=%d gaps=%d missed=%d last=%d reasons=%s"
          % (events, gaps, missed, prev, ",".join(map(str, reasons))))
    return None


err = main()
if err:
    print("seqcheck: " + err)
    sys.exit(1)
