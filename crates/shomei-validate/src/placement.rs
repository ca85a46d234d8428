//! Where a PDF signature sits: its `/ByteRange` must cover the file from byte 0 to the
//! end of one revision (a `%%EOF`), leaving out exactly the `/Contents` hex string —
//! and that string must be the signature dictionary's `/Contents`. Anything else is
//! the shape of a signature-wrapping or universal-forgery attack, or a broken file.

use crate::report::SubIndication;
use shomei_pdf::ExistingSignature;

/// What a well-placed signature covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Coverage {
    /// The covered bytes end here (exclusive): the end of revision `revision`.
    pub end: u64,
    /// The revision the signature covers up to (1 = the original file).
    pub revision: usize,
    /// How many revisions the file has.
    pub revisions: usize,
    /// The `/Contents` hex string left out: `[start, end)`.
    pub gap: (u64, u64),
}

impl Coverage {
    /// True when nothing was appended after the signed revision.
    pub fn is_whole_file(&self) -> bool {
        self.revision == self.revisions
    }

    /// The coverage in words.
    pub fn describe(&self, file_len: u64) -> String {
        let whole = if self.is_whole_file() {
            "the whole file".to_string()
        } else {
            format!(
                "revision {} of {} ({} bytes were appended after it)",
                self.revision,
                self.revisions,
                file_len.saturating_sub(self.end)
            )
        };
        format!(
            "bytes 0–{} and {}–{} of {file_len}: {whole}, except its own /Contents",
            self.gap.0, self.gap.1, self.end
        )
    }
}

/// A placement problem: the sub-indication and the reason.
pub type Misplaced = (SubIndication, String);

fn format(reason: impl Into<String>) -> Misplaced {
    (SubIndication::FormatFailure, reason.into())
}

/// Where each revision of `file` ends: just after a `%%EOF` marker and its end of
/// line, if any.
pub fn revision_ends(file: &[u8]) -> Vec<u64> {
    const MARK: &[u8] = b"%%EOF";
    let mut ends = Vec::new();
    for pos in memchr::memmem::find_iter(file, MARK) {
        let mut end = pos + MARK.len();
        match file.get(end..end + 2) {
            Some([b'\r', b'\n']) => end += 2,
            Some([b'\r' | b'\n', _]) => end += 1,
            _ if matches!(file.get(end), Some(b'\r' | b'\n')) => end += 1,
            _ => {}
        }
        ends.push(u64::try_from(end).unwrap_or(u64::MAX));
    }
    ends
}

/// Checks the placement of `sig` in `file`.
///
/// # Errors
/// FORMAT_FAILURE with the reason: a `/ByteRange` that is not four numbers, does not
/// start at 0, overlaps, leaves out more or less than the `/Contents` hex string, runs
/// past the file, or does not end at a revision's `%%EOF`; a `/Contents` that is not
/// the string in the gap, or is empty or all zeros.
pub fn check(file: &[u8], sig: &ExistingSignature) -> Result<Coverage, Misplaced> {
    let len = u64::try_from(file.len()).unwrap_or(u64::MAX);
    let [a, b, c, d] = sig.byte_range.as_slice() else {
        return Err(format(format!(
            "the /ByteRange has {} numbers instead of 4 (missing or degenerate)",
            sig.byte_range.len()
        )));
    };
    let (a, b, c, d) = (*a, *b, *c, *d);
    if a != 0 {
        return Err(format(format!(
            "the /ByteRange starts at byte {a}, not 0: bytes before it are not signed (signature wrapping)"
        )));
    }
    if b == 0 || c <= b {
        return Err(format(format!(
            "the /ByteRange's two ranges overlap or leave no gap ([0, {b}) and [{c}, {}))",
            c.saturating_add(d)
        )));
    }
    let end = c.checked_add(d).filter(|e| *e <= len).ok_or_else(|| {
        format(format!(
            "the /ByteRange runs past the end of the file ({len} bytes)"
        ))
    })?;
    let gap = usize::try_from(b)
        .ok()
        .zip(usize::try_from(c).ok())
        .and_then(|(s, e)| file.get(s..e))
        .ok_or_else(|| format("the /ByteRange gap lies outside the file"))?;
    let spelled = match gap {
        [b'<', inner @ .., b'>'] => hex_spells(inner, &sig.contents),
        _ => None,
    };
    let Some(same) = spelled else {
        return Err(format(format!(
            "the bytes left out of the /ByteRange ({b}–{c}) are not exactly one hex string: \
             something other than the signature is unsigned (signature wrapping)"
        )));
    };
    if !same {
        return Err(format(
            "the /Contents of the signature dictionary is not the string the /ByteRange leaves \
             out (the signature value shown is not the one in place)",
        ));
    }
    if sig.contents.iter().all(|x| *x == 0) {
        return Err(format(
            "the /Contents is empty or all zeros: there is no signature (universal forgery)",
        ));
    }
    let ends = revision_ends(file);
    let revision = ends
        .iter()
        .position(|e| *e == end)
        .or_else(|| {
            // A writer may put the end of line after %%EOF outside the range.
            ends.iter()
                .position(|e| *e > end && *e - end <= 2 && only_eol(file, end, *e))
        })
        .ok_or_else(|| {
            format(format!(
                "the /ByteRange ends at byte {end}, which is not the end of a revision (%%EOF): \
                 the signed bytes are not a whole document"
            ))
        })?;
    Ok(Coverage {
        end,
        revision: revision + 1,
        revisions: ends.len(),
        gap: (b, c),
    })
}

fn only_eol(file: &[u8], from: u64, to: u64) -> bool {
    usize::try_from(from)
        .ok()
        .zip(usize::try_from(to).ok())
        .and_then(|(f, t)| file.get(f..t))
        .is_some_and(|s| s.iter().all(|x| matches!(x, b'\r' | b'\n')))
}

/// `None` when `hex` holds anything but hex digits; else whether the digits spell
/// `bytes` (an odd final digit is followed by an implied 0, ISO 32000-2 7.3.4.3).
/// One pass, compared in place: the string is as long as the signature.
fn hex_spells(hex: &[u8], bytes: &[u8]) -> Option<bool> {
    let value = |c: &u8| shomei_pdf::hex_digit(*c).unwrap_or(0xFF);
    let mut same = hex.len().div_ceil(2) == bytes.len();
    let mut expected = bytes.iter();
    for pair in hex.chunks(2) {
        let (h, l) = match pair {
            [h, l] => (value(h), value(l)),
            [h] => (value(h), 0),
            _ => (0, 0),
        };
        if h | l > 0x0F {
            return None;
        }
        same &= expected.next() == Some(&((h << 4) | l));
    }
    Some(same)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(byte_range: Vec<u64>, contents: Vec<u8>) -> ExistingSignature {
        let mut s = ExistingSignature::default();
        s.byte_range = byte_range;
        s.contents = contents;
        s
    }

    /// `%PDF … /Contents <3082AB> … %%EOF\n`, the offsets of its gap and its length.
    fn file() -> (Vec<u8>, u64, u64, u64) {
        let head = b"%PDF-1.7\n1 0 obj << /Contents ".to_vec();
        let tail = b" >> endobj\ntrailer <<>>\n%%EOF\n".to_vec();
        let mut f = head.clone();
        f.extend_from_slice(b"<3082AB>");
        f.extend_from_slice(&tail);
        let b = u64::try_from(head.len()).unwrap();
        let c = b + 8;
        let len = u64::try_from(f.len()).unwrap();
        (f, b, c, len)
    }

    #[test]
    fn a_proper_signature_covers_the_whole_file() {
        let (f, b, c, len) = file();
        let cov = check(&f, &sig(vec![0, b, c, len - c], vec![0x30, 0x82, 0xab])).unwrap();
        assert!(cov.is_whole_file());
        assert_eq!((cov.revision, cov.revisions, cov.end), (1, 1, len));
    }

    #[test]
    fn wrapping_and_forgery_shapes_are_format_failures() {
        let (f, b, c, len) = file();
        let good = vec![0x30, 0x82, 0xab];
        let cases: Vec<(Vec<u64>, Vec<u8>, &str)> = vec![
            (vec![0, b, c], good.clone(), "numbers instead of 4"),
            (vec![1, b - 1, c, len - c], good.clone(), "not 0"),
            (vec![0, c, b, len - b], good.clone(), "overlap"),
            (
                vec![0, b - 2, c, len - c],
                good.clone(),
                "not exactly one hex string",
            ),
            (
                vec![0, b, c, len - c - 8],
                good.clone(),
                "not the end of a revision",
            ),
            (vec![0, b, c, len], good.clone(), "past the end"),
            (
                vec![0, b, c, len - c],
                vec![0x30, 0x82, 0xac],
                "not the string",
            ),
        ];
        for (range, contents, why) in cases {
            let e = check(&f, &sig(range.clone(), contents)).unwrap_err();
            assert_eq!(e.0, SubIndication::FormatFailure, "{range:?}");
            assert!(e.1.contains(why), "{range:?}: {}", e.1);
        }
        let mut zeroed = f.clone();
        let at = usize::try_from(b).unwrap() + 1;
        zeroed[at..at + 6].copy_from_slice(b"000000");
        let e = check(&zeroed, &sig(vec![0, b, c, len - c], vec![0, 0, 0])).unwrap_err();
        assert!(e.1.contains("universal forgery"), "{}", e.1);
    }

    #[test]
    fn a_signature_of_an_earlier_revision_says_so() {
        let (mut f, b, c, len) = file();
        f.extend_from_slice(b"2 0 obj (appended) endobj\ntrailer <<>>\n%%EOF\n");
        let cov = check(&f, &sig(vec![0, b, c, len - c], vec![0x30, 0x82, 0xab])).unwrap();
        assert_eq!((cov.revision, cov.revisions), (1, 2));
        assert!(!cov.is_whole_file());
        assert!(cov
            .describe(u64::try_from(f.len()).unwrap())
            .contains("revision 1 of 2"));
    }
}
