"""PDF bytes written by hand, for the attack and hostile-file generators: a small file
from its objects, and an incremental update appended to one (no third-party writer,
which would not leave out or re-point what these files need)."""
import re


def write_pdf(objects, extra=b""):
    """A PDF whose object i+1 is objects[i] (the catalog first), `extra` bytes after the
    objects and before the cross-reference table."""
    pdf = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    pdf += extra
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for o in offsets:
        pdf += b"%010d 00000 n \n" % o
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(pdf)


def update(data, objects=None, entries=b"", prev=None, size=None):
    """`data` with an update defining `objects` ({number: body}) and the extra xref
    `entries` (subsections as bytes); `prev="self"` points its /Prev at itself."""
    last_xref = int(re.findall(rb"startxref\s+(\d+)", data)[-1])
    size = size or max(int(x) for x in re.findall(rb"/Size\s+(\d+)", data))
    root = re.findall(rb"/Root\s+(\d+\s+\d+)\s+R", data)[-1]
    out = bytearray(data if data.endswith(b"\n") else data + b"\n")
    offsets = {}
    for number, body in sorted((objects or {}).items()):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 1\n0000000000 65535 f \n" + entries
    for number, at in sorted(offsets.items()):
        out += b"%d 1\n%010d 00000 n \n" % (number, at)
    out += (b"trailer\n<< /Size %d /Root %s R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n"
            % (size, root, xref if prev == "self" else last_xref, xref))
    return bytes(out)
