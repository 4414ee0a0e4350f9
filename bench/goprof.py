#!/usr/bin/python3
"""goprof.py FILE [N]: the top N functions (default 20) of a Go CPU
profile as a Go server serves it on /debug/pprof/profile (nats-server
--profile PORT), by their own samples and with what they call, without
`go tool pprof` (not in Debian's nats-server package). The profile is
gzipped protobuf (github.com/google/pprof, proto/profile.proto); only
samples, locations, functions and the string table are read."""
import collections
import gzip
import re
import sys


def varint(b, i):
    v = shift = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        shift += 7
        if c < 0x80:
            return v, i


def fields(b):
    """(field number, wire type, value) of each field of a message."""
    i = 0
    while i < len(b):
        key, i = varint(b, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            v, i = varint(b, i)
        elif wire == 2:
            n, i = varint(b, i)
            v = b[i:i + n]
            i += n
        elif wire == 1:
            v, i = b[i:i + 8], i + 8
        elif wire == 5:
            v, i = b[i:i + 4], i + 4
        else:
            sys.exit("goprof.py: not a profile (wire type %d)" % wire)
        yield num, wire, v


def numbers(wire, v):
    """A repeated integer field, packed or not."""
    if wire == 0:
        return [v]
    out, i = [], 0
    while i < len(v):
        x, i = varint(v, i)
        out.append(x)
    return out


def main():
    data = gzip.open(sys.argv[1]).read()
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    strings, samples, locations, functions = [], [], {}, {}
    for num, wire, v in fields(data):
        if num == 2:  # Sample: location ids (leaf first), values
            ids, vals = [], []
            for n, w, x in fields(v):
                if n == 1:
                    ids += numbers(w, x)
                elif n == 2:
                    vals += numbers(w, x)
            samples.append((ids, vals))
        elif num == 4:  # Location: id, lines (function id each)
            lid, fids = 0, []
            for n, w, x in fields(v):
                if n == 1:
                    lid = x
                elif n == 4:
                    fids += [y for m, _, y in fields(x) if m == 1]
            locations[lid] = fids
        elif num == 5:  # Function: id, name (string index)
            f = dict((n, x) for n, _, x in fields(v) if n in (1, 2))
            functions[f.get(1, 0)] = f.get(2, 0)
        elif num == 6:
            strings.append(v.decode(errors="replace"))
    own, total = collections.Counter(), collections.Counter()
    whole = 0
    for ids, vals in samples:
        v = vals[-1]  # cpu nanoseconds (the last sample type)
        whole += v
        # "github.com/ORG/REPO/" said once is enough for 80 columns.
        names = [re.sub(r"^github\.com/[^/]+/[^/]+/", "",
                        strings[functions[f]])
                 for l in ids for f in locations[l]]
        if names:
            own[names[0]] += v
        for name in set(names):
            total[name] += v
    if not whole:
        sys.exit("goprof.py: no samples")
    print("%.2f s of CPU sampled" % (whole / 1e9))
    print("own     with callees")
    for name, v in total.most_common(top):
        print("%5.1f%%  %5.1f%%  %s" % (100 * own[name] / whole,
                                        100 * v / whole, name))
    print("by own samples:")
    for name, v in own.most_common(top):
        print("%5.1f%%  %5.1f%%  %s" % (100 * v / whole,
                                        100 * total[name] / whole, name))


main()
