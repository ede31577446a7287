#!/usr/bin/env python3
"""Canonicalise samples to 'name{k=v,...} time value-bits' lines for exact comparison.

  canon_samples.py input < fleet.prom     # Prometheus text with ms timestamps
  canon_samples.py dump  < dump.txt       # `watchfire tsdb dump` / `promtool tsdb dump`
Label values must not contain '", ' or '",' (true for the synthetic fleet).
"""
import struct
import sys

Q = '"'


def main():
    dump = sys.argv[1] == "dump"
    out = sys.stdout
    for line in sys.stdin:
        lbl, v, t = line.rsplit(" ", 2)
        if dump:
            pairs = dict(p.split("=", 1) for p in lbl[1:-1].split(Q + ", "))
            name = pairs.pop("__name__").strip(Q)
            pairs = {k: x.strip(Q) for k, x in pairs.items()}
        else:
            name, _, rest = lbl.partition("{")
            pairs = {}
            for part in rest.rstrip("}").split(Q + ","):
                if part:
                    k, _, x = part.partition("=" + Q)
                    pairs[k] = x.rstrip(Q)
        key = name + "{" + ",".join(k + "=" + pairs[k] for k in sorted(pairs)) + "}"
        bits = struct.unpack("<Q", struct.pack("<d", float(v)))[0]
        out.write(f"{key} {int(t)} {bits}\n")


if __name__ == "__main__":
    main()
