//! Signing at a level: B-B through the pipeline, then the long-term properties for
//! the new signature, one `sign_digests` call for a whole batch.

use crate::extension::{extend_with, ExtendContext, Target};
use crate::resolver::{DetachedResolver, InMemoryData, NoDetachedData};
use crate::XadesError;
use shomei_core::Level;
use shomei_levels::{LtvServices, MissingData, Strictness, ValidationData};

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
    let docs = [BatchDocument { data, options }];
    let mut results = sign_batch_at_level(signer, &docs, services, &mut |_| {}).await?;
    results
        .pop()
        .unwrap_or_else(|| Err(XadesError::Unsupported("internal: no result".into())))
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
    for (i, doc) in docs.iter().enumerate() {
        match crate::prepare(doc.data, &description, doc.options) {
            Ok(p) => {
                indices.push(i);
                prepared.push(p);
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
    for ((i, p), value) in indices.into_iter().zip(&prepared).zip(values) {
        let Some(doc) = docs.get(i) else { continue };
        let services = services.filter(|_| doc.options.level > Level::BB);
        let outcome = finish_and_extend(p, doc, &value, services, &description, &signer_data).await;
        if let Some(slot) = results.get_mut(i) {
            *slot = outcome;
        }
        done(i);
    }
    Ok(results)
}

pub(crate) async fn finish_and_extend(
    prepared: &crate::Prepared,
    doc: &BatchDocument<'_>,
    value: &shomei_core::SignatureValue,
    services: Option<LtvServices<'_>>,
    description: &shomei_core::SignerDescription,
    signer_data: &ValidationData,
) -> Result<Vec<u8>, XadesError> {
    let signed = prepared.finish(doc.data, value)?;
    let Some(services) = services else {
        return Ok(signed);
    };
    let in_memory;
    let resolver: &dyn DetachedResolver = match &doc.options.packaging {
        crate::Packaging::Detached { uri } => {
            in_memory = InMemoryData {
                uri: uri.clone(),
                data: doc.data.to_vec(),
            };
            &in_memory
        }
        _ => &NoDetachedData,
    };
    let cx = ExtendContext {
        services,
        resolver,
        extra_certs: description.chain.certs(),
        strictness: Strictness::NewSignature,
        signer_data: Some(signer_data),
        missing: MissingData::Refuse,
        force: false,
        // The signature value was verified before it was embedded.
        check_first: false,
    };
    Ok(extend_with(
        &signed,
        doc.options.level,
        Target::Id(prepared.signature_id()),
        cx,
    )
    .await?
    .bytes)
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
        finish_and_extend(
            prepared,
            &doc,
            value,
            services,
            &self.description,
            &self.signer_data,
        )
        .await
    }
}
