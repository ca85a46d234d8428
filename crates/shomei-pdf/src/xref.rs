//! Cross-reference data: classic tables, xref streams and hybrid files (ISO 32000-1 §7.5.4,
//! §7.5.8) and the merged view over all revisions.

use std::collections::HashSet;
use std::io::{Read, Seek};

use crate::error::PdfError;
use crate::filter;
use crate::lexer::{next_token, FileSource, Token};
use crate::limits::{MAX_OBJECT_NUMBER, MAX_REVISIONS, SMALL_FILE_OBJECT_NUMBERS};
use crate::object::{Dictionary, Object};
use crate::parser::Parser;
use crate::reader::PdfReader;

/// Where an object lives, as the cross-reference data says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XrefEntry {
    /// Free (deleted) or pointing nowhere: resolves to null.
    Free,
    /// An ordinary object at `offset` (relative to the reader's base).
    InFile {
        /// Byte offset of `N G obj`, relative to the `%PDF` header.
        offset: u64,
        /// Generation number.
        generation: u16,
    },
    /// Object number `index` inside object stream `stream`.
    InStream {
        /// The object stream's object number.
        stream: u32,
        /// The position inside it.
        index: u32,
    },
}

/// The merged cross-reference table, newest revision first, indexed by object number.
#[derive(Debug, Default)]
pub(crate) struct XrefTable {
    entries: Vec<Option<XrefEntry>>,
    cap: u32,
    /// One more than the highest object number used by an xref stream itself. Some
    /// producers leave their xref stream's own number outside /Size; a new object with
    /// that number would overwrite ("clobber") the stream, which strict readers reject.
    reserved: u64,
}

impl XrefTable {
    pub(crate) fn new(file_len: u64) -> Self {
        // Indexing by object number costs 16 bytes per number; bound it by the file size so a
        // tiny hostile file cannot claim object 8,000,000 and make us allocate 128 MiB.
        let cap = u64::from(MAX_OBJECT_NUMBER).min(file_len.max(SMALL_FILE_OBJECT_NUMBERS));
        XrefTable {
            entries: Vec::new(),
            cap: u32::try_from(cap).unwrap_or(MAX_OBJECT_NUMBER),
            reserved: 0,
        }
    }

    pub(crate) fn get(&self, number: u32) -> Option<XrefEntry> {
        let idx = usize::try_from(number).ok()?;
        self.entries.get(idx).copied().flatten()
    }

    /// Records `entry` unless a newer revision already defined `number`.
    fn insert_if_absent(&mut self, number: u32, entry: XrefEntry, at: u64) -> Result<(), PdfError> {
        if number > self.cap {
            return Err(PdfError::Budget {
                what: "object number",
                limit: u64::from(self.cap),
                offset: at,
            });
        }
        let idx = usize::try_from(number).map_err(|_| PdfError::OutOfRange("object number"))?;
        if self.entries.len() <= idx {
            self.entries.resize(idx.saturating_add(1), None);
        }
        if let Some(slot) = self.entries.get_mut(idx) {
            if slot.is_none() {
                *slot = Some(entry);
            }
        }
        Ok(())
    }

    /// Keeps `number` (an xref stream's own object number) from being reused.
    fn reserve(&mut self, number: u32) {
        self.reserved = self.reserved.max(u64::from(number).saturating_add(1));
    }

    /// One more than the highest object number with an entry or reserved.
    pub(crate) fn len(&self) -> u64 {
        u64::try_from(self.entries.len())
            .unwrap_or(u64::MAX)
            .max(self.reserved)
    }
}

/// One cross-reference section as read from the file.
struct Section {
    entries: Vec<(u32, XrefEntry)>,
    /// The object number of the xref stream that held this section, if any.
    stream_number: Option<u32>,
    trailer: Dictionary,
    is_stream: bool,
}

/// What `open` learns from the chain of sections.
pub(crate) struct LoadedXref {
    pub(crate) table: XrefTable,
    pub(crate) trailer: Dictionary,
    pub(crate) newest_is_stream: bool,
}

fn non_negative(obj: Option<&Object>) -> Option<u64> {
    obj.and_then(Object::as_i64)
        .and_then(|v| u64::try_from(v).ok())
}

impl<R: Read + Seek> PdfReader<R> {
    /// Whether the bytes at absolute `abs` look like the start of a section.
    pub(crate) fn looks_like_section(&mut self, abs: u64) -> Result<bool, PdfError> {
        let head = self.read_at(abs, 32)?;
        let trimmed: &[u8] = {
            let start = head
                .iter()
                .position(|b| !crate::lexer::is_whitespace(*b))
                .unwrap_or(head.len());
            head.get(start..).unwrap_or_default()
        };
        if trimmed.starts_with(b"xref") {
            return Ok(true);
        }
        // "n g obj"
        let mut parts = trimmed
            .split(|b| crate::lexer::is_whitespace(*b))
            .filter(|p| !p.is_empty());
        let a = parts
            .next()
            .is_some_and(|p| p.iter().all(u8::is_ascii_digit));
        let b = parts
            .next()
            .is_some_and(|p| p.iter().all(u8::is_ascii_digit));
        let c = parts.next().is_some_and(|p| p.starts_with(b"obj"));
        Ok(a && b && c)
    }

    /// Reads the whole `/Prev` chain starting at the (relative) `startxref` offset.
    pub(crate) fn load_xref(&mut self, startxref: u64) -> Result<LoadedXref, PdfError> {
        let mut table = XrefTable::new(self.file_len);
        let mut visited = HashSet::new();
        let mut next = Some(startxref);
        let mut newest: Option<(Dictionary, bool)> = None;
        while let Some(rel) = next.take() {
            if !visited.insert(rel) {
                // A /Prev loop: everything reachable has been read already.
                break;
            }
            if visited.len() > MAX_REVISIONS {
                return Err(PdfError::Budget {
                    what: "revisions (/Prev chain length)",
                    limit: u64::try_from(MAX_REVISIONS).unwrap_or(u64::MAX),
                    offset: self.abs(rel),
                });
            }
            let abs = self
                .base
                .checked_add(rel)
                .filter(|a| *a < self.file_len)
                .ok_or_else(|| {
                    PdfError::xref(rel, format!("section offset {rel} lies outside the file"))
                })?;
            let section = self.read_section(abs)?;
            if let Some(n) = section.stream_number {
                table.reserve(n);
            }
            if section.trailer.has(b"Encrypt") {
                return Err(PdfError::Encrypted);
            }
            // Hybrid-reference file (§7.5.8.4): the table's /XRefStm adds entries for objects in
            // object streams; they win over the table's free placeholders of the same revision.
            let mut hybrid: Vec<(u32, XrefEntry)> = Vec::new();
            if !section.is_stream {
                if let Some(stm) = non_negative(section.trailer.get(b"XRefStm")) {
                    let stm_abs = self
                        .base
                        .checked_add(stm)
                        .filter(|a| *a < self.file_len)
                        .ok_or_else(|| PdfError::xref(abs, "/XRefStm points outside the file"))?;
                    if visited.insert(stm) {
                        let stm_section = self.read_section(stm_abs)?;
                        if let Some(n) = stm_section.stream_number {
                            table.reserve(n);
                        }
                        hybrid = stm_section.entries;
                    }
                }
            }
            // Order: the table's in-use entries, the stream's in-use entries, then free ones.
            let in_use = |e: &XrefEntry| *e != XrefEntry::Free;
            for (n, e) in section.entries.iter().filter(|(_, e)| in_use(e)) {
                table.insert_if_absent(*n, *e, abs)?;
            }
            for (n, e) in hybrid.iter().filter(|(_, e)| in_use(e)) {
                table.insert_if_absent(*n, *e, abs)?;
            }
            for (n, e) in section
                .entries
                .iter()
                .chain(hybrid.iter())
                .filter(|(_, e)| !in_use(e))
            {
                table.insert_if_absent(*n, *e, abs)?;
            }
            // "/Prev 0" points at the header, never at a section: writers use it to mean "none".
            next = non_negative(section.trailer.get(b"Prev")).filter(|p| *p != 0);
            if newest.is_none() {
                newest = Some((section.trailer, section.is_stream));
            }
        }
        let (trailer, newest_is_stream) =
            newest.ok_or_else(|| PdfError::xref(startxref, "no cross-reference section"))?;
        Ok(LoadedXref {
            table,
            trailer,
            newest_is_stream,
        })
    }

    fn read_section(&mut self, abs: u64) -> Result<Section, PdfError> {
        let head = self.read_at(abs, 32)?;
        let start = head
            .iter()
            .position(|b| !crate::lexer::is_whitespace(*b))
            .unwrap_or(0);
        if head.get(start..).is_some_and(|h| h.starts_with(b"xref")) {
            self.read_table(abs)
        } else {
            self.read_stream_section(abs)
        }
    }

    fn read_table(&mut self, abs: u64) -> Result<Section, PdfError> {
        let file_len = self.file_len;
        let cap = u64::from(MAX_OBJECT_NUMBER);
        let mut src = FileSource::new(&mut self.src, file_len, abs, u64::MAX, "xref table");
        let damaged = |m: String| PdfError::xref(abs, m);
        match next_token(&mut src)? {
            Some((Token::Keyword(k), _)) if k == b"xref" => {}
            _ => return Err(damaged("missing 'xref' keyword".into())),
        }
        let mut entries = Vec::new();
        let mut first_subsection = true;
        let trailer = loop {
            let Some((tok, at)) = next_token(&mut src)? else {
                return Err(PdfError::Truncated {
                    offset: file_len,
                    context: "a cross-reference table",
                });
            };
            match tok {
                Token::Keyword(k) if k == b"trailer" => {
                    let mut parser = Parser::new(&mut src);
                    match parser.next()? {
                        Some((Token::DictStart, _)) => {}
                        _ => return Err(damaged("trailer is not a dictionary".into())),
                    }
                    break parser.dict_body(0)?;
                }
                Token::Integer(start) => {
                    let count = match next_token(&mut src)? {
                        Some((Token::Integer(c), _)) => c,
                        _ => {
                            return Err(damaged(format!(
                                "subsection header at byte {at} lacks a count"
                            )))
                        }
                    };
                    let start = u64::try_from(start)
                        .map_err(|_| damaged("negative subsection start".into()))?;
                    let count = u64::try_from(count)
                        .map_err(|_| damaged("negative subsection count".into()))?;
                    // Each entry is 20 bytes (§7.5.4); allow sloppy 18-byte ones but no more
                    // entries than the rest of the file can hold.
                    let remaining = file_len.saturating_sub(at);
                    if count > remaining / 18 + 1
                        || start.saturating_add(count) > cap.saturating_add(1)
                    {
                        return Err(damaged(format!(
                            "subsection at byte {at} claims {count} entries from object {start}, more than the file can hold"
                        )));
                    }
                    let mut number = start;
                    for i in 0..count {
                        let off = next_token(&mut src)?;
                        let generation = next_token(&mut src)?;
                        let kind = next_token(&mut src)?;
                        let (
                            Some((Token::Integer(off), eat)),
                            Some((Token::Integer(generation), _)),
                            Some((Token::Keyword(kind), _)),
                        ) = (off, generation, kind)
                        else {
                            return Err(damaged(format!(
                                "entry {i} of subsection at byte {at} is malformed"
                            )));
                        };
                        // Quirk seen in the wild: a first subsection "1 n" whose first entry is
                        // the free-list head of object 0.
                        if first_subsection
                            && i == 0
                            && number == 1
                            && kind == b"f"
                            && generation == 65535
                        {
                            number = 0;
                        }
                        let n = u32::try_from(number)
                            .map_err(|_| damaged("object number out of range".into()))?;
                        let entry = match kind.as_slice() {
                            b"n" => {
                                let offset = u64::try_from(off)
                                    .map_err(|_| PdfError::xref(eat, "negative object offset"))?;
                                let generation = u16::try_from(generation).unwrap_or(u16::MAX);
                                // Offset 0 cannot hold an object (it is the header): treat as missing.
                                if offset == 0 {
                                    XrefEntry::Free
                                } else {
                                    XrefEntry::InFile { offset, generation }
                                }
                            }
                            b"f" => XrefEntry::Free,
                            _ => {
                                return Err(PdfError::xref(
                                    eat,
                                    "entry type is neither 'n' nor 'f'",
                                ))
                            }
                        };
                        entries.push((n, entry));
                        number = number.saturating_add(1);
                    }
                    first_subsection = false;
                }
                _ => {
                    return Err(PdfError::xref(
                        at,
                        "expected a subsection header or 'trailer'",
                    ));
                }
            }
        };
        Ok(Section {
            entries,
            stream_number: None,
            trailer,
            is_stream: false,
        })
    }

    fn read_stream_section(&mut self, abs: u64) -> Result<Section, PdfError> {
        let (stream_id, obj) = self.parse_indirect_at(abs, true).map_err(|e| match e {
            PdfError::Io(e) => PdfError::Io(e),
            PdfError::Encrypted => PdfError::Encrypted,
            other => PdfError::xref(abs, format!("no xref table or xref stream here ({other})")),
        })?;
        let Object::Stream(stream) = obj else {
            return Err(PdfError::xref(abs, "object is not an xref stream"));
        };
        let dict = &stream.dict;
        if !dict.name_is(b"Type", b"XRef") && !dict.has(b"W") {
            return Err(PdfError::xref(abs, "stream is not of /Type /XRef"));
        }
        let data = filter::decode(dict, &stream.data, abs)?;
        self.charge(data.len(), abs)?;
        let widths: Vec<usize> = dict
            .get(b"W")
            .and_then(Object::as_array)
            .ok_or_else(|| PdfError::xref(abs, "xref stream lacks /W"))?
            .iter()
            .map(|w| {
                w.as_i64()
                    .and_then(|w| usize::try_from(w).ok())
                    .filter(|w| *w <= 8)
            })
            .collect::<Option<Vec<_>>>()
            .filter(|w| w.len() == 3)
            .ok_or_else(|| PdfError::xref(abs, "/W must be three integers of at most 8"))?;
        let (w0, w1, w2) = match widths.as_slice() {
            [a, b, c] => (*a, *b, *c),
            _ => return Err(PdfError::xref(abs, "/W must have three entries")),
        };
        let row = w0.saturating_add(w1).saturating_add(w2);
        if row == 0 {
            return Err(PdfError::xref(abs, "/W entries are all zero"));
        }
        let size = non_negative(dict.get(b"Size"))
            .ok_or_else(|| PdfError::xref(abs, "xref stream lacks /Size"))?;
        let index: Vec<u64> = match dict.get(b"Index") {
            Some(Object::Array(a)) => a
                .iter()
                .map(|v| v.as_i64().and_then(|v| u64::try_from(v).ok()))
                .collect::<Option<Vec<_>>>()
                .filter(|v| v.len() % 2 == 0)
                .ok_or_else(|| {
                    PdfError::xref(abs, "/Index must be pairs of non-negative integers")
                })?,
            _ => vec![0, size],
        };
        let max_rows = u64::try_from(data.len() / row).unwrap_or(u64::MAX);
        let mut rows = data.chunks_exact(row);
        let mut entries = Vec::new();
        let mut total: u64 = 0;
        for pair in index.chunks_exact(2) {
            let (start, count) = match pair {
                [s, c] => (*s, *c),
                _ => continue,
            };
            total = total.saturating_add(count);
            if total > max_rows.saturating_add(1)
                || start.saturating_add(count) > u64::from(MAX_OBJECT_NUMBER).saturating_add(1)
            {
                return Err(PdfError::xref(
                    abs,
                    "/Index claims more entries than the stream holds",
                ));
            }
            for k in 0..count {
                let Some(r) = rows.next() else { break };
                let number = u32::try_from(start.saturating_add(k))
                    .map_err(|_| PdfError::OutOfRange("object number"))?;
                let (f0, rest) = r.split_at(w0.min(r.len()));
                let (f1, f2) = rest.split_at(w1.min(rest.len()));
                let kind = if w0 == 0 { 1 } else { be(f0) };
                let (a, b) = (be(f1), be(f2));
                let entry = match kind {
                    0 => XrefEntry::Free,
                    1 => {
                        if a == 0 {
                            XrefEntry::Free
                        } else {
                            XrefEntry::InFile {
                                offset: a,
                                generation: u16::try_from(b).unwrap_or(u16::MAX),
                            }
                        }
                    }
                    2 => XrefEntry::InStream {
                        stream: u32::try_from(a).map_err(|_| {
                            PdfError::xref(abs, "object stream number out of range")
                        })?,
                        index: u32::try_from(b)
                            .map_err(|_| PdfError::xref(abs, "object stream index out of range"))?,
                    },
                    // Unknown types are references to the null object (§7.5.8.3).
                    _ => XrefEntry::Free,
                };
                entries.push((number, entry));
            }
        }
        Ok(Section {
            entries,
            stream_number: Some(stream_id.number),
            trailer: stream.dict,
            is_stream: true,
        })
    }
}

/// Big-endian unsigned value of up to 8 bytes.
fn be(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(0u64, |acc, b| acc.wrapping_shl(8) | u64::from(*b))
}
