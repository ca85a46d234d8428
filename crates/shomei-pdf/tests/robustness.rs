//! Hostile input: garbage, truncation, random mutations, and a large file read lazily.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::io::{Cursor, Read, Seek, SeekFrom};

use common::*;
use shomei_pdf::{prepare_signature, PdfError, PdfReader};

fn open_and_prepare(bytes: &[u8]) -> Result<(), PdfError> {
    let mut reader = PdfReader::open(Cursor::new(bytes))?;
    let _ = reader.signature_count();
    prepare_signature(&mut reader, &request(32)).map(|_| ())
}

#[test]
fn garbage_and_empty_input_are_errors() {
    assert!(matches!(open_and_prepare(b""), Err(PdfError::NotPdf)));
    assert!(matches!(
        open_and_prepare(b"hello world"),
        Err(PdfError::NotPdf)
    ));
    assert!(matches!(
        open_and_prepare(&[0u8; 5000]),
        Err(PdfError::NotPdf)
    ));
    assert!(matches!(
        open_and_prepare(b"%PDF-1.7\n"),
        Err(PdfError::Xref { .. })
    ));
    assert!(open_and_prepare(b"%PDF-1.7\nstartxref\n999999\n%%EOF").is_err());
    assert!(
        open_and_prepare(b"%PDF-1.7\nxref\n0 99999999\ntrailer<<>>startxref\n9\n%%EOF").is_err()
    );
    // A /Prev loop, self-referencing xref stream, deep nesting.
    let looped = b"%PDF-1.7\nxref\n0 1\n0000000000 65535 f \ntrailer<</Size 1/Prev 9/Root 1 0 R>>startxref\n9\n%%EOF";
    assert!(open_and_prepare(looped).is_err());
    let mut deep = b"%PDF-1.7\n1 0 obj ".to_vec();
    deep.extend(std::iter::repeat_n(b'[', 100_000));
    deep.extend_from_slice(b"\nxref\n0 2\n0000000000 65535 f \n0000000009 00000 n \ntrailer<</Size 2/Root 1 0 R>>startxref\n");
    let at = deep.len() - 100_000 - 9 - 1;
    let _ = at;
    assert!(open_and_prepare(&deep).is_err());
}

#[test]
fn truncated_fixtures_never_panic() {
    for path in pdfs("pdf-unsigned").into_iter().chain(pdfs("pdf-signed")) {
        let bytes = std::fs::read(&path).unwrap();
        let len = bytes.len();
        let cuts = [
            0,
            1,
            8,
            100,
            len / 4,
            len / 3,
            len / 2,
            len * 2 / 3,
            len.saturating_sub(40),
            len.saturating_sub(10),
            len.saturating_sub(1),
        ];
        for cut in cuts {
            let part = &bytes[..cut.min(len)];
            let res = open_and_prepare(part);
            // A cut exactly after an earlier revision's %%EOF is a valid older revision;
            // anything else must be an error.
            let tail = &part[part.len().saturating_sub(4096)..];
            let has_startxref = tail.windows(9).any(|w| w == b"startxref");
            if !has_startxref {
                assert!(
                    res.is_err(),
                    "{} cut at {cut}: expected an error",
                    name(&path)
                );
            }
        }
    }
}

struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n.max(1)).unwrap()).unwrap()
    }
}

#[test]
fn random_mutations_never_panic() {
    let small: Vec<Vec<u8>> = pdfs("pdf-unsigned")
        .into_iter()
        .chain(pdfs("pdf-signed"))
        .map(|p| std::fs::read(p).unwrap())
        .filter(|b| b.len() <= 20_000)
        .collect();
    assert!(small.len() >= 5);
    let interesting: &[&[u8]] = &[
        b"obj",
        b"endobj",
        b"R",
        b"<<",
        b">>",
        b"[",
        b"]",
        b"(",
        b"stream",
        b"xref",
        b"0",
        b"99999999999",
        b"-1",
        b"/Prev 0",
        b"/Length 5 0 R",
    ];
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let start = std::time::Instant::now();
    let mut errors = 0;
    let mut oks = 0;
    for i in 0..3000 {
        let mut data = small[i % small.len()].clone();
        for _ in 0..=rng.below(4) {
            let at = rng.below(data.len());
            match rng.below(5) {
                0 => data[at] = u8::try_from(rng.next() & 0xff).unwrap(),
                1 => data[at] = b"0123456789 <>[]()/\n"[rng.below(19)],
                2 => {
                    let end = (at + rng.below(64)).min(data.len());
                    data.drain(at..end);
                }
                3 => {
                    let ins = interesting[rng.below(interesting.len())];
                    data.splice(at..at, ins.iter().copied());
                }
                _ => data.truncate(at.max(1)),
            }
            if data.is_empty() {
                data.push(b'%');
            }
        }
        match open_and_prepare(&data) {
            Ok(()) => oks += 1,
            Err(_) => errors += 1,
        }
    }
    println!(
        "mutations: {oks} prepared, {errors} refused in {:?}",
        start.elapsed()
    );
    assert!(oks > 0 && errors > 0);
}

/// Counts the bytes read through it.
struct Counting<R> {
    inner: R,
    read: u64,
}
impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += u64::try_from(n).unwrap();
        Ok(n)
    }
}
impl<R: Seek> Seek for Counting<R> {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(pos)
    }
}

#[test]
fn large_file_is_read_lazily() {
    // A 1-page PDF with a 40 MB content stream: signing must not read the stream.
    let big = 40usize << 20;
    let mut pdf = b"%PDF-1.7\n".to_vec();
    let mut offsets = Vec::new();
    offsets.push(pdf.len());
    pdf.extend_from_slice(b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n");
    offsets.push(pdf.len());
    pdf.extend_from_slice(b"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n");
    offsets.push(pdf.len());
    pdf.extend_from_slice(b"3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>\nendobj\n");
    offsets.push(pdf.len());
    pdf.extend_from_slice(format!("4 0 obj\n<< /Length {big} >>\nstream\n").as_bytes());
    pdf.resize(pdf.len() + big, b' ');
    pdf.extend_from_slice(b"\nendstream\nendobj\n");
    let xref_at = pdf.len();
    pdf.extend_from_slice(b"xref\n0 5\n0000000000 65535 f\r\n");
    for o in &offsets {
        pdf.extend_from_slice(format!("{o:010} 00000 n\r\n").as_bytes());
    }
    pdf.extend_from_slice(
        format!("trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n{xref_at}\n%%EOF\n").as_bytes(),
    );

    let mut src = Counting {
        inner: Cursor::new(&pdf),
        read: 0,
    };
    let mut reader = PdfReader::open(&mut src).unwrap();
    let mut prepared = prepare_signature(&mut reader, &request(64)).unwrap();
    drop(reader);
    assert!(
        src.read < 256 * 1024,
        "read {} bytes of a {} byte file",
        src.read,
        pdf.len()
    );
    prepared.embed(&FAKE_DER).unwrap();
    let mut signed = pdf.clone();
    signed.extend_from_slice(prepared.update_bytes());
    check_byte_range(&signed, &prepared);
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("big.pdf");
    std::fs::write(&out, &signed).unwrap();
    let (code, warnings) = qpdf_check(&out);
    assert_eq!(code, 0, "{warnings:?}");
}

/// Builds a PDF whose page tree lists `kids` objects that all live at the same offset of one
/// object stream, each a large array: without a global work budget, resolving them would
/// parse the same megabyte `kids` times.
fn amplification_pdf(kids: u32, array_items: usize) -> Vec<u8> {
    use std::io::Write;
    let mut body = Vec::new();
    body.push(b'[');
    for _ in 0..array_items {
        body.extend_from_slice(b"0 ");
    }
    body.push(b']');
    let mut header = String::new();
    for n in 0..kids {
        header.push_str(&format!("{} 0 ", 100 + n));
    }
    let first = header.len();
    let mut plain = header.into_bytes();
    plain.extend_from_slice(&body);
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&plain).unwrap();
    let packed = enc.finish().unwrap();

    let mut pdf = b"%PDF-1.7\n".to_vec();
    let mut offsets = Vec::new();
    offsets.push(pdf.len());
    pdf.extend_from_slice(b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n");
    offsets.push(pdf.len());
    pdf.extend_from_slice(b"2 0 obj\n<< /Type /Pages /Kids [");
    for n in 0..kids {
        pdf.extend_from_slice(format!("{} 0 R ", 100 + n).as_bytes());
    }
    pdf.extend_from_slice(b"] >>\nendobj\n");
    offsets.push(pdf.len());
    pdf.extend_from_slice(
        format!("3 0 obj\n<< /Type /ObjStm /N {kids} /First {first} /Filter /FlateDecode /Length {} >>\nstream\n", packed.len()).as_bytes(),
    );
    pdf.extend_from_slice(&packed);
    pdf.extend_from_slice(b"\nendstream\nendobj\n");
    let xref_at = pdf.len();
    let mut rows = Vec::new();
    for o in &offsets {
        rows.push(1u8);
        rows.extend_from_slice(&u32::try_from(*o).unwrap().to_be_bytes());
        rows.extend_from_slice(&0u32.to_be_bytes());
    }
    rows.push(1);
    rows.extend_from_slice(&u32::try_from(xref_at).unwrap().to_be_bytes());
    rows.extend_from_slice(&0u32.to_be_bytes());
    for i in 0..kids {
        rows.push(2);
        rows.extend_from_slice(&3u32.to_be_bytes());
        rows.extend_from_slice(&i.to_be_bytes());
    }
    pdf.extend_from_slice(
        format!(
            "4 0 obj\n<< /Type /XRef /Size {} /Index [1 4 100 {kids}] /W [1 4 4] /Root 1 0 R /Length {} >>\nstream\n",
            100 + kids,
            rows.len()
        )
        .as_bytes(),
    );
    pdf.extend_from_slice(&rows);
    pdf.extend_from_slice(format!("\nendstream\nendobj\nstartxref\n{xref_at}\n%%EOF\n").as_bytes());
    pdf
}

#[test]
fn shared_huge_objects_hit_the_work_budget() {
    // Sanity: a small version is read correctly (and refused: no page, only arrays).
    let small = amplification_pdf(3, 10);
    let mut reader = PdfReader::open(Cursor::new(&small)).unwrap();
    assert_eq!(
        reader
            .get(shomei_pdf::ObjectId::new(101, 0))
            .unwrap()
            .as_array()
            .map(<[_]>::len),
        Some(10)
    );
    assert!(matches!(
        prepare_signature(&mut reader, &request(32)),
        Err(PdfError::Structure(_))
    ));

    // 5,000 references to one 200,000-item array: 2 GB of parsing without the budget.
    // (The default budget, 64 MiB, is lowered here to keep the debug-build test short.)
    let big = amplification_pdf(5_000, 200_000);
    let start = std::time::Instant::now();
    let mut reader = PdfReader::open(Cursor::new(&big)).unwrap();
    reader.set_work_budget(4 << 20);
    let res = prepare_signature(&mut reader, &request(32));
    assert!(
        matches!(
            res,
            Err(PdfError::Budget {
                what: "total bytes parsed and decoded",
                ..
            })
        ),
        "{res:?}"
    );
    println!("refused in {:?}", start.elapsed());
}
