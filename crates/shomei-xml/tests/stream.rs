//! `canonicalize_stream` against the tree path (`Document::parse_with` +
//! `canonicalize_excluding(doc, None, None, ..)`), on the fixtures and on generated
//! documents, and against libxml2 on generated documents (the tree and stream paths share
//! their canonical writer, so an independent oracle is needed too).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // test helpers, not only #[test] fns

mod common;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use shomei_xml::{
    canonicalize_excluding, canonicalize_reader, canonicalize_stream, C14nMethod, Document,
    IdValues, LimitKind, Limits, NodeKind, StreamSummary, XmlError,
};

/// Every method, including an exclusive PrefixList naming the default namespace and
/// prefixes used in the fixtures and generated documents.
fn methods() -> Vec<C14nMethod> {
    let mut m = Vec::new();
    for comments in [false, true] {
        m.push(C14nMethod::Inclusive10 { comments });
        m.push(C14nMethod::Inclusive11 { comments });
        m.push(C14nMethod::Exclusive {
            comments,
            inclusive_prefixes: vec![],
        });
        m.push(C14nMethod::Exclusive {
            comments,
            inclusive_prefixes: ["#default", "ds", "a", "xades", "soap", "b", "xml"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
        });
    }
    m
}

fn tree(bytes: &[u8], limits: &Limits, method: &C14nMethod) -> Result<Vec<u8>, XmlError> {
    let doc = Document::parse_with(bytes, limits)?;
    let mut out = Vec::new();
    canonicalize_excluding(&doc, None, None, method, &mut out)?;
    Ok(out)
}

fn stream(
    bytes: &[u8],
    limits: &Limits,
    method: &C14nMethod,
) -> Result<(Vec<u8>, StreamSummary), XmlError> {
    let mut out = Vec::new();
    let s = canonicalize_stream(bytes, limits, method, &mut out)?;
    Ok((out, s))
}

/// A reader that hands out its bytes a few at a time, in read sizes that cycle through
/// `sizes`, so that reads (and the parser's window) end at every kind of place: inside
/// names, references, multi-byte characters, CR LF pairs, `]]>`.
struct Trickle<'a> {
    data: &'a [u8],
    sizes: &'a [usize],
    n: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let size = self.sizes[self.n % self.sizes.len()];
        self.n += 1;
        let k = size.min(buf.len()).min(self.data.len());
        buf[..k].copy_from_slice(&self.data[..k]);
        self.data = &self.data[k..];
        Ok(k)
    }
}

/// Read sizes for [`Trickle`]: one byte at a time, small primes, and large reads.
const READ_SIZES: &[&[usize]] = &[&[1], &[2, 3, 5, 7, 11, 13], &[4096, 17, 65536]];

fn reader(
    bytes: &[u8],
    sizes: &[usize],
    limits: &Limits,
    method: &C14nMethod,
) -> Result<(Vec<u8>, StreamSummary), XmlError> {
    let mut out = Vec::new();
    let mut r = Trickle {
        data: bytes,
        sizes,
        n: 0,
    };
    let s = canonicalize_reader(&mut r, limits, method, &IdValues::All, &mut out)?;
    Ok((out, s))
}

/// The reader path agrees with the slice path: the same output and summary, or an error
/// of the same kind (which fault is named first and where may differ, as documented).
fn same_through_reader(name: &str, bytes: &[u8], limits: &Limits, m: &C14nMethod) {
    let s = stream(bytes, limits, m);
    for sizes in READ_SIZES {
        let r = reader(bytes, sizes, limits, m);
        match (&s, &r) {
            (Ok(s), Ok(r)) => {
                assert!(
                    s.0 == r.0,
                    "{name} {m:?} {sizes:?}: outputs differ\n--- slice\n{}\n--- reader\n{}",
                    String::from_utf8_lossy(&s.0),
                    String::from_utf8_lossy(&r.0)
                );
                assert_eq!(s.1, r.1, "{name} {m:?} {sizes:?}: summaries differ");
            }
            (Err(_), Err(_)) => {}
            _ => panic!("{name} {m:?} {sizes:?}: slice {s:?} but reader {r:?}"),
        }
    }
}

/// Asserts that both paths agree on `bytes` (output, or error text including its position)
/// for every method, and that the reader path agrees with them; returns whether the
/// document was accepted.
fn same(name: &str, bytes: &[u8], limits: &Limits) -> bool {
    let mut accepted = None;
    for m in methods() {
        same_through_reader(name, bytes, limits, &m);
        let t = tree(bytes, limits, &m);
        let s = stream(bytes, limits, &m);
        match (&t, &s) {
            (Ok(t), Ok((s, _))) => assert!(
                t == s,
                "{name} {m:?}: outputs differ\n--- tree\n{}\n--- stream\n{}",
                String::from_utf8_lossy(t),
                String::from_utf8_lossy(s)
            ),
            (Err(t), Err(s)) => {
                assert_eq!(
                    std::mem::discriminant(t),
                    std::mem::discriminant(s),
                    "{name}: {t} / {s}"
                );
                assert_eq!(t.to_string(), s.to_string(), "{name}");
            }
            _ => panic!("{name} {m:?}: tree {t:?} but stream {s:?}"),
        }
        accepted = Some(t.is_ok());
    }
    if accepted == Some(true) {
        check_summary(name, bytes, limits);
    }
    accepted.unwrap_or(false)
}

/// The summary agrees with what the tree says.
fn check_summary(name: &str, bytes: &[u8], limits: &Limits) {
    let doc = Document::parse_with(bytes, limits).unwrap();
    let (_, s) = stream(bytes, limits, &methods()[0]).unwrap();
    assert_eq!(
        s.declared_encoding.as_deref(),
        doc.declared_encoding(),
        "{name}"
    );
    assert_eq!(s.has_doctype, doc.has_doctype(), "{name}");
    let Some(NodeKind::Element {
        prefix,
        local_name,
        namespace,
    }) = doc.kind(doc.root())
    else {
        panic!("{name}: root is not an element")
    };
    assert_eq!(s.root_prefix.as_deref(), prefix, "{name}");
    assert_eq!(s.root_local_name, local_name, "{name}");
    assert_eq!(s.root_namespace.as_deref(), namespace, "{name}");
    assert_eq!(
        s.root_is_empty,
        doc.children(doc.root()).next().is_none(),
        "{name}"
    );
    for id in &s.ids {
        match doc.find_by_id(id) {
            Ok(Some(_)) => assert_ne!(s.duplicate_id.as_ref(), Some(id), "{name}"),
            Err(XmlError::DuplicateId { .. }) => {}
            other => panic!("{name}: Id {id} not found by the tree: {other:?}"),
        }
    }
    if let Some(d) = &s.duplicate_id {
        assert!(s.ids.contains(d), "{name}");
        assert!(
            matches!(doc.find_by_id(d), Err(XmlError::DuplicateId { .. })),
            "{name}"
        );
    }
    // Every Id the tree knows is in the summary.
    for n in doc.descendants(doc.root()) {
        for (ns, local, value) in doc.attributes(n) {
            let is_id = match ns {
                None => matches!(local, "Id" | "ID" | "id"),
                Some(shomei_xml::XML_NS) => local == "id",
                Some(_) => false,
            };
            if is_id {
                assert!(s.ids.contains(value), "{name}: Id {value} missing");
            }
        }
    }
}

fn xml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            xml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "xml") {
            out.push(p);
        }
    }
}

fn fixture_files(sub: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    xml_files(&common::fixtures().join(sub), &mut files);
    files.sort();
    files
}

#[test]
fn unsigned_fixtures_match_tree_for_every_method() {
    let files = fixture_files("xml-unsigned");
    assert!(files.len() >= 20, "only {} fixtures", files.len());
    let (mut ok, mut refused) = (0, 0);
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        if same(&f.display().to_string(), &bytes, &Limits::default()) {
            ok += 1;
        } else {
            refused += 1;
        }
    }
    // The bomb, W3C 3.5 and the Japanese spec (entity declarations) are refused.
    assert_eq!(refused, 3, "refusals");
    assert!(ok >= 17, "only {ok} accepted");
}

#[test]
fn signed_fixtures_match_tree_for_every_method() {
    let files = fixture_files("xml-signed");
    assert!(files.len() >= 30, "only {} fixtures", files.len());
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        assert!(
            same(&f.display().to_string(), &bytes, &Limits::default()),
            "{} refused",
            f.display()
        );
    }
}

#[test]
fn fixture_summaries() {
    let (_, s) = stream(
        &common::read("xml-unsigned/japanese/weekly-shift_jis.xml"),
        &Limits::default(),
        &C14nMethod::Inclusive10 { comments: false },
    )
    .unwrap();
    assert_eq!(s.declared_encoding.as_deref(), Some("Shift_JIS"));
    assert!(s.has_doctype);
    let (_, s) = stream(
        &common::read("xml-signed/santuario_phaos_signature-rsa-enveloped.xml"),
        &Limits::default(),
        &C14nMethod::Inclusive10 { comments: false },
    )
    .unwrap();
    assert!(!s.has_doctype && !s.root_is_empty);
    let (out, s) = stream(
        br#"<?xml version="1.0"?><!-- c --><x:r xmlns:x="urn:r" Id="a"><e id="b"/><f ID="c" xml:id="d"/><g Id="a"/></x:r>"#,
        &Limits::default(),
        &C14nMethod::Exclusive { comments: false, inclusive_prefixes: vec![] },
    )
    .unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        r#"<x:r xmlns:x="urn:r" Id="a"><e id="b"></e><f ID="c" xml:id="d"></f><g Id="a"></g></x:r>"#
    );
    assert_eq!(s.root_prefix.as_deref(), Some("x"));
    assert_eq!(s.root_local_name, "r");
    assert_eq!(s.root_namespace.as_deref(), Some("urn:r"));
    assert_eq!(s.declared_encoding, None);
    let mut ids: Vec<_> = s.ids.iter().map(String::as_str).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["a", "b", "c", "d"]);
    assert_eq!(s.duplicate_id.as_deref(), Some("a"));
    for (doc, empty) in [
        ("<r/>", true),
        ("<r></r>", true),
        ("<!--x--><r></r><?p?>", true),
        ("<r> </r>", false),
        ("<r><![CDATA[]]></r>", true),
        ("<r><!--c--></r>", false),
        ("<r><?p?></r>", false),
    ] {
        let (_, s) = stream(
            doc.as_bytes(),
            &Limits::default(),
            &C14nMethod::Inclusive10 { comments: false },
        )
        .unwrap();
        assert_eq!(s.root_is_empty, empty, "{doc}");
        same(doc, doc.as_bytes(), &Limits::default());
    }
}

// ---- safety: the same refusals through the stream ----

fn stream_err(bytes: &[u8], limits: &Limits) -> XmlError {
    let e = stream(
        bytes,
        limits,
        &C14nMethod::Exclusive {
            comments: false,
            inclusive_prefixes: vec![],
        },
    )
    .unwrap_err();
    let t = Document::parse_with(bytes, limits).unwrap_err();
    assert_eq!(e.to_string(), t.to_string());
    e
}

#[test]
fn bomb_refused_through_stream() {
    let e = stream_err(
        &common::read("xml-unsigned/pyhanko_xmlbomb.xml"),
        &Limits::default(),
    );
    match e {
        XmlError::EntityDeclared { name, position } => {
            assert_eq!(name, "a");
            assert_eq!((position.line, position.column), (2, 1));
        }
        other => panic!("unexpected {other:?}"),
    }
    let xxe = br#"<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>"#;
    assert!(
        matches!(stream_err(xxe, &Limits::default()), XmlError::EntityDeclared { name, .. } if name == "x")
    );
    let peref = br#"<!DOCTYPE a [%p;]><a/>"#;
    assert!(matches!(
        stream_err(peref, &Limits::default()),
        XmlError::Dtd { .. }
    ));
    assert!(matches!(
        stream_err(b"<a>&nbsp;</a>", &Limits::default()),
        XmlError::UnknownEntity { .. }
    ));
}

fn limit_kind(e: &XmlError) -> Option<LimitKind> {
    match e {
        XmlError::Limit { kind, .. } => Some(*kind),
        _ => None,
    }
}

#[test]
fn limits_refused_through_stream() {
    let mut l = Limits::default();
    l.max_depth = 10;
    let deep = format!("{}{}", "<a>".repeat(11), "</a>".repeat(11));
    assert_eq!(
        limit_kind(&stream_err(deep.as_bytes(), &l)),
        Some(LimitKind::Depth)
    );
    let ok = format!("{}{}", "<a>".repeat(10), "</a>".repeat(10));
    assert!(same("depth 10", ok.as_bytes(), &l));

    let mut l = Limits::default();
    l.max_attributes = 4;
    let many = "<a xmlns:p='urn:p' b='1' c='2' d='3' e='4'/>";
    assert_eq!(
        limit_kind(&stream_err(many.as_bytes(), &l)),
        Some(LimitKind::Attributes)
    );

    let mut l = Limits::default();
    l.max_input_bytes = 1 << 20;
    let huge = format!("<a v='{}'/>", "x".repeat(1 << 20));
    assert_eq!(
        limit_kind(&stream_err(huge.as_bytes(), &l)),
        Some(LimitKind::InputBytes)
    );
    // A huge attribute within the input limit is refused by its own limit, and an
    // attribute within both limits is fine and identical.
    l.max_input_bytes = 4 << 20;
    l.max_attribute_bytes = (1 << 20) - 1;
    assert_eq!(
        limit_kind(&stream_err(huge.as_bytes(), &l)),
        Some(LimitKind::AttributeBytes)
    );
    l.max_attribute_bytes = 2 << 20;
    assert!(same("huge attribute", huge.as_bytes(), &l));

    let mut l = Limits::default();
    l.max_name_len = 8;
    assert_eq!(
        limit_kind(&stream_err(b"<abcdefghi/>", &l)),
        Some(LimitKind::NameLength)
    );
}

/// The node limit counts what the tree would hold: adjacent text and CDATA make one node,
/// comments count whether or not the method keeps them. Every budget from 1 to beyond the
/// document's node count must give the same result on both paths.
#[test]
fn node_limit_counts_like_the_tree() {
    let doc =
        b"<!--a--><?p x?><r>t<![CDATA[c]]>&amp;<e/><!--b-->x<![CDATA[]]><f>y</f><?q?></r><!--z-->";
    let mut accepted_at = None;
    for n in 1..20 {
        let mut l = Limits::default();
        l.max_nodes = n;
        if same(&format!("max_nodes {n}"), doc, &l) && accepted_at.is_none() {
            accepted_at = Some(n);
        }
    }
    // document, comment, PI, r, "tc&", e, comment, "x", f, "y", PI, comment.
    assert_eq!(accepted_at, Some(12));
}

struct FailingSink {
    after: usize,
    written: usize,
}

impl Write for FailingSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.written + buf.len() > self.after {
            return Err(std::io::Error::other("disk full"));
        }
        self.written += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Records the size of every write, to show the output is streamed in bounded blocks.
#[derive(Default)]
struct Chunks {
    sizes: Vec<usize>,
    bytes: Vec<u8>,
}

impl Write for Chunks {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.sizes.push(buf.len());
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn output_is_streamed_and_sink_errors_reported() {
    let mut doc = String::from("<r xmlns='urn:d'>");
    for i in 0..20_000 {
        doc.push_str(&format!("<i n='{i}'>v &amp; w</i>"));
    }
    doc.push_str("</r>");
    let m = C14nMethod::Inclusive11 { comments: false };
    let mut c = Chunks::default();
    canonicalize_stream(doc.as_bytes(), &Limits::default(), &m, &mut c).unwrap();
    assert!(c.sizes.len() > 5, "{:?}", c.sizes);
    assert!(c.sizes.iter().all(|s| *s < 70_000), "{:?}", c.sizes);
    assert_eq!(
        c.bytes,
        tree(doc.as_bytes(), &Limits::default(), &m).unwrap()
    );

    let mut sink = FailingSink {
        after: 100_000,
        written: 0,
    };
    let e = canonicalize_stream(doc.as_bytes(), &Limits::default(), &m, &mut sink).unwrap_err();
    assert!(matches!(e, XmlError::Io(_)), "{e:?}");
    assert!(e.to_string().contains("disk full"), "{e}");
}

// ---- generated documents ----

/// xorshift64*: deterministic, so a failure names a reproducible seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n).unwrap()).unwrap()
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

const PREFIXES: &[&str] = &["a", "b", "ds", "xades"];
const URIS: &[&str] = &[
    "http://a.example/",
    "http://b.example/ns",
    "urn:x-test:c",
    "http://www.w3.org/2000/09/xmldsig#",
    "http://q.example/?a=1&amp;b=%22",
];
const TEXT: &[&str] = &[
    "text",
    " ",
    "\n",
    "\r\n",
    "\r",
    "\t",
    "&amp;",
    "&lt;",
    "&gt;",
    "&quot;",
    "&apos;",
    "&#xD;",
    "&#13;",
    "&#x9;",
    "&#233;",
    "&#x65E5;",
    "é",
    "日本",
    ">",
    "]]",
    "\"'",
    "&#x10000;",
];
const ATTR_TEXT: &[&str] = &[
    "v", " ", "\n", "\r\n", "\r", "\t", "&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&#xD;",
    "&#xA;", "&#9;", "é", ">", "日",
];

fn gen_text(r: &mut Rng, pieces: &[&str], n: usize) -> String {
    (0..r.below(n) + 1).map(|_| r.pick(pieces)).collect()
}

fn gen_misc(r: &mut Rng, out: &mut String) {
    match r.below(4) {
        0 => out.push_str(&format!("<!--{}-->", r.pick(&[" c ", "", "x\ny", "é<&>"]))),
        1 => out.push_str(&format!(
            "<?{}?>",
            r.pick(&["pi", "pi data", "app-x  a=\"b\" "])
        )),
        2 => out.push_str(r.pick(&["\n", " ", "\n\t"])),
        _ => {}
    }
}

fn gen_element(r: &mut Rng, depth: usize, bound: &mut Vec<&'static str>, out: &mut String) {
    let mark = bound.len();
    let mut decls = String::new();
    if r.chance(30) {
        let uri = if r.chance(30) { "" } else { r.pick(URIS) };
        decls.push_str(&format!(" xmlns=\"{uri}\""));
    }
    let mut declared = Vec::new();
    for _ in 0..r.below(3) {
        let p = r.pick(PREFIXES);
        if !declared.contains(&p) {
            declared.push(p);
            decls.push_str(&format!(" xmlns:{p}=\"{}\"", r.pick(URIS)));
        }
    }
    bound.extend(&declared);
    let name = if !bound.is_empty() && r.chance(50) {
        format!(
            "{}:{}",
            bound[r.below(bound.len())],
            r.pick(&["e", "Signature", "item"])
        )
    } else {
        r.pick(&["e", "item", "data", "r"]).to_owned()
    };
    out.push('<');
    out.push_str(&name);
    let mut attrs: Vec<String> = Vec::new();
    for _ in 0..r.below(4) {
        let an = match r.below(4) {
            0 if !bound.is_empty() => {
                format!("{}:{}", bound[r.below(bound.len())], r.pick(&["x", "attr"]))
            }
            1 => format!("xml:{}", r.pick(&["lang", "space", "id", "base"])),
            _ => r.pick(&["id", "Id", "attr", "b", "a", "z"]).to_owned(),
        };
        if !attrs.contains(&an) {
            attrs.push(an);
        }
    }
    // Attributes and declarations interleaved in document order.
    let mut parts: Vec<String> = attrs
        .iter()
        .map(|an| {
            let v = gen_text(r, ATTR_TEXT, 4);
            if r.chance(50) {
                format!(" {an}=\"{}\"", v.replace('"', "&quot;"))
            } else {
                format!(" {an}='{}'", v.replace('\'', "&apos;"))
            }
        })
        .collect();
    parts.insert(r.below(parts.len() + 1), decls);
    for p in &parts {
        out.push_str(p);
    }
    if depth > 4 || r.chance(20) {
        out.push_str(if r.chance(50) { "/>" } else { " />" });
    } else {
        out.push('>');
        for _ in 0..r.below(5) {
            match r.below(6) {
                0 => gen_element(r, depth + 1, bound, out),
                1 => out.push_str(&gen_text(r, TEXT, 5)),
                2 => out.push_str(&format!(
                    "<![CDATA[{}]]>",
                    r.pick(&["", "<a>&amp;</a>", "x]y", "\r\n\t"])
                )),
                3 => gen_misc(r, out),
                _ => {
                    gen_element(r, depth + 1, bound, out);
                    out.push_str(&gen_text(r, TEXT, 3));
                }
            }
        }
        out.push_str(&format!("</{name}>"));
    }
    bound.truncate(mark);
}

fn gen_doc(r: &mut Rng) -> String {
    let mut out = String::new();
    if r.chance(40) {
        out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    }
    for _ in 0..r.below(3) {
        gen_misc(r, &mut out);
    }
    gen_element(r, 0, &mut Vec::new(), &mut out);
    for _ in 0..r.below(3) {
        gen_misc(r, &mut out);
    }
    if r.chance(15) {
        out = out.replace('\n', "\r\n");
    }
    out
}

/// Breaks a document in a random place, to compare refusals.
fn mutate(r: &mut Rng, doc: &str) -> String {
    let cuts: Vec<usize> = doc.char_indices().map(|(i, _)| i).collect();
    let at = cuts[r.below(cuts.len())];
    let (a, b) = doc.split_at(at);
    let junk = r.pick(&[
        "<",
        "&",
        "&x;",
        "]]>",
        "--",
        "\"",
        "q:",
        "/",
        "\u{1}",
        "xmlns:q=''",
    ]);
    match r.below(3) {
        0 => format!("{a}{junk}{b}"),
        1 => format!("{a}{}", b.get(1..).unwrap_or("")),
        _ => format!("{a}{junk}{}", b.get(1..).unwrap_or("")),
    }
}

#[test]
fn generated_documents_match_tree() {
    let mut r = Rng(0x5EED_0F54_03E1);
    let (mut ok, mut refused) = (0, 0);
    for i in 0..600 {
        let mut doc = gen_doc(&mut r);
        if i % 3 == 2 {
            doc = mutate(&mut r, &doc);
        }
        if same(
            &format!("generated #{i}: {doc}"),
            doc.as_bytes(),
            &Limits::default(),
        ) {
            ok += 1;
        } else {
            refused += 1;
        }
    }
    // Most generated documents are well-formed, the mutated ones often are not.
    assert!(ok > 300 && refused > 80, "ok {ok}, refused {refused}");
}

fn xmllint_stdin(flag: &str, doc: &[u8]) -> Vec<u8> {
    let mut child = Command::new("xmllint")
        .arg(flag)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("xmllint not runnable ({e}); install libxml2-utils"));
    child.stdin.take().unwrap().write_all(doc).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "xmllint {flag} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(doc)
    );
    out.stdout
}

/// libxml2 as an independent oracle for the stream output (its C14N keeps comments).
#[test]
fn generated_documents_match_xmllint() {
    let mut r = Rng(0xC14E_5EED);
    let mut compared = 0;
    while compared < 120 {
        // libxml2 writes namespace URIs without escaping `&` (the spec renders namespace
        // nodes like attributes, escaped, as this crate does), so that URI is left out here.
        let doc = gen_doc(&mut r).replace("?a=1&amp;b=%22", "?a=1");
        if Document::parse(doc.as_bytes()).is_err() {
            continue;
        }
        for (flag, m) in [
            ("--c14n", C14nMethod::Inclusive10 { comments: true }),
            ("--c14n11", C14nMethod::Inclusive11 { comments: true }),
            (
                "--exc-c14n",
                C14nMethod::Exclusive {
                    comments: true,
                    inclusive_prefixes: vec![],
                },
            ),
        ] {
            let (ours, _) = stream(doc.as_bytes(), &Limits::default(), &m).unwrap();
            let theirs = xmllint_stdin(flag, doc.as_bytes());
            assert!(
                ours == theirs,
                "{flag} differs on\n{doc}\n--- ours\n{}\n--- xmllint\n{}",
                String::from_utf8_lossy(&ours),
                String::from_utf8_lossy(&theirs)
            );
        }
        compared += 1;
    }
}

// ---- the reader path: chunk boundaries, Id selection, reader errors ----

/// Every read size from 1 to 40 bytes over documents whose tokens straddle reads in every
/// way: a long text run, references and character references, CR LF pairs, attribute
/// value normalization, `]]` next to `>`, multi-byte characters, a long comment and PI.
#[test]
fn reader_splits_anywhere_like_the_slice() {
    let long_text = "plain text run ".repeat(40);
    let docs = [
        format!("<a>{long_text}&amp;&#x65E5;&#233;&lt;x&gt;]]&gt;]]</a>"),
        "<?xml version=\"1.0\"?>\r\n<a b=\"x\r\ny\tz&#xA;&#9;&amp;\" c='&quot;日本'>\r\nl1\r\rl2\r\n</a>\r\n"
            .to_string(),
        format!("<r xmlns='urn:x' xmlns:p='urn:p'><!--{long_text}--><?pi {long_text}?><p:e p:a='1'>é日本語🙂</p:e><![CDATA[c]]d]]></r>"),
    ];
    let m = C14nMethod::Exclusive {
        comments: true,
        inclusive_prefixes: vec![],
    };
    for doc in &docs {
        let (want, _) = stream(doc.as_bytes(), &Limits::default(), &m).unwrap();
        for size in 1..=40 {
            let (got, _) = reader(doc.as_bytes(), &[size], &Limits::default(), &m).unwrap();
            assert!(
                want == got,
                "read size {size}: {}",
                String::from_utf8_lossy(&got)
            );
        }
    }
    // `]]>` split across reads is still refused.
    for size in 1..=8 {
        let e = reader(b"<a>xx]]>yy</a>", &[size], &Limits::default(), &m).unwrap_err();
        assert!(e.to_string().contains("`]]>` in content"), "{e}");
    }
}

#[test]
fn reader_collects_the_ids_asked_for() {
    let doc = br#"<r Id="id-1"><a id="x"/><b ID="id-2"/><c Id="id-1"/><d id="y"/><e id="x"/></r>"#;
    let m = C14nMethod::Exclusive {
        comments: false,
        inclusive_prefixes: vec![],
    };
    let mut out = Vec::new();
    let only = IdValues::StartingWith("id-".into());
    let s = canonicalize_reader(&mut &doc[..], &Limits::default(), &m, &only, &mut out).unwrap();
    let mut ids: Vec<_> = s.ids.iter().cloned().collect();
    ids.sort();
    assert_eq!(ids, ["id-1", "id-2"]);
    assert_eq!(s.duplicate_id.as_deref(), Some("id-1"));
    let all = canonicalize_reader(
        &mut &doc[..],
        &Limits::default(),
        &m,
        &IdValues::All,
        &mut out,
    )
    .unwrap();
    assert_eq!(all.ids.len(), 4);
    assert_eq!(all.duplicate_id.as_deref(), Some("id-1"));
}

/// Fails after handing out `ok` bytes.
struct FailingReader<'a> {
    data: &'a [u8],
}

impl Read for FailingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.data.is_empty() {
            return Err(std::io::Error::other("disk on fire"));
        }
        let k = buf.len().min(self.data.len()).min(3);
        buf[..k].copy_from_slice(&self.data[..k]);
        self.data = &self.data[k..];
        Ok(k)
    }
}

#[test]
fn reader_errors_and_input_limit() {
    let m = C14nMethod::Inclusive10 { comments: false };
    let mut r = FailingReader {
        data: b"<a>some text</a",
    };
    let e = canonicalize_reader(
        &mut r,
        &Limits::default(),
        &m,
        &IdValues::All,
        &mut Vec::new(),
    )
    .unwrap_err();
    assert!(matches!(e, XmlError::Io(_)), "{e:?}");
    let mut limits = Limits::default();
    limits.max_input_bytes = 100;
    let doc = format!("<a>{}</a>", "x".repeat(200));
    let e = reader(doc.as_bytes(), &[7], &limits, &m).unwrap_err();
    assert_eq!(limit_kind(&e), Some(LimitKind::InputBytes), "{e:?}");
    // Truncated and malformed input is refused as by the slice path.
    for bad in [
        &b"<a>text"[..],
        b"<a><b></a>",
        b"<a>\xff</a>",
        b"\xef\xbb\xbf<a>\xe6\x97</a>",
    ] {
        for size in [1, 2, 5] {
            assert!(reader(bad, &[size], &Limits::default(), &m).is_err());
            assert!(stream(bad, &Limits::default(), &m).is_err());
        }
    }
}

/// Issue 13: character data is escaped by a byte loop when short and by vectorized
/// searches when long (with a separate path when a character reference put a carriage
/// return in it); every path agrees with libxml2.
#[test]
fn escaping_of_short_and_long_text_matches_xmllint() {
    let long = "a long run of plain text without anything to escape in it at all ".repeat(3);
    let docs = [
        "<a>x &amp; &lt; &gt; y</a>".to_string(),
        format!("<a>{long}&amp;{long}&lt;{long}&gt;</a>"),
        format!("<a>{long}&#xD;&amp;{long}&#13;&gt;\r\n{long}</a>"),
        format!("<a b=\"{long}&#xD;&#x9;&#xA;&quot;&lt;&amp;\">&#xD;</a>"),
        format!("<a>]]&gt;{long}é日本🙂&#x10000;</a>"),
    ];
    let m = C14nMethod::Exclusive {
        comments: true,
        inclusive_prefixes: vec![],
    };
    for doc in &docs {
        let (ours, _) = stream(doc.as_bytes(), &Limits::default(), &m).unwrap();
        let theirs = xmllint_stdin("--exc-c14n", doc.as_bytes());
        assert!(
            ours == theirs,
            "{doc}\n--- ours\n{}\n--- xmllint\n{}",
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(&theirs)
        );
        same(doc, doc.as_bytes(), &Limits::default());
    }
}
