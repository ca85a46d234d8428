//! Walking the interactive form (ISO 32000-1 §12.7) and the page tree (§7.7.3).

use std::collections::HashSet;
use std::io::{Read, Seek};

use crate::error::PdfError;
use crate::limits::{MAX_DEPTH, MAX_TREE_NODES};
use crate::object::{Dictionary, Object, ObjectId};
use crate::reader::PdfReader;
use crate::serialize::decode_text;

/// One node of the field tree.
#[derive(Debug, Clone)]
pub(crate) struct FieldNode {
    /// The node's object id (`None` for a direct dictionary, which should not happen).
    pub(crate) id: Option<ObjectId>,
    pub(crate) dict: Dictionary,
    /// Partial name (/T), if the node has one.
    pub(crate) partial: Option<String>,
    /// Fully qualified name (§12.7.3.2).
    pub(crate) full: String,
    /// Field type, inherited from ancestors.
    pub(crate) field_type: Option<Vec<u8>>,
}

impl FieldNode {
    pub(crate) fn is_signature(&self) -> bool {
        self.field_type.as_deref() == Some(b"Sig")
    }

    pub(crate) fn is_signed(&self) -> bool {
        self.dict.get(b"V").is_some_and(|v| !v.is_null())
    }
}

fn budget(what: &'static str, limit: usize) -> PdfError {
    PdfError::Budget {
        what,
        limit: u64::try_from(limit).unwrap_or(u64::MAX),
        offset: 0,
    }
}

impl<R: Read + Seek> PdfReader<R> {
    /// The catalog's /AcroForm dictionary, if any.
    pub(crate) fn acroform(
        &mut self,
        catalog: &Dictionary,
    ) -> Result<Option<Dictionary>, PdfError> {
        match catalog.get(b"AcroForm") {
            Some(obj) => self.resolve_dict(obj),
            None => Ok(None),
        }
    }

    /// Every node of the field tree, depth first, in document order.
    pub(crate) fn field_nodes(
        &mut self,
        acroform: &Dictionary,
    ) -> Result<Vec<FieldNode>, PdfError> {
        let roots = match acroform.get(b"Fields") {
            Some(f) => match self.resolve(f)? {
                Object::Array(a) => a,
                _ => Vec::new(),
            },
            None => Vec::new(),
        };
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        // (object, parent full name, inherited FT, depth), reversed so we pop in order.
        let mut stack: Vec<(Object, String, Option<Vec<u8>>, usize)> = roots
            .into_iter()
            .rev()
            .map(|o| (o, String::new(), None, 0))
            .collect();
        while let Some((obj, parent, inherited, depth)) = stack.pop() {
            if depth > MAX_DEPTH {
                return Err(budget("field tree depth", MAX_DEPTH));
            }
            if out.len() >= MAX_TREE_NODES {
                return Err(budget("field tree nodes", MAX_TREE_NODES));
            }
            let id = obj.as_reference();
            if let Some(id) = id {
                if !seen.insert(id) {
                    continue;
                }
            }
            let Some(dict) = self.resolve_dict(&obj)? else {
                continue;
            };
            let partial = dict
                .get(b"T")
                .and_then(Object::as_string_bytes)
                .map(decode_text);
            let full = match (&partial, parent.is_empty()) {
                (Some(p), true) => p.clone(),
                (Some(p), false) => format!("{parent}.{p}"),
                (None, _) => parent.clone(),
            };
            let field_type = dict
                .get(b"FT")
                .and_then(Object::as_name)
                .map(<[u8]>::to_vec)
                .or(inherited);
            if let Some(Object::Array(kids)) =
                dict.get(b"Kids").map(|k| self.resolve(k)).transpose()?
            {
                for kid in kids.into_iter().rev() {
                    stack.push((
                        kid,
                        full.clone(),
                        field_type.clone(),
                        depth.saturating_add(1),
                    ));
                }
            }
            out.push(FieldNode {
                id,
                dict,
                partial,
                full,
                field_type,
            });
        }
        Ok(out)
    }

    /// Number of filled signature fields (/FT /Sig with a /V), document timestamps included.
    pub fn signature_count(&mut self) -> Result<usize, PdfError> {
        let (_, catalog) = self.catalog()?;
        let Some(acroform) = self.acroform(&catalog)? else {
            return Ok(0);
        };
        Ok(self
            .field_nodes(&acroform)?
            .iter()
            .filter(|f| f.is_signature() && f.is_signed())
            .count())
    }

    /// The page with the 0-based `index`, in document order: its id and dictionary.
    pub(crate) fn page(
        &mut self,
        catalog: &Dictionary,
        index: usize,
    ) -> Result<(ObjectId, Dictionary), PdfError> {
        let (count, found) = self.walk_pages(catalog, Some(index))?;
        match found {
            Some(page) => Ok(page),
            None if count == 0 => Err(PdfError::Structure("the page tree has no page".into())),
            None => Err(PdfError::InvalidRequest(format!(
                "there is no page {}: the document has {count} page{}",
                index.saturating_add(1),
                if count == 1 { "" } else { "s" }
            ))),
        }
    }

    /// Number of pages (leaves of the page tree, counted, not read from `/Count`).
    pub fn page_count(&mut self) -> Result<usize, PdfError> {
        let (_, catalog) = self.catalog()?;
        Ok(self.walk_pages(&catalog, None)?.0)
    }

    /// The `/MediaBox` of the page with the 0-based `index` (inherited from the page tree
    /// when the page has none), normalized to `[llx, lly, urx, ury]` with `ll < ur`.
    pub fn page_box(&mut self, index: usize) -> Result<[f64; 4], PdfError> {
        let (_, catalog) = self.catalog()?;
        let (_, page) = self.page(&catalog, index)?;
        let mut node = page;
        for _ in 0..MAX_DEPTH {
            if let Some(b) = node.get(b"MediaBox").cloned() {
                return self.rectangle(&b);
            }
            match node.get(b"Parent").cloned() {
                Some(parent) => match self.resolve_dict(&parent)? {
                    Some(d) => node = d,
                    None => break,
                },
                None => break,
            }
        }
        Err(PdfError::Structure(format!(
            "page {} has no /MediaBox",
            index.saturating_add(1)
        )))
    }

    /// Reads a rectangle (four numbers, possibly indirect) and puts its corners in order.
    fn rectangle(&mut self, obj: &Object) -> Result<[f64; 4], PdfError> {
        let bad = || PdfError::Structure("a page rectangle is not four numbers".into());
        let Object::Array(items) = self.resolve(obj)? else {
            return Err(bad());
        };
        let mut v = [0f64; 4];
        if items.len() != 4 {
            return Err(bad());
        }
        for (slot, item) in v.iter_mut().zip(items.iter()) {
            *slot = match self.resolve(item)? {
                // Page coordinates are far inside f64's exact integer range.
                #[allow(clippy::as_conversions)]
                Object::Integer(i) => i as f64,
                Object::Real(r) if r.is_finite() => r,
                _ => return Err(bad()),
            };
        }
        let [a, b, c, d] = v;
        Ok([a.min(c), b.min(d), a.max(c), b.max(d)])
    }

    /// Walks the page tree in document order, counting leaves; stops at leaf `stop` and
    /// returns it. Returns the number of leaves seen.
    fn walk_pages(
        &mut self,
        catalog: &Dictionary,
        stop: Option<usize>,
    ) -> Result<(usize, Option<(ObjectId, Dictionary)>), PdfError> {
        let root = catalog
            .get(b"Pages")
            .ok_or_else(|| PdfError::Structure("the catalog has no /Pages".into()))?
            .clone();
        if let Some(id) = root.as_reference() {
            if self.get(id)?.is_null() {
                return Err(PdfError::Structure(format!(
                    "the catalog's /Pages is {id}, which does not exist (a /Prev link may be missing)"
                )));
            }
        }
        let mut stack = vec![(root, 0usize)];
        let mut seen = HashSet::new();
        let mut visited = 0usize;
        let mut leaves = 0usize;
        while let Some((node, depth)) = stack.pop() {
            visited = visited.saturating_add(1);
            if visited > MAX_TREE_NODES {
                return Err(budget("page tree nodes", MAX_TREE_NODES));
            }
            if depth > MAX_DEPTH {
                return Err(budget("page tree depth", MAX_DEPTH));
            }
            let Some(id) = node.as_reference() else {
                continue;
            };
            if !seen.insert(id) {
                continue;
            }
            let Some(dict) = self.resolve_dict(&node)? else {
                continue;
            };
            let kids = match dict.get(b"Kids") {
                Some(k) => match self.resolve(k)? {
                    Object::Array(a) => Some(a),
                    _ => None,
                },
                None => None,
            };
            match kids {
                Some(kids) if !dict.name_is(b"Type", b"Page") => {
                    for kid in kids.into_iter().rev() {
                        stack.push((kid, depth.saturating_add(1)));
                    }
                }
                _ => {
                    if dict.name_is(b"Type", b"Page") || !dict.name_is(b"Type", b"Pages") {
                        if stop == Some(leaves) {
                            return Ok((leaves.saturating_add(1), Some((id, dict))));
                        }
                        leaves = leaves.saturating_add(1);
                    }
                }
            }
        }
        Ok((leaves, None))
    }

    /// Refuses documents certified with DocMDP /P 1 (ISO 32000-1 §12.8.2.2).
    /// The /P of a transform-parameters dictionary (default 2, as in ISO 32000-2 Table 257).
    fn transform_p(&mut self, holder: &Dictionary) -> Result<i64, PdfError> {
        let Some(tp) = holder.get(b"TransformParams") else {
            return Ok(2);
        };
        let Some(tp) = self.resolve_dict(tp)? else {
            return Ok(2);
        };
        Ok(match tp.get(b"P") {
            Some(p) => self.resolve(p)?.as_i64().unwrap_or(2),
            None => 2,
        })
    }

    /// PDF 2.0 lets a signature lock the whole document (ISO 32000-2 12.8.2.4, Table 256):
    /// a FieldMDP transform of a signed field, or the field's /Lock dictionary, with
    /// /P 1 means no changes at all, new signatures included.
    pub(crate) fn check_field_locks(&mut self, fields: &[FieldNode]) -> Result<(), PdfError> {
        for field in fields.iter().filter(|f| f.is_signature() && f.is_signed()) {
            if let Some(lock) = field.dict.get(b"Lock") {
                if let Some(lock) = self.resolve_dict(lock)? {
                    if lock.get(b"P").and_then(Object::as_i64) == Some(1) {
                        return Err(PdfError::LockedBySignature(field.full.clone()));
                    }
                }
            }
            let Some(v) = field.dict.get(b"V") else {
                continue;
            };
            let Some(sig) = self.resolve_dict(v)? else {
                continue;
            };
            let refs = match sig.get(b"Reference") {
                Some(r) => match self.resolve(r)? {
                    Object::Array(a) => a,
                    _ => Vec::new(),
                },
                None => Vec::new(),
            };
            for r in refs.iter().take(MAX_TREE_NODES) {
                let Some(sigref) = self.resolve_dict(r)? else {
                    continue;
                };
                if sigref.name_is(b"TransformMethod", b"FieldMDP")
                    && sigref.has(b"TransformParams")
                    && self.transform_p(&sigref)? == 1
                {
                    return Err(PdfError::LockedBySignature(field.full.clone()));
                }
            }
        }
        Ok(())
    }

    pub(crate) fn check_docmdp(&mut self, catalog: &Dictionary) -> Result<(), PdfError> {
        let Some(perms) = catalog.get(b"Perms") else {
            return Ok(());
        };
        let Some(perms) = self.resolve_dict(perms)? else {
            return Ok(());
        };
        let Some(docmdp) = perms.get(b"DocMDP") else {
            return Ok(());
        };
        let Some(sig) = self.resolve_dict(docmdp)? else {
            return Ok(());
        };
        let refs = match sig.get(b"Reference") {
            Some(r) => match self.resolve(r)? {
                Object::Array(a) => a,
                _ => Vec::new(),
            },
            None => Vec::new(),
        };
        for r in refs.iter().take(MAX_TREE_NODES) {
            let Some(sigref) = self.resolve_dict(r)? else {
                continue;
            };
            if !sigref.name_is(b"TransformMethod", b"DocMDP") {
                continue;
            }
            let p = match sigref.get(b"TransformParams") {
                Some(tp) => match self.resolve_dict(tp)? {
                    Some(tp) => match tp.get(b"P") {
                        Some(p) => self.resolve(p)?.as_i64().unwrap_or(2),
                        None => 2,
                    },
                    None => 2,
                },
                None => 2,
            };
            if p == 1 {
                return Err(PdfError::DocMdpForbidsChanges);
            }
        }
        Ok(())
    }
}
