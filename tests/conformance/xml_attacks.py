#!/usr/bin/env python3
"""Attacks on a signed XML file for the validation tests (issue 11), made with lxml.

  xml_attacks.py dup-id IN.xml OUT.xml
      a lookalike of the element the first same-document reference names, with the same
      Id and other content, appended to the document element (the Id is now ambiguous).
  xml_attacks.py moved IN.xml OUT.xml
      the signed element (first same-document reference that is not the SignedProperties)
      moved into a wrapper inside the signature's own ds:Object, and a lookalike with
      another Id and other content put where it was (XML signature wrapping).
  xml_attacks.py signed-props IN.xml OUT.xml
      the SigningTime inside the SignedProperties changed.
  xml_attacks.py keyinfo-swap IN.xml OUT.xml OTHER_CERT.pem
      every certificate in ds:KeyInfo replaced by OTHER_CERT.
"""
import base64
import copy
import sys

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree

DS = 'http://www.w3.org/2000/09/xmldsig#'
XADES = 'http://uri.etsi.org/01903/v1.3.2#'


def load(path):
    return etree.parse(path, etree.XMLParser(remove_blank_text=False))


def by_id(tree, ident):
    return [e for e in tree.iter() if isinstance(e.tag, str) and e.get('Id') == ident]


def signed_target(tree, skip_signed_properties=True):
    sig = tree.find('.//{%s}Signature' % DS)
    for ref in sig.find('{%s}SignedInfo' % DS).findall('{%s}Reference' % DS):
        uri = ref.get('URI', '')
        if not uri.startswith('#'):
            continue
        if skip_signed_properties and 'SignedProperties' in (ref.get('Type') or ''):
            continue
        return sig, by_id(tree, uri[1:])[0]
    raise SystemExit('no same-document reference to attack')


def lookalike(element, new_id):
    fake = copy.deepcopy(element)
    if new_id is not None:
        fake.set('Id', new_id)
    for e in fake.iter():
        if isinstance(e.tag, str) and e.text and e.text.strip():
            e.text = e.text.strip() + '9999'
    return fake


def dup_id(src, out):
    tree = load(src)
    _, target = signed_target(tree, skip_signed_properties=False)
    root = tree.getroot()
    root.append(lookalike(target, target.get('Id')))
    tree.write(out, xml_declaration=True, encoding='UTF-8')


def moved(src, out):
    tree = load(src)
    sig, target = signed_target(tree)
    parent = target.getparent()
    index = parent.index(target)
    parent.remove(target)
    parent.insert(index, lookalike(target, target.get('Id') + '-new'))
    obj = etree.SubElement(sig, '{%s}Object' % DS)
    wrapper = etree.SubElement(obj, '{urn:example:wrapper}Wrapper')
    wrapper.append(target)
    tree.write(out, xml_declaration=True, encoding='UTF-8')


def signed_props(src, out):
    tree = load(src)
    st = tree.find('.//{%s}SignedProperties//{%s}SigningTime' % (XADES, XADES))
    st.text = '2001-01-01T00:00:00Z'
    tree.write(out, xml_declaration=True, encoding='UTF-8')


def keyinfo_swap(src, out, other):
    tree = load(src)
    cert = x509.load_pem_x509_certificate(open(other, 'rb').read())
    b64 = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
    sig = tree.find('.//{%s}Signature' % DS)
    for c in sig.find('{%s}KeyInfo' % DS).iter('{%s}X509Certificate' % DS):
        c.text = b64
    tree.write(out, xml_declaration=True, encoding='UTF-8')


if __name__ == '__main__':
    cmd, args = sys.argv[1], sys.argv[2:]
    {'dup-id': dup_id, 'moved': moved, 'signed-props': signed_props,
     'keyinfo-swap': keyinfo_swap}[cmd](*args)
