//! Preparing a PAdES signature (ISO 32000-2 §12.8, ETSI EN 319 142-1): the signature
//! dictionary with its `/ByteRange` and `/Contents` placeholder, the field and widget, the
//! AcroForm changes, all as one incremental update.

use std::collections::HashSet;
use std::io::{Read, Seek};

use crate::appearance::{self, Appearance};
use crate::error::PdfError;
use crate::limits::{MAX_CONTENTS_CAPACITY, MAX_OBJECT_NUMBER, MAX_TREE_NODES};
use crate::object::{Dictionary, Object, ObjectId};
use crate::reader::PdfReader;
use crate::serialize::{text_string, write_dict, write_name};
use crate::writer::{UpdateContext, UpdateWriter};

/// What the new signature dictionary holds.
#[non_exhaustive]
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SignatureDictionary {
    /// `true`: a document timestamp (`/Type /DocTimeStamp`, `/SubFilter /ETSI.RFC3161`,
    /// no `/M`, `/Reason`, `/Location`, `/ContactInfo` or `/Name`).
    pub doc_timestamp: bool,
    /// `/SubFilter` of an ordinary signature, e.g. `ETSI.CAdES.detached` (the default when empty).
    pub sub_filter: String,
    /// Signing time already formatted as a PDF date, e.g. `D:20261127032000Z` (`/M`).
    pub signing_time: Option<String>,
    /// `/Reason`.
    pub reason: Option<String>,
    /// `/Location`.
    pub location: Option<String>,
    /// `/ContactInfo`.
    pub contact_info: Option<String>,
    /// `/Name`.
    pub name: Option<String>,
    /// `Some(1 | 2 | 3)`: a certification signature with DocMDP permission level `P`.
    pub certify: Option<u8>,
}

/// A request to prepare one signature.
#[non_exhaustive]
#[derive(Debug, Clone)]
pub struct SignatureRequest {
    /// `Some(name)`: sign the existing empty signature field with that (fully qualified or
    /// partial) name, or create a field with that name; `None`: create `Signature1`,
    /// `Signature2`, ... (the first unused name).
    pub field_name: Option<String>,
    /// The signature dictionary's content.
    pub dictionary: SignatureDictionary,
    /// Bytes reserved for the DER-encoded CMS blob; the placeholder has twice as many hex digits.
    pub contents_capacity: usize,
    /// `Some`: a visible signature — the new field's widget gets this rectangle, page and
    /// appearance, written inside the signed update. `None`: an invisible widget on page 1.
    pub appearance: Option<Appearance>,
}

/// Default reservation: 16 KiB covers a CAdES blob with a three-certificate chain and a
/// timestamp token.
pub const DEFAULT_CONTENTS_CAPACITY: usize = 16 * 1024;

impl Default for SignatureRequest {
    fn default() -> Self {
        SignatureRequest {
            field_name: None,
            dictionary: SignatureDictionary::default(),
            contents_capacity: DEFAULT_CONTENTS_CAPACITY,
            appearance: None,
        }
    }
}

impl SignatureRequest {
    /// A request with the given dictionary and capacity, new field with a generated name.
    pub fn new(dictionary: SignatureDictionary, contents_capacity: usize) -> Self {
        SignatureRequest {
            field_name: None,
            dictionary,
            contents_capacity,
            appearance: None,
        }
    }
}

impl SignatureDictionary {
    /// An ordinary CAdES signature (`ETSI.CAdES.detached`).
    pub fn cades() -> Self {
        SignatureDictionary {
            sub_filter: "ETSI.CAdES.detached".into(),
            ..SignatureDictionary::default()
        }
    }

    /// A document timestamp (`ETSI.RFC3161`).
    pub fn document_timestamp() -> Self {
        SignatureDictionary {
            doc_timestamp: true,
            ..SignatureDictionary::default()
        }
    }
}

/// Serializes the update bytes as a hex string (compact in JSON, unlike an array of numbers).
mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        let mut out = String::with_capacity(bytes.len().saturating_mul(2));
        for b in bytes {
            out.push(super::hex_digit(b >> 4));
            out.push(super::hex_digit(b & 0x0f));
        }
        s.serialize_str(&out)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        let digits = s.as_bytes();
        if digits.len() % 2 != 0 {
            return Err(serde::de::Error::custom("odd number of hex digits"));
        }
        digits
            .chunks_exact(2)
            .map(|p| match p {
                [h, l] => match (crate::lexer::hex_digit(*h), crate::lexer::hex_digit(*l)) {
                    (Some(h), Some(l)) => Ok(h << 4 | l),
                    _ => Err(serde::de::Error::custom("invalid hex digit")),
                },
                _ => Err(serde::de::Error::custom("odd number of hex digits")),
            })
            .collect()
    }
}

fn hex_digit(v: u8) -> char {
    char::from(
        b"0123456789abcdef"
            .get(usize::from(v & 0x0f))
            .copied()
            .unwrap_or(b'0'),
    )
}

/// The appended incremental update with its `/Contents` placeholder.
///
/// Serializable so a web flow can stop after preparing and resume when the signature arrives.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PreparedUpdate {
    #[serde(with = "hex_bytes")]
    update: Vec<u8>,
    original_len: u64,
    byte_range: [u64; 4],
    /// Index in `update` of the `<` opening the placeholder.
    contents_start: usize,
    contents_capacity: usize,
}

impl std::fmt::Debug for PreparedUpdate {
    // The update holds the whole placeholder; print its shape, not its bytes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedUpdate")
            .field("update_len", &self.update.len())
            .field("original_len", &self.original_len)
            .field("byte_range", &self.byte_range)
            .field("contents_start", &self.contents_start)
            .field("contents_capacity", &self.contents_capacity)
            .finish()
    }
}

impl PreparedUpdate {
    /// Length of the original file the update is appended to.
    pub fn original_len(&self) -> u64 {
        self.original_len
    }

    /// `/ByteRange` as written: `[0, a, b, total - b]`, absolute offsets in the final file.
    pub fn byte_range(&self) -> [u64; 4] {
        self.byte_range
    }

    /// Length of the final file (original plus update).
    pub fn total_len(&self) -> u64 {
        self.original_len
            .saturating_add(u64::try_from(self.update.len()).unwrap_or(u64::MAX))
    }

    /// The bytes to append after the original file (placeholder included).
    pub fn update_bytes(&self) -> &[u8] {
        &self.update
    }

    /// The parts of the update covered by the ByteRange: before the `<` of `/Contents` and
    /// after its `>`. Hash the original file, then these two parts.
    pub fn signed_update_parts(&self) -> (&[u8], &[u8]) {
        let end = self.contents_end().unwrap_or(self.update.len());
        let before = self.update.get(..self.contents_start).unwrap_or_default();
        let after = self.update.get(end..).unwrap_or_default();
        (before, after)
    }

    /// Bytes reserved for the DER blob.
    pub fn contents_capacity(&self) -> usize {
        self.contents_capacity
    }

    /// Absolute file offset of the first hex digit of the placeholder.
    pub fn contents_hex_offset(&self) -> u64 {
        self.original_len
            .saturating_add(u64::try_from(self.contents_start).unwrap_or(u64::MAX))
            .saturating_add(1)
    }

    /// Index just past the closing `>`.
    fn contents_end(&self) -> Option<usize> {
        self.contents_capacity
            .checked_mul(2)?
            .checked_add(2)?
            .checked_add(self.contents_start)
            .filter(|e| *e <= self.update.len())
    }

    /// Writes `der` as hex into the placeholder; the rest stays `0`.
    pub fn embed(&mut self, der: &[u8]) -> Result<(), PdfError> {
        if der.len() > self.contents_capacity {
            return Err(PdfError::ContentsTooSmall {
                needed: der.len(),
                capacity: self.contents_capacity,
            });
        }
        let end = self.contents_end().ok_or(PdfError::InvalidPreparedUpdate(
            "placeholder lies outside the update",
        ))?;
        let first = self.contents_start.saturating_add(1);
        let last = end.saturating_sub(1);
        if self.update.get(self.contents_start) != Some(&b'<')
            || self.update.get(last) != Some(&b'>')
        {
            return Err(PdfError::InvalidPreparedUpdate(
                "placeholder delimiters not found",
            ));
        }
        let digits = self
            .update
            .get_mut(first..last)
            .ok_or(PdfError::InvalidPreparedUpdate(
                "placeholder lies outside the update",
            ))?;
        digits.fill(b'0');
        for (slot, b) in digits.chunks_exact_mut(2).zip(der) {
            if let [h, l] = slot {
                *h = u8::try_from(hex_digit(b >> 4)).unwrap_or(b'0');
                *l = u8::try_from(hex_digit(b & 0x0f)).unwrap_or(b'0');
            }
        }
        Ok(())
    }
}

/// Width of the fixed `/ByteRange` array: "[" + 65 characters + "]" holds "0 a b c" with
/// three 20-digit (u64) numbers.
const BYTE_RANGE_INNER: usize = 65;

/// Pending rewrites, newest content per object.
#[derive(Default)]
struct Rewrites {
    objects: Vec<(ObjectId, Object)>,
}

impl Rewrites {
    fn set(&mut self, id: ObjectId, obj: Object) {
        if let Some(slot) = self.objects.iter_mut().find(|(i, _)| i.number == id.number) {
            slot.1 = obj;
        } else {
            self.objects.push((id, obj));
        }
    }

    fn load<R: Read + Seek>(
        &self,
        reader: &mut PdfReader<R>,
        id: ObjectId,
    ) -> Result<Object, PdfError> {
        match self.objects.iter().find(|(i, _)| i.number == id.number) {
            Some((_, o)) => Ok(o.clone()),
            None => reader.get(id),
        }
    }
}

/// Where the AcroForm dictionary lives.
enum AcroHolder {
    Catalog,
    Object(ObjectId),
}

/// Appends `item` to the array stored in `container[key]`, rewriting an indirect array in place.
fn append_to_array<R: Read + Seek>(
    reader: &mut PdfReader<R>,
    rewrites: &mut Rewrites,
    container: &mut Dictionary,
    key: &[u8],
    item: Object,
) -> Result<bool, PdfError> {
    match container.get(key).cloned() {
        Some(Object::Reference(id)) => match rewrites.load(reader, id)? {
            Object::Array(mut a) => {
                a.push(item);
                rewrites.set(id, Object::Array(a));
                Ok(false)
            }
            _ => {
                container.set(key, Object::Array(vec![item]));
                Ok(true)
            }
        },
        Some(Object::Array(mut a)) => {
            a.push(item);
            container.set(key, Object::Array(a));
            Ok(true)
        }
        _ => {
            container.set(key, Object::Array(vec![item]));
            Ok(true)
        }
    }
}

fn validate(req: &SignatureRequest) -> Result<(), PdfError> {
    if req.contents_capacity == 0 || req.contents_capacity > MAX_CONTENTS_CAPACITY {
        return Err(PdfError::InvalidRequest(format!(
            "contents_capacity must be between 1 and {MAX_CONTENTS_CAPACITY} bytes"
        )));
    }
    let d = &req.dictionary;
    if let Some(p) = d.certify {
        if !(1..=3).contains(&p) {
            return Err(PdfError::InvalidRequest("certify must be 1, 2 or 3".into()));
        }
        if d.doc_timestamp {
            return Err(PdfError::InvalidRequest(
                "a document timestamp cannot be a certification signature".into(),
            ));
        }
    }
    if req.field_name.as_deref() == Some("") {
        return Err(PdfError::InvalidRequest("the field name is empty".into()));
    }
    if let Some(a) = &req.appearance {
        if d.doc_timestamp {
            return Err(PdfError::InvalidRequest(
                "a document timestamp has no visible appearance".into(),
            ));
        }
        appearance::check(a)?;
    }
    Ok(())
}

/// Prepares an incremental update that adds one signature to the document.
///
/// The returned update has a zero-filled `/Contents` placeholder and a final `/ByteRange`;
/// hash the original file plus [`PreparedUpdate::signed_update_parts`], build the CMS blob
/// and [`PreparedUpdate::embed`] it.
pub fn prepare_signature<R: Read + Seek>(
    reader: &mut PdfReader<R>,
    req: &SignatureRequest,
) -> Result<PreparedUpdate, PdfError> {
    validate(req)?;
    let (root_id, mut catalog) = reader.catalog()?;
    reader.check_docmdp(&catalog)?;
    let acro_existing = reader.acroform(&catalog)?;
    let fields = match &acro_existing {
        Some(a) => reader.field_nodes(a)?,
        None => Vec::new(),
    };
    reader.check_field_locks(&fields)?;
    let signed = fields
        .iter()
        .filter(|f| f.is_signature() && f.is_signed())
        .count();
    if req.dictionary.certify.is_some() && signed > 0 {
        return Err(PdfError::CertifyNotFirst);
    }

    let first_new = u32::try_from(reader.next_object_number())
        .ok()
        .filter(|n| *n < MAX_OBJECT_NUMBER)
        .ok_or(PdfError::OutOfRange("object number"))?;
    let mut next = first_new;
    let mut alloc = || {
        let id = ObjectId::new(next, 0);
        next = next.saturating_add(1);
        id
    };
    let sig_id = alloc();
    let sig_ref = Object::Reference(sig_id);
    let mut rewrites = Rewrites::default();
    let mut catalog_dirty = false;

    // The AcroForm dictionary and where it must be written back.
    let (holder, mut acro) = match catalog.get(b"AcroForm").cloned() {
        Some(Object::Reference(id)) => match acro_existing.clone() {
            Some(d) => (AcroHolder::Object(id), d),
            None => {
                let id = alloc();
                catalog.set("AcroForm", Object::Reference(id));
                catalog_dirty = true;
                (AcroHolder::Object(id), Dictionary::new())
            }
        },
        Some(Object::Dictionary(d)) => (AcroHolder::Catalog, d),
        _ => {
            let id = alloc();
            catalog.set("AcroForm", Object::Reference(id));
            catalog_dirty = true;
            (AcroHolder::Object(id), Dictionary::new())
        }
    };
    let mut acro_dirty = matches!(holder, AcroHolder::Object(_)) && catalog_dirty;

    // An existing field chosen by name?
    let existing = match &req.field_name {
        Some(name) => fields
            .iter()
            .find(|f| {
                f.partial.is_some()
                    && (f.full == *name || f.partial.as_deref() == Some(name.as_str()))
            })
            .cloned(),
        None => None,
    };
    if let Some(field) = existing {
        let name = field.full.clone();
        if !field.is_signature() {
            return Err(PdfError::FieldNotSignature(name));
        }
        if field.is_signed() {
            return Err(PdfError::FieldAlreadySigned(name));
        }
        if req.appearance.is_some() {
            return Err(PdfError::InvalidRequest(format!(
                "signature field {name:?} already exists and keeps its own widget; a visible \
                 stamp is placed with a new field (choose another field name)"
            )));
        }
        let Some(field_id) = field.id else {
            return Err(PdfError::Unsupported {
                offset: 0,
                message: format!("signature field {name:?} is a direct object"),
            });
        };
        let mut dict = match rewrites.load(reader, field_id)? {
            Object::Dictionary(d) => d,
            _ => field.dict,
        };
        dict.set("V", sig_ref.clone());
        rewrites.set(field_id, Object::Dictionary(dict));
    } else {
        let name = match &req.field_name {
            Some(n) if n.contains('.') => {
                return Err(PdfError::InvalidRequest(format!(
                    "no field named {n:?}, and a new field name cannot contain '.'"
                )))
            }
            Some(n) => n.clone(),
            None => {
                let taken: HashSet<&str> = fields
                    .iter()
                    .flat_map(|f| [Some(f.full.as_str()), f.partial.as_deref()])
                    .flatten()
                    .collect();
                (1..=MAX_TREE_NODES.saturating_add(1))
                    .map(|i| format!("Signature{i}"))
                    .find(|n| !taken.contains(n.as_str()))
                    .unwrap_or_else(|| "Signature".into())
            }
        };
        let field_id = alloc();
        let field_ref = Object::Reference(field_id);
        let page_index = req.appearance.as_ref().map_or(0, |a| a.page);
        let (page_id, page) = reader.page(&catalog, page_index)?;
        let mut page = match rewrites.load(reader, page_id)? {
            Object::Dictionary(d) => d,
            _ => page,
        };
        let mut field = Dictionary::new();
        field.set("FT", Object::name("Sig"));
        field.set("T", text_string(&name));
        field.set("V", sig_ref.clone());
        field.set("Type", Object::name("Annot"));
        field.set("Subtype", Object::name("Widget"));
        match &req.appearance {
            Some(a) => {
                let media = reader.page_box(page_index)?;
                let [x0, y0, x1, y1] = a.rect;
                let inside = x0 >= media[0] && y0 >= media[1] && x1 <= media[2] && y1 <= media[3];
                if !inside || x1 <= x0 || y1 <= y0 {
                    return Err(PdfError::InvalidRequest(format!(
                        "the stamp [{x0} {y0} {x1} {y1}] does not lie inside page {} \
                         ([{} {} {} {}])",
                        page_index.saturating_add(1),
                        media[0],
                        media[1],
                        media[2],
                        media[3]
                    )));
                }
                field.set(
                    "Rect",
                    Object::Array(a.rect.iter().map(|v| Object::Real(*v)).collect()),
                );
                let (form_id, objects) = appearance::objects(a, &mut alloc)?;
                let mut ap = Dictionary::new();
                ap.set("N", Object::Reference(form_id));
                field.set("AP", Object::Dictionary(ap));
                for (id, obj) in objects {
                    rewrites.set(id, obj);
                }
            }
            None => field.set("Rect", Object::Array(vec![Object::Integer(0); 4])),
        }
        // Print (4) + Locked (128): an invisible widget that is printed and cannot be edited.
        field.set("F", Object::Integer(132));
        field.set("P", Object::Reference(page_id));
        rewrites.set(field_id, Object::Dictionary(field));
        if append_to_array(
            reader,
            &mut rewrites,
            &mut page,
            b"Annots",
            field_ref.clone(),
        )? {
            rewrites.set(page_id, Object::Dictionary(page));
        }
        if append_to_array(reader, &mut rewrites, &mut acro, b"Fields", field_ref)? {
            acro_dirty = true;
        }
    }

    let flags = acro.get(b"SigFlags").and_then(Object::as_i64).unwrap_or(0);
    if flags & 3 != 3 {
        acro.set("SigFlags", Object::Integer(flags | 3));
        acro_dirty = true;
    }
    if !acro.has(b"Fields") {
        acro.set("Fields", Object::Array(Vec::new()));
        acro_dirty = true;
    }
    if acro_dirty {
        match holder {
            AcroHolder::Catalog => {
                catalog.set("AcroForm", Object::Dictionary(acro));
                catalog_dirty = true;
            }
            AcroHolder::Object(id) => rewrites.set(id, Object::Dictionary(acro)),
        }
    }
    if req.dictionary.certify.is_some() {
        let mut perms = match catalog.get(b"Perms").cloned() {
            Some(p) => reader.resolve_dict(&p)?.unwrap_or_default(),
            None => Dictionary::new(),
        };
        perms.set("DocMDP", sig_ref.clone());
        catalog.set("Perms", Object::Dictionary(perms));
        catalog_dirty = true;
    }
    if catalog_dirty {
        // The catalog may also have been touched through `rewrites` (it never is today).
        rewrites.set(root_id, Object::Dictionary(catalog));
    }

    // Write the update.
    let original_len = reader.file_len();
    let mut w = UpdateWriter::new(original_len, reader.base, !reader.ends_with_eol());
    let (br_at, contents_at) = write_signature_dict(&mut w, sig_id, req)?;
    for (id, obj) in &rewrites.objects {
        w.object(*id, obj)?;
    }
    let ctx = UpdateContext {
        prev: reader.startxref(),
        trailer: reader.trailer(),
        xref_stream: reader.newest_section_is_stream(),
        next_number: next,
    };
    let mut update = w.finish(&ctx)?;

    // Patch the ByteRange now that every offset is known.
    let capacity = req.contents_capacity;
    let to_u64 = |v: usize| u64::try_from(v).map_err(|_| PdfError::OutOfRange("offset"));
    let a = original_len
        .checked_add(to_u64(contents_at)?)
        .ok_or(PdfError::OutOfRange("offset"))?;
    let contents_len = capacity
        .checked_mul(2)
        .and_then(|c| c.checked_add(2))
        .ok_or(PdfError::OutOfRange("contents"))?;
    let b = a
        .checked_add(to_u64(contents_len)?)
        .ok_or(PdfError::OutOfRange("offset"))?;
    let total = original_len
        .checked_add(to_u64(update.len())?)
        .ok_or(PdfError::OutOfRange("offset"))?;
    let byte_range = [0, a, b, total.saturating_sub(b)];
    let text = format!("0 {} {} {}", byte_range[1], byte_range[2], byte_range[3]);
    let slot = update
        .get_mut(br_at.saturating_add(1)..br_at.saturating_add(1).saturating_add(BYTE_RANGE_INNER))
        .ok_or(PdfError::OutOfRange("byte range placeholder"))?;
    if text.len() > slot.len() {
        return Err(PdfError::OutOfRange("byte range"));
    }
    slot.fill(b' ');
    for (s, t) in slot.iter_mut().zip(text.bytes()) {
        *s = t;
    }
    Ok(PreparedUpdate {
        update,
        original_len,
        byte_range,
        contents_start: contents_at,
        contents_capacity: capacity,
    })
}

/// Writes the signature dictionary; returns the positions (in the update) of the
/// `/ByteRange` array's `[` and of the `/Contents` placeholder's `<`.
fn write_signature_dict(
    w: &mut UpdateWriter,
    id: ObjectId,
    req: &SignatureRequest,
) -> Result<(usize, usize), PdfError> {
    let d = &req.dictionary;
    let mut dict = Dictionary::new();
    if d.doc_timestamp {
        dict.set("Type", Object::name("DocTimeStamp"));
        dict.set("Filter", Object::name("Adobe.PPKLite"));
        dict.set("SubFilter", Object::name("ETSI.RFC3161"));
    } else {
        dict.set("Type", Object::name("Sig"));
        dict.set("Filter", Object::name("Adobe.PPKLite"));
        let sub = if d.sub_filter.is_empty() {
            "ETSI.CAdES.detached"
        } else {
            d.sub_filter.as_str()
        };
        dict.set("SubFilter", Object::name(sub));
        if let Some(m) = &d.signing_time {
            dict.set("M", text_string(m));
        }
        for (key, value) in [
            ("Name", &d.name),
            ("Reason", &d.reason),
            ("Location", &d.location),
            ("ContactInfo", &d.contact_info),
        ] {
            if let Some(v) = value {
                dict.set(key, text_string(v));
            }
        }
        if let Some(p) = d.certify {
            let mut params = Dictionary::new();
            params.set("Type", Object::name("TransformParams"));
            params.set("P", Object::Integer(i64::from(p)));
            params.set("V", Object::name("1.2"));
            let mut sigref = Dictionary::new();
            sigref.set("Type", Object::name("SigRef"));
            sigref.set("TransformMethod", Object::name("DocMDP"));
            sigref.set("TransformParams", Object::Dictionary(params));
            dict.set("Reference", Object::Array(vec![Object::Dictionary(sigref)]));
        }
    }
    w.begin(id)?;
    // Everything but the two placeholders, then the placeholders last.
    let mut head = Vec::new();
    write_dict(&mut head, &dict);
    head.truncate(head.len().saturating_sub(3)); // drop " >>"
    w.buf.extend_from_slice(&head);
    w.buf.push(b' ');
    write_name(&mut w.buf, b"ByteRange");
    w.buf.push(b' ');
    let br_at = w.buf.len();
    w.buf.push(b'[');
    w.buf.extend(std::iter::repeat_n(b' ', BYTE_RANGE_INNER));
    w.buf.push(b']');
    w.buf.push(b' ');
    write_name(&mut w.buf, b"Contents");
    w.buf.push(b' ');
    let contents_at = w.buf.len();
    w.buf.push(b'<');
    let digits = req
        .contents_capacity
        .checked_mul(2)
        .ok_or(PdfError::OutOfRange("contents capacity"))?;
    w.buf.extend(std::iter::repeat_n(b'0', digits));
    w.buf.push(b'>');
    w.buf.extend_from_slice(b" >>");
    w.end();
    Ok((br_at, contents_at))
}
