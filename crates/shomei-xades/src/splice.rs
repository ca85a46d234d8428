//! Where the signature goes in the original bytes, and which input encodings allow it.

use crate::XadesError;
use serde::{Deserialize, Serialize};
#[cfg(test)]
use shomei_xml::Document;

/// Where to put the signature: `original[..prefix_end] + open + signature + close +
/// original[suffix_start..]`. For a normal root, `open`/`close` are empty and both ends are
/// the start of the root's end tag; for a self-closed root (`<r/>`) the `/` is replaced by
/// `>` (`open`) and the end tag is written (`close`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Insertion {
    pub(crate) prefix_end: usize,
    pub(crate) suffix_start: usize,
    pub(crate) open: String,
    pub(crate) close: String,
}

/// Encodings in which the inserted text (pure ASCII) can be spliced byte for byte, and
/// in which the bytes `<`, `/` and `>` never occur inside a multi-byte character, so a
/// backward byte scan finds the real end tag.
fn splice_safe_encoding(label: &str) -> bool {
    matches!(
        label.to_ascii_lowercase().as_str(),
        "utf-8"
            | "utf8"
            | "us-ascii"
            | "ascii"
            | "iso-8859-1"
            | "iso_8859-1"
            | "iso8859-1"
            | "latin1"
            | "shift_jis"
            | "shift-jis"
            | "sjis"
            | "euc-jp"
    )
}

fn is_utf8_family(declared: Option<&str>) -> bool {
    declared.is_none_or(|l| matches!(l.to_ascii_lowercase().as_str(), "utf-8" | "utf8"))
}

/// What the splice needs to know about the document element.
pub(crate) struct RootFacts<'a> {
    pub(crate) prefix: Option<&'a str>,
    pub(crate) local_name: &'a str,
    pub(crate) has_children: bool,
    pub(crate) declared_encoding: Option<&'a str>,
}

impl<'a> RootFacts<'a> {
    #[cfg(test)]
    fn of(doc: &'a Document) -> Option<Self> {
        let Some(shomei_xml::NodeKind::Element {
            prefix, local_name, ..
        }) = doc.kind(doc.root())
        else {
            return None;
        };
        Some(Self {
            prefix,
            local_name,
            has_children: doc.children(doc.root()).next().is_some(),
            declared_encoding: doc.declared_encoding(),
        })
    }
}

/// Refuses input whose encoding the splice cannot handle yet.
pub(crate) fn check_encoding(declared: Option<&str>) -> Result<(), XadesError> {
    match declared {
        None => Ok(()),
        Some(label) if splice_safe_encoding(label) => Ok(()),
        Some(label) => Err(XadesError::Unsupported(format!(
            "documents encoded as {label}: only UTF-8, US-ASCII, ISO-8859-1, Shift_JIS and \
             EUC-JP input can be signed for now; convert the document to UTF-8 first"
        ))),
    }
}

fn trim_ws(b: &[u8]) -> &[u8] {
    let end = b
        .iter()
        .rposition(|c| !matches!(c, b' ' | b'\t' | b'\r' | b'\n'))
        .map_or(0, |p| p + 1);
    b.get(..end).unwrap_or_default()
}

fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

fn not_found() -> XadesError {
    XadesError::Unsupported(
        "could not locate the end of the document element in the original bytes".into(),
    )
}

/// Finds the end tag of the document element (after which only comments, processing
/// instructions and white space may follow). `root` describes the parse of `bytes`.
pub(crate) fn find_insertion(bytes: &[u8], root: &RootFacts<'_>) -> Result<Insertion, XadesError> {
    let (prefix, local_name) = (root.prefix, root.local_name);
    let qname = match prefix {
        Some(p) => format!("{p}:{local_name}"),
        None => local_name.to_owned(),
    };
    let mut rest = trim_ws(bytes);
    loop {
        if rest.ends_with(b"-->") {
            let start = rfind(rest.get(..rest.len() - 3).unwrap_or_default(), b"<!--")
                .ok_or_else(not_found)?;
            rest = trim_ws(rest.get(..start).unwrap_or_default());
        } else if rest.ends_with(b"?>") {
            let start = rfind(rest.get(..rest.len() - 2).unwrap_or_default(), b"<?")
                .ok_or_else(not_found)?;
            rest = trim_ws(rest.get(..start).unwrap_or_default());
        } else {
            break;
        }
    }
    if !rest.ends_with(b">") {
        return Err(not_found());
    }
    let gt = rest.len() - 1;
    if rest.ends_with(b"/>") {
        // `<root .../>`: an empty document element.
        if root.has_children {
            return Err(not_found());
        }
        // The end tag is written in ASCII; a non-ASCII name would need re-encoding.
        if !qname.is_ascii() {
            return Err(XadesError::Unsupported(
                "a self-closed document element with a non-ASCII name".into(),
            ));
        }
        return Ok(Insertion {
            prefix_end: gt - 1,
            suffix_start: gt,
            open: ">".into(),
            close: format!("</{qname}"),
        });
    }
    let start = rfind(rest, b"</").ok_or_else(not_found)?;
    let name = rest.get(start + 2..gt).map(trim_ws).ok_or_else(not_found)?;
    // In UTF-8 (or for an ASCII name in any accepted encoding) the bytes must match the
    // parsed name; a non-ASCII name in Shift_JIS/EUC-JP/Latin-1 is encoded differently.
    if (qname.is_ascii() || is_utf8_family(root.declared_encoding)) && name != qname.as_bytes() {
        return Err(not_found());
    }
    Ok(Insertion {
        prefix_end: start,
        suffix_start: start,
        open: String::new(),
        close: String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ins(s: &str) -> Insertion {
        let doc = Document::parse(s.as_bytes()).unwrap();
        find_insertion(s.as_bytes(), &RootFacts::of(&doc).unwrap()).unwrap()
    }

    #[test]
    fn end_tag_before_trailing_misc() {
        let s = "<a:r xmlns:a=\"u\"><x/></a:r >\n<!-- c --> <?pi d?>\n";
        let i = ins(s);
        assert_eq!(&s[i.prefix_end..], "</a:r >\n<!-- c --> <?pi d?>\n");
        assert!(i.open.is_empty() && i.close.is_empty());
    }

    #[test]
    fn self_closed_root() {
        let s = "<?xml version=\"1.0\"?><r a=\"1\"/>";
        let i = ins(s);
        assert_eq!(&s[..i.prefix_end], "<?xml version=\"1.0\"?><r a=\"1\"");
        assert_eq!(&s[i.suffix_start..], ">");
        assert_eq!(i.close, "</r");
    }
}
