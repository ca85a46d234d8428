//! Writing objects back as PDF syntax (ISO 32000-1 §7.3).

use crate::lexer::is_regular;
use crate::object::{Dictionary, Object};

/// Appends the PDF syntax of `obj` to `out`.
pub(crate) fn write_object(out: &mut Vec<u8>, obj: &Object) {
    match obj {
        Object::Null => out.extend_from_slice(b"null"),
        Object::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Object::Integer(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Object::Real(r) => write_real(out, *r),
        Object::String(s) => write_literal(out, s),
        Object::HexString(s) => write_hex(out, s),
        Object::Name(n) => write_name(out, n),
        Object::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                write_object(out, item);
            }
            out.push(b']');
        }
        Object::Dictionary(d) => write_dict(out, d),
        Object::Stream(s) => {
            let mut dict = s.dict.clone();
            dict.set(
                "Length",
                Object::Integer(i64::try_from(s.data.len()).unwrap_or(i64::MAX)),
            );
            write_dict(out, &dict);
            out.extend_from_slice(b"\nstream\n");
            out.extend_from_slice(&s.data);
            out.extend_from_slice(b"\nendstream");
        }
        Object::Reference(id) => {
            out.extend_from_slice(format!("{} {} R", id.number, id.generation).as_bytes());
        }
    }
}

/// Appends `<< /Key value ... >>`.
pub(crate) fn write_dict(out: &mut Vec<u8>, dict: &Dictionary) {
    out.extend_from_slice(b"<<");
    for (k, v) in dict.iter() {
        out.push(b' ');
        write_name(out, k);
        out.push(b' ');
        write_object(out, v);
    }
    out.extend_from_slice(b" >>");
}

fn write_real(out: &mut Vec<u8>, r: f64) {
    if !r.is_finite() {
        out.push(b'0');
        return;
    }
    // Rust's Display never uses exponents, which PDF does not allow.
    let mut s = format!("{r}");
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    if s.is_empty() || s == "-" || s == "-0" {
        s = "0".into();
    }
    out.extend_from_slice(s.as_bytes());
}

/// Appends a name with `#xx` escapes for anything that is not a plain regular character.
pub(crate) fn write_name(out: &mut Vec<u8>, name: &[u8]) {
    out.push(b'/');
    for &b in name {
        if is_regular(b) && b != b'#' && (0x21..=0x7e).contains(&b) {
            out.push(b);
        } else {
            out.extend_from_slice(format!("#{b:02X}").as_bytes());
        }
    }
}

/// Appends a literal string, escaping what must be escaped.
pub(crate) fn write_literal(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'(');
    for &b in s {
        match b {
            b'(' | b')' | b'\\' => {
                out.push(b'\\');
                out.push(b);
            }
            // Unescaped CR or CRLF would be read back as LF (§7.3.4.2).
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\n' => out.extend_from_slice(b"\\n"),
            _ => out.push(b),
        }
    }
    out.push(b')');
}

/// Appends a hex string.
pub(crate) fn write_hex(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'<');
    for b in s {
        out.extend_from_slice(format!("{b:02X}").as_bytes());
    }
    out.push(b'>');
}

/// Encodes a text string (§7.9.2.2): PDFDocEncoding for printable ASCII, else UTF-16BE with BOM.
pub fn text_string(text: &str) -> Object {
    if text
        .bytes()
        .all(|b| (0x20..0x7f).contains(&b) || b == b'\n' || b == b'\t')
    {
        Object::String(text.as_bytes().to_vec())
    } else {
        let mut bytes = vec![0xfe, 0xff];
        for unit in text.encode_utf16() {
            bytes.extend_from_slice(&unit.to_be_bytes());
        }
        Object::HexString(bytes)
    }
}

/// Decodes a text string (UTF-16BE with BOM, UTF-8 with BOM, or PDFDocEncoding read as Latin-1).
pub fn decode_text(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(&[0xfe, 0xff]) {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| match c {
                [a, b] => u16::from_be_bytes([*a, *b]),
                _ => 0,
            })
            .collect();
        String::from_utf16_lossy(&units)
    } else if let Some(rest) = bytes.strip_prefix(&[0xef, 0xbb, 0xbf]) {
        String::from_utf8_lossy(rest).into_owned()
    } else {
        // PDFDocEncoding agrees with Latin-1 for the characters field names use.
        bytes.iter().map(|&b| char::from(b)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexer::SliceSource;
    use crate::parser::Parser;

    #[test]
    fn round_trip() {
        let mut d = Dictionary::new();
        d.set("A b", Object::String(b"x(y)\\\r\n".to_vec()));
        d.set("R", Object::Real(0.25));
        d.set("T", text_string("Zürich"));
        let obj = Object::Dictionary(d);
        let mut out = Vec::new();
        write_object(&mut out, &obj);
        let mut s = SliceSource::new(&out, 0);
        assert_eq!(Parser::new(&mut s).object().unwrap(), obj);
    }

    #[test]
    fn text() {
        assert_eq!(text_string("abc"), Object::String(b"abc".to_vec()));
        assert_eq!(
            decode_text(text_string("Zürich").as_string_bytes().unwrap()),
            "Zürich"
        );
    }
}
