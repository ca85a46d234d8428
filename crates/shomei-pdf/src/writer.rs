//! The incremental-update writer (ISO 32000-1 §7.5.6): new and rewritten objects, then a
//! cross-reference section of the same kind as the file's newest one, appended after the
//! untouched original bytes.

use crate::error::PdfError;
use crate::object::{Dictionary, Object, ObjectId};
use crate::serialize::{write_dict, write_object};

/// Largest offset a classic xref entry can hold (10 digits, §7.5.4).
const MAX_TABLE_OFFSET: u64 = 9_999_999_999;

/// What the update's trailer needs from the file being updated.
pub(crate) struct UpdateContext<'a> {
    /// The file's last `startxref` value, becomes /Prev.
    pub(crate) prev: u64,
    /// The newest trailer (/Root, /Info, /ID are copied).
    pub(crate) trailer: &'a Dictionary,
    /// Write an xref stream instead of a classic table.
    pub(crate) xref_stream: bool,
    /// The first object number not in use before this update.
    pub(crate) next_number: u32,
}

/// Accumulates the bytes of one incremental update.
pub(crate) struct UpdateWriter {
    pub(crate) buf: Vec<u8>,
    original_len: u64,
    base: u64,
    offsets: Vec<(ObjectId, u64)>,
}

impl UpdateWriter {
    pub(crate) fn new(original_len: u64, base: u64, leading_eol: bool) -> Self {
        let mut buf = Vec::with_capacity(4096);
        if leading_eol {
            buf.push(b'\n');
        }
        UpdateWriter {
            buf,
            original_len,
            base,
            offsets: Vec::new(),
        }
    }

    /// Offset (relative, as the xref wants it) of the next byte written.
    fn rel_pos(&self) -> Result<u64, PdfError> {
        let len =
            u64::try_from(self.buf.len()).map_err(|_| PdfError::OutOfRange("update length"))?;
        self.original_len
            .checked_add(len)
            .and_then(|abs| abs.checked_sub(self.base))
            .ok_or(PdfError::OutOfRange("object offset"))
    }

    /// Writes `n g obj\n` and records the offset.
    pub(crate) fn begin(&mut self, id: ObjectId) -> Result<(), PdfError> {
        let at = self.rel_pos()?;
        self.offsets.retain(|(i, _)| i.number != id.number);
        self.offsets.push((id, at));
        self.buf
            .extend_from_slice(format!("{} {} obj\n", id.number, id.generation).as_bytes());
        Ok(())
    }

    pub(crate) fn end(&mut self) {
        self.buf.extend_from_slice(b"\nendobj\n");
    }

    /// Writes a whole indirect object.
    pub(crate) fn object(&mut self, id: ObjectId, obj: &Object) -> Result<(), PdfError> {
        self.begin(id)?;
        write_object(&mut self.buf, obj);
        self.end();
        Ok(())
    }

    /// Writes the cross-reference section, trailer, `startxref` and `%%EOF`.
    pub(crate) fn finish(mut self, ctx: &UpdateContext<'_>) -> Result<Vec<u8>, PdfError> {
        let mut highest = ctx.next_number.saturating_sub(1);
        for (id, _) in &self.offsets {
            highest = highest.max(id.number);
        }
        let mut trailer = Dictionary::new();
        let copy = |t: &mut Dictionary, key: &[u8]| {
            if let Some(v) = ctx.trailer.get(key) {
                t.set(key, v.clone());
            }
        };
        let xref_at;
        if ctx.xref_stream {
            let xref_id = ObjectId::new(
                highest
                    .checked_add(1)
                    .ok_or(PdfError::OutOfRange("object number"))?,
                0,
            );
            xref_at = self.rel_pos()?;
            self.offsets.push((xref_id, xref_at));
            self.offsets.sort_by_key(|(id, _)| id.number);
            let max_off = self.offsets.iter().map(|(_, o)| *o).max().unwrap_or(0);
            let width = bytes_needed(max_off);
            let mut data = Vec::new();
            for (id, off) in &self.offsets {
                data.push(1u8);
                let be = off.to_be_bytes();
                data.extend_from_slice(
                    be.get(be.len().saturating_sub(width)..).unwrap_or_default(),
                );
                data.extend_from_slice(&id.generation.to_be_bytes());
            }
            let size = xref_id
                .number
                .checked_add(1)
                .ok_or(PdfError::OutOfRange("object number"))?;
            trailer.set("Type", Object::name("XRef"));
            trailer.set("Size", Object::Integer(i64::from(size)));
            trailer.set("Index", Object::Array(index_runs(&self.offsets)));
            trailer.set(
                "W",
                Object::Array(vec![
                    Object::Integer(1),
                    Object::Integer(i64::try_from(width).unwrap_or(8)),
                    Object::Integer(2),
                ]),
            );
            copy(&mut trailer, b"Root");
            copy(&mut trailer, b"Info");
            copy(&mut trailer, b"ID");
            trailer.set(
                "Prev",
                Object::Integer(
                    i64::try_from(ctx.prev).map_err(|_| PdfError::OutOfRange("startxref"))?,
                ),
            );
            trailer.set(
                "Length",
                Object::Integer(i64::try_from(data.len()).unwrap_or(i64::MAX)),
            );
            self.buf
                .extend_from_slice(format!("{} 0 obj\n", xref_id.number).as_bytes());
            write_dict(&mut self.buf, &trailer);
            self.buf.extend_from_slice(b"\nstream\n");
            self.buf.extend_from_slice(&data);
            self.buf.extend_from_slice(b"\nendstream\nendobj\n");
        } else {
            xref_at = self.rel_pos()?;
            self.offsets.sort_by_key(|(id, _)| id.number);
            self.buf.extend_from_slice(b"xref\n");
            let mut i = 0usize;
            while let Some((first, _)) = self.offsets.get(i) {
                let start = first.number;
                let mut end = i;
                while let (Some((a, _)), Some((b, _))) = (
                    self.offsets.get(end),
                    self.offsets.get(end.saturating_add(1)),
                ) {
                    if b.number == a.number.saturating_add(1) {
                        end = end.saturating_add(1);
                    } else {
                        break;
                    }
                }
                let count = end.saturating_sub(i).saturating_add(1);
                self.buf
                    .extend_from_slice(format!("{start} {count}\n").as_bytes());
                for (id, off) in self.offsets.get(i..=end).unwrap_or_default() {
                    if *off > MAX_TABLE_OFFSET {
                        return Err(PdfError::OutOfRange(
                            "offset does not fit a classic xref table (10 digits)",
                        ));
                    }
                    self.buf.extend_from_slice(
                        format!("{off:010} {:05} n\r\n", id.generation).as_bytes(),
                    );
                }
                i = end.saturating_add(1);
            }
            let size = highest
                .checked_add(1)
                .ok_or(PdfError::OutOfRange("object number"))?;
            trailer.set("Size", Object::Integer(i64::from(size)));
            copy(&mut trailer, b"Root");
            copy(&mut trailer, b"Info");
            copy(&mut trailer, b"ID");
            trailer.set(
                "Prev",
                Object::Integer(
                    i64::try_from(ctx.prev).map_err(|_| PdfError::OutOfRange("startxref"))?,
                ),
            );
            self.buf.extend_from_slice(b"trailer\n");
            write_dict(&mut self.buf, &trailer);
            self.buf.push(b'\n');
        }
        self.buf
            .extend_from_slice(format!("startxref\n{xref_at}\n%%EOF\n").as_bytes());
        Ok(self.buf)
    }
}

/// Bytes needed to hold `v` (at least 1).
fn bytes_needed(v: u64) -> usize {
    let bits = 64usize.saturating_sub(usize::try_from(v.leading_zeros()).unwrap_or(64));
    bits.div_ceil(8).max(1)
}

/// `/Index` pairs for sorted ids.
fn index_runs(sorted: &[(ObjectId, u64)]) -> Vec<Object> {
    let mut out: Vec<(u32, u32)> = Vec::new();
    for (id, _) in sorted {
        match out.last_mut() {
            Some((start, count)) if start.saturating_add(*count) == id.number => {
                *count = count.saturating_add(1);
            }
            _ => out.push((id.number, 1)),
        }
    }
    out.into_iter()
        .flat_map(|(s, c)| [Object::Integer(i64::from(s)), Object::Integer(i64::from(c))])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths() {
        assert_eq!(bytes_needed(0), 1);
        assert_eq!(bytes_needed(255), 1);
        assert_eq!(bytes_needed(256), 2);
        assert_eq!(bytes_needed(u64::MAX), 8);
    }
}
