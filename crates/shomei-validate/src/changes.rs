//! What changed in a PDF after a signature: the revision the signature covers (the
//! file up to its `/ByteRange` end) is compared with the whole file. Allowed after a
//! signature (ISO 32000-2 12.8.2.2, EN 319 142-1): validation data (`/DSS`), document
//! time-stamps and new signature fields with their widgets, and — unless a DocMDP
//! certification says P=1 — filling in existing form fields; annotations only where
//! DocMDP says P=3; form fields a signature locks (FieldMDP) keep their values.
//! Anything else is reported: a page's content, resources or
//! attributes, the page tree, catalog entries, annotations added, changed or removed.
//! This is what catches incremental-saving and shadow attacks, whose bytes are all
//! outside the signed range.

use shomei_pdf::{Dictionary, Object, ObjectId, PdfError, PdfReader};
use std::collections::HashSet;
use std::io::Cursor;

/// Most objects visited while fingerprinting one revision (a hostile file ends with an
/// error, never a hang).
const BUDGET: usize = 200_000;
/// Deepest nesting followed through references.
const MAX_DEPTH: usize = 32;
/// Most pages walked.
const MAX_PAGES: usize = 100_000;

/// The DocMDP permission of a certification signature (`/P`, 1–3; 2 when absent), read
/// through the document's open reader.
pub fn docmdp_permission<R: std::io::Read + std::io::Seek>(
    reader: &mut PdfReader<R>,
) -> Result<Option<i64>, PdfError> {
    Ok(certification(reader)?.map(|c| c.permission))
}

/// The certification signature the catalog's `/Perms /DocMDP` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certification {
    /// Its DocMDP permission (`/P`, 1–3; 2 when absent).
    pub permission: i64,
    /// Its `/ByteRange`, which tells which of the document's signatures it is.
    pub byte_range: Vec<u64>,
}

/// The document's certification signature, if the catalog names one.
pub fn certification<R: std::io::Read + std::io::Seek>(
    reader: &mut PdfReader<R>,
) -> Result<Option<Certification>, PdfError> {
    let (_, catalog) = reader.catalog()?;
    let Some(perms) = catalog.get(b"Perms").cloned() else {
        return Ok(None);
    };
    let Some(perms) = reader.resolve_dict(&perms)? else {
        return Ok(None);
    };
    let Some(sig) = perms.get(b"DocMDP").cloned() else {
        return Ok(None);
    };
    let Some(sig) = reader.resolve_dict(&sig)? else {
        return Ok(None);
    };
    let byte_range = byte_range_of(reader, &sig)?;
    let permission = transform_params(reader, &sig, b"DocMDP")?
        .and_then(|p| p.get(b"P").and_then(Object::as_i64))
        .unwrap_or(2);
    Ok(Some(Certification {
        permission,
        byte_range,
    }))
}

/// The form fields a signature locks (FieldMDP `/Action` and `/Fields`).
enum Lock {
    /// Every field.
    All,
    /// These fields.
    Include(Vec<String>),
    /// Every field but these.
    Exclude(Vec<String>),
}

impl Lock {
    fn locks(&self, name: &str) -> bool {
        match self {
            Self::All => true,
            Self::Include(names) => names.iter().any(|n| n == name),
            Self::Exclude(names) => !names.iter().any(|n| n == name),
        }
    }
}

/// The `/ByteRange` of signature dictionary `sig` (its non-negative integers).
fn byte_range_of<R: std::io::Read + std::io::Seek>(
    reader: &mut PdfReader<R>,
    sig: &Dictionary,
) -> Result<Vec<u64>, PdfError> {
    Ok(
        match sig
            .get(b"ByteRange")
            .map(|r| reader.resolve(r))
            .transpose()?
        {
            Some(Object::Array(items)) => items
                .iter()
                .filter_map(Object::as_i64)
                .filter_map(|n| u64::try_from(n).ok())
                .collect(),
            _ => Vec::new(),
        },
    )
}

/// The `/TransformParams` of the first signature reference of `sig` whose
/// `/TransformMethod` is `method` (`DocMDP`, `FieldMDP`).
fn transform_params<R: std::io::Read + std::io::Seek>(
    reader: &mut PdfReader<R>,
    sig: &Dictionary,
    method: &[u8],
) -> Result<Option<Dictionary>, PdfError> {
    let Some(Object::Array(refs)) = sig
        .get(b"Reference")
        .map(|r| reader.resolve(r))
        .transpose()?
    else {
        return Ok(None);
    };
    for r in &refs {
        let Some(r) = reader.resolve_dict(r)? else {
            continue;
        };
        if r.name_is(b"TransformMethod", method) {
            return match r.get(b"TransformParams") {
                Some(p) => reader.resolve_dict(p),
                None => Ok(None),
            };
        }
    }
    Ok(None)
}

/// A form field's fully qualified name (`a.b.c`): its parent's and its own `/T`.
pub(crate) fn qualified_name(parent: &str, field: &Dictionary) -> String {
    match field.get(b"T").and_then(Object::as_string_bytes) {
        Some(t) if parent.is_empty() => String::from_utf8_lossy(t).into_owned(),
        Some(t) => format!("{parent}.{}", String::from_utf8_lossy(t)),
        None => parent.to_owned(),
    }
}

/// One revision opened for comparison.
struct View<'a> {
    reader: PdfReader<Cursor<&'a [u8]>>,
    budget: usize,
}

impl<'a> View<'a> {
    fn open(bytes: &'a [u8]) -> Result<Self, PdfError> {
        Ok(Self {
            reader: PdfReader::open(Cursor::new(bytes))?,
            budget: BUDGET,
        })
    }

    fn spend(&mut self) -> Result<(), PdfError> {
        self.budget = self
            .budget
            .checked_sub(1)
            .ok_or(PdfError::OutOfRange("objects to compare"))?;
        Ok(())
    }

    /// A fingerprint of `obj` with references followed (each object once), leaving
    /// out `skip` keys of the top dictionary.
    fn fingerprint(&mut self, obj: &Object, skip: &[&[u8]]) -> Result<Vec<u8>, PdfError> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        self.fp(obj, skip, 0, &mut seen, &mut out)?;
        Ok(out)
    }

    fn fp(
        &mut self,
        obj: &Object,
        skip: &[&[u8]],
        depth: usize,
        seen: &mut HashSet<ObjectId>,
        out: &mut Vec<u8>,
    ) -> Result<(), PdfError> {
        self.spend()?;
        match obj {
            Object::Reference(id) => {
                out.extend_from_slice(format!("R{}:", id.number).as_bytes());
                if depth >= MAX_DEPTH || !seen.insert(*id) {
                    return Ok(());
                }
                let target = self.reader.get(*id)?;
                self.fp(&target, &[], depth + 1, seen, out)?;
            }
            Object::Dictionary(d) => self.fp_dict(d, skip, depth, seen, out)?,
            Object::Stream(s) => {
                self.fp_dict(&s.dict, skip, depth, seen, out)?;
                out.extend_from_slice(b"stream");
                out.extend_from_slice(&u64::try_from(s.data.len()).unwrap_or(0).to_be_bytes());
                out.extend_from_slice(&s.data);
            }
            Object::Array(items) => {
                out.push(b'[');
                for item in items {
                    self.fp(item, &[], depth + 1, seen, out)?;
                    out.push(b',');
                }
                out.push(b']');
            }
            // Strings as length and bytes: a signature's /Contents is long, and printing
            // it as a list of numbers cost more than the rest of the comparison.
            Object::String(bytes) | Object::HexString(bytes) => {
                out.push(b'S');
                out.extend_from_slice(&u64::try_from(bytes.len()).unwrap_or(0).to_be_bytes());
                out.extend_from_slice(bytes);
            }
            other => out.extend_from_slice(format!("{other:?};").as_bytes()),
        }
        Ok(())
    }

    fn fp_dict(
        &mut self,
        d: &Dictionary,
        skip: &[&[u8]],
        depth: usize,
        seen: &mut HashSet<ObjectId>,
        out: &mut Vec<u8>,
    ) -> Result<(), PdfError> {
        let mut keys: Vec<(&[u8], &Object)> = d.iter().filter(|(k, _)| !skip.contains(k)).collect();
        keys.sort_by(|a, b| a.0.cmp(b.0));
        out.push(b'{');
        for (k, v) in keys {
            out.extend_from_slice(k);
            out.push(b'=');
            self.fp(v, &[], depth + 1, seen, out)?;
            out.push(b';');
        }
        out.push(b'}');
        Ok(())
    }

    /// The fingerprint of what a page (or page-tree node) draws with: its content,
    /// resources and geometry.
    fn rendering(&mut self, page: &Dictionary) -> Result<Vec<u8>, PdfError> {
        let mut out = Vec::new();
        for key in [
            &b"Contents"[..],
            b"Resources",
            b"MediaBox",
            b"CropBox",
            b"Rotate",
            b"UserUnit",
            b"Group",
        ] {
            out.extend_from_slice(key);
            if let Some(v) = page.get(key) {
                out.extend(self.fingerprint(v, &[])?);
            }
            out.push(b';');
        }
        Ok(out)
    }

    /// The pages in order, each with its ancestors' dictionaries.
    fn pages(&mut self) -> Result<Vec<(Object, Dictionary, Vec<Dictionary>)>, PdfError> {
        let (_, catalog) = self.reader.catalog()?;
        let mut pages = Vec::new();
        let mut seen = HashSet::new();
        if let Some(root) = catalog.get(b"Pages").cloned() {
            self.walk(&root, Vec::new(), &mut seen, &mut pages, 0)?;
        }
        Ok(pages)
    }

    fn walk(
        &mut self,
        node: &Object,
        ancestors: Vec<Dictionary>,
        seen: &mut HashSet<ObjectId>,
        pages: &mut Vec<(Object, Dictionary, Vec<Dictionary>)>,
        depth: usize,
    ) -> Result<(), PdfError> {
        self.spend()?;
        if depth > MAX_DEPTH || pages.len() >= MAX_PAGES {
            return Err(PdfError::OutOfRange("page tree depth or size"));
        }
        if let Object::Reference(id) = node {
            if !seen.insert(*id) {
                return Err(PdfError::OutOfRange("page tree with a cycle"));
            }
        }
        let Some(dict) = self.reader.resolve_dict(node)? else {
            return Ok(());
        };
        if dict.name_is(b"Type", b"Pages") || dict.has(b"Kids") {
            let kids = match dict.get(b"Kids") {
                Some(k) => self.reader.resolve(k)?,
                None => Object::Null,
            };
            let mut below = ancestors;
            below.push(dict.clone());
            for kid in kids.as_array().unwrap_or_default() {
                self.walk(kid, below.clone(), seen, pages, depth + 1)?;
            }
        } else {
            pages.push((node.clone(), dict, ancestors));
        }
        Ok(())
    }

    /// The annotations of a page: (identity, dictionary).
    fn annots(&mut self, page: &Dictionary) -> Result<Vec<(String, Dictionary)>, PdfError> {
        let list = match page.get(b"Annots") {
            Some(a) => self.reader.resolve(a)?,
            None => return Ok(Vec::new()),
        };
        let mut out = Vec::new();
        for (i, a) in list.as_array().unwrap_or_default().iter().enumerate() {
            let id = match a {
                Object::Reference(id) => format!("{} {}", id.number, id.generation),
                _ => format!("inline {i}"),
            };
            if let Some(d) = self.reader.resolve_dict(a)? {
                out.push((id, d));
            }
        }
        Ok(out)
    }

    /// Every form field by fully qualified name (`a.b.c`); fields nested too deep or
    /// too many are an error.
    fn fields(&mut self) -> Result<Vec<(String, Dictionary)>, PdfError> {
        let (_, catalog) = self.reader.catalog()?;
        let Some(form) = catalog.get(b"AcroForm").cloned() else {
            return Ok(Vec::new());
        };
        let Some(form) = self.reader.resolve_dict(&form)? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        let mut stack: Vec<(Object, String, usize)> = match form.get(b"Fields") {
            Some(f) => match self.reader.resolve(f)? {
                Object::Array(items) => items.into_iter().map(|i| (i, String::new(), 0)).collect(),
                _ => Vec::new(),
            },
            None => Vec::new(),
        };
        while let Some((obj, prefix, depth)) = stack.pop() {
            self.spend()?;
            if depth > MAX_DEPTH {
                return Err(PdfError::OutOfRange("form fields nested too deep"));
            }
            let Some(field) = self.reader.resolve_dict(&obj)? else {
                continue;
            };
            let name = qualified_name(&prefix, &field);
            if let Some(Object::Array(kids)) = field
                .get(b"Kids")
                .map(|k| self.reader.resolve(k))
                .transpose()?
            {
                stack.extend(kids.into_iter().map(|k| (k, name.clone(), depth + 1)));
            }
            out.push((name, field));
        }
        Ok(out)
    }

    /// The fingerprint of a field's value (`/V`).
    fn value(&mut self, field: &Dictionary) -> Result<Vec<u8>, PdfError> {
        match field.get(b"V") {
            Some(v) => self.fingerprint(v, &[]),
            None => Ok(Vec::new()),
        }
    }

    /// The fields a signature locks (FieldMDP, ISO 32000-2 12.8.2.4): the signature
    /// whose `/ByteRange` ends at `end`, read from its `/Reference` (else its field's
    /// `/Lock`). `None`: it locks nothing.
    fn field_lock(&mut self, end: u64) -> Result<Option<Lock>, PdfError> {
        for (_, field) in self.fields()? {
            if !field.name_is(b"FT", b"Sig") {
                continue;
            }
            let Some(sig) = field
                .get(b"V")
                .map(|v| self.reader.resolve_dict(v))
                .transpose()?
                .flatten()
            else {
                continue;
            };
            let range = byte_range_of(&mut self.reader, &sig)?;
            let ends_here = matches!(range.as_slice(), [_, _, c, d]
                if c.checked_add(*d) == Some(end));
            if !ends_here {
                continue;
            }
            let mut params = transform_params(&mut self.reader, &sig, b"FieldMDP")?;
            if params.is_none() {
                params = field
                    .get(b"Lock")
                    .map(|l| self.reader.resolve_dict(l))
                    .transpose()?
                    .flatten();
            }
            let Some(params) = params else {
                return Ok(None);
            };
            let names = match params
                .get(b"Fields")
                .map(|f| self.reader.resolve(f))
                .transpose()?
            {
                Some(Object::Array(items)) => items
                    .iter()
                    .filter_map(Object::as_string_bytes)
                    .map(|t| String::from_utf8_lossy(t).into_owned())
                    .collect(),
                _ => Vec::new(),
            };
            let action = params
                .get(b"Action")
                .and_then(Object::as_name)
                .map(<[u8]>::to_vec);
            return Ok(Some(match action.as_deref() {
                Some(b"Include") => Lock::Include(names),
                Some(b"Exclude") => Lock::Exclude(names),
                _ => Lock::All,
            }));
        }
        Ok(None)
    }

    /// Is this annotation the widget of a signature field, and does the field hold a
    /// document time-stamp?
    fn signature_widget(&mut self, annot: &Dictionary) -> Result<Option<bool>, PdfError> {
        if !annot.name_is(b"Subtype", b"Widget") {
            return Ok(None);
        }
        let field = if annot.has(b"FT") {
            Some(annot.clone())
        } else {
            match annot.get(b"Parent") {
                Some(p) => self.reader.resolve_dict(p)?,
                None => None,
            }
        };
        let Some(field) = field.filter(|f| f.name_is(b"FT", b"Sig")) else {
            return Ok(None);
        };
        let timestamp = match field.get(b"V") {
            Some(v) => self
                .reader
                .resolve_dict(v)?
                .is_some_and(|v| v.name_is(b"Type", b"DocTimeStamp")),
            None => false,
        };
        Ok(Some(timestamp))
    }
}

/// The changes made after the revision ending at `signed_end` that a signature does not
/// allow, in words (empty: none). `permission` is the DocMDP P of the document's
/// certification signature, if any.
///
/// # Errors
/// A revision cannot be read or compared within the limits.
pub fn disallowed_changes(
    file: &[u8],
    signed_end: u64,
    permission: Option<i64>,
) -> Result<Vec<String>, PdfError> {
    Ok(findings(file, signed_end, permission)?
        .into_iter()
        .map(|f| f.text)
        .collect())
}

/// What part of the document a change touches: the per-revision report marks an
/// object not allowed when a finding names a part the object belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    /// An entry of the document catalog (other than those signing may touch).
    Catalog,
    /// The page tree: the number of pages, inherited attributes.
    PageTree,
    /// What page `n` (1-based) shows: content, resources, geometry.
    Page(usize),
    /// The list of annotations of page `n`.
    AnnotList(usize),
    /// One annotation (`"12 0"`, or `"inline 3"` for a direct one).
    Annot(String),
    /// A form field by its fully qualified name.
    Field(String),
}

/// One change a signature does not allow: in words, and the parts it touches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The change, for the report.
    pub text: String,
    /// The parts of the document it touches.
    pub scopes: Vec<Scope>,
}

fn finding(text: String, scopes: Vec<Scope>) -> Finding {
    Finding { text, scopes }
}

/// [`disallowed_changes`] with the parts of the document each change touches.
///
/// # Errors
/// A revision cannot be read or compared within the limits.
pub fn findings(
    file: &[u8],
    signed_end: u64,
    permission: Option<i64>,
) -> Result<Vec<Finding>, PdfError> {
    let end = usize::try_from(signed_end).unwrap_or(usize::MAX);
    let Some(signed_bytes) = file.get(..end) else {
        return Err(PdfError::OutOfRange("signed revision"));
    };
    if end >= file.len() {
        return Ok(Vec::new());
    }
    let mut before = View::open(signed_bytes)?;
    let mut after = View::open(file)?;
    let p = permission.unwrap_or(2);
    let mut found = Vec::new();

    // The catalog: everything but what validation data, signatures and forms touch.
    let (_, cat_before) = before.reader.catalog()?;
    let (_, cat_after) = after.reader.catalog()?;
    // Also allowed: the XMP metadata and the logical structure (not rendered), which
    // signers update with the fields they add.
    let allowed: &[&[u8]] = &[
        b"AcroForm",
        b"DSS",
        b"Extensions",
        b"Pages",
        b"Metadata",
        b"StructTreeRoot",
        b"MarkInfo",
        b"Version",
    ];
    let mut keys: Vec<Vec<u8>> = cat_before
        .iter()
        .chain(cat_after.iter())
        .map(|(k, _)| k.to_vec())
        .filter(|k| !allowed.contains(&k.as_slice()))
        .collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        let a = match cat_before.get(&key) {
            Some(v) => before.fingerprint(v, &[])?,
            None => Vec::new(),
        };
        let b = match cat_after.get(&key) {
            Some(v) => after.fingerprint(v, &[])?,
            None => Vec::new(),
        };
        if a != b {
            found.push(finding(
                format!(
                    "the document catalog's /{} was changed",
                    String::from_utf8_lossy(&key)
                ),
                vec![Scope::Catalog],
            ));
        }
    }

    // The pages: content, resources and attributes, the page tree.
    let pages_before = before.pages()?;
    let pages_after = after.pages()?;
    if pages_before.len() != pages_after.len() {
        found.push(finding(
            format!(
                "the document had {} pages when signed and has {} now",
                pages_before.len(),
                pages_after.len()
            ),
            vec![Scope::PageTree],
        ));
    }
    for (i, ((obj_a, page_a, anc_a), (obj_b, page_b, anc_b))) in
        pages_before.iter().zip(pages_after.iter()).enumerate()
    {
        let n = i + 1;
        // What the page shows: its content, resources and geometry (other keys —
        // /Annots, /Tabs, /StructParents, /Metadata — do not draw anything).
        let fa = before.rendering(page_a)?;
        let fb = after.rendering(page_b)?;
        let same_object = obj_a.as_reference() == obj_b.as_reference();
        if fa != fb || !same_object {
            found.push(finding(
                format!(
                    "page {n} was changed after signing (its content, resources or attributes)"
                ),
                vec![Scope::Page(n)],
            ));
        }
        let mut fa = Vec::new();
        for d in anc_a {
            fa.extend(before.rendering(d)?);
        }
        let mut fb = Vec::new();
        for d in anc_b {
            fb.extend(after.rendering(d)?);
        }
        if fa != fb {
            found.push(finding(
                format!("the attributes page {n} inherits were changed after signing"),
                vec![Scope::PageTree, Scope::Page(n)],
            ));
        }
        // Annotations: new signature widgets are fine; form filling changes a
        // widget's appearance and value; anything else needs DocMDP P=3.
        let annots_a = before.annots(page_a)?;
        let annots_b = after.annots(page_b)?;
        for (id, dict) in &annots_b {
            match annots_a.iter().find(|(x, _)| x == id) {
                None => {
                    if let Some(timestamp) = after.signature_widget(dict)? {
                        // Document time-stamps are validation data: allowed even at P=1.
                        if p == 1 && !timestamp {
                            found.push(finding(
                                format!(
                                    "a signature was added on page {n}, which the certification (DocMDP P=1) forbids"
                                ),
                                vec![Scope::Annot(id.clone()), Scope::AnnotList(n)],
                            ));
                        }
                    } else if p < 3 {
                        let subtype = dict
                            .get(b"Subtype")
                            .and_then(Object::as_name)
                            .map(|s| String::from_utf8_lossy(s).into_owned())
                            .unwrap_or_default();
                        found.push(finding(
                            format!(
                                "an annotation ({subtype}) was added on page {n} after signing"
                            ),
                            vec![Scope::Annot(id.clone()), Scope::AnnotList(n)],
                        ));
                    }
                }
                Some((_, old)) => {
                    let form: &[&[u8]] = &[b"AP", b"AS", b"V", b"M", b"P", b"Parent"];
                    let fa = before.fingerprint(&Object::Dictionary(old.clone()), form)?;
                    let fb = after.fingerprint(&Object::Dictionary(dict.clone()), form)?;
                    let widget = dict.name_is(b"Subtype", b"Widget");
                    let signature = after.signature_widget(dict)?;
                    let timestamp = signature.unwrap_or(false);
                    // Signing an existing (empty) signature field changes its widget.
                    let signed_field = signature.is_some() && p >= 2;
                    if (fa != fb && !signed_field)
                        || (!widget && p < 3 && old != dict)
                        || (widget && p == 1 && !timestamp && old != dict)
                    {
                        found.push(finding(
                            format!("annotation {id} on page {n} was changed after signing"),
                            vec![Scope::Annot(id.clone())],
                        ));
                    }
                }
            }
        }
        for (id, _) in &annots_a {
            if !annots_b.iter().any(|(x, _)| x == id) && p < 3 {
                found.push(finding(
                    format!("annotation {id} on page {n} was removed after signing"),
                    vec![Scope::Annot(id.clone()), Scope::AnnotList(n)],
                ));
            }
        }
    }
    // Form fields the signature locks (FieldMDP): their values stay as signed.
    if let Some(lock) = before.field_lock(signed_end)? {
        let fields_after = after.fields()?;
        for (name, field) in before.fields()? {
            if field.name_is(b"FT", b"Sig") || !lock.locks(&name) {
                continue;
            }
            let then = before.value(&field)?;
            let now = match fields_after.iter().find(|(n, _)| *n == name) {
                Some((_, f)) => Some(after.value(f)?),
                None => None,
            };
            if now.as_ref() != Some(&then) {
                found.push(finding(
                    format!(
                        "form field `{name}`, which the signature locks (FieldMDP), was changed after signing"
                    ),
                    vec![Scope::Field(name.clone())],
                ));
            }
        }
    }
    found.dedup();
    Ok(found)
}
