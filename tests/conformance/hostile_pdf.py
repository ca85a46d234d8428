"""Hostile incremental updates appended to a signed PDF, for validate.sh: each must end
in an error or a verdict that is not a pass, in bounded time and memory.

    python hostile_pdf.py SIGNED.pdf OUTDIR    writes OUTDIR/hostile-*.pdf

page-cycle:  the page tree's root redefined with itself as its only kid.
prev-cycle:  a cross-reference section whose /Prev points at itself.
deep:        the page tree's /Kids nested 100 000 arrays deep.
bomb:        the first page's content replaced by a stream that inflates to 256 MiB.

    python hostile_pdf.py --measure SHOMEI FILE [ARGS...]
runs `SHOMEI validate FILE ARGS...` and prints "EXIT SECONDS MAX_RSS_KIB".
"""
import os
import re
import resource
import subprocess
import sys
import time
import zlib

from pdf_bytes import update


def pages_root(data):
    """The object numbers of the catalog's /Pages and of the first page (as written
    by shomei and most producers: direct references)."""
    root = int(re.findall(rb"/Root\s+(\d+)\s+\d+\s+R", data)[-1])
    catalog = re.findall(rb"(?<![0-9])%d 0 obj(.*?)endobj" % root, data, re.S)[-1]
    pages = int(re.search(rb"/Pages\s+(\d+)\s+\d+\s+R", catalog).group(1))
    tree = re.findall(rb"(?<![0-9])%d 0 obj(.*?)endobj" % pages, data, re.S)[-1]
    first = int(re.search(rb"/Kids\s*\[\s*(\d+)\s+\d+\s+R", tree).group(1))
    return pages, first


def make(src, outdir):
    data = open(src, "rb").read()
    pages, first = pages_root(data)
    files = {
        "page-cycle": update(data, {pages: b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % pages}),
        "prev-cycle": update(data, {pages: b"<< /Type /Pages /Kids [] /Count 0 >>"}, prev="self"),
        "deep": update(data, {pages: b"<< /Type /Pages /Kids " + b"[" * 100_000 + b"]" * 100_000
                              + b" /Count 1 >>"}),
    }
    bomb = zlib.compress(b"\0" * (256 << 20), 9)
    page = re.findall(rb"(?<![0-9])%d 0 obj(.*?)endobj" % first, data, re.S)[-1]
    size = max(int(x) for x in re.findall(rb"/Size\s+(\d+)", data))
    new_page = re.sub(rb"/Contents\s+(\d+\s+\d+\s+R|\[[^\]]*\])", b"/Contents %d 0 R" % size, page)
    files["bomb"] = update(data, {
        size: b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(bomb) + bomb + b"\nendstream",
        first: new_page.strip(),
    }, size=size + 1)
    for name, body in files.items():
        open(os.path.join(outdir, f"hostile-{name}.pdf"), "wb").write(body)


def measure(shomei, path, args):
    start = time.monotonic()
    rc = subprocess.run([shomei, "validate", path, *args], stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL).returncode
    elapsed = time.monotonic() - start
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(rc, f"{elapsed:.2f}", rss)


if __name__ == "__main__":
    if sys.argv[1] == "--measure":
        measure(sys.argv[2], sys.argv[3], sys.argv[4:])
    else:
        make(sys.argv[1], sys.argv[2])
