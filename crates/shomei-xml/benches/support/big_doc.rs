//! The large document used by the `c14n_stream` bench and the `stream_rss` example.

/// An invoice-like document of about `target` bytes: records under a root with a default
/// and a prefixed namespace declaration.
pub(crate) fn big_document(target: usize) -> String {
    let mut s = String::with_capacity(target + 256);
    s.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    s.push_str("<inv:Invoice xmlns=\"urn:example:items\" xmlns:inv=\"urn:example:invoice\" version=\"2\">\n");
    let mut i = 0u64;
    while s.len() < target {
        s.push_str(&format!(
            "<item id=\"i{i}\" kind=\"x\"><name>Item number {i}, standard</name><amount currency=\"EUR\">12.50</amount><note>text &amp; more</note></item>\n"
        ));
        i += 1;
    }
    s.push_str("</inv:Invoice>\n");
    s
}
