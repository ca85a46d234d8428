//! The lazy, xref-driven reader: it reads the tail, the cross-reference sections and then
//! only the objects asked for.

use std::io::{Read, Seek, SeekFrom};

use crate::error::PdfError;
use crate::filter;
use crate::lexer::{next_token, ByteSource, FileSource, SliceSource, Token};
use crate::limits::{
    HEADER_WINDOW, MAX_OBJECT_BYTES, MAX_RAW_STREAM, MAX_REF_HOPS, MAX_TOTAL_WORK, TAIL_WINDOW,
};
use crate::object::{Dictionary, Object, ObjectId, Stream};
use crate::parser::Parser;
use crate::xref::{XrefEntry, XrefTable};

/// A decoded object stream kept for further look-ups.
struct ObjectStream {
    number: u32,
    data: Vec<u8>,
    first: usize,
    /// (object number, offset relative to `first`)
    index: Vec<(u32, usize)>,
}

/// Decoded object streams kept in memory (total decoded bytes). Typical object streams are
/// 10–300 KiB, so 8 MiB keeps dozens and a field walk that hops between them decodes each
/// once, while memory stays well inside the 32 MiB signing budget.
const OBJSTM_CACHE_BYTES: usize = 8 << 20;

/// Most bytes of parsed objects a reader keeps for later reads.
pub(crate) const MAX_CACHED_BYTES: u64 = 16 << 20;

/// A PDF reader over any `Read + Seek` source that loads objects on demand.
///
/// Opening reads the header window, the last few KiB and the cross-reference sections;
/// [`PdfReader::get`] then reads one object through a small window. Memory use does not
/// grow with the file size except for the cross-reference index (16 bytes per object)
/// and the objects it keeps once parsed (at most [`MAX_CACHED_BYTES`] of them).
pub struct PdfReader<R: Read + Seek> {
    pub(crate) src: R,
    pub(crate) file_len: u64,
    pub(crate) header_offset: u64,
    /// Added to xref offsets to get absolute positions (0 or the header offset).
    pub(crate) base: u64,
    pub(crate) startxref: u64,
    pub(crate) trailer: Dictionary,
    pub(crate) xref: XrefTable,
    pub(crate) newest_is_stream: bool,
    pub(crate) ends_with_eol: bool,
    cache: Vec<ObjectStream>,
    /// Objects already parsed (not streams), by number: validation reads the same
    /// dictionaries — signature dictionaries with long /Contents — many times.
    objects: std::collections::HashMap<u32, Object>,
    /// Bytes parsed for the objects kept.
    objects_bytes: u64,
    nesting: usize,
    /// Bytes parsed or decoded so far, against `work_budget`.
    work: u64,
    work_budget: u64,
}

impl<R: Read + Seek> std::fmt::Debug for PdfReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PdfReader")
            .field("file_len", &self.file_len)
            .field("header_offset", &self.header_offset)
            .field("startxref", &self.startxref)
            .finish_non_exhaustive()
    }
}

impl<R: Read + Seek> PdfReader<R> {
    /// Opens a PDF: finds the header and `startxref`, reads every cross-reference section.
    ///
    /// Refuses encrypted files with [`PdfError::Encrypted`].
    pub fn open(mut source: R) -> Result<Self, PdfError> {
        let file_len = source.seek(SeekFrom::End(0))?;
        let mut reader = PdfReader {
            src: source,
            file_len,
            header_offset: 0,
            base: 0,
            startxref: 0,
            trailer: Dictionary::new(),
            xref: XrefTable::new(file_len),
            newest_is_stream: false,
            ends_with_eol: false,
            cache: Vec::new(),
            objects: std::collections::HashMap::new(),
            objects_bytes: 0,
            nesting: 0,
            work: 0,
            work_budget: MAX_TOTAL_WORK,
        };
        let head = reader.read_at(0, HEADER_WINDOW.saturating_add(8))?;
        let header_offset = memchr::memmem::find(&head, b"%PDF-")
            .filter(|p| u64::try_from(*p).is_ok_and(|p| p < HEADER_WINDOW))
            .ok_or(PdfError::NotPdf)?;
        reader.header_offset = u64::try_from(header_offset).map_err(|_| PdfError::NotPdf)?;

        let tail_len = TAIL_WINDOW.min(file_len);
        let tail_start = file_len.saturating_sub(tail_len);
        let tail = reader.read_at(tail_start, tail_len)?;
        reader.ends_with_eol = matches!(tail.last(), Some(b'\n' | b'\r'));
        let kw = memchr::memmem::rfind(&tail, b"startxref").ok_or_else(|| {
            PdfError::xref(
                file_len,
                format!("no 'startxref' in the last {tail_len} bytes (is the file truncated?)"),
            )
        })?;
        let kw_abs = tail_start.saturating_add(u64::try_from(kw).unwrap_or(0));
        let after = tail.get(kw.saturating_add(9)..).unwrap_or_default();
        let mut src = SliceSource::new(after, kw_abs.saturating_add(9));
        let startxref = match next_token(&mut src) {
            Ok(Some((Token::Integer(v), _))) => {
                u64::try_from(v).map_err(|_| PdfError::xref(kw_abs, "negative startxref offset"))?
            }
            _ => {
                return Err(PdfError::xref(
                    kw_abs,
                    "'startxref' is not followed by an offset",
                ))
            }
        };
        reader.startxref = startxref;

        // Offsets are relative to the %PDF header (ISO 32000-2 §7.5.2 note); files with junk
        // before the header usually follow that, a few count from byte 0. Take whichever
        // makes startxref land on a cross-reference section.
        let mut candidates = vec![reader.header_offset];
        if reader.header_offset != 0 {
            candidates.push(0);
        }
        let mut chosen = None;
        for base in candidates {
            if let Some(abs) = base.checked_add(startxref).filter(|a| *a < file_len) {
                if reader.looks_like_section(abs)? {
                    chosen = Some(base);
                    break;
                }
            }
        }
        let Some(base) = chosen else {
            return Err(PdfError::xref(
                reader.header_offset.saturating_add(startxref),
                format!("startxref says {startxref}, but there is neither an xref table nor an xref stream there"),
            ));
        };
        reader.base = base;
        let loaded = reader.load_xref(startxref)?;
        reader.xref = loaded.table;
        reader.trailer = loaded.trailer;
        reader.newest_is_stream = loaded.newest_is_stream;
        if reader.trailer.has(b"Encrypt") {
            return Err(PdfError::Encrypted);
        }
        Ok(reader)
    }

    /// Replaces the budget on bytes parsed and decompressed after `open` (default 64 MiB;
    /// signing reads a few KiB to a few MiB). Lower it to fail faster on hostile input.
    pub fn set_work_budget(&mut self, bytes: u64) {
        self.work_budget = bytes;
    }

    /// Length of the whole source in bytes.
    pub fn file_len(&self) -> u64 {
        self.file_len
    }

    /// The newest trailer (for an xref stream: its stream dictionary).
    pub fn trailer(&self) -> &Dictionary {
        &self.trailer
    }

    /// Absolute offset of the `%PDF-` header (non-zero when junk precedes it).
    pub fn header_offset(&self) -> u64 {
        self.header_offset
    }

    /// The value of the last `startxref` (relative to the header, like all xref offsets).
    pub fn startxref(&self) -> u64 {
        self.startxref
    }

    /// Whether the newest cross-reference section is an xref stream (else a classic table).
    pub fn newest_section_is_stream(&self) -> bool {
        self.newest_is_stream
    }

    /// Whether the file ends with an end-of-line byte.
    pub fn ends_with_eol(&self) -> bool {
        self.ends_with_eol
    }

    /// One more than the highest object number in use (max of trailer /Size and the xref).
    pub fn next_object_number(&self) -> u64 {
        let size = self
            .trailer
            .get(b"Size")
            .and_then(Object::as_i64)
            .and_then(|s| u64::try_from(s).ok())
            .unwrap_or(0);
        size.max(self.xref.len()).max(1)
    }

    /// Where object `number` lives in the newest revision (`None`: no revision has an
    /// entry for it).
    pub fn location(&self, number: u32) -> Option<XrefEntry> {
        self.xref.get(number)
    }

    /// One more than the highest object number any cross-reference section names.
    pub fn object_number_bound(&self) -> u64 {
        self.xref.len()
    }

    /// Accounts for `bytes` of parsing or decoding work.
    pub(crate) fn charge(&mut self, bytes: usize, offset: u64) -> Result<(), PdfError> {
        self.work = self
            .work
            .saturating_add(u64::try_from(bytes).unwrap_or(u64::MAX));
        if self.work > self.work_budget {
            return Err(PdfError::Budget {
                what: "total bytes parsed and decoded",
                limit: self.work_budget,
                offset,
            });
        }
        Ok(())
    }

    pub(crate) fn abs(&self, rel: u64) -> u64 {
        self.base.saturating_add(rel)
    }

    /// Reads up to `len` bytes at absolute `pos` (fewer at the end of the file).
    pub(crate) fn read_at(&mut self, pos: u64, len: u64) -> Result<Vec<u8>, PdfError> {
        let len = len.min(self.file_len.saturating_sub(pos));
        let n = usize::try_from(len).map_err(|_| PdfError::OutOfRange("read length"))?;
        let mut out = vec![0u8; n];
        self.src.seek(SeekFrom::Start(pos))?;
        let mut filled = 0usize;
        while filled < n {
            let k = self.src.read(out.get_mut(filled..).unwrap_or_default())?;
            if k == 0 {
                break;
            }
            filled = filled.saturating_add(k);
        }
        out.truncate(filled);
        Ok(out)
    }

    /// Reads an object, following the cross-reference data (also into object streams).
    /// Objects that do not exist are `Object::Null` (ISO 32000-1 §7.3.10).
    pub fn get(&mut self, id: ObjectId) -> Result<Object, PdfError> {
        match self.xref.get(id.number) {
            None | Some(XrefEntry::Free) => Ok(Object::Null),
            Some(XrefEntry::InFile { offset, .. }) => {
                if let Some(known) = self.objects.get(&id.number) {
                    return Ok(known.clone());
                }
                let abs = self.abs(offset);
                let work_before = self.work;
                if abs >= self.file_len {
                    return Err(PdfError::Object {
                        id,
                        offset: abs,
                        message: "cross-reference offset lies beyond the end of the file".into(),
                    });
                }
                let (found, obj) = self.parse_indirect_at(abs, false).map_err(|e| match e {
                    PdfError::Syntax { offset, message } => PdfError::Object {
                        id,
                        offset,
                        message,
                    },
                    other => other,
                })?;
                if found.number != id.number {
                    return Err(PdfError::Object {
                        id,
                        offset: abs,
                        message: format!(
                            "the cross-reference data points to object {} instead",
                            found.number
                        ),
                    });
                }
                let spent = self.work.saturating_sub(work_before);
                let kept = self.objects_bytes.saturating_add(spent);
                if !matches!(obj, Object::Stream(_)) && kept <= MAX_CACHED_BYTES {
                    self.objects_bytes = kept;
                    self.objects.insert(id.number, obj.clone());
                }
                Ok(obj)
            }
            Some(XrefEntry::InStream { stream, index }) => self.get_compressed(id, stream, index),
        }
    }

    /// Follows references until a direct object (bounded; loops are errors).
    pub fn resolve(&mut self, obj: &Object) -> Result<Object, PdfError> {
        let mut current = obj.clone();
        for _ in 0..MAX_REF_HOPS {
            match current {
                Object::Reference(id) => current = self.get(id)?,
                other => return Ok(other),
            }
        }
        Err(PdfError::Budget {
            what: "reference chain length",
            limit: u64::try_from(MAX_REF_HOPS).unwrap_or(u64::MAX),
            offset: 0,
        })
    }

    /// Resolves `obj` and returns its dictionary (also for streams), if it is one.
    pub fn resolve_dict(&mut self, obj: &Object) -> Result<Option<Dictionary>, PdfError> {
        Ok(match self.resolve(obj)? {
            Object::Dictionary(d) => Some(d),
            Object::Stream(s) => Some(s.dict),
            _ => None,
        })
    }

    /// The document catalog (trailer /Root).
    pub fn catalog(&mut self) -> Result<(ObjectId, Dictionary), PdfError> {
        let root = self
            .trailer
            .get(b"Root")
            .and_then(Object::as_reference)
            .ok_or_else(|| PdfError::Structure("the trailer has no /Root reference".into()))?;
        match self.get(root)? {
            Object::Dictionary(d) => Ok((root, d)),
            _ => Err(PdfError::Structure(format!(
                "the catalog {root} is not a dictionary"
            ))),
        }
    }

    /// Parses `n g obj ... endobj` at absolute `abs`, reading stream data if present.
    /// `loading` is true while the xref is being built (stream /Length must then be direct).
    pub(crate) fn parse_indirect_at(
        &mut self,
        abs: u64,
        loading: bool,
    ) -> Result<(ObjectId, Object), PdfError> {
        let file_len = self.file_len;
        let parsed = {
            let mut src = FileSource::new(
                &mut self.src,
                file_len,
                abs,
                MAX_OBJECT_BYTES,
                "object size",
            );
            let mut p = Parser::new(&mut src);
            let (number, generation) = match (p.next()?, p.next()?, p.next()?) {
                (
                    Some((Token::Integer(n), _)),
                    Some((Token::Integer(g), _)),
                    Some((Token::Keyword(k), _)),
                ) if k == b"obj" => (n, g),
                _ => return Err(PdfError::syntax(abs, "expected 'n g obj'")),
            };
            let id = ObjectId::new(
                u32::try_from(number)
                    .map_err(|_| PdfError::syntax(abs, "object number out of range"))?,
                u16::try_from(generation)
                    .map_err(|_| PdfError::syntax(abs, "generation out of range"))?,
            );
            let obj = p.object()?;
            let mut data_start = None;
            if let Object::Dictionary(_) = obj {
                if let Ok(Some((tok, _))) = p.next() {
                    if matches!(&tok, Token::Keyword(k) if k == b"stream") && !p.has_pending() {
                        let s = p.source();
                        if s.peek()? == Some(b'\r') {
                            s.bump();
                        }
                        if s.peek()? == Some(b'\n') {
                            s.bump();
                        }
                        data_start = Some(s.pos());
                    }
                }
            }
            let end = p.source().pos();
            (id, obj, data_start, end)
        };
        let (id, obj, data_start, end) = parsed;
        self.charge(
            usize::try_from(end.saturating_sub(abs)).unwrap_or(usize::MAX),
            abs,
        )?;
        let (Some(data_start), Object::Dictionary(dict)) = (data_start, &obj) else {
            return Ok((id, obj));
        };
        let data = self.stream_data(dict, data_start, loading)?;
        self.charge(data.len(), abs)?;
        let Object::Dictionary(dict) = obj else {
            return Ok((id, Object::Null));
        };
        Ok((id, Object::Stream(Stream { dict, data })))
    }

    fn stream_data(
        &mut self,
        dict: &Dictionary,
        start: u64,
        loading: bool,
    ) -> Result<Vec<u8>, PdfError> {
        let declared = match dict.get(b"Length") {
            Some(Object::Integer(n)) => u64::try_from(*n).ok(),
            Some(Object::Reference(id)) if !loading && self.nesting < 4 => {
                self.nesting = self.nesting.saturating_add(1);
                let r = self.get(*id);
                self.nesting = self.nesting.saturating_sub(1);
                r.ok()
                    .and_then(|o| o.as_i64())
                    .and_then(|n| u64::try_from(n).ok())
            }
            _ => None,
        };
        let length = match declared {
            Some(len) if self.endstream_at(start.saturating_add(len))? => len,
            _ => self.scan_for_endstream(start)?,
        };
        if length > MAX_RAW_STREAM {
            return Err(PdfError::Budget {
                what: "stream length",
                limit: MAX_RAW_STREAM,
                offset: start,
            });
        }
        let file_len = self.file_len;
        let mut src = FileSource::new(&mut self.src, file_len, start, u64::MAX, "stream");
        src.take_bytes(length, "stream data")
    }

    fn endstream_at(&mut self, pos: u64) -> Result<bool, PdfError> {
        if pos > self.file_len {
            return Ok(false);
        }
        let probe = self.read_at(pos, 16)?;
        let start = probe
            .iter()
            .position(|b| !crate::lexer::is_whitespace(*b))
            .unwrap_or(probe.len());
        Ok(probe
            .get(start..)
            .is_some_and(|p| p.starts_with(b"endstream")))
    }

    /// Finds `endstream` after `start` (when /Length is missing or wrong); returns the data
    /// length without the end-of-line before the keyword.
    fn scan_for_endstream(&mut self, start: u64) -> Result<u64, PdfError> {
        const WINDOW: u64 = 64 * 1024;
        let mut pos = start;
        loop {
            if pos.saturating_sub(start) > MAX_RAW_STREAM {
                return Err(PdfError::Budget {
                    what: "stream length",
                    limit: MAX_RAW_STREAM,
                    offset: start,
                });
            }
            let chunk = self.read_at(pos, WINDOW)?;
            if chunk.len() < 9 {
                return Err(PdfError::Truncated {
                    offset: self.file_len,
                    context: "a stream (no 'endstream')",
                });
            }
            if let Some(i) = memchr::memmem::find(&chunk, b"endstream") {
                let mut end = pos.saturating_add(u64::try_from(i).unwrap_or(0));
                let before = |k: u64| {
                    chunk
                        .get(usize::try_from(k.saturating_sub(pos)).unwrap_or(usize::MAX))
                        .copied()
                };
                if end > start && before(end.saturating_sub(1)) == Some(b'\n') {
                    end = end.saturating_sub(1);
                }
                if end > start && before(end.saturating_sub(1)) == Some(b'\r') {
                    end = end.saturating_sub(1);
                }
                return Ok(end.saturating_sub(start));
            }
            // Overlap so a keyword split between windows is still found.
            pos = pos
                .saturating_add(u64::try_from(chunk.len()).unwrap_or(0))
                .saturating_sub(8);
        }
    }

    fn get_compressed(
        &mut self,
        id: ObjectId,
        stream: u32,
        index: u32,
    ) -> Result<Object, PdfError> {
        let slot = match self.cache.iter().position(|c| c.number == stream) {
            Some(i) => i,
            None => {
                let loaded = self.load_object_stream(stream)?;
                let mut cached: usize = self.cache.iter().map(|c| c.data.len()).sum();
                while !self.cache.is_empty()
                    && cached.saturating_add(loaded.data.len()) > OBJSTM_CACHE_BYTES
                {
                    let evicted = self.cache.remove(0);
                    cached = cached.saturating_sub(evicted.data.len());
                }
                self.cache.push(loaded);
                self.cache.len().saturating_sub(1)
            }
        };
        let os = self
            .cache
            .get(slot)
            .ok_or(PdfError::OutOfRange("object stream cache"))?;
        let idx = usize::try_from(index).unwrap_or(usize::MAX);
        // The xref index should match; fall back to a search by number if it does not.
        let pos = match os.index.get(idx) {
            Some((n, _)) if *n == id.number => Some(idx),
            _ => os.index.iter().position(|(n, _)| *n == id.number),
        };
        let Some(pos) = pos else {
            return Err(PdfError::Object {
                id,
                offset: 0,
                message: format!("object stream {stream} does not contain it"),
            });
        };
        let start = os
            .index
            .get(pos)
            .and_then(|(_, off)| os.first.checked_add(*off))
            .ok_or(PdfError::OutOfRange("object stream offset"))?;
        let end = os
            .index
            .get(pos.saturating_add(1))
            .and_then(|(_, off)| os.first.checked_add(*off))
            .filter(|e| *e > start)
            .unwrap_or(os.data.len())
            .min(os.data.len());
        self.charge(end.saturating_sub(start), 0)?;
        let os = self
            .cache
            .get(slot)
            .ok_or(PdfError::OutOfRange("object stream cache"))?;
        let bytes = os.data.get(start..end).ok_or_else(|| PdfError::Object {
            id,
            offset: 0,
            message: format!("offset inside object stream {stream} is out of range"),
        })?;
        let mut src = SliceSource::new(bytes, u64::try_from(start).unwrap_or(0));
        let mut p = Parser::new(&mut src);
        p.object().map_err(|e| PdfError::Object {
            id,
            offset: 0,
            message: format!("in object stream {stream}: {e}"),
        })
    }

    fn load_object_stream(&mut self, number: u32) -> Result<ObjectStream, PdfError> {
        let offset = match self.xref.get(number) {
            Some(XrefEntry::InFile { offset, .. }) => self.abs(offset),
            _ => {
                return Err(PdfError::Structure(format!(
                    "object stream {number} is not an ordinary object in the file"
                )))
            }
        };
        if offset >= self.file_len {
            return Err(PdfError::Structure(format!(
                "object stream {number} lies beyond the end of the file"
            )));
        }
        let (_, obj) = self.parse_indirect_at(offset, false)?;
        let Object::Stream(s) = obj else {
            return Err(PdfError::Structure(format!(
                "object {number} is not an object stream"
            )));
        };
        let data = filter::decode(&s.dict, &s.data, offset)?;
        self.charge(data.len(), offset)?;
        let bad = |m: &str| PdfError::Decode {
            offset,
            message: m.to_owned(),
        };
        let n = s
            .dict
            .get(b"N")
            .and_then(Object::as_i64)
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| bad("object stream lacks /N"))?;
        let first = s
            .dict
            .get(b"First")
            .and_then(Object::as_i64)
            .and_then(|n| usize::try_from(n).ok())
            .filter(|f| *f <= data.len())
            .ok_or_else(|| bad("object stream /First is missing or out of range"))?;
        if n > first / 2 + 1 {
            return Err(bad("object stream /N is larger than its header"));
        }
        let header = data.get(..first).unwrap_or_default();
        let mut src = SliceSource::new(header, offset);
        let mut index = Vec::with_capacity(n);
        for _ in 0..n {
            match (next_token(&mut src)?, next_token(&mut src)?) {
                (Some((Token::Integer(num), _)), Some((Token::Integer(off), _))) => {
                    let num = u32::try_from(num).map_err(|_| bad("object number out of range"))?;
                    let off = usize::try_from(off).map_err(|_| bad("negative offset"))?;
                    index.push((num, off));
                }
                _ => return Err(bad("object stream header is malformed")),
            }
        }
        Ok(ObjectStream {
            number,
            data,
            first,
            index,
        })
    }
}
