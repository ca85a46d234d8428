//! Byte sources and the PDF tokenizer (ISO 32000-1 §7.2).

use std::io::{Read, Seek, SeekFrom};

use crate::error::PdfError;

/// Bytes read one at a time, with absolute positions for error messages.
pub(crate) trait ByteSource {
    /// The byte at the current position, `None` at the end.
    fn peek(&mut self) -> Result<Option<u8>, PdfError>;
    /// Moves past the current byte.
    fn bump(&mut self);
    /// Absolute position of the current byte.
    fn pos(&self) -> u64;
    /// The bytes available from the current one on without another read (at least one
    /// unless at the end; empty at the end), for scanning long tokens in bulk. The
    /// budget applies as for [`ByteSource::peek`].
    fn window(&mut self) -> Result<&[u8], PdfError>;
    /// Moves past `n` bytes of the window.
    fn advance(&mut self, n: usize);
}

/// A byte source over an in-memory slice (decoded object streams, tail windows).
pub(crate) struct SliceSource<'a> {
    data: &'a [u8],
    at: usize,
    base: u64,
}

impl<'a> SliceSource<'a> {
    /// `base` is the absolute position reported for `data[0]`.
    pub(crate) fn new(data: &'a [u8], base: u64) -> Self {
        SliceSource { data, at: 0, base }
    }
}

impl ByteSource for SliceSource<'_> {
    fn peek(&mut self) -> Result<Option<u8>, PdfError> {
        Ok(self.data.get(self.at).copied())
    }
    fn bump(&mut self) {
        self.at = self.at.saturating_add(1);
    }
    fn pos(&self) -> u64 {
        self.base
            .saturating_add(u64::try_from(self.at).unwrap_or(u64::MAX))
    }
    fn window(&mut self) -> Result<&[u8], PdfError> {
        Ok(self.data.get(self.at..).unwrap_or_default())
    }
    fn advance(&mut self, n: usize) {
        self.at = self.at.saturating_add(n);
    }
}

const CHUNK: usize = 16 * 1024;

/// A byte source reading a seekable file through a small window.
///
/// Reading stops with a `Budget` error at `limit` so one object can never pull in the whole file.
pub(crate) struct FileSource<'a, R> {
    r: &'a mut R,
    file_len: u64,
    limit: u64,
    limit_what: &'static str,
    buf: Vec<u8>,
    buf_start: u64,
    pos: u64,
}

impl<'a, R: Read + Seek> FileSource<'a, R> {
    /// Starts at absolute `pos`; reading at or beyond `pos + max_len` is a budget error.
    pub(crate) fn new(
        r: &'a mut R,
        file_len: u64,
        pos: u64,
        max_len: u64,
        what: &'static str,
    ) -> Self {
        FileSource {
            r,
            file_len,
            limit: pos.saturating_add(max_len),
            limit_what: what,
            buf: Vec::new(),
            buf_start: pos,
            pos,
        }
    }

    fn refill(&mut self) -> Result<(), PdfError> {
        let remaining = self.file_len.saturating_sub(self.pos);
        let want = usize::try_from(remaining.min(u64::try_from(CHUNK).unwrap_or(u64::MAX)))
            .unwrap_or(CHUNK);
        self.buf.clear();
        self.buf.resize(want, 0);
        self.r.seek(SeekFrom::Start(self.pos))?;
        let mut filled = 0usize;
        while filled < want {
            let slot = self.buf.get_mut(filled..).unwrap_or_default();
            let n = self.r.read(slot)?;
            if n == 0 {
                break;
            }
            filled = filled.saturating_add(n);
        }
        self.buf.truncate(filled);
        self.buf_start = self.pos;
        Ok(())
    }

    /// Reads exactly `len` bytes at the current position (stream data), moving past them.
    pub(crate) fn take_bytes(
        &mut self,
        len: u64,
        context: &'static str,
    ) -> Result<Vec<u8>, PdfError> {
        let end = self
            .pos
            .checked_add(len)
            .ok_or(PdfError::OutOfRange("stream length"))?;
        if end > self.file_len {
            return Err(PdfError::Truncated {
                offset: self.file_len,
                context,
            });
        }
        let n = usize::try_from(len).map_err(|_| PdfError::OutOfRange("stream length"))?;
        let mut out = vec![0u8; n];
        self.r.seek(SeekFrom::Start(self.pos))?;
        self.r.read_exact(&mut out)?;
        self.pos = end;
        self.buf.clear();
        self.buf_start = end;
        Ok(out)
    }
}

impl<R: Read + Seek> ByteSource for FileSource<'_, R> {
    fn peek(&mut self) -> Result<Option<u8>, PdfError> {
        if self.pos >= self.file_len {
            return Ok(None);
        }
        if self.pos >= self.limit {
            return Err(PdfError::Budget {
                what: self.limit_what,
                limit: self.limit.saturating_sub(self.buf_start.min(self.limit)),
                offset: self.pos,
            });
        }
        let in_buf = |s: &Self| {
            s.pos >= s.buf_start
                && s.pos.saturating_sub(s.buf_start) < u64::try_from(s.buf.len()).unwrap_or(0)
        };
        if !in_buf(self) {
            self.refill()?;
            if !in_buf(self) {
                return Ok(None);
            }
        }
        let idx = usize::try_from(self.pos.saturating_sub(self.buf_start)).unwrap_or(usize::MAX);
        Ok(self.buf.get(idx).copied())
    }
    fn bump(&mut self) {
        self.pos = self.pos.saturating_add(1);
    }
    fn pos(&self) -> u64 {
        self.pos
    }
    fn window(&mut self) -> Result<&[u8], PdfError> {
        if self.peek()?.is_none() {
            return Ok(&[]);
        }
        // peek() made the current byte buffered and below the limit.
        let from = usize::try_from(self.pos.saturating_sub(self.buf_start)).unwrap_or(usize::MAX);
        let to = usize::try_from(self.limit.saturating_sub(self.buf_start))
            .unwrap_or(usize::MAX)
            .min(self.buf.len());
        Ok(self.buf.get(from..to).unwrap_or_default())
    }
    fn advance(&mut self, n: usize) {
        self.pos = self
            .pos
            .saturating_add(u64::try_from(n).unwrap_or(u64::MAX));
    }
}

/// A lexical token.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Token {
    Integer(i64),
    Real(f64),
    Name(Vec<u8>),
    String(Vec<u8>),
    HexString(Vec<u8>),
    ArrayStart,
    ArrayEnd,
    DictStart,
    DictEnd,
    /// `true`, `obj`, `R`, `xref`, `n`, ... any run of regular characters that is not a number.
    Keyword(Vec<u8>),
}

pub(crate) fn is_whitespace(b: u8) -> bool {
    matches!(b, 0 | b'\t' | b'\n' | 0x0c | b'\r' | b' ')
}

pub(crate) fn is_delimiter(b: u8) -> bool {
    matches!(
        b,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

pub(crate) fn is_regular(b: u8) -> bool {
    !is_whitespace(b) && !is_delimiter(b)
}

/// Longest single token (a string or name) accepted; objects as a whole are bounded by the
/// source's limit, this only stops absurd numbers/keywords early.
const MAX_KEYWORD: usize = 256;

/// Skips whitespace and comments.
pub(crate) fn skip_ws<S: ByteSource>(s: &mut S) -> Result<(), PdfError> {
    while let Some(b) = s.peek()? {
        if is_whitespace(b) {
            s.bump();
        } else if b == b'%' {
            while let Some(c) = s.peek()? {
                if c == b'\r' || c == b'\n' {
                    break;
                }
                s.bump();
            }
        } else {
            break;
        }
    }
    Ok(())
}

/// Reads the next token, `None` at the end of input. Returns the token's start offset too.
pub(crate) fn next_token<S: ByteSource>(s: &mut S) -> Result<Option<(Token, u64)>, PdfError> {
    skip_ws(s)?;
    let start = s.pos();
    let Some(b) = s.peek()? else {
        return Ok(None);
    };
    let tok = match b {
        b'[' => {
            s.bump();
            Token::ArrayStart
        }
        b']' => {
            s.bump();
            Token::ArrayEnd
        }
        b'<' => {
            s.bump();
            if s.peek()? == Some(b'<') {
                s.bump();
                Token::DictStart
            } else {
                Token::HexString(hex_string(s, start)?)
            }
        }
        b'>' => {
            s.bump();
            if s.peek()? == Some(b'>') {
                s.bump();
                Token::DictEnd
            } else {
                return Err(PdfError::syntax(start, "unexpected '>'"));
            }
        }
        b'(' => {
            s.bump();
            Token::String(literal_string(s, start)?)
        }
        b'/' => {
            s.bump();
            Token::Name(name(s)?)
        }
        b')' | b'{' | b'}' => {
            return Err(PdfError::syntax(
                start,
                format!("unexpected '{}'", char::from(b)),
            ));
        }
        _ => {
            // A stack buffer: numbers are the most common token and must not allocate.
            let mut buf = [0u8; MAX_KEYWORD];
            let mut len = 0usize;
            while let Some(c) = s.peek()? {
                if !is_regular(c) {
                    break;
                }
                let slot = buf
                    .get_mut(len)
                    .ok_or_else(|| PdfError::syntax(start, "token too long"))?;
                *slot = c;
                len = len.saturating_add(1);
                s.bump();
            }
            number_or_keyword(buf.get(..len).unwrap_or_default(), start)?
        }
    };
    Ok(Some((tok, start)))
}

fn number_or_keyword(word: &[u8], start: u64) -> Result<Token, PdfError> {
    let first = word.first().copied().unwrap_or(0);
    if !(first.is_ascii_digit() || matches!(first, b'+' | b'-' | b'.')) {
        return Ok(Token::Keyword(word.to_vec()));
    }
    let body = word
        .strip_prefix(b"+")
        .or_else(|| word.strip_prefix(b"-"))
        .unwrap_or(word);
    let negative = first == b'-';
    let dots = body.iter().filter(|&&c| c == b'.').count();
    let valid = !body.is_empty()
        && body.iter().all(|c| c.is_ascii_digit() || *c == b'.')
        && body.iter().any(u8::is_ascii_digit)
        && dots <= 1;
    if !valid {
        // Some writers emit "--1" or "1-"; treat the token as 0 like most readers do,
        // but a keyword-looking token that starts with a sign is a syntax error.
        if body
            .iter()
            .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'-' | b'+'))
        {
            return Ok(Token::Integer(0));
        }
        return Err(PdfError::syntax(start, "malformed number"));
    }
    if dots == 0 {
        let mut v: i64 = 0;
        for &c in body {
            let d = i64::from(c.saturating_sub(b'0'));
            v = v
                .checked_mul(10)
                .and_then(|v| v.checked_add(d))
                .ok_or_else(|| PdfError::syntax(start, "integer out of range"))?;
        }
        Ok(Token::Integer(if negative {
            v.saturating_neg()
        } else {
            v
        }))
    } else {
        let text =
            std::str::from_utf8(body).map_err(|_| PdfError::syntax(start, "malformed number"))?;
        let text = if text.starts_with('.') {
            format!("0{text}")
        } else {
            text.to_owned()
        };
        let text = if text.ends_with('.') {
            format!("{text}0")
        } else {
            text
        };
        let v: f64 = text
            .parse()
            .map_err(|_| PdfError::syntax(start, "malformed number"))?;
        if !v.is_finite() {
            return Err(PdfError::syntax(start, "real number out of range"));
        }
        Ok(Token::Real(if negative { -v } else { v }))
    }
}

/// The value of a hex digit (`0`–`9`, `a`–`f`, `A`–`F`), as PDF hex strings and name
/// escapes write them.
#[inline]
pub fn hex_digit(c: u8) -> Option<u8> {
    HEX_CLASS.get(usize::from(c)).copied().filter(|v| *v < 16)
}

/// In [`HEX_CLASS`]: white space, skipped inside a hex string.
const HEX_SPACE: u8 = 0xFE;
/// In [`HEX_CLASS`]: `>`, the end of a hex string.
const HEX_END: u8 = 0xFD;
/// In [`HEX_CLASS`]: any other byte, an error.
const HEX_BAD: u8 = 0xFF;

/// Each byte's meaning inside a hex string: its value (0–15), or one of the marks.
// Built at compile time over indices below 256: the cast is exact and no index can
// be out of bounds.
#[allow(
    clippy::as_conversions,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation
)]
const HEX_CLASS: [u8; 256] = {
    let mut t = [HEX_BAD; 256];
    let mut i = 0usize;
    while i < 256 {
        let c = i as u8;
        t[i] = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            0 | b'\t' | b'\n' | 0x0c | b'\r' | b' ' => HEX_SPACE,
            b'>' => HEX_END,
            _ => HEX_BAD,
        };
        i += 1;
    }
    t
};

fn hex_string<S: ByteSource>(s: &mut S, start: u64) -> Result<Vec<u8>, PdfError> {
    let mut out = Vec::new();
    let mut high: Option<u8> = None;
    // Signature /Contents are long hex strings: scanned a window at a time.
    loop {
        let window = s.window()?;
        if window.is_empty() {
            return Err(PdfError::Truncated {
                offset: s.pos(),
                context: "a hex string",
            });
        }
        out.reserve(window.len() / 2);
        let mut used = 0usize;
        let mut closed = false;
        // Pairs of digits first, without white space: what signature /Contents are.
        if high.is_none() {
            for pair in window.chunks_exact(2) {
                let [a, b] = pair else { break };
                let class = |c: &u8| HEX_CLASS.get(usize::from(*c)).copied().unwrap_or(HEX_BAD);
                let (a, b) = (class(a), class(b));
                if (a | b) >= 16 {
                    break;
                }
                out.push(a.wrapping_shl(4) | b);
                used += 2;
            }
        }
        for &c in window.get(used..).unwrap_or_default() {
            used += 1;
            let v = HEX_CLASS.get(usize::from(c)).copied().unwrap_or(HEX_BAD);
            if v < 16 {
                match high.take() {
                    Some(h) => out.push(h.wrapping_shl(4) | v),
                    None => high = Some(v),
                }
            } else if v == HEX_SPACE {
                continue;
            } else if v == HEX_END {
                closed = true;
                break;
            } else {
                return Err(PdfError::syntax(start, "invalid character in hex string"));
            }
        }
        s.advance(used);
        if closed {
            break;
        }
    }
    if let Some(h) = high {
        out.push(h.wrapping_shl(4));
    }
    Ok(out)
}

fn literal_string<S: ByteSource>(s: &mut S, start: u64) -> Result<Vec<u8>, PdfError> {
    let mut out = Vec::new();
    let mut depth: usize = 1;
    let eof = |s: &S| PdfError::Truncated {
        offset: s.pos(),
        context: "a string",
    };
    loop {
        let Some(c) = s.peek()? else {
            return Err(eof(s));
        };
        s.bump();
        match c {
            b'(' => {
                depth = depth.saturating_add(1);
                out.push(c);
            }
            b')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    break;
                }
                out.push(c);
            }
            b'\r' => {
                // An unescaped end-of-line in a string is read as a single LF (§7.3.4.2).
                if s.peek()? == Some(b'\n') {
                    s.bump();
                }
                out.push(b'\n');
            }
            b'\\' => {
                let Some(e) = s.peek()? else {
                    return Err(eof(s));
                };
                s.bump();
                match e {
                    b'n' => out.push(b'\n'),
                    b'r' => out.push(b'\r'),
                    b't' => out.push(b'\t'),
                    b'b' => out.push(0x08),
                    b'f' => out.push(0x0c),
                    b'\r' => {
                        if s.peek()? == Some(b'\n') {
                            s.bump();
                        }
                    }
                    b'\n' => {}
                    b'0'..=b'7' => {
                        let mut v: u32 = u32::from(e.saturating_sub(b'0'));
                        for _ in 0..2 {
                            match s.peek()? {
                                Some(d @ b'0'..=b'7') => {
                                    s.bump();
                                    v = v
                                        .saturating_mul(8)
                                        .saturating_add(u32::from(d.saturating_sub(b'0')));
                                }
                                _ => break,
                            }
                        }
                        out.push(u8::try_from(v & 0xff).unwrap_or(0));
                    }
                    other => out.push(other),
                }
            }
            _ => out.push(c),
        }
    }
    let _ = start;
    Ok(out)
}

fn name<S: ByteSource>(s: &mut S) -> Result<Vec<u8>, PdfError> {
    let mut out = Vec::new();
    while let Some(c) = s.peek()? {
        if !is_regular(c) {
            break;
        }
        s.bump();
        if c == b'#' {
            let h = s.peek()?.and_then(hex_digit);
            if let Some(h) = h {
                s.bump();
                if let Some(l) = s.peek()?.and_then(hex_digit) {
                    s.bump();
                    out.push(h.wrapping_shl(4) | l);
                } else {
                    out.push(b'#');
                    out.push(h);
                }
                continue;
            }
        }
        out.push(c);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(input: &[u8]) -> Vec<Token> {
        let mut s = SliceSource::new(input, 0);
        let mut v = Vec::new();
        while let Some((t, _)) = next_token(&mut s).unwrap() {
            v.push(t);
        }
        v
    }

    #[test]
    fn long_hex_strings_span_file_windows() {
        // Longer than several 16 KiB windows, with white space and an odd digit count.
        let mut input = b"<".to_vec();
        for i in 0..50_000u32 {
            input.extend_from_slice(if i % 7 == 0 { b"4 1" } else { b"41" });
        }
        input.extend_from_slice(b"3> 12");
        let len = u64::try_from(input.len()).unwrap();
        let mut cursor = std::io::Cursor::new(input);
        let mut s = FileSource::new(&mut cursor, len, 0, len, "test");
        let (t, _) = next_token(&mut s).unwrap().unwrap();
        let mut want = vec![0x41u8; 50_000];
        want.push(0x30);
        assert_eq!(t, Token::HexString(want));
        assert_eq!(
            next_token(&mut s).unwrap().map(|(t, _)| t),
            Some(Token::Integer(12))
        );
        // Cut short: an error, not a hang.
        let mut cut = std::io::Cursor::new(b"<4142".to_vec());
        let mut s = FileSource::new(&mut cut, 5, 0, 5, "test");
        assert!(next_token(&mut s).is_err());
    }

    #[test]
    fn tokens() {
        assert_eq!(
            toks(b"<< /A#20b 12 -3.5 (a\\(b\\051) <4142 3> [true] >> % c\n R"),
            vec![
                Token::DictStart,
                Token::Name(b"A b".to_vec()),
                Token::Integer(12),
                Token::Real(-3.5),
                Token::String(b"a(b)".to_vec()),
                Token::HexString(vec![0x41, 0x42, 0x30]),
                Token::ArrayStart,
                Token::Keyword(b"true".to_vec()),
                Token::ArrayEnd,
                Token::DictEnd,
                Token::Keyword(b"R".to_vec()),
            ]
        );
    }

    #[test]
    fn unterminated_string_is_error() {
        let mut s = SliceSource::new(b"(abc", 0);
        assert!(matches!(
            next_token(&mut s),
            Err(PdfError::Truncated { .. })
        ));
    }
}
