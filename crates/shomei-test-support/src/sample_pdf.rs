//! Reproducible sample PDFs written from scratch (no third-party producer involved).

use std::io::{self, Write};

/// Counts bytes as they are written, so xref offsets are known without buffering.
struct Counting<W> {
    inner: W,
    pos: u64,
}

impl<W: Write> Counting<W> {
    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.inner.write_all(bytes)?;
        self.pos += bytes.len() as u64;
        Ok(())
    }
}

fn finish<W: Write>(w: &mut Counting<W>, offsets: &[u64], root: u32, info: u32) -> io::Result<()> {
    let xref = w.pos;
    let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1);
    for off in offsets {
        table.push_str(&format!("{off:010} 00000 n \n"));
    }
    w.put(table.as_bytes())?;
    w.put(
        format!(
            "trailer\n<< /Size {} /Root {root} 0 R /Info {info} 0 R /ID [<73686f6d65692d73616d706c652d3031> <73686f6d65692d73616d706c652d3031>] >>\nstartxref\n{xref}\n%%EOF\n",
            offsets.len() + 1
        )
        .as_bytes(),
    )
}

/// A PDF 1.7 whose object `i + 1` is `objects[i]` (the catalog first), with a classic
/// cross-reference table: the smallest file for a test to shape by hand.
pub fn from_objects(objects: &[&[u8]]) -> Vec<u8> {
    let mut pdf = b"%PDF-1.7\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        pdf.extend_from_slice(body);
        pdf.extend_from_slice(b"\nendobj\n");
    }
    let xref = pdf.len();
    pdf.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        pdf.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    pdf
}

/// `pdf` (made by [`from_objects`] or another writer, catalog object 1) with an
/// incremental update defining `objects` (number, body); `size` is the new /Size.
pub fn with_update(pdf: &[u8], objects: &[(u32, &[u8])], size: u32) -> Vec<u8> {
    let text = String::from_utf8_lossy(pdf);
    let prev: usize = text
        .rsplit("startxref")
        .next()
        .and_then(|t| t.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("the PDF has a startxref");
    let mut out = pdf.to_vec();
    let mut at = Vec::new();
    for (n, body) in objects {
        at.push((*n, out.len()));
        out.extend_from_slice(format!("{n} 0 obj\n").as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(b"xref\n0 1\n0000000000 65535 f \n");
    for (n, o) in at {
        out.extend_from_slice(format!("{n} 1\n{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size {size} /Root 1 0 R /Prev {prev} >>\nstartxref\n{xref}\n%%EOF\n")
            .as_bytes(),
    );
    out
}

/// A one-page PDF 1.7 with a classic cross-reference table showing `text`.
pub fn one_page(text: &str) -> Vec<u8> {
    let mut w = Counting {
        inner: Vec::new(),
        pos: 0,
    };
    let mut offsets = Vec::new();
    let escaped: String = text
        .chars()
        .filter(|c| c.is_ascii() && !c.is_ascii_control())
        .flat_map(|c| match c {
            '(' | ')' | '\\' => vec!['\\', c],
            _ => vec![c],
        })
        .collect();
    let content = format!("BT /F1 24 Tf 72 720 Td ({escaped}) Tj ET\n");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>".to_string(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
        format!("<< /Length {} >>\nstream\n{content}endstream", content.len()),
        "<< /Title (shomei sample) /Producer (shomei-test-support) >>".to_string(),
    ];
    w.put(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n").unwrap();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(w.pos);
        w.put(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes())
            .unwrap();
    }
    finish(&mut w, &offsets, 1, 6).unwrap();
    w.inner
}

/// Streams a PDF of at least `target_bytes` made of pages that each show one large
/// uncompressed grey image (deterministic pseudo-random pixels), writing through `out`
/// with constant memory. Returns the bytes written.
pub fn write_large<W: Write>(out: W, target_bytes: u64) -> io::Result<u64> {
    const SIDE: u64 = 2048; // 4 MiB per image
    let image_len = SIDE * SIDE;
    let pages = target_bytes.div_ceil(image_len).max(1);
    let mut w = Counting { inner: out, pos: 0 };
    let mut offsets = Vec::new();
    w.put(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")?;
    // 1 catalog, 2 pages, 3 info; then per page: page, content, image.
    let kids: Vec<String> = (0..pages).map(|i| format!("{} 0 R", 4 + 3 * i)).collect();
    let fixed = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        format!(
            "<< /Type /Pages /Kids [{}] /Count {pages} >>",
            kids.join(" ")
        ),
        "<< /Title (shomei large sample) /Producer (shomei-test-support) >>".to_string(),
    ];
    for (i, body) in fixed.iter().enumerate() {
        offsets.push(w.pos);
        w.put(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes())?;
    }
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut row = vec![0u8; SIDE as usize];
    for p in 0..pages {
        let page = 4 + 3 * p;
        offsets.push(w.pos);
        w.put(format!("{page} 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /Im0 {} 0 R >> >> /Contents {} 0 R >>\nendobj\n", page + 2, page + 1).as_bytes())?;
        let content = "q 612 0 0 792 0 0 cm /Im0 Do Q\n";
        offsets.push(w.pos);
        w.put(
            format!(
                "{} 0 obj\n<< /Length {} >>\nstream\n{content}endstream\nendobj\n",
                page + 1,
                content.len()
            )
            .as_bytes(),
        )?;
        offsets.push(w.pos);
        w.put(format!("{} 0 obj\n<< /Type /XObject /Subtype /Image /Width {SIDE} /Height {SIDE} /ColorSpace /DeviceGray /BitsPerComponent 8 /Length {image_len} >>\nstream\n", page + 2).as_bytes())?;
        for _ in 0..SIDE {
            for chunk in row.chunks_mut(8) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let bytes = state.to_le_bytes();
                chunk.copy_from_slice(&bytes[..chunk.len()]);
            }
            w.put(&row)?;
        }
        w.put(b"\nendstream\nendobj\n")?;
    }
    finish(&mut w, &offsets, 1, 3)?;
    w.inner.flush()?;
    Ok(w.pos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_page_has_valid_structure() {
        let pdf = one_page("hello (world)");
        assert!(pdf.starts_with(b"%PDF-1.7"));
        assert!(pdf.ends_with(b"%%EOF\n"));
        let text = String::from_utf8_lossy(&pdf);
        let startxref: usize = text
            .rsplit("startxref\n")
            .next()
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(pdf[startxref..].starts_with(b"xref"));
        assert!(text.contains("(hello \\(world\\))"));
    }

    #[test]
    fn large_reaches_its_target() {
        let mut sink = Vec::new();
        let n = write_large(&mut sink, 5 << 20).unwrap();
        assert_eq!(n, sink.len() as u64);
        assert!(n >= 5 << 20);
    }
}
