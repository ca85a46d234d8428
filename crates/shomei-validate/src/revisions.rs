//! The revisions of a PDF, one by one: which objects each incremental update added,
//! changed or freed, what each object is in the document (a page's content, a
//! signature, validation data, an annotation…), and whether that change is allowed
//! after the signatures before it. "Allowed" follows the comparison in
//! [`crate::changes`]: an object is not allowed when a change a signature forbids
//! touches the part of the document it belongs to.

use crate::changes::{Finding, Scope};
use crate::placement::revision_ends;
use serde::{Deserialize, Serialize};
use shomei_pdf::{Dictionary, Object, ObjectId, PdfError, PdfReader, XrefEntry};
use std::collections::{HashMap, HashSet};
use std::io::Cursor;

/// Most revisions read one by one (beyond, only those where a signature ends and the
/// last are listed).
const MAX_REVISIONS: usize = 64;
/// Most object numbers looked at over all comparisons of revisions.
const MAX_DIFF_STEPS: u64 = 16_000_000;
/// Bytes parsed or decoded for all earlier revisions together.
const REVISIONS_WORK: u64 = 128 << 20;
/// Most changed objects listed per revision (the rest are counted).
const MAX_LISTED: usize = 2_000;
/// Most objects visited to learn what the changed objects are.
const WALK_BUDGET: usize = 100_000;

/// How an object changed in a revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    /// A new object number.
    Added,
    /// An object the earlier revision had, redefined.
    Changed,
    /// An object the earlier revision had, deleted (a free cross-reference entry).
    Freed,
}

/// One object an incremental update touched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectChange {
    /// `"12 0"`: object number and generation.
    pub object: String,
    /// Added, changed or freed.
    pub change: ChangeKind,
    /// What the object is in the document (`content of page 1`, `signature value of
    /// Signature2`, `validation data (DSS)`, `not referenced by the document`, …).
    pub what: String,
    /// Whether the signatures before this revision allow the change.
    pub allowed: bool,
}

/// One revision of a PDF: the file up to one `%%EOF`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisionReport {
    /// 1 for the document as first saved.
    pub number: usize,
    /// The revision is bytes 0 to `end` of the file.
    pub end: u64,
    /// The signatures and document time-stamps whose byte range ends here.
    pub signed_by: Vec<String>,
    /// Whether a signature covers an earlier revision (its changes are then checked).
    pub after_signature: bool,
    /// Objects in use (for the first revision) or touched by this update.
    pub objects: u64,
    /// The objects this update added, changed or freed (empty for the first revision).
    pub changes: Vec<ObjectChange>,
    /// Changes beyond those listed (a very large update).
    pub unlisted: u64,
}

impl RevisionReport {
    /// The readable form: one line for the revision, one per change not allowed
    /// (every change when there are few).
    pub fn to_text(&self) -> String {
        let signed = if self.signed_by.is_empty() {
            String::new()
        } else {
            format!(", signed by {}", self.signed_by.join(", "))
        };
        let mut out = format!("  revision {} (bytes 0–{}{signed})", self.number, self.end);
        if self.number == 1 {
            out.push_str(&format!(": {} objects\n", self.objects));
            return out;
        }
        let count = |k| self.changes.iter().filter(|c| c.change == k).count();
        let refused: Vec<&ObjectChange> = self.changes.iter().filter(|c| !c.allowed).collect();
        out.push_str(&format!(
            ": {} added, {} changed, {} freed{}",
            count(ChangeKind::Added),
            count(ChangeKind::Changed),
            count(ChangeKind::Freed),
            if self.unlisted > 0 {
                format!(" (and {} more not listed)", self.unlisted)
            } else {
                String::new()
            }
        ));
        out.push_str(match (self.after_signature, refused.is_empty()) {
            (false, _) if self.signed_by.is_empty() => " — no signature before it\n",
            (false, _) => " — signed as made\n",
            (true, true) => " — all allowed after the signatures before it\n",
            (true, false) => " — NOT ALLOWED after the signatures before it:\n",
        });
        let shown: Vec<&ObjectChange> = if refused.is_empty() && self.changes.len() <= 12 {
            self.changes.iter().collect()
        } else {
            refused
        };
        for c in shown {
            let kind = match c.change {
                ChangeKind::Added => "added",
                ChangeKind::Changed => "changed",
                ChangeKind::Freed => "freed",
            };
            let mark = if c.allowed { "ok" } else { "NO" };
            out.push_str(&format!("    {mark} {kind} {}: {}\n", c.object, c.what));
        }
        out
    }
}

/// A signature's coverage end, name and the changes it does not allow after it.
pub(crate) struct Signed<'a> {
    pub end: u64,
    pub name: &'a str,
    /// A document time-stamp, not a signature.
    pub timestamp: bool,
    pub findings: &'a [Finding],
}

/// The per-revision report of `file`; `last` is a reader of the whole file.
///
/// # Errors
/// A revision cannot be read within the limits.
pub(crate) fn revisions<'f>(
    file: &'f [u8],
    last: &mut PdfReader<Cursor<&'f [u8]>>,
    signed: &[Signed<'_>],
) -> Result<Vec<RevisionReport>, PdfError> {
    let len = u64::try_from(file.len()).unwrap_or(u64::MAX);
    let timestamps: Vec<&str> = signed
        .iter()
        .filter(|s| s.timestamp)
        .map(|s| s.name)
        .collect();
    // Comparing two revisions looks at every object number: bound the total.
    let bound = last.object_number_bound().max(1);
    let too_much = |n: usize| {
        n > MAX_REVISIONS
            || u64::try_from(n).map_or(true, |n| n.saturating_mul(bound) > MAX_DIFF_STEPS)
    };
    let mut ends: Vec<u64> = revision_ends(file);
    if too_much(ends.len()) {
        ends = signed.iter().map(|s| s.end).collect();
    }
    ends.push(len);
    ends.extend(signed.iter().map(|s| s.end));
    ends.sort_unstable();
    ends.dedup();
    ends.retain(|e| *e > 0 && *e <= len);
    if too_much(ends.len()) {
        return Err(PdfError::OutOfRange("revisions to list"));
    }
    // Each earlier revision is read with its share of one budget.
    let share = u64::try_from(ends.len()).unwrap_or(u64::MAX).max(1);
    let per_revision = (REVISIONS_WORK / share).max(1 << 20);
    // A `%%EOF` only ends a revision the reader can open on its own (the first-page
    // section of a linearized file does not). Two revisions are open at a time.
    let mut out: Vec<RevisionReport> = Vec::new();
    let mut previous: Option<PdfReader<Cursor<&'f [u8]>>> = None;
    for end in ends {
        let Some(bytes) = file.get(..usize::try_from(end).unwrap_or(usize::MAX)) else {
            continue;
        };
        let signature_end = signed.iter().any(|s| s.end == end);
        // The whole file is the reader the validation already has open.
        let mut opened = None;
        if end != len {
            let mut r = match PdfReader::open(Cursor::new(bytes)) {
                Ok(r) => r,
                Err(e) if signature_end => return Err(e),
                Err(_) => continue,
            };
            r.set_work_budget(per_revision);
            if r.catalog().is_err() && !signature_end {
                continue;
            }
            opened = Some(r);
        }
        let view: &mut PdfReader<Cursor<&[u8]>> = match opened.as_mut() {
            Some(r) => r,
            None => &mut *last,
        };
        let prev_end = out.last().map_or(0, |r: &RevisionReport| r.end);
        let forbidding: HashSet<&Scope> = signed
            .iter()
            .filter(|s| s.end <= prev_end)
            .flat_map(|s| s.findings.iter().flat_map(|f| f.scopes.iter()))
            .collect();
        let after_signature = signed.iter().any(|s| s.end <= prev_end);
        let mut report = RevisionReport {
            number: out.len().saturating_add(1),
            end,
            signed_by: signed
                .iter()
                .filter(|s| s.end == end)
                .map(|s| s.name.to_owned())
                .collect(),
            after_signature,
            objects: 0,
            changes: Vec::new(),
            unlisted: 0,
        };
        match previous.as_mut() {
            None => {
                report.objects = (0..view.object_number_bound())
                    .filter_map(|n| u32::try_from(n).ok())
                    .filter(|n| in_use(view.location(*n)))
                    .fold(0, |n, _| n.saturating_add(1));
            }
            Some(before) => {
                let diff = diff(before, view)?;
                report.objects = u64::try_from(diff.len()).unwrap_or(u64::MAX);
                let (freed, rest): (Vec<_>, Vec<_>) = diff
                    .into_iter()
                    .partition(|(_, kind)| *kind == ChangeKind::Freed);
                let mut new_roles = roles(view, &timestamps, rest.iter().map(|(id, _)| id.number))?;
                let mut old_roles =
                    roles(before, &timestamps, freed.iter().map(|(id, _)| id.number))?;
                for (id, kind) in rest.into_iter().chain(freed) {
                    if report.changes.len() >= MAX_LISTED {
                        report.unlisted = report.unlisted.saturating_add(1);
                        continue;
                    }
                    let role = if kind == ChangeKind::Freed {
                        old_roles.remove(&id.number)
                    } else {
                        new_roles.remove(&id.number)
                    }
                    .unwrap_or_else(|| Role::plain("not referenced by the document"));
                    let allowed =
                        !after_signature || !role.scopes.iter().any(|s| forbidding.contains(s));
                    report.changes.push(ObjectChange {
                        object: format!("{} {}", id.number, id.generation),
                        change: kind,
                        what: role.what,
                        allowed,
                    });
                }
            }
        }
        out.push(report);
        if let Some(r) = opened {
            previous = Some(r);
        }
    }
    Ok(out)
}

fn in_use(entry: Option<XrefEntry>) -> bool {
    matches!(
        entry,
        Some(XrefEntry::InFile { .. } | XrefEntry::InStream { .. })
    )
}

/// The objects `after` added, changed or freed relative to `before`.
fn diff(
    before: &mut PdfReader<Cursor<&[u8]>>,
    after: &mut PdfReader<Cursor<&[u8]>>,
) -> Result<Vec<(ObjectId, ChangeKind)>, PdfError> {
    let bound = before
        .object_number_bound()
        .max(after.object_number_bound());
    let mut out = Vec::new();
    for n in 0..bound {
        let Ok(number) = u32::try_from(n) else { break };
        let (old, new) = (before.location(number), after.location(number));
        let generation = match new {
            Some(XrefEntry::InFile { generation, .. }) => generation,
            _ => match old {
                Some(XrefEntry::InFile { generation, .. }) => generation,
                _ => 0,
            },
        };
        let id = ObjectId::new(number, generation);
        let kind = match (in_use(old), in_use(new)) {
            (false, true) => ChangeKind::Added,
            (true, false) => ChangeKind::Freed,
            (false, false) => continue,
            (true, true) => {
                let moved = match (old, new) {
                    (
                        Some(XrefEntry::InStream { stream: a, .. }),
                        Some(XrefEntry::InStream { stream: b, .. }),
                    ) if old == new => {
                        // Same slot, but the object stream itself may be a new one.
                        a != b || before.location(a) != after.location(b)
                    }
                    _ => old != new,
                };
                // A writer may list an object again unchanged.
                if !moved || before.get(id)? == after.get(id)? {
                    continue;
                }
                ChangeKind::Changed
            }
        };
        out.push((id, kind));
    }
    Ok(out)
}

/// What an object is, and the parts of the document it belongs to.
#[derive(Debug, Clone)]
struct Role {
    what: String,
    scopes: Vec<Scope>,
}

impl Role {
    fn plain(what: &str) -> Self {
        Self {
            what: what.to_owned(),
            scopes: Vec::new(),
        }
    }

    fn new(what: String, scopes: Vec<Scope>) -> Self {
        Self { what, scopes }
    }
}

/// Walks the document from its catalog, naming objects, until every target is named.
struct Walk<'r, 'a> {
    reader: &'r mut PdfReader<Cursor<&'a [u8]>>,
    /// The fields that hold document time-stamps.
    timestamps: &'r [&'r str],
    targets: HashSet<u32>,
    named: HashMap<u32, Role>,
    budget: usize,
}

impl Walk<'_, '_> {
    fn done(&self) -> bool {
        self.targets.is_empty() || self.budget == 0
    }

    /// One step of a tree walk (on the budget): whether `node` is met for the first
    /// time (direct objects always are).
    fn first_visit(&mut self, seen: &mut HashSet<ObjectId>, node: &Object) -> bool {
        self.budget = self.budget.saturating_sub(1);
        match node {
            Object::Reference(id) => seen.insert(*id),
            _ => true,
        }
    }

    /// Names the object `obj` refers to (if it refers to one not named yet). Returns
    /// whether it was new.
    fn name(&mut self, obj: &Object, role: &Role) -> bool {
        let Object::Reference(id) = obj else {
            return false;
        };
        match self.named.get_mut(&id.number) {
            Some(known) => {
                for s in &role.scopes {
                    if !known.scopes.contains(s) {
                        known.scopes.push(s.clone());
                    }
                }
                false
            }
            None => {
                self.budget = self.budget.saturating_sub(1);
                self.targets.remove(&id.number);
                self.named.insert(id.number, role.clone());
                true
            }
        }
    }

    /// Names `obj` and everything it reaches that is not named yet (`obj` itself
    /// may already be named).
    fn subtree(&mut self, obj: &Object, role: &Role) -> Result<(), PdfError> {
        let mut stack = vec![obj.clone()];
        let mut root = true;
        while let Some(o) = stack.pop() {
            if self.done() {
                break;
            }
            let inner = match &o {
                Object::Reference(_) => {
                    if !self.name(&o, role) && !root {
                        continue;
                    }
                    self.reader.resolve(&o)?
                }
                other => other.clone(),
            };
            root = false;
            match inner {
                Object::Array(items) => stack.extend(items),
                Object::Dictionary(d) => stack.extend(d.iter().map(|(_, v)| v.clone())),
                Object::Stream(s) => stack.extend(s.dict.iter().map(|(_, v)| v.clone())),
                _ => {}
            }
        }
        Ok(())
    }
}

/// The roles of `targets` in a revision (walks the document only as far as needed).
fn roles(
    reader: &mut PdfReader<Cursor<&[u8]>>,
    timestamps: &[&str],
    targets: impl Iterator<Item = u32>,
) -> Result<HashMap<u32, Role>, PdfError> {
    let mut w = Walk {
        reader,
        timestamps,
        targets: targets.collect(),
        named: HashMap::new(),
        budget: WALK_BUDGET,
    };
    if w.targets.is_empty() {
        return Ok(w.named);
    }
    let trailer = w.reader.trailer().clone();
    if let Some(info) = trailer.get(b"Info") {
        w.name(info, &Role::plain("document information"));
    }
    let (root, catalog) = w.reader.catalog()?;
    w.name(
        &Object::Reference(root),
        &Role::new("document catalog".into(), vec![Scope::Catalog]),
    );
    // Shallow first: the form and its signatures, the pages and their annotations.
    let mut deep: Vec<(Object, Role)> = Vec::new();
    if let Some(form) = catalog.get(b"AcroForm") {
        w.name(form, &Role::plain("interactive form (AcroForm)"));
        if let Some(dict) = w.reader.resolve_dict(form)? {
            fields(&mut w, &dict, &mut deep)?;
        }
        // Then what the form holds besides its fields (default resources).
        deep.push((form.clone(), Role::plain("interactive form (AcroForm)")));
    }
    if let Some(dss) = catalog.get(b"DSS") {
        deep.insert(0, (dss.clone(), Role::plain("validation data (DSS)")));
    }
    if let Some(pages) = catalog.get(b"Pages") {
        pages_of(&mut w, pages, &mut deep)?;
    }
    for (key, value) in catalog.iter() {
        let (what, scopes) = match key {
            b"AcroForm" | b"Pages" | b"DSS" => continue,
            b"Metadata" => ("XMP metadata".to_owned(), Vec::new()),
            b"StructTreeRoot" => ("logical structure".to_owned(), Vec::new()),
            other => (
                format!("catalog /{}", String::from_utf8_lossy(other)),
                vec![Scope::Catalog],
            ),
        };
        deep.push((value.clone(), Role::new(what, scopes)));
    }
    for (obj, role) in deep {
        if w.done() {
            break;
        }
        w.subtree(&obj, &role)?;
    }
    // What is left is reached from nothing; say what it is by its type.
    let left: Vec<u32> = w.targets.iter().copied().collect();
    for number in left {
        if w.budget == 0 {
            break;
        }
        w.budget = w.budget.saturating_sub(1);
        let generation = match w.reader.location(number) {
            Some(XrefEntry::InFile { generation, .. }) => generation,
            _ => 0,
        };
        let obj = w.reader.get(ObjectId::new(number, generation))?;
        let dict = match &obj {
            Object::Dictionary(d) => Some(d),
            Object::Stream(s) => Some(&s.dict),
            _ => None,
        };
        let what = match dict {
            Some(d) if d.name_is(b"Type", b"XRef") => "cross-reference stream",
            Some(d) if d.name_is(b"Type", b"ObjStm") => "object stream",
            Some(d) if d.name_is(b"Type", b"Sig") || d.name_is(b"Type", b"DocTimeStamp") => {
                "signature value outside the form"
            }
            _ => "not referenced by the document",
        };
        w.named.insert(number, Role::plain(what));
    }
    Ok(w.named)
}

/// Names the form fields (signature fields, their values, widgets).
fn fields(
    w: &mut Walk<'_, '_>,
    form: &Dictionary,
    deep: &mut Vec<(Object, Role)>,
) -> Result<(), PdfError> {
    // (field, parent's name, inherited /FT is Sig, depth)
    let mut stack: Vec<(Object, String, bool, usize)> = match form.get(b"Fields") {
        Some(f) => {
            w.name(f, &Role::plain("interactive form (AcroForm)"));
            match w.reader.resolve(f)? {
                Object::Array(items) => items
                    .into_iter()
                    .map(|i| (i, String::new(), false, 0))
                    .collect(),
                _ => Vec::new(),
            }
        }
        None => Vec::new(),
    };
    // Each field object once: /Kids that repeat or contain their parent would
    // otherwise multiply the walk.
    let mut seen = HashSet::new();
    while let Some((obj, prefix, inherited_sig, depth)) = stack.pop() {
        if w.done() || depth > 32 {
            break;
        }
        if !w.first_visit(&mut seen, &obj) {
            continue;
        }
        let Some(field) = w.reader.resolve_dict(&obj)? else {
            continue;
        };
        let name = crate::changes::qualified_name(&prefix, &field);
        let signature = field.name_is(b"FT", b"Sig") || (inherited_sig && !field.has(b"FT"));
        let widget = field.name_is(b"Subtype", b"Widget");
        let mut scopes = vec![Scope::Field(name.clone())];
        if let (Object::Reference(id), true) = (&obj, widget) {
            scopes.push(Scope::Annot(format!("{} {}", id.number, id.generation)));
        }
        let kind = if signature {
            "signature field"
        } else {
            "form field"
        };
        // A widget without a name of its own is the field's appearance on a page.
        let what = if widget && !field.has(b"T") {
            format!("widget of {kind} `{name}`")
        } else {
            format!("{kind} `{name}`")
        };
        let role = Role::new(what, scopes);
        w.name(&obj, &role);
        if let Some(v) = field.get(b"V") {
            if signature {
                // Known from the signatures found (reading the value again would parse
                // its long /Contents once more).
                let what = if w.timestamps.contains(&name.as_str()) {
                    format!("document time-stamp `{name}`")
                } else {
                    format!("signature value of `{name}`")
                };
                w.name(v, &Role::plain(&what));
            } else {
                deep.push((v.clone(), role.clone()));
            }
        }
        if let Some(ap) = field.get(b"AP") {
            let mut r = role.clone();
            r.what = format!("appearance of {kind} `{name}`");
            deep.push((ap.clone(), r));
        }
        if let Some(Object::Array(kids)) = field
            .get(b"Kids")
            .map(|k| w.reader.resolve(k))
            .transpose()?
        {
            stack.extend(
                kids.into_iter()
                    .map(|k| (k, name.clone(), signature, depth.saturating_add(1))),
            );
        }
    }
    Ok(())
}

/// Names the page tree, the pages and their annotations; content and resources go to
/// `deep`.
fn pages_of(
    w: &mut Walk<'_, '_>,
    root: &Object,
    deep: &mut Vec<(Object, Role)>,
) -> Result<(), PdfError> {
    let tree = Role::new("page tree".into(), vec![Scope::PageTree]);
    let mut stack = vec![(root.clone(), 0usize)];
    let mut pages: Vec<(Object, Dictionary)> = Vec::new();
    let mut seen = HashSet::new();
    while let Some((node, depth)) = stack.pop() {
        if w.budget == 0 || depth > 32 {
            break;
        }
        if !w.first_visit(&mut seen, &node) {
            continue;
        }
        let Some(dict) = w.reader.resolve_dict(&node)? else {
            continue;
        };
        if dict.name_is(b"Type", b"Pages") || dict.has(b"Kids") {
            w.name(&node, &tree);
            for key in [&b"Resources"[..], b"MediaBox", b"CropBox", b"Rotate"] {
                if let Some(v) = dict.get(key) {
                    deep.push((v.clone(), tree.clone()));
                }
            }
            if let Some(kids) = dict.get(b"Kids") {
                w.name(kids, &tree);
                if let Object::Array(items) = w.reader.resolve(kids)? {
                    // Reversed onto the stack so the pages come out in order.
                    stack.extend(
                        items
                            .into_iter()
                            .rev()
                            .map(|k| (k, depth.saturating_add(1))),
                    );
                }
            }
        } else {
            pages.push((node, dict));
        }
    }
    for (i, (node, page)) in pages.into_iter().enumerate() {
        if w.done() {
            break;
        }
        let n = i.saturating_add(1);
        w.name(
            &node,
            &Role::new(
                format!("page {n}"),
                vec![Scope::Page(n), Scope::AnnotList(n)],
            ),
        );
        if let Some(list) = page.get(b"Annots") {
            w.name(
                list,
                &Role::new(
                    format!("annotations of page {n}"),
                    vec![Scope::AnnotList(n)],
                ),
            );
            if let Object::Array(items) = w.reader.resolve(list)? {
                for a in items {
                    let Object::Reference(id) = &a else { continue };
                    // Its subtype is read only when the report names it.
                    let subtype = if w.targets.contains(&id.number) {
                        w.reader.resolve_dict(&a)?
                    } else {
                        None
                    }
                    .and_then(|d| {
                        d.get(b"Subtype")
                            .and_then(Object::as_name)
                            .map(<[u8]>::to_vec)
                    })
                    .map(|s| String::from_utf8_lossy(&s).into_owned())
                    .unwrap_or_default();
                    let role = Role::new(
                        format!("annotation ({subtype}) on page {n}"),
                        vec![Scope::Annot(format!("{} {}", id.number, id.generation))],
                    );
                    w.name(&a, &role);
                    deep.push((a.clone(), role));
                }
            }
        }
        for (key, what) in [
            (&b"Contents"[..], "content"),
            (b"Resources", "resources"),
            (b"Group", "transparency group"),
        ] {
            if let Some(v) = page.get(key) {
                deep.push((
                    v.clone(),
                    Role::new(format!("{what} of page {n}"), vec![Scope::Page(n)]),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    /// A two-revision PDF: the second adds object 6 and a form whose field lists itself
    /// twice as its kids (a walk that follows kids blindly never ends).
    fn cyclic_form() -> Vec<u8> {
        use shomei_test_support::sample_pdf::{from_objects, with_update};
        let first = from_objects(&[
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] >>",
        ]);
        with_update(
            &first,
            &[
                (1, b"<< /Type /Catalog /Pages 2 0 R /AcroForm 4 0 R >>"),
                (4, b"<< /Fields [5 0 R] >>"),
                (5, b"<< /T (loop) /Kids [5 0 R 5 0 R 6 0 R] >>"),
                (6, b"(orphan)"),
            ],
            7,
        )
    }

    #[test]
    fn a_form_whose_fields_repeat_is_walked_once() {
        let pdf = cyclic_form();
        let mut reader = PdfReader::open(Cursor::new(&pdf[..])).unwrap();
        let revs = revisions(&pdf, &mut reader, &[]).unwrap();
        assert_eq!(revs.len(), 2);
        let changes = &revs[1].changes;
        let what = |n: &str| changes.iter().find(|c| c.object == n).unwrap().what.clone();
        assert_eq!(what("5 0"), "form field `loop`");
        assert_eq!(what("1 0"), "document catalog");
        assert_eq!(changes.len(), 4, "{changes:#?}");
    }
}
