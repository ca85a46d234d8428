#!/usr/bin/env python3
"""Inputs for the issue-9 regression tests, made with tools that are not shomei: lxml
builds XMLDSig/XAdES templates, xmlsec1 signs them, the kit's pyHanko signs PDFs, and
this script re-encodes DER as BER. Each subcommand writes one file.

  make_inputs.py xpath-enveloped KEY CERT OUT.xml
      a plain enveloped ds:Signature whose only reference (URI="") removes every
      ds:Signature with an XPath filter (not(ancestor-or-self::ds:Signature)).
  make_inputs.py xades-manifest KEY CERT CHAIN OUT.xml
      an enveloped XAdES whose SignedInfo references a ds:Manifest (Type Manifest)
      that references the <data Id="data"> element, plus the SignedProperties.
  make_inputs.py xades-detached KEY CERT CHAIN URI OUT.xml
      a detached XAdES naming its data by URI (e.g. ./data.pdf), signed next to it.
  make_inputs.py xades-by-id KEY CERT CHAIN OUT.xml
      an enveloped XAdES whose SignedInfo references the <data Id="data"> element by
      its Id (and the SignedProperties): the target of signature-wrapping attacks.
  make_inputs.py ber-token IN.xml OUT.xml
      every xades:EncapsulatedTimeStamp of IN re-encoded as BER (indefinite lengths).
  make_inputs.py break-reference IN.xml OUT.xml TEXT
      the text of the first <data> (or first <id>) element replaced by TEXT.
  make_inputs.py break-value IN.xml OUT.xml
      one bit of the ds:SignatureValue changed (still base64).
  make_inputs.py break-pdf-range IN.pdf OUT.pdf
      one byte inside the signed byte ranges changed (the binary comment line).
  make_inputs.py break-pdf-value IN.pdf OUT.pdf
      the last byte of the newest signature's CMS (its signature value) changed.
"""
import base64
import datetime
import hashlib
import os
import subprocess
import sys
import tempfile

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from lxml import etree

DS = 'http://www.w3.org/2000/09/xmldsig#'
XADES = 'http://uri.etsi.org/01903/v1.3.2#'
EXC = 'http://www.w3.org/2001/10/xml-exc-c14n#'
SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256'
NSMAP = {'ds': DS, 'xades': XADES}


def q(ns, name):
    return '{%s}%s' % (ns, name)


def sub(parent, ns, name, attrib=None, text=None):
    e = etree.SubElement(parent, q(ns, name), attrib or {})
    if text is not None:
        e.text = text
    return e


def sig_method(key_path):
    key = serialization.load_pem_private_key(open(key_path, 'rb').read(), None)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256'
    return 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256'


def reference(parent, uri, transforms, typ=None, digest=''):
    attrib = {'URI': uri}
    if typ:
        attrib['Type'] = typ
    r = sub(parent, DS, 'Reference', attrib)
    if transforms:
        ts = sub(r, DS, 'Transforms')
        for t in transforms:
            if isinstance(t, tuple):  # (algorithm, XPath expression)
                sub(sub(ts, DS, 'Transform', {'Algorithm': t[0]}), DS, 'XPath', text=t[1])
            else:
                sub(ts, DS, 'Transform', {'Algorithm': t})
    sub(r, DS, 'DigestMethod', {'Algorithm': SHA256})
    sub(r, DS, 'DigestValue', text=digest)
    return r


def signature_skeleton(parent, key, sig_id='sig-1'):
    sig = etree.SubElement(parent, q(DS, 'Signature'), {'Id': sig_id}, nsmap={'ds': DS}) \
        if parent is not None else etree.Element(q(DS, 'Signature'), {'Id': sig_id}, nsmap={'ds': DS})
    si = sub(sig, DS, 'SignedInfo')
    sub(si, DS, 'CanonicalizationMethod', {'Algorithm': EXC})
    sub(si, DS, 'SignatureMethod', {'Algorithm': sig_method(key)})
    return sig, si


def finish_signature(sig):
    sub(sig, DS, 'SignatureValue')
    ki = sub(sig, DS, 'KeyInfo')
    sub(ki, DS, 'X509Data')


def qualifying_properties(sig, cert_path, sig_id):
    cert = x509.load_pem_x509_certificate(open(cert_path, 'rb').read())
    der = cert.public_bytes(serialization.Encoding.DER)
    obj = sub(sig, DS, 'Object')
    qp = etree.SubElement(obj, q(XADES, 'QualifyingProperties'), {'Target': '#' + sig_id},
                          nsmap={'xades': XADES})
    sp = sub(qp, XADES, 'SignedProperties', {'Id': 'signed-props'})
    ssp = sub(sp, XADES, 'SignedSignatureProperties')
    sub(ssp, XADES, 'SigningTime',
        text=datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'))
    scv2 = sub(ssp, XADES, 'SigningCertificateV2')
    c = sub(scv2, XADES, 'Cert')
    cd = sub(c, XADES, 'CertDigest')
    sub(cd, DS, 'DigestMethod', {'Algorithm': SHA256})
    sub(cd, DS, 'DigestValue', text=base64.b64encode(hashlib.sha256(der).digest()).decode())
    return obj


def xmlsec_sign(tree, key, certs, out, id_attrs, cwd=None):
    with tempfile.NamedTemporaryFile('wb', suffix='.xml', dir=cwd, delete=False) as t:
        t.write(etree.tostring(tree, xml_declaration=True, encoding='UTF-8'))
    try:
        cmd = ['xmlsec1', '--sign', '--privkey-pem', ','.join([key] + certs), '--output',
               os.path.abspath(out)]
        for a in id_attrs:
            cmd += ['--id-attr:Id', a]
        cmd.append(os.path.basename(t.name))
        subprocess.run(cmd, check=True, cwd=os.path.dirname(t.name))
    finally:
        os.unlink(t.name)


def xpath_enveloped(key, cert, out):
    doc = etree.fromstring(b'<contract xmlns="urn:example:contract"><party>A</party>'
                           b'<party>B</party><amount>100</amount></contract>')
    sig, si = signature_skeleton(doc, key)
    reference(si, '', [('http://www.w3.org/TR/1999/REC-xpath-19991116',
                        'not(ancestor-or-self::ds:Signature)'), EXC])
    finish_signature(sig)
    xmlsec_sign(doc.getroottree(), key, [cert], out, [])


def xades_manifest(key, cert, chain, out):
    doc = etree.fromstring(b'<order xmlns="urn:example:order"><data Id="data">'
                           b'<item>paper</item><amount>12</amount></data></order>')
    sig, si = signature_skeleton(doc, key)
    reference(si, '#manifest', [EXC], typ='http://www.w3.org/2000/09/xmldsig#Manifest')
    reference(si, '#signed-props', [EXC], typ='http://uri.etsi.org/01903#SignedProperties')
    finish_signature(sig)
    qualifying_properties(sig, cert, 'sig-1')
    obj = sub(sig, DS, 'Object')
    manifest = sub(obj, DS, 'Manifest', {'Id': 'manifest'})
    data = doc.find('{urn:example:order}data')
    digest = hashlib.sha256(etree.tostring(data, method='c14n', exclusive=True)).digest()
    reference(manifest, '#data', [EXC], digest=base64.b64encode(digest).decode())
    xmlsec_sign(doc.getroottree(), key, [cert, chain], out,
                [XADES + ':SignedProperties', DS + ':Manifest', 'urn:example:order:data'])


def xades_detached(key, cert, chain, uri, out):
    sig, si = signature_skeleton(None, key)
    reference(si, uri, [])
    reference(si, '#signed-props', [EXC], typ='http://uri.etsi.org/01903#SignedProperties')
    finish_signature(sig)
    qualifying_properties(sig, cert, 'sig-1')
    xmlsec_sign(sig.getroottree(), key, [cert, chain], out, [XADES + ':SignedProperties'],
                cwd=os.path.dirname(os.path.abspath(out)))


def xades_by_id(key, cert, chain, out):
    doc = etree.fromstring(b'<order xmlns="urn:example:order"><data Id="data">'
                           b'<item>paper</item><amount>12</amount></data></order>')
    sig, si = signature_skeleton(doc, key)
    reference(si, '#data', [EXC])
    reference(si, '#signed-props', [EXC], typ='http://uri.etsi.org/01903#SignedProperties')
    finish_signature(sig)
    qualifying_properties(sig, cert, 'sig-1')
    xmlsec_sign(doc.getroottree(), key, [cert, chain], out,
                [XADES + ':SignedProperties', 'urn:example:order:data'])


def der_to_ber(der):
    """The same value with every constructed type in indefinite-length form."""
    out = bytearray()
    pos = 0
    while pos < len(der):
        tag = der[pos]
        first = der[pos + 1]
        if first & 0x80:
            n = first & 0x7f
            length = int.from_bytes(der[pos + 2:pos + 2 + n], 'big')
            head = 2 + n
        else:
            length, head = first, 2
        body = der[pos + head:pos + head + length]
        if tag & 0x20:
            out += bytes([tag, 0x80]) + der_to_ber(body) + b'\x00\x00'
        else:
            out += der[pos:pos + head + length]
        pos += head + length
    return bytes(out)


def ber_token(src, out):
    tree = etree.parse(src)
    n = 0
    for e in tree.iter(q(XADES, 'EncapsulatedTimeStamp')):
        der = base64.b64decode(''.join(e.text.split()))
        e.text = base64.b64encode(der_to_ber(der)).decode()
        n += 1
    if not n:
        sys.exit('no EncapsulatedTimeStamp in ' + src)
    tree.write(out, xml_declaration=True, encoding='UTF-8')


def break_reference(src, out, text):
    raw = open(src, 'rb').read()
    tree = etree.fromstring(raw)
    for e in tree.iter():
        if isinstance(e.tag, str) and etree.QName(e).localname in ('item', 'id') \
                and etree.QName(e).namespace not in (DS, XADES):
            e.text = text
            break
    else:
        sys.exit('nothing to change in ' + src)
    open(out, 'wb').write(etree.tostring(tree.getroottree(), xml_declaration=True,
                                         encoding='UTF-8'))


def break_value(src, out):
    tree = etree.parse(src)
    v = tree.find('.//' + q(DS, 'SignatureValue'))
    text = ''.join(v.text.split())
    raw = bytearray(base64.b64decode(text))
    raw[len(raw) // 2] ^= 0x01
    v.text = base64.b64encode(bytes(raw)).decode()
    tree.write(out, xml_declaration=True, encoding='UTF-8')




def _contents_span(pdf, which=-1):
    """(start, end) of the hex digits of the which-th /Contents <...> (a signature)."""
    import re
    spans = [(m.start(1), m.end(1)) for m in re.finditer(rb'/Contents\s*<([0-9A-Fa-f]+)>', pdf)]
    if not spans:
        sys.exit('no signature /Contents')
    return spans[which]


def break_pdf_range(src, out):
    """One byte inside the signed byte range changed: the second-line binary comment
    (%\\xe2\\xe3\\xcf\\xd3), which no reader interprets, so the file still opens."""
    pdf = bytearray(open(src, 'rb').read())
    nl = pdf.index(b'\n')
    if pdf[nl + 1:nl + 2] != b'%' or pdf[nl + 2] < 0x80:
        sys.exit('no binary comment on the second line of ' + src)
    pdf[nl + 2] ^= 0x01
    open(out, 'wb').write(bytes(pdf))


def break_pdf_value(src, out):
    """The last byte of the CMS in the last /Contents changed: in a signature without
    unsigned attributes that is the last byte of the signature value."""
    pdf = bytearray(open(src, 'rb').read())
    start, end = _contents_span(bytes(pdf))
    hexes = pdf[start:end].decode()
    der = bytes.fromhex(hexes.rstrip('0') + ('0' if len(hexes.rstrip('0')) % 2 else ''))
    # the DER length: the trailing zero padding is not part of it
    first = der[1]
    total = 2 + (int.from_bytes(der[2:2 + (first & 0x7f)], 'big') + (first & 0x7f)
                 if first & 0x80 else first)
    at = start + 2 * (total - 1)
    byte = int(pdf[at:at + 2], 16) ^ 0x01
    pdf[at:at + 2] = b'%02X' % byte
    open(out, 'wb').write(bytes(pdf))


COMMANDS_PDF = {'break-pdf-range': break_pdf_range, 'break-pdf-value': break_pdf_value}


if __name__ == '__main__':
    cmd, args = sys.argv[1], sys.argv[2:]
    {'xpath-enveloped': xpath_enveloped, 'xades-manifest': xades_manifest,
     'xades-detached': xades_detached, 'xades-by-id': xades_by_id, 'ber-token': ber_token,
     'break-reference': break_reference, 'break-value': break_value,
     **COMMANDS_PDF}[cmd](*args)
