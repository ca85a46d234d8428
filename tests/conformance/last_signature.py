#!/usr/bin/env python3
"""Writes the newest signature of a PDF as OUTDIR/last.p7s (DER, zero padding cut at
the DER length) and the bytes its /ByteRange covers as OUTDIR/last.content.
Independent of shomei: plain byte handling, no PDF library.

    last_signature.py FILE.pdf OUTDIR
"""
import os
import re
import sys


def der_length(buf: bytes) -> int:
    if buf[1] < 0x80:
        return 2 + buf[1]
    n = buf[1] & 0x7F
    return 2 + n + int.from_bytes(buf[2:2 + n], "big")


data = open(sys.argv[1], "rb").read()
ranges = re.findall(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", data)
if not ranges:
    sys.exit("no /ByteRange")
a, b, c, d = (int(x) for x in max(ranges, key=lambda r: int(r[2])))
hexdigits = data[a + b:c].strip(b"<> \r\n\t")
blob = bytes.fromhex(hexdigits.decode("ascii"))
os.makedirs(sys.argv[2], exist_ok=True)
open(os.path.join(sys.argv[2], "last.p7s"), "wb").write(blob[:der_length(blob)])
open(os.path.join(sys.argv[2], "last.content"), "wb").write(data[a:a + b] + data[c:c + d])
