//! The staged signing pipeline: [`prepare`] → [`Prepared::digest_to_sign`] → remote
//! signature → [`Prepared::finish`].

use crate::own::Surroundings;
use crate::splice::{check_encoding, find_insertion, Insertion, RootFacts};
use crate::uris::{digest_uri, signature_uri, DS_NS, EXC_C14N, SIGNED_PROPERTIES_TYPE, XADES_NS};
use crate::{Packaging, XadesError, XadesOptions};
use base64ct::{Base64, Encoding};
use der::Encode;
use serde::{Deserialize, Serialize};
use shomei_core::ess::IssuerSerial;
use shomei_core::{
    CertificateChain, Digest, DigestAlgorithm, Hasher, KeyKind, RemoteSigner, SignatureAlgorithm,
    SignatureValue, SignerDescription, UtcTime,
};
use shomei_xml::{
    canonicalize, canonicalize_reader, canonicalize_stream, C14nMethod, Document, IdValues, Limits,
};
use std::collections::HashSet;
use std::io::{Read, Seek, SeekFrom, Write};
use x509_cert::ext::pkix::name::GeneralName;

/// Hashed and ready to be signed. Serializable: store it, sign elsewhere, resume with
/// [`Prepared::finish`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Prepared {
    layout: Layout,
    /// Signature text up to the content of `ds:SignatureValue`.
    head: String,
    /// Signature text after the content of `ds:SignatureValue`.
    tail: String,
    chain: CertificateChain,
    algorithm: SignatureAlgorithm,
    to_sign: Digest,
    signature_id: String,
}

/// Where the signature text goes.
#[derive(Debug, Clone, Serialize, Deserialize)]
enum Layout {
    /// Enveloped: spliced into the original document of this length.
    Splice {
        insertion: Insertion,
        original_len: usize,
    },
    /// Enveloping and detached: the signature is the whole output document.
    Standalone,
}

/// The XML declaration of documents whose root is the signature.
const DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

pub(crate) fn exclusive() -> C14nMethod {
    C14nMethod::Exclusive {
        comments: false,
        inclusive_prefixes: Vec::new(),
    }
}

/// Escapes text for an attribute value or character data.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\r' => out.push_str("&#xD;"),
            '\n' => out.push_str("&#xA;"),
            '\t' => out.push_str("&#x9;"),
            c => out.push(c),
        }
    }
    out
}

/// How every generated Id starts: only document Ids with this prefix can clash.
const GENERATED_ID_PREFIX: &str = "id-";

/// The Ids of one signature: unpredictable-looking (derived from the document digest,
/// the time and the certificate) but reproducible for the same input. All start with
/// [`GENERATED_ID_PREFIX`].
struct Ids {
    signature: String,
    data_ref: String,
    signed_props: String,
    value: String,
    object: String,
}

impl Ids {
    /// Ids that do not occur in `taken` (the Ids of the document the signature joins).
    fn new(taken: Option<&HashSet<String>>, seed: &[u8]) -> Result<Self, XadesError> {
        for attempt in 0u8..8 {
            let mut input = seed.to_vec();
            input.push(attempt);
            let base = Digest::compute(DigestAlgorithm::Sha256, &input).to_hex();
            let short = base.get(..20).unwrap_or(&base);
            let ids = Self {
                signature: format!("id-{short}"),
                data_ref: format!("id-ref-{short}"),
                signed_props: format!("id-xades-{short}"),
                value: format!("id-value-{short}"),
                object: format!("id-object-{short}"),
            };
            let mut clash = false;
            if let Some(taken) = taken {
                for id in [
                    &ids.signature,
                    &ids.data_ref,
                    &ids.signed_props,
                    &ids.value,
                    &ids.object,
                ] {
                    clash |= taken.contains(id.as_str());
                }
            }
            if !clash {
                return Ok(ids);
            }
        }
        Err(XadesError::Unsupported(
            "the document already carries the generated Id values".into(),
        ))
    }
}

pub(crate) fn b64(bytes: &[u8]) -> String {
    Base64::encode_string(bytes)
}

fn digest_method(d: DigestAlgorithm) -> String {
    format!(
        "<ds:DigestMethod Algorithm=\"{}\"></ds:DigestMethod>",
        digest_uri(d)
    )
}

/// The parts of the `ds:Signature` text that do not depend on the digests.
struct Template {
    ids: Ids,
    signature_method: &'static str,
    digest: DigestAlgorithm,
    /// `URI` and `ds:Transforms` of the data Reference.
    data_uri: String,
    data_transforms: &'static str,
    data_digest: String,
    key_info: String,
    /// The `ds:Object` carrying the document (enveloping), else empty.
    embedded: String,
    /// The `ds:Object` with the qualifying properties.
    object: String,
    standalone: bool,
}

impl Template {
    fn signed_info(&self, props_digest: &str) -> String {
        let dm = digest_method(self.digest);
        format!(
            "<ds:SignedInfo>\
             <ds:CanonicalizationMethod Algorithm=\"{EXC_C14N}\"></ds:CanonicalizationMethod>\
             <ds:SignatureMethod Algorithm=\"{sm}\"></ds:SignatureMethod>\
             <ds:Reference Id=\"{rid}\" URI=\"{uri}\">{tr}\
             {dm}<ds:DigestValue>{dd}</ds:DigestValue></ds:Reference>\
             <ds:Reference Type=\"{SIGNED_PROPERTIES_TYPE}\" URI=\"#{pid}\"><ds:Transforms>\
             <ds:Transform Algorithm=\"{EXC_C14N}\"></ds:Transform></ds:Transforms>\
             {dm}<ds:DigestValue>{props_digest}</ds:DigestValue></ds:Reference>\
             </ds:SignedInfo>",
            sm = self.signature_method,
            rid = self.ids.data_ref,
            uri = self.data_uri,
            tr = self.data_transforms,
            dd = self.data_digest,
            pid = self.ids.signed_props,
        )
    }

    fn open(&self) -> String {
        format!(
            "<ds:Signature xmlns:ds=\"{DS_NS}\" xmlns:xades=\"{XADES_NS}\" Id=\"{}\">",
            self.ids.signature
        )
    }

    /// `(head, tail)` around the SignatureValue content.
    fn split(&self, props_digest: &str) -> (String, String) {
        self.split_with(props_digest, true)
    }

    /// As [`Template::split`]; without the `ds:Object` that carries an enveloped
    /// document when `with_embedded` is false.
    fn split_with(&self, props_digest: &str, with_embedded: bool) -> (String, String) {
        let head = format!(
            "{}{}{}<ds:SignatureValue Id=\"{}\">",
            if self.standalone { DECLARATION } else { "" },
            self.open(),
            self.signed_info(props_digest),
            self.ids.value
        );
        let tail = format!(
            "</ds:SignatureValue>{}{}{}</ds:Signature>",
            self.key_info,
            if with_embedded {
                self.embedded.as_str()
            } else {
                ""
            },
            self.object
        );
        (head, tail)
    }

    /// Parses the signature standalone and canonicalizes one of its elements. Exclusive
    /// C14N does not depend on the ancestors' namespace declarations nor on siblings, so
    /// the result is the same once the signature sits inside the document — and the
    /// `ds:Object` carrying an enveloped document is parsed only when it is the element
    /// asked for (`with_embedded`).
    fn canonical_element(
        &self,
        props_digest: &str,
        with_embedded: bool,
        pick: impl Fn(&Document) -> Result<Option<shomei_xml::NodeId>, XadesError>,
    ) -> Result<Vec<u8>, XadesError> {
        let (head, tail) = self.split_with(props_digest, with_embedded);
        let text = format!("{head}{tail}");
        let doc = Document::parse(text.as_bytes())?;
        let node = pick(&doc)?.ok_or_else(|| {
            XadesError::Unsupported("internal: element missing from the signature".into())
        })?;
        let mut out = Vec::new();
        canonicalize(&doc, Some(node), &exclusive(), &mut out)?;
        Ok(out)
    }
}

fn signing_certificate_v2(
    chain: &CertificateChain,
    d: DigestAlgorithm,
) -> Result<String, XadesError> {
    let cert = chain.signing_cert();
    let tbs = cert.cert().tbs_certificate();
    let issuer_serial = IssuerSerial {
        issuer: vec![GeneralName::DirectoryName(tbs.issuer().clone())],
        serial_number: tbs.serial_number().clone(),
    };
    Ok(format!(
        "<xades:SigningCertificateV2><xades:Cert><xades:CertDigest>{}<ds:DigestValue>{}</ds:DigestValue>\
         </xades:CertDigest><xades:IssuerSerialV2>{}</xades:IssuerSerialV2></xades:Cert>\
         </xades:SigningCertificateV2>",
        digest_method(d),
        b64(Digest::compute(d, cert.der()).as_bytes()),
        b64(&issuer_serial.to_der()?),
    ))
}

/// The data Reference's URI and transforms, and what is known about the data.
struct DataObject {
    uri: String,
    transforms: &'static str,
    /// For enveloped and enveloping: the Id values of the document.
    ids: Option<HashSet<String>>,
    /// For enveloped: where the signature goes.
    insertion: Option<Insertion>,
    /// For enveloping: the `ds:Object` that carries the document element.
    embedded: Option<String>,
    /// For enveloped and detached: the digest of the data (after the transforms).
    digest: Option<Digest>,
    /// For enveloped and detached, when asked for: SHA-256 over the same octets, not
    /// finished (the start of an archive time-stamp's input).
    archive_head: Option<Hasher>,
    mime: &'static str,
}

/// Feeds two hashers at once: the data Reference's digest and the archive time-stamp's
/// SHA-256, when the Reference uses another digest, from one pass over the document.
struct Both<'a>(&'a mut Hasher, &'a mut Hasher);

impl Write for Both<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        self.1.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Hashes what `feed` writes with `digest` and, when `archive` is set, with SHA-256 as
/// well (the same hasher when the digest is SHA-256): one pass either way.
fn hash_twice<T>(
    digest: DigestAlgorithm,
    archive: bool,
    feed: impl FnOnce(&mut dyn Write) -> Result<T, XadesError>,
) -> Result<(T, Digest, Option<Hasher>), XadesError> {
    let mut hasher = Hasher::new(digest);
    let (value, head) = match (archive, digest) {
        (false, _) => (feed(&mut hasher)?, None),
        (true, DigestAlgorithm::Sha256) => {
            let value = feed(&mut hasher)?;
            (value, Some(hasher.clone()))
        }
        (true, _) => {
            let mut head = Hasher::new(DigestAlgorithm::Sha256);
            (feed(&mut Both(&mut hasher, &mut head))?, Some(head))
        }
    };
    Ok((value, hasher.finish(), head))
}

/// `text/xml` for well-formed XML (checked in one streaming pass, without building a
/// tree, since detached data may be large), `application/pdf` for a PDF, else octets.
fn guess_mime(data: &[u8]) -> &'static str {
    let sink = &mut std::io::sink();
    if canonicalize_stream(data, &Limits::default(), &exclusive(), sink).is_ok() {
        "text/xml"
    } else if data.starts_with(b"%PDF-") {
        "application/pdf"
    } else {
        "application/octet-stream"
    }
}

/// What the data Reference covers and how; `archive` also keeps the SHA-256 state of
/// the Reference's octets (enveloped and detached), for a B-LTA signature.
fn data_object(
    data: &[u8],
    packaging: &Packaging,
    digest: DigestAlgorithm,
    archive: bool,
) -> Result<DataObject, XadesError> {
    match packaging {
        Packaging::Enveloped => {
            // One streaming pass, no tree: the enveloped-signature transform removes the
            // signature, which does not exist yet, so the reference covers the original
            // document as it is.
            let (summary, data_digest, archive_head) = hash_twice(digest, archive, |sink| {
                Ok(canonicalize_stream(
                    data,
                    &Limits::default(),
                    &exclusive(),
                    sink,
                )?)
            })?;
            check_encoding(summary.declared_encoding.as_deref())?;
            let insertion = find_insertion(
                data,
                &RootFacts {
                    prefix: summary.root_prefix.as_deref(),
                    local_name: &summary.root_local_name,
                    has_children: !summary.root_is_empty,
                    declared_encoding: summary.declared_encoding.as_deref(),
                },
            )?;
            refuse_breaking_existing_signatures(data)?;
            Ok(DataObject {
                uri: String::new(),
                transforms: ENVELOPED_TRANSFORMS,
                digest: Some(data_digest),
                archive_head,
                ids: Some(summary.ids),
                insertion: Some(insertion),
                embedded: None,
                mime: "text/xml",
            })
        }
        Packaging::Enveloping => {
            let doc = Document::parse(data)?;
            // The document element in canonical form (UTF-8, namespaces in scope made
            // explicit, comments kept): well-formed wherever it is placed.
            let mut content = Vec::new();
            canonicalize(
                &doc,
                Some(doc.root()),
                &C14nMethod::Inclusive10 { comments: true },
                &mut content,
            )?;
            let content = String::from_utf8(content).map_err(|_| {
                XadesError::Unsupported("internal: canonical form not UTF-8".into())
            })?;
            Ok(DataObject {
                uri: String::new(),
                transforms: EXCLUSIVE_TRANSFORM,
                digest: None,
                archive_head: None,
                ids: Some(doc.id_values()),
                insertion: None,
                embedded: Some(content),
                mime: "text/xml",
            })
        }
        Packaging::Detached { uri } => {
            check_relative_uri(uri)?;
            let ((), data_digest, archive_head) =
                hash_twice(digest, archive, |sink| Ok(sink.write_all(data)?))?;
            Ok(DataObject {
                uri: escape(uri),
                transforms: "",
                digest: Some(data_digest),
                archive_head,
                mime: guess_mime(data),
                ids: None,
                insertion: None,
                embedded: None,
            })
        }
    }
}

/// What [`prepare_in`] learns about the document around a signature, gathered again
/// (one streaming pass for enveloped, a hash of the data for detached at B-LTA) for a
/// signature prepared earlier by [`prepare`]. `None` for enveloping, whose signature
/// is the whole output.
pub(crate) fn surroundings(
    data: &[u8],
    packaging: &Packaging,
    level: shomei_core::Level,
) -> Result<Option<Surroundings>, XadesError> {
    let archive = level == shomei_core::Level::BLTA;
    Ok(match packaging {
        Packaging::Enveloping => None,
        Packaging::Enveloped => {
            let mut hasher = Hasher::new(DigestAlgorithm::Sha256);
            let mut nothing = std::io::sink();
            let sink: &mut dyn Write = if archive { &mut hasher } else { &mut nothing };
            let summary = canonicalize_stream(data, &Limits::default(), &exclusive(), sink)?;
            Some(Surroundings {
                ids: summary.ids,
                data_octets: archive.then_some(hasher),
            })
        }
        Packaging::Detached { .. } => Some(Surroundings {
            ids: HashSet::new(),
            data_octets: archive.then(|| {
                let mut hasher = Hasher::new(DigestAlgorithm::Sha256);
                hasher.update(data);
                hasher
            }),
        }),
    })
}

/// Refuses an enveloped signature that would break a signature already in `data` (see
/// [`crate::check::enveloped_conflicts`]). Documents without the XMLDSig namespace
/// (the whitelisted encodings are ASCII-compatible, so a byte search finds it) cost no
/// second parse.
fn refuse_breaking_existing_signatures(data: &[u8]) -> Result<(), XadesError> {
    if memchr::memmem::find(data, crate::uris::DS_NS.as_bytes()).is_none() {
        return Ok(());
    }
    let doc = Document::parse(data)?;
    let conflicts = crate::check::enveloped_conflicts(&doc);
    if conflicts.is_empty() {
        return Ok(());
    }
    Err(XadesError::Options(format!(
        "{}; nothing was written: sign with --packaging detached or --packaging enveloping \
         instead, which leave the document as it is",
        conflicts.join("; ")
    )))
}

/// [`data_object`] for an enveloped signature of a document read from `input`, in
/// bounded memory: one canonicalizing pass (noting whether the XMLDSig namespace occurs,
/// as [`refuse_breaking_existing_signatures`] needs), then the end of the input for the
/// insertion point. Only the document Ids that could clash with generated ones are kept.
/// Returns the object and the input's length.
fn enveloped_object_from<R: Read + Seek>(
    input: &mut R,
    digest: DigestAlgorithm,
) -> Result<(DataObject, usize), XadesError> {
    input.seek(SeekFrom::Start(0))?;
    let mut hasher = Hasher::new(digest);
    let mut scan = FindWhileReading::new(&mut *input, DS_NS.as_bytes());
    let ids = IdValues::StartingWith(GENERATED_ID_PREFIX.into());
    let summary = canonicalize_reader(
        &mut scan,
        &Limits::default(),
        &exclusive(),
        &ids,
        &mut hasher,
    )?;
    let has_ds_namespace = scan.found;
    check_encoding(summary.declared_encoding.as_deref())?;
    let end = input.seek(SeekFrom::End(0))?;
    let len = usize::try_from(end)
        .map_err(|_| XadesError::Unsupported("a document larger than memory can address".into()))?;
    let insertion = find_insertion_from(
        input,
        len,
        &RootFacts {
            prefix: summary.root_prefix.as_deref(),
            local_name: &summary.root_local_name,
            has_children: !summary.root_is_empty,
            declared_encoding: summary.declared_encoding.as_deref(),
        },
    )?;
    if has_ds_namespace {
        // A document that already carries signatures: the check needs its tree.
        input.seek(SeekFrom::Start(0))?;
        let mut data = Vec::new();
        input.read_to_end(&mut data)?;
        refuse_breaking_existing_signatures(&data)?;
    }
    let object = DataObject {
        uri: String::new(),
        transforms: ENVELOPED_TRANSFORMS,
        digest: Some(hasher.finish()),
        archive_head: None,
        ids: Some(summary.ids),
        insertion: Some(insertion),
        embedded: None,
        mime: "text/xml",
    };
    Ok((object, len))
}

/// [`find_insertion`] on the end of `input` (of `len` bytes): the last 64 KiB, or more
/// when the document element's end tag and what follows it do not fit in that. A scan
/// that succeeds in a final part of the input gives what a scan of all of it gives, since
/// it looks backwards for the last occurrences only.
fn find_insertion_from<R: Read + Seek>(
    input: &mut R,
    len: usize,
    root: &RootFacts<'_>,
) -> Result<Insertion, XadesError> {
    let mut take = 64 * 1024;
    loop {
        let take_now = take.min(len);
        let start = len - take_now;
        input.seek(SeekFrom::Start(u64::try_from(start).unwrap_or(u64::MAX)))?;
        let mut tail = vec![0; take_now];
        input.read_exact(&mut tail)?;
        match find_insertion(&tail, root) {
            Ok(mut insertion) => {
                insertion.prefix_end += start;
                insertion.suffix_start += start;
                return Ok(insertion);
            }
            Err(_) if take_now < len => take = take.saturating_mul(4),
            Err(e) => return Err(e),
        }
    }
}

/// Passes reads through and notes whether `needle` occurs in what was read (also across
/// two reads).
struct FindWhileReading<'r, R> {
    inner: &'r mut R,
    finder: memchr::memmem::Finder<'static>,
    /// The last bytes read, fewer than the needle's length.
    carry: Vec<u8>,
    found: bool,
}

impl<'r, R: Read> FindWhileReading<'r, R> {
    fn new(inner: &'r mut R, needle: &'static [u8]) -> Self {
        Self {
            inner,
            finder: memchr::memmem::Finder::new(needle),
            carry: Vec::new(),
            found: false,
        }
    }
}

impl<R: Read> Read for FindWhileReading<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let got = buf.get(..n).unwrap_or_default();
        if !self.found && n > 0 {
            let keep = self.finder.needle().len().saturating_sub(1);
            // An occurrence across the two reads lies in the carry plus the first bytes.
            self.carry
                .extend_from_slice(got.get(..keep.min(n)).unwrap_or_default());
            self.found = self.finder.find(&self.carry).is_some() || self.finder.find(got).is_some();
            if n >= keep {
                self.carry.clear();
                self.carry
                    .extend_from_slice(got.get(n - keep..).unwrap_or_default());
            } else {
                let drop = self.carry.len().saturating_sub(keep);
                self.carry.drain(..drop);
            }
        }
        Ok(n)
    }
}

const ENVELOPED_TRANSFORMS: &str = "<ds:Transforms>\
    <ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"></ds:Transform>\
    <ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"></ds:Transform>\
    </ds:Transforms>";
const EXCLUSIVE_TRANSFORM: &str = "<ds:Transforms>\
    <ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"></ds:Transform>\
    </ds:Transforms>";

/// A detached Reference names its data by a plain relative path: no scheme, no query or
/// fragment, no absolute path, no `..` — so that a validator resolves it next to the
/// signature and nowhere else. `.` segments (`./data.pdf`, as many producers write)
/// stay where they are and are accepted.
pub fn check_relative_uri(uri: &str) -> Result<(), XadesError> {
    let segments: Vec<&str> = uri.split('/').collect();
    let bad = uri.is_empty()
        || uri.starts_with('/')
        || uri.contains(['\\', ':', '?', '#', '%'])
        || segments.iter().any(|seg| *seg == ".." || seg.is_empty())
        || segments.iter().all(|seg| *seg == ".")
        || uri.chars().any(|c| c.is_control() || c == ' ');
    if bad {
        return Err(XadesError::Options(format!(
            "detached data must be named by a plain relative path (no scheme, '..', \
             spaces or '%'), not `{uri}`"
        )));
    }
    Ok(())
}

/// The choices [`prepare`] makes before it reads the data.
struct Choice {
    algorithm: SignatureAlgorithm,
    signature_method: &'static str,
    time: UtcTime,
}

fn choose(description: &SignerDescription, options: &XadesOptions) -> Result<Choice, XadesError> {
    let algorithm = description
        .choose_algorithm(options.digest, options.rsa_pss)
        .map_err(XadesError::Options)?;
    let signature_method = signature_uri(algorithm)
        .ok_or_else(|| XadesError::Options(format!("no XMLDSig URI for {algorithm}")))?;
    let time = UtcTime::from_system_time(options.signing_time)
        .ok_or_else(|| XadesError::Options("signing time out of range".into()))?;
    Ok(Choice {
        algorithm,
        signature_method,
        time,
    })
}

/// Stage 1: parses the document (or reads the detached data), digests it and builds the
/// SignedInfo to be signed.
pub fn prepare(
    data: &[u8],
    description: &SignerDescription,
    options: &XadesOptions,
) -> Result<Prepared, XadesError> {
    Ok(prepare_in(data, description, options)?.0)
}

/// [`prepare`], with what the same pass learnt about the document around the new
/// signature (enveloped and detached), which its long-term levels need.
pub(crate) fn prepare_in(
    data: &[u8],
    description: &SignerDescription,
    options: &XadesOptions,
) -> Result<(Prepared, Option<Surroundings>), XadesError> {
    let choice = choose(description, options)?;
    let digest = choice.algorithm.digest();
    let object = data_object(
        data,
        &options.packaging,
        digest,
        options.level == shomei_core::Level::BLTA,
    )?;
    let seed = object
        .digest
        .as_ref()
        .map_or_else(|| Digest::compute(digest, data), Clone::clone);
    assemble(choice, object, &seed, data.len(), description, options)
}

/// [`prepare`] for a document read from `input` (from its start) rather than held in
/// memory. An enveloped signature reads it twice in blocks of 64 KiB (the canonical
/// digest in one pass, then the end of the document element from the end of the input),
/// so memory does not grow with the document; [`Prepared::write_signed_from`] then copies
/// it around the signature. Enveloping and detached signatures read the whole input into
/// memory, as [`prepare`] needs it.
pub fn prepare_from<R: Read + Seek>(
    input: &mut R,
    description: &SignerDescription,
    options: &XadesOptions,
) -> Result<Prepared, XadesError> {
    if !matches!(options.packaging, Packaging::Enveloped) {
        input.seek(SeekFrom::Start(0))?;
        let mut data = Vec::new();
        input.read_to_end(&mut data)?;
        return prepare(&data, description, options);
    }
    let choice = choose(description, options)?;
    let digest = choice.algorithm.digest();
    let (object, len) = enveloped_object_from(input, digest)?;
    let seed = object.digest.clone().ok_or_else(|| {
        XadesError::Unsupported("internal: enveloped data without a digest".into())
    })?;
    Ok(assemble(choice, object, &seed, len, description, options)?.0)
}

/// The rest of stage 1, once the data is known: Ids, the signature text and the digest
/// to be signed, and the [`Surroundings`] the data object carries (enveloped and
/// detached). `seed` (the digest of the data) makes the Ids; `len` is the length of the
/// original document.
fn assemble(
    choice: Choice,
    mut object: DataObject,
    seed: &Digest,
    len: usize,
    description: &SignerDescription,
    options: &XadesOptions,
) -> Result<(Prepared, Option<Surroundings>), XadesError> {
    let Choice {
        algorithm,
        signature_method,
        time,
    } = choice;
    let digest = algorithm.digest();
    let layout = match &object.insertion {
        Some(insertion) => Layout::Splice {
            insertion: insertion.clone(),
            original_len: len,
        },
        None => Layout::Standalone,
    };

    let chain = description.chain.clone();
    let mut seed = seed.as_bytes().to_vec();
    seed.extend_from_slice(time.to_xml_datetime().as_bytes());
    seed.extend_from_slice(chain.signing_cert().der());
    let ids = Ids::new(object.ids.as_ref(), &seed)?;

    let key_info = format!(
        "<ds:KeyInfo><ds:X509Data>{}</ds:X509Data></ds:KeyInfo>",
        chain
            .certs()
            .iter()
            .map(|c| format!("<ds:X509Certificate>{}</ds:X509Certificate>", b64(c.der())))
            .collect::<String>()
    );
    let mime = options.mime_type.as_deref().unwrap_or(object.mime);
    let embedded = object
        .embedded
        .as_ref()
        .map(|content| format!("<ds:Object Id=\"{}\">{content}</ds:Object>", ids.object))
        .unwrap_or_default();
    let qualifying = format!(
        "<ds:Object><xades:QualifyingProperties Target=\"#{sig}\">\
         <xades:SignedProperties Id=\"{sp}\"><xades:SignedSignatureProperties>\
         <xades:SigningTime>{time}</xades:SigningTime>{scv2}</xades:SignedSignatureProperties>\
         <xades:SignedDataObjectProperties><xades:DataObjectFormat ObjectReference=\"#{rid}\">\
         <xades:MimeType>{mime}</xades:MimeType></xades:DataObjectFormat>\
         </xades:SignedDataObjectProperties></xades:SignedProperties>\
         </xades:QualifyingProperties></ds:Object>",
        sig = ids.signature,
        sp = ids.signed_props,
        time = time.to_xml_datetime(),
        scv2 = signing_certificate_v2(&chain, digest)?,
        rid = ids.data_ref,
        mime = escape(mime),
    );
    let data_uri = match &options.packaging {
        Packaging::Enveloping => format!("#{}", ids.object),
        _ => object.uri.clone(),
    };
    let mut template = Template {
        signature_method,
        digest,
        data_uri,
        data_transforms: object.transforms,
        data_digest: object
            .digest
            .as_ref()
            .map(|d| b64(d.as_bytes()))
            .unwrap_or_default(),
        key_info,
        embedded,
        object: qualifying,
        standalone: matches!(layout, Layout::Standalone),
        ids,
    };
    if object.embedded.is_some() {
        // Exclusive C14N of the carrying ds:Object depends only on the Object itself.
        let object_id = template.ids.object.clone();
        let canonical = template.canonical_element("", true, |d| Ok(d.find_by_id(&object_id)?))?;
        template.data_digest = b64(Digest::compute(digest, &canonical).as_bytes());
    }

    let props_id = template.ids.signed_props.clone();
    let props = template.canonical_element("", false, |d| Ok(d.find_by_id(&props_id)?))?;
    let props_digest = b64(Digest::compute(digest, &props).as_bytes());
    let signed_info = template.canonical_element(&props_digest, false, |d| {
        Ok(d.elements_by_name(Some(DS_NS), "SignedInfo")
            .first()
            .copied())
    })?;
    let to_sign = Digest::compute(digest, &signed_info);
    let (head, tail) = template.split(&props_digest);
    let surroundings = match options.packaging {
        Packaging::Enveloping => None,
        _ => Some(Surroundings {
            ids: object.ids.take().unwrap_or_default(),
            data_octets: object.archive_head.take(),
        }),
    };
    let prepared = Prepared {
        layout,
        head,
        tail,
        chain,
        algorithm,
        to_sign,
        signature_id: template.ids.signature,
    };
    Ok((prepared, surroundings))
}

impl Prepared {
    /// What the signer must sign: the digest of the canonical `ds:SignedInfo`.
    pub fn digest_to_sign(&self) -> Digest {
        self.to_sign.clone()
    }

    /// The signature scheme to ask the signer for.
    pub fn signature_algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }

    /// The `Id` of the `ds:Signature` being made.
    pub fn signature_id(&self) -> &str {
        &self.signature_id
    }

    /// For enveloped signatures, the byte range `(start, end)` of the original document
    /// that the signature replaces (empty unless the document element was self-closed):
    /// every byte before `start` and from `end` on is kept as it was. `None` when the
    /// signature is a document of its own (enveloping, detached).
    pub fn insertion_range(&self) -> Option<(usize, usize)> {
        match &self.layout {
            Layout::Splice { insertion, .. } => {
                Some((insertion.prefix_end, insertion.suffix_start))
            }
            Layout::Standalone => None,
        }
    }

    /// Stage 2: verifies `value` against the signing certificate, converts ECDSA to
    /// `r‖s` and writes the signed document to `out`. `original` is the document given
    /// to [`prepare`] for enveloped signatures (it is not read otherwise).
    pub fn write_signed(
        &self,
        original: &[u8],
        value: &SignatureValue,
        out: &mut dyn Write,
    ) -> Result<(), XadesError> {
        let signature = self.signature_text(value)?;
        self.write_around(original, signature.as_bytes(), out)
    }

    /// The `ds:Signature` element (a whole document for enveloping and detached) with
    /// `value`, once it verifies against the signing certificate (ECDSA as `r‖s`).
    pub(crate) fn signature_text(&self, value: &SignatureValue) -> Result<String, XadesError> {
        let value_b64 = self.checked_value(value)?;
        let mut text = String::with_capacity(self.head.len() + value_b64.len() + self.tail.len());
        for part in [&self.head, &value_b64, &self.tail] {
            text.push_str(part);
        }
        Ok(text)
    }

    /// Writes the output document: `signature` (from [`Prepared::signature_text`],
    /// possibly with unsigned properties added) alone, or spliced into `original`.
    pub(crate) fn write_around(
        &self,
        original: &[u8],
        signature: &[u8],
        out: &mut dyn Write,
    ) -> Result<(), XadesError> {
        match &self.layout {
            Layout::Standalone => out.write_all(signature)?,
            Layout::Splice {
                insertion,
                original_len,
            } => {
                if original.len() != *original_len {
                    return Err(XadesError::Options(
                        "finish was given another document than prepare".into(),
                    ));
                }
                let prefix = original.get(..insertion.prefix_end);
                let suffix = original.get(insertion.suffix_start..);
                let (Some(prefix), Some(suffix)) = (prefix, suffix) else {
                    return Err(XadesError::Unsupported(
                        "internal: insertion point out of range".into(),
                    ));
                };
                out.write_all(prefix)?;
                out.write_all(insertion.open.as_bytes())?;
                out.write_all(signature)?;
                out.write_all(insertion.close.as_bytes())?;
                out.write_all(suffix)?;
            }
        }
        Ok(())
    }

    /// [`Prepared::write_signed`] copying the original document from `original` (the
    /// input given to [`prepare_from`], read from its start) in blocks of 64 KiB rather
    /// than from memory.
    pub fn write_signed_from<R: Read + Seek>(
        &self,
        original: &mut R,
        value: &SignatureValue,
        out: &mut dyn Write,
    ) -> Result<(), XadesError> {
        let Layout::Splice {
            insertion,
            original_len,
        } = &self.layout
        else {
            return self.write_signed(&[], value, out);
        };
        let value_b64 = self.checked_value(value)?;
        let len = original.seek(SeekFrom::End(0))?;
        if usize::try_from(len).ok() != Some(*original_len)
            || insertion.prefix_end > insertion.suffix_start
            || insertion.suffix_start > *original_len
        {
            return Err(XadesError::Options(
                "finish was given another document than prepare".into(),
            ));
        }
        let mut buf = vec![0; 64 * 1024];
        original.seek(SeekFrom::Start(0))?;
        copy_exactly(original, insertion.prefix_end, &mut buf, out)?;
        out.write_all(insertion.open.as_bytes())?;
        for part in [
            self.head.as_bytes(),
            value_b64.as_bytes(),
            self.tail.as_bytes(),
        ] {
            out.write_all(part)?;
        }
        out.write_all(insertion.close.as_bytes())?;
        let skip = insertion.suffix_start - insertion.prefix_end;
        original.seek(SeekFrom::Current(i64::try_from(skip).unwrap_or(i64::MAX)))?;
        copy_exactly(
            original,
            *original_len - insertion.suffix_start,
            &mut buf,
            out,
        )?;
        Ok(())
    }

    /// Verifies `value` against the signing certificate and gives the content of
    /// `ds:SignatureValue` (ECDSA as `r‖s`).
    fn checked_value(&self, value: &SignatureValue) -> Result<String, XadesError> {
        let cert = self.chain.signing_cert();
        let cms = value
            .to_cms()
            .ok_or(shomei_core::verify::VerifyError::Invalid)?;
        shomei_core::verify::verify_digest_signature(cert, self.algorithm, &self.to_sign, &cms)?;
        let field_len = match cert.key_kind()? {
            KeyKind::EcP256 => 32,
            KeyKind::EcP384 => 48,
            _ => 0,
        };
        let raw = value
            .to_xmldsig(field_len)
            .ok_or(shomei_core::verify::VerifyError::Invalid)?;
        Ok(b64(&raw))
    }

    /// [`Prepared::write_signed`] into a buffer.
    pub fn finish(&self, original: &[u8], value: &SignatureValue) -> Result<Vec<u8>, XadesError> {
        let extra = self.head.len() + self.tail.len() + 1024;
        let mut out = Vec::with_capacity(match self.layout {
            Layout::Splice { original_len, .. } => original_len + extra,
            Layout::Standalone => extra,
        });
        self.write_signed(original, value, &mut out)?;
        Ok(out)
    }
}

/// Signs at B-B: describe the signer, prepare, sign remotely, finish. For the higher
/// levels see [`crate::sign_xml_at_level`].
pub async fn sign_xml(
    signer: &dyn RemoteSigner,
    data: &[u8],
    options: &XadesOptions,
) -> Result<Vec<u8>, XadesError> {
    let mut out = Vec::with_capacity(data.len().saturating_add(16 << 10));
    sign_xml_into(signer, data, options, &mut out).await?;
    Ok(out)
}

/// [`sign_xml`] writing the signed document to `out` instead of a buffer (large
/// documents are then held once, not twice).
pub async fn sign_xml_into(
    signer: &dyn RemoteSigner,
    data: &[u8],
    options: &XadesOptions,
    out: &mut dyn Write,
) -> Result<(), XadesError> {
    let description = signer.describe().await?;
    let prepared = prepare(data, &description, options)?;
    let value = signer
        .sign_digest(prepared.signature_algorithm(), &prepared.digest_to_sign())
        .await?;
    prepared.write_signed(data, &value, out)
}

/// Copies exactly `n` bytes from `from` to `to` through `buf`; input that ends sooner
/// is an error (the document changed between the two passes).
fn copy_exactly(
    from: &mut dyn Read,
    mut n: usize,
    buf: &mut [u8],
    to: &mut dyn Write,
) -> Result<(), XadesError> {
    while n > 0 {
        let want = n.min(buf.len());
        let chunk = buf.get_mut(..want).unwrap_or_default();
        let got = match from.read(chunk) {
            Ok(0) => {
                return Err(XadesError::Options(
                    "the document became shorter while it was signed".into(),
                ))
            }
            Ok(got) => got.min(want),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        to.write_all(chunk.get(..got).unwrap_or_default())?;
        n -= got;
    }
    Ok(())
}

/// [`sign_xml_into`] for a document read from `input` (a file, typically): an enveloped
/// signature is made in memory that does not grow with the document (see
/// [`prepare_from`] and [`Prepared::write_signed_from`]).
pub async fn sign_xml_from<R: Read + Seek>(
    signer: &dyn RemoteSigner,
    input: &mut R,
    options: &XadesOptions,
    out: &mut dyn Write,
) -> Result<(), XadesError> {
    let description = signer.describe().await?;
    let prepared = prepare_from(input, &description, options)?;
    let value = signer
        .sign_digest(prepared.signature_algorithm(), &prepared.digest_to_sign())
        .await?;
    prepared.write_signed_from(input, &value, out)
}

impl shomei_levels::ToBeSigned for Prepared {
    fn signature_algorithm(&self) -> SignatureAlgorithm {
        Prepared::signature_algorithm(self)
    }

    fn digest_to_sign(&self) -> Digest {
        Prepared::digest_to_sign(self)
    }
}

#[cfg(test)]
mod tests {
    use super::check_relative_uri;

    /// Issue 9, point 5: `./name` is an ordinary relative reference; escaping the
    /// signature's directory or naming a scheme is still refused.
    #[test]
    fn issue9_dot_slash_names_are_plain_relative_paths() {
        for ok in ["data.pdf", "./data.pdf", "sub/data.pdf", "./sub/./data.pdf"] {
            assert!(check_relative_uri(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            ".",
            "./",
            "../data.pdf",
            "./../data.pdf",
            "a/../../b",
            "/etc/passwd",
            "file:///etc/passwd",
            "http://x/y",
            "a//b",
            "a b",
            "a%2e",
            "C:\\x",
        ] {
            assert!(check_relative_uri(bad).is_err(), "{bad}");
        }
    }
}
