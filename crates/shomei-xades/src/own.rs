//! The long-term levels of the signature this process has just made, without reading
//! the document again: the `ds:Signature` (a few kilobytes for enveloped and detached
//! signatures) is extended on its own, through the same steps as any producer's
//! signature ([`crate::extension`]), and written into the output once.
//!
//! What the steps would otherwise read from the whole document comes from the streaming
//! pass of [`crate::prepare`]: the Ids the new properties must not reuse, and the
//! SHA-256 state of the data Reference's octets, which every archive time-stamp input
//! starts with. This holds because everything else those steps read lies inside the
//! signature, and exclusive canonicalization (of the signature value, the time-stamped
//! elements, the archive input) does not depend on the ancestors of the element
//! canonicalized: the signature's elements all carry prefixes declared on the signature
//! or on themselves.

use crate::extension::{extend_one, ExtendContext, Extension};
use crate::pipeline::Prepared;
use crate::unsigned::Working;
use crate::XadesError;
use shomei_core::{Hasher, Level, SignatureValue};
use shomei_levels::ExtensionReport;
use shomei_xml::Document;
use std::collections::HashSet;
use std::io::Write;

/// What the extension of the signature just made needs from outside it, gathered while
/// the data was prepared.
#[derive(Clone)]
pub(crate) struct Surroundings {
    /// The Id values of the document the signature joins (empty for a detached
    /// signature, which is a document of its own).
    pub(crate) ids: HashSet<String>,
    /// At B-LTA: SHA-256 over the data Reference's octets (the canonical document minus
    /// the signature; the detached data), not finished.
    pub(crate) data_octets: Option<Hasher>,
}

impl std::fmt::Debug for Surroundings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Surroundings")
            .field("ids", &self.ids.len())
            .field("data_octets", &self.data_octets.is_some())
            .finish()
    }
}

/// Adds the properties of `level` to the signature of `prepared` with `value` (verified
/// against the signing certificate here) and writes the output document made from
/// `original` to `out`. The document itself is only copied to `out`: neither parsed nor
/// held twice. `around` comes from the pass that prepared the signature (or from
/// [`crate::pipeline::surroundings`]); at B-LTA it must hold the data's hash state.
pub(crate) async fn finish_own(
    prepared: &Prepared,
    original: &[u8],
    value: &SignatureValue,
    level: Level,
    around: Surroundings,
    cx: ExtendContext<'_>,
    out: &mut (dyn Write + Send),
) -> Result<ExtensionReport, XadesError> {
    if level == Level::BLTA && around.data_octets.is_none() {
        return Err(XadesError::Unsupported(
            "internal: the data was not hashed for the archive time-stamp".into(),
        ));
    }
    let text = prepared.signature_text(value)?.into_bytes();
    let doc = Document::parse(&text)?;
    let mut work = Working {
        bytes: text,
        doc,
        outside_ids: around.ids,
        first_reference: around.data_octets,
    };
    let mut ext = Extension {
        bytes: Vec::new(),
        report: ExtensionReport::default(),
    };
    extend_one(&mut work, &mut ext, 0, level, cx).await?;
    prepared.write_around(original, &work.bytes, out)?;
    Ok(ext.report)
}
