//! Input decoding: UTF-8 (with or without BOM), UTF-16 (with BOM), and any other encoding
//! named in the XML declaration that `encoding_rs` knows (Shift_JIS, EUC-JP, ...), with
//! ISO-8859-1 decoded as true Latin-1 (not windows-1252).

use std::borrow::Cow;

use crate::error::{LimitKind, XmlError};
use crate::limits::Limits;

/// Decoded text plus the encoding label found in the XML declaration (if any). The text
/// borrows the input when it is UTF-8 (the common case), so a large document is not copied.
pub(crate) struct Decoded<'b> {
    pub(crate) text: Cow<'b, str>,
    pub(crate) declared: Option<String>,
}

fn enc_err(reason: impl Into<String>) -> XmlError {
    XmlError::Encoding {
        reason: reason.into(),
    }
}

/// Extracts `encoding="..."` from an ASCII-compatible XML declaration.
fn declared_encoding(bytes: &[u8]) -> Option<String> {
    if !bytes.starts_with(b"<?xml") {
        return None;
    }
    let head = bytes.get(..bytes.len().min(1024))?;
    let end = head.windows(2).position(|w| w == b"?>")?;
    let decl = core::str::from_utf8(head.get(..end)?).ok()?;
    let idx = decl.find("encoding")?;
    let rest = decl.get(idx + "encoding".len()..)?.trim_start();
    let rest = rest.strip_prefix('=')?.trim_start();
    let quote = rest.chars().next()?;
    if quote != '"' && quote != '\'' {
        return None;
    }
    let rest = rest.get(1..)?;
    let close = rest.find(quote)?;
    Some(rest.get(..close)?.to_owned())
}

fn utf8(bytes: &[u8]) -> Result<Cow<'_, str>, XmlError> {
    match core::str::from_utf8(bytes) {
        Ok(s) => Ok(Cow::Borrowed(s)),
        Err(e) => Err(enc_err(format!(
            "invalid UTF-8 at byte {}",
            e.valid_up_to()
        ))),
    }
}

/// What both [`crate::Document::parse_with`] and [`crate::canonicalize_stream`] do before
/// parsing: the input size limit, decoding, and line-end normalization (XML 1.0 §2.11).
pub(crate) fn prepare<'b>(bytes: &'b [u8], limits: &Limits) -> Result<Decoded<'b>, XmlError> {
    if bytes.len() > limits.max_input_bytes {
        return Err(XmlError::Limit {
            kind: LimitKind::InputBytes,
            value: bytes.len(),
            max: limits.max_input_bytes,
            position: None,
        });
    }
    let mut decoded = decode(bytes)?;
    if memchr::memchr(b'\r', decoded.text.as_bytes()).is_some() {
        decoded.text = Cow::Owned(decoded.text.replace("\r\n", "\n").replace('\r', "\n"));
    }
    Ok(decoded)
}

fn decode(bytes: &[u8]) -> Result<Decoded<'_>, XmlError> {
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return Ok(Decoded {
            text: utf8(rest)?,
            declared: declared_encoding(rest),
        });
    }
    for (bom, enc) in [
        ([0xFE, 0xFF], encoding_rs::UTF_16BE),
        ([0xFF, 0xFE], encoding_rs::UTF_16LE),
    ] {
        if let Some(rest) = bytes.strip_prefix(&bom) {
            let text = enc
                .decode_without_bom_handling_and_without_replacement(rest)
                .ok_or_else(|| enc_err(format!("malformed {}", enc.name())))?;
            return Ok(Decoded {
                text,
                declared: Some(enc.name().to_owned()),
            });
        }
    }
    let declared = declared_encoding(bytes);
    let text = match declared.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("utf-8" | "utf8") => utf8(bytes)?,
        Some("iso-8859-1" | "iso_8859-1" | "latin1" | "l1" | "iso8859-1" | "iso-ir-100") => {
            Cow::Owned(bytes.iter().map(|b| char::from(*b)).collect())
        }
        Some("us-ascii" | "ascii") => {
            if let Some(i) = bytes.iter().position(|b| !b.is_ascii()) {
                return Err(enc_err(format!(
                    "non-ASCII byte at {i} in US-ASCII document"
                )));
            }
            utf8(bytes)?
        }
        Some(label) => {
            let enc = encoding_for_label(label)?;
            enc.decode_without_bom_handling_and_without_replacement(bytes)
                .ok_or_else(|| enc_err(format!("malformed {} input", enc.name())))?
        }
    };
    Ok(Decoded { text, declared })
}

/// Appends `s` to `buf` with line ends normalized: every carriage return becomes a line
/// feed, and a line feed right after one is dropped (`skip_lf` carries that across pieces).
fn push_normalized(buf: &mut String, mut s: &str, skip_lf: &mut bool) {
    if *skip_lf && !s.is_empty() {
        *skip_lf = false;
        if let Some(rest) = s.strip_prefix('\n') {
            s = rest;
        }
    }
    while let Some(i) = memchr::memchr(b'\r', s.as_bytes()) {
        buf.push_str(s.get(..i).unwrap_or(""));
        buf.push('\n');
        s = s.get(i + 1..).unwrap_or("");
        if s.is_empty() {
            *skip_lf = true;
        } else if let Some(rest) = s.strip_prefix('\n') {
            s = rest;
        }
    }
    buf.push_str(s);
}

/// Length of the UTF-8 sequence a lead byte starts (1 for anything else, which the
/// validation then refuses).
fn utf8_len(lead: u8) -> usize {
    match lead {
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF7 => 4,
        _ => 1,
    }
}

/// Where a UTF-8 sequence cut by the end of `bytes` starts (`bytes.len()` when none is).
fn complete_utf8_prefix(bytes: &[u8]) -> usize {
    let len = bytes.len();
    for back in 1..=3.min(len) {
        let i = len - back;
        let b = bytes.get(i).copied().unwrap_or(0);
        if b & 0xC0 != 0x80 {
            return if utf8_len(b) > back { i } else { len };
        }
    }
    len
}

/// How the bytes of a [`ReaderSource`] become text.
enum Decoder {
    /// UTF-8 (validated); bytes validated so far, as error offsets count them.
    Utf8 { done: usize },
    /// US-ASCII; bytes checked so far.
    Ascii { done: usize },
    /// ISO-8859-1, byte for character.
    Latin1,
    /// Anything `encoding_rs` decodes; `bom` for UTF-16 found by its byte order mark (the
    /// error message names it differently).
    Other {
        decoder: encoding_rs::Decoder,
        bom: bool,
    },
}

/// Reads, decodes and line-end normalizes a document piece by piece for
/// [`crate::parse::parse_source`], with the same encoding rules as [`prepare`].
pub(crate) struct ReaderSource<'r> {
    reader: &'r mut dyn std::io::Read,
    max_input_bytes: usize,
    /// Input bytes read so far.
    read: usize,
    /// Bytes read and not yet decoded (a character cut by the end of a read).
    raw: Vec<u8>,
    /// What one read fills.
    chunk: Vec<u8>,
    decoder: Decoder,
    skip_lf: bool,
    eof: bool,
    declared: Option<String>,
    /// Scratch for decoders that write into a `String`.
    scratch: String,
}

impl<'r> ReaderSource<'r> {
    /// Reads the start of the document and chooses its decoder.
    pub(crate) fn new(
        reader: &'r mut dyn std::io::Read,
        limits: &Limits,
    ) -> Result<Self, XmlError> {
        let mut src = Self {
            reader,
            max_input_bytes: limits.max_input_bytes,
            read: 0,
            raw: Vec::new(),
            chunk: Vec::new(),
            decoder: Decoder::Utf8 { done: 0 },
            skip_lf: false,
            eof: false,
            declared: None,
            scratch: String::new(),
        };
        // The declaration is looked for in the first 1024 bytes after a byte order mark.
        while !src.eof && src.raw.len() < 1024 + 3 {
            src.read_once(1024 + 3 - src.raw.len())?;
        }
        let head = src.raw.as_slice();
        let (decoder, declared, skip) = if let Some(rest) = head.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
            (Decoder::Utf8 { done: 0 }, declared_encoding(rest), 3)
        } else if head.starts_with(&[0xFE, 0xFF]) || head.starts_with(&[0xFF, 0xFE]) {
            let enc = if head.starts_with(&[0xFE, 0xFF]) {
                encoding_rs::UTF_16BE
            } else {
                encoding_rs::UTF_16LE
            };
            (
                Decoder::Other {
                    decoder: enc.new_decoder_without_bom_handling(),
                    bom: true,
                },
                Some(enc.name().to_owned()),
                2,
            )
        } else {
            let declared = declared_encoding(head);
            let decoder = match declared.as_deref().map(str::to_ascii_lowercase).as_deref() {
                None | Some("utf-8" | "utf8") => Decoder::Utf8 { done: 0 },
                Some(
                    "iso-8859-1" | "iso_8859-1" | "latin1" | "l1" | "iso8859-1" | "iso-ir-100",
                ) => Decoder::Latin1,
                Some("us-ascii" | "ascii") => Decoder::Ascii { done: 0 },
                Some(label) => {
                    let enc = encoding_for_label(label)?;
                    Decoder::Other {
                        decoder: enc.new_decoder_without_bom_handling(),
                        bom: false,
                    }
                }
            };
            (decoder, declared, 0)
        };
        src.raw.drain(..skip);
        src.decoder = decoder;
        src.declared = declared;
        Ok(src)
    }

    /// The encoding label of the XML declaration (or the UTF-16 byte order mark).
    pub(crate) fn declared(&self) -> Option<String> {
        self.declared.clone()
    }

    /// One read of up to `max` bytes into `raw` (again when interrupted); sets `eof` when
    /// the reader has nothing more.
    fn read_once(&mut self, max: usize) -> Result<(), XmlError> {
        loop {
            if self.chunk.len() < max {
                self.chunk.resize(max, 0);
            }
            let r = self
                .reader
                .read(self.chunk.get_mut(..max).unwrap_or_default());
            let (n, interrupted) = match r {
                Ok(n) => (n.min(max), false),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => (0, true),
                Err(e) => return Err(XmlError::Io(e)),
            };
            self.raw
                .extend_from_slice(self.chunk.get(..n).unwrap_or_default());
            // A read of nothing is the end (an interrupted one is tried again).
            self.eof = n == 0 && !interrupted;
            self.read += n;
            if self.read > self.max_input_bytes {
                return Err(XmlError::Limit {
                    kind: LimitKind::InputBytes,
                    value: self.read,
                    max: self.max_input_bytes,
                    position: None,
                });
            }
            if !interrupted {
                return Ok(());
            }
        }
    }

    /// Decodes what `raw` holds (all of it at the end of the input) into `buf`.
    fn decode_into(&mut self, buf: &mut String) -> Result<(), XmlError> {
        let last = self.eof;
        let ascii = matches!(self.decoder, Decoder::Ascii { .. });
        let used = match &mut self.decoder {
            Decoder::Utf8 { done } | Decoder::Ascii { done } => {
                let end = if last {
                    self.raw.len()
                } else {
                    complete_utf8_prefix(&self.raw)
                };
                let bytes = self.raw.get(..end).unwrap_or_default();
                if ascii {
                    if let Some(i) = bytes.iter().position(|b| !b.is_ascii()) {
                        return Err(enc_err(format!(
                            "non-ASCII byte at {} in US-ASCII document",
                            *done + i
                        )));
                    }
                }
                let text = core::str::from_utf8(bytes).map_err(|e| {
                    enc_err(format!("invalid UTF-8 at byte {}", *done + e.valid_up_to()))
                })?;
                push_normalized(buf, text, &mut self.skip_lf);
                *done += end;
                end
            }
            Decoder::Latin1 => {
                self.scratch.clear();
                self.scratch.extend(self.raw.iter().map(|b| char::from(*b)));
                push_normalized(buf, &self.scratch, &mut self.skip_lf);
                self.raw.len()
            }
            Decoder::Other { decoder, bom } => {
                self.scratch.clear();
                let need = decoder
                    .max_utf8_buffer_length_without_replacement(self.raw.len())
                    .unwrap_or(self.raw.len().saturating_mul(3).saturating_add(16));
                self.scratch.reserve(need);
                let (result, used) = decoder.decode_to_string_without_replacement(
                    &self.raw,
                    &mut self.scratch,
                    last,
                );
                if let encoding_rs::DecoderResult::Malformed(..) = result {
                    let name = decoder.encoding().name();
                    return Err(enc_err(if *bom {
                        format!("malformed {name}")
                    } else {
                        format!("malformed {name} input")
                    }));
                }
                push_normalized(buf, &self.scratch, &mut self.skip_lf);
                used
            }
        };
        self.raw.drain(..used);
        Ok(())
    }
}

impl crate::parse::Source for ReaderSource<'_> {
    fn fill(&mut self, buf: &mut String, want: usize) -> Result<bool, XmlError> {
        loop {
            let before = buf.len();
            if !self.eof {
                self.read_once(want)?;
            }
            self.decode_into(buf)?;
            if self.eof {
                return Ok(false);
            }
            if buf.len() > before {
                return Ok(true);
            }
        }
    }
}

/// The encoding an XML declaration names (other than UTF-8, Latin-1 and US-ASCII,
/// which are handled directly): UTF-16 without a byte order mark and labels
/// encoding_rs does not know (or maps to its replacement decoder) are refused.
fn encoding_for_label(label: &str) -> Result<&'static encoding_rs::Encoding, XmlError> {
    let enc = encoding_rs::Encoding::for_label(label.as_bytes())
        .ok_or_else(|| enc_err(format!("unsupported encoding `{label}`")))?;
    if enc == encoding_rs::UTF_16LE || enc == encoding_rs::UTF_16BE {
        return Err(enc_err("UTF-16 declared but no byte order mark"));
    }
    if enc == encoding_rs::REPLACEMENT {
        return Err(enc_err(format!("unsupported encoding `{label}`")));
    }
    Ok(enc)
}
