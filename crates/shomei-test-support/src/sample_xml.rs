//! Generated XML documents for benchmarks.

use std::io::Write;

/// An XMLDSig template (enveloped, exclusive C14N, RSA-SHA256) for `xmlsec1 --sign`, so
/// the peer signs the same content with the same transforms.
pub const XMLSEC_TEMPLATE: &str = "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">\
<ds:SignedInfo><ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>\
<ds:SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256\"/>\
<ds:Reference URI=\"\"><ds:Transforms>\
<ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>\
<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/></ds:Transforms>\
<ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/><ds:DigestValue/>\
</ds:Reference></ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo><ds:X509Data/></ds:KeyInfo>\
</ds:Signature>";

/// Writes an invoice-like document of at least `target` bytes: namespaced records with
/// attributes, escaped text, Japanese text, comments. With `template`, the document
/// element ends with [`XMLSEC_TEMPLATE`]. Returns the number of bytes written.
pub fn write_large<W: Write>(mut w: W, target: u64, template: bool) -> std::io::Result<u64> {
    let head = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
<inv:Invoices xmlns:inv=\"urn:example:invoice\" xmlns:cur=\"urn:example:currency\" \
xmlns=\"urn:example:default\">\n";
    w.write_all(head.as_bytes())?;
    let mut n = head.len() as u64;
    let mut i = 0u64;
    while n < target {
        let rec = format!(
            "  <inv:Item id=\"i{i}\" kind=\"{kind}\">\n    <name>Item {i} \u{5546}\u{54c1}</name>\n    \
<cur:Amount currency=\"EUR\" cur:rate=\"1.{r}\">{a}.{c:02}</cur:Amount>\n    \
<note>tea &amp; biscuits &lt;{i}&gt; \u{5099}\u{8003}</note><!-- c{i} -->\n  </inv:Item>\n",
            kind = if i.is_multiple_of(3) { "goods" } else { "service" },
            r = i % 97,
            a = i % 1000,
            c = i % 100,
        );
        w.write_all(rec.as_bytes())?;
        n += rec.len() as u64;
        i += 1;
    }
    if template {
        w.write_all(XMLSEC_TEMPLATE.as_bytes())?;
        n += XMLSEC_TEMPLATE.len() as u64;
    }
    w.write_all(b"</inv:Invoices>\n")?;
    w.flush()?;
    Ok(n + 16)
}
