//! Signing at a level: B-B through the pipeline, then the long-term properties for
//! the new signature, one `sign_digests` call for a whole batch.

use crate::extension::{extend_with, ExtendContext, Target};
use crate::own::{finish_own, Surroundings};
use crate::pipeline::{prepare_in, surroundings};
use crate::resolver::NoDetachedData;
use crate::XadesError;
use shomei_core::Level;
use shomei_levels::{LtvServices, MissingData, Strictness, ValidationData};
use std::io::Write;

/// Signs `data` at `options.level`: B-B through [`crate::prepare`], then the long-term
/// properties for the new signature only. At B-LT a revoked, expired or not-yet-valid
/// signer is refused before anything is signed. The same shape as
/// `shomei_pades::ltv::sign_at_level`.
pub async fn sign_at_level(
    signer: &dyn shomei_core::RemoteSigner,
    data: &[u8],
    options: &crate::XadesOptions,
    services: Option<LtvServices<'_>>,
) -> Result<Vec<u8>, XadesError> {
    let mut out = Vec::with_capacity(data.len().saturating_add(64 << 10));
    sign_at_level_into(signer, data, options, services, &mut out).await?;
    Ok(out)
}

/// [`sign_at_level`] writing the signed document to `out`. An enveloped or detached
/// document is read in one streaming pass (the one that digests it for B-B, which also
/// starts the archive time-stamp's input at B-LTA) and never parsed as a tree: the
/// long-term properties are added to the new `ds:Signature` alone, which is then
/// written into the output with the document around it. A large document is held in
/// memory once, as `data`. On error `out` may have received part of the document.
pub async fn sign_at_level_into(
    signer: &dyn shomei_core::RemoteSigner,
    data: &[u8],
    options: &crate::XadesOptions,
    services: Option<LtvServices<'_>>,
    out: &mut (dyn Write + Send),
) -> Result<(), XadesError> {
    let services =
        shomei_levels::services_for_level(options.level, services).map_err(XadesError::Options)?;
    let description = signer.describe().await?;
    let (prepared, around) = prepare_in(data, &description, options)?;
    // After the input is read and before anything is signed (see sign_batch_at_level).
    let signer_data =
        shomei_levels::new_signer_data(options.level, services.as_ref(), &description.chain)
            .await?;
    let value = shomei_levels::sign_prepared(signer, std::slice::from_ref(&prepared))
        .await?
        .pop()
        .ok_or_else(|| XadesError::Unsupported("internal: no signature value".into()))?;
    let doc = BatchDocument { data, options };
    let known = Known {
        description: &description,
        signer_data: &signer_data,
    };
    finish_and_extend_into(&prepared, around, &doc, &value, services, known, out).await
}

/// One document of a batch.
#[derive(Debug, Clone, Copy)]
pub struct BatchDocument<'a> {
    /// The document (or, detached, the data).
    pub data: &'a [u8],
    /// How to sign it, at which level.
    pub options: &'a crate::XadesOptions,
}

/// Signs every document at its options' level with **one** call to
/// [`shomei_core::RemoteSigner::sign_digests`] per signature algorithm (one, unless the
/// options differ in digest or padding) — one authorization at a remote signing service
/// (CSC: one SAD for N hashes). Returns one result per document, in order: a document
/// that cannot be prepared or extended fails alone. `done(i)` is called as each
/// document is finished (or has failed).
pub async fn sign_batch_at_level(
    signer: &dyn shomei_core::RemoteSigner,
    docs: &[BatchDocument<'_>],
    services: Option<LtvServices<'_>>,
    done: &mut (dyn FnMut(usize) + Send),
) -> Result<Vec<Result<Vec<u8>, XadesError>>, XadesError> {
    let level = docs
        .iter()
        .map(|d| d.options.level)
        .max()
        .unwrap_or(Level::BB);
    let services =
        shomei_levels::services_for_level(level, services).map_err(XadesError::Options)?;
    let description = signer.describe().await?;
    let mut results: Vec<Result<Vec<u8>, XadesError>> = Vec::with_capacity(docs.len());
    let mut indices = Vec::new();
    let mut prepared = Vec::new();
    let mut arounds = Vec::new();
    for (i, doc) in docs.iter().enumerate() {
        match prepare_in(doc.data, &description, doc.options) {
            Ok((p, around)) => {
                indices.push(i);
                prepared.push(p);
                arounds.push(around);
                results.push(Ok(Vec::new()));
            }
            Err(e) => {
                results.push(Err(e));
                done(i);
            }
        }
    }
    if prepared.is_empty() {
        return Ok(results);
    }
    // After the inputs are read (a damaged input costs no request) and before anything
    // is signed: refuses a revoked, expired or not-yet-valid signer; the data gathered
    // serves every document's B-LT step.
    let signer_data =
        shomei_levels::new_signer_data(level, services.as_ref(), &description.chain).await?;
    let values = shomei_levels::sign_prepared(signer, &prepared).await?;
    let known = Known {
        description: &description,
        signer_data: &signer_data,
    };
    for (((i, p), around), value) in indices.into_iter().zip(&prepared).zip(arounds).zip(values) {
        let Some(doc) = docs.get(i) else { continue };
        let services = services.filter(|_| doc.options.level > Level::BB);
        let mut bytes = Vec::new();
        let outcome = finish_and_extend_into(p, around, doc, &value, services, known, &mut bytes)
            .await
            .map(|()| bytes);
        if let Some(slot) = results.get_mut(i) {
            *slot = outcome;
        }
        done(i);
    }
    Ok(results)
}

/// What is known of the signer before its documents are finished.
#[derive(Clone, Copy)]
pub(crate) struct Known<'a> {
    description: &'a shomei_core::SignerDescription,
    /// The signer's chain and revocation data (B-LT and up), gathered before signing.
    signer_data: &'a ValidationData,
}

/// Writes the document signed with `value` to `out`, with the long-term properties of
/// its level when `services` are given. `around` is what preparing the document learnt
/// of it (`None` for enveloping).
pub(crate) async fn finish_and_extend_into(
    prepared: &crate::Prepared,
    around: Option<Surroundings>,
    doc: &BatchDocument<'_>,
    value: &shomei_core::SignatureValue,
    services: Option<LtvServices<'_>>,
    known: Known<'_>,
    out: &mut (dyn Write + Send),
) -> Result<(), XadesError> {
    let Some(services) = services else {
        return prepared.write_signed(doc.data, value, out);
    };
    let cx = ExtendContext {
        services,
        // Enveloped and detached signatures are extended without their data (its
        // octets were hashed while preparing); an enveloping one carries its data.
        resolver: &NoDetachedData,
        extra_certs: known.description.chain.certs(),
        strictness: Strictness::NewSignature,
        signer_data: Some(known.signer_data),
        missing: MissingData::Refuse,
        force: false,
        // The signature value was verified before it was embedded.
        check_first: false,
    };
    let level = doc.options.level;
    match around {
        Some(around) => {
            finish_own(prepared, doc.data, value, level, around, cx, out).await?;
        }
        None => {
            // Enveloping: the signature is the whole document, parsed either way.
            let signed = prepared.finish(doc.data, value)?;
            let target = Target::Id(prepared.signature_id());
            out.write_all(&extend_with(&signed, level, target, cx).await?.bytes)?;
        }
    }
    Ok(())
}

/// A signature approved later (a web flow, CSC `signDoc`): [`crate::prepare`] at upload
/// gives a serializable [`crate::Prepared`] whose hash the signer approves; once the
/// device has signed it, [`Deferred::finish`] writes the signed document and completes
/// the level. The same shape as `shomei_pades::ltv::Deferred`.
pub struct Deferred<'a> {
    level: Level,
    services: Option<LtvServices<'a>>,
    description: shomei_core::SignerDescription,
    signer_data: ValidationData,
}

impl std::fmt::Debug for Deferred<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deferred")
            .field("level", &self.level)
            .finish_non_exhaustive()
    }
}

impl<'a> Deferred<'a> {
    /// Gets ready to finish signatures of `chain`'s signer at `level`: checks the
    /// services the level needs and gathers the signer's validation data (B-LT, B-LTA),
    /// so a revoked, expired or not-yet-valid signer is refused before anything is
    /// signed.
    pub async fn start(
        chain: &shomei_core::CertificateChain,
        level: Level,
        services: Option<LtvServices<'a>>,
    ) -> Result<Self, XadesError> {
        let services =
            shomei_levels::services_for_level(level, services).map_err(XadesError::Options)?;
        let kind = chain.signing_cert().key_kind()?;
        let description = shomei_core::SignerDescription::for_key(chain.clone(), kind);
        let signer_data =
            shomei_levels::new_signer_data(level, services.as_ref(), &description.chain).await?;
        Ok(Self {
            level,
            services,
            description,
            signer_data,
        })
    }

    /// Writes the signed document for `prepared` (made from `data` with `options`, at
    /// most this run's level), with `value` verified against the signing certificate,
    /// and adds the long-term properties of the level.
    pub async fn finish(
        &self,
        prepared: &crate::Prepared,
        data: &[u8],
        options: &crate::XadesOptions,
        value: &shomei_core::SignatureValue,
    ) -> Result<Vec<u8>, XadesError> {
        if options.level > self.level {
            return Err(XadesError::Options(format!(
                "the document asks for {} but this run was started for {}",
                options.level, self.level
            )));
        }
        let doc = BatchDocument { data, options };
        let services = self.services.filter(|_| options.level > Level::BB);
        // Prepared earlier, maybe by another process: what the long-term properties
        // need of the document is read again, in one streaming pass.
        let around = match services {
            Some(_) => surroundings(data, &options.packaging, options.level)?,
            None => None,
        };
        let known = Known {
            description: &self.description,
            signer_data: &self.signer_data,
        };
        let mut out = Vec::with_capacity(data.len().saturating_add(64 << 10));
        finish_and_extend_into(prepared, around, &doc, value, services, known, &mut out).await?;
        Ok(out)
    }
}
