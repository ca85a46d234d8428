//! The signing step every batch shares, whatever the format: documents are prepared
//! first (each one's hash to be signed is known), then the device is asked **once per
//! signature algorithm** for all of them — one authorization at a remote signing
//! service (CSC: one SAD for N hashes) — and each value goes back to its document.

use shomei_core::{Digest, RemoteSigner, SignatureAlgorithm, SignatureValue, SignerError};

/// A prepared document: what the device signs for it.
pub trait ToBeSigned {
    /// The algorithm its value must be made with.
    fn signature_algorithm(&self) -> SignatureAlgorithm;
    /// The digest to sign.
    fn digest_to_sign(&self) -> Digest;
}

/// Signs every prepared document with one `sign_digests` call per algorithm (in
/// first-seen order); returns one value per document, in order.
pub async fn sign_prepared<P: ToBeSigned>(
    signer: &dyn RemoteSigner,
    prepared: &[P],
) -> Result<Vec<SignatureValue>, SignerError> {
    let mut algorithms: Vec<SignatureAlgorithm> = Vec::new();
    for p in prepared {
        if !algorithms.contains(&p.signature_algorithm()) {
            algorithms.push(p.signature_algorithm());
        }
    }
    let mut values: Vec<Option<SignatureValue>> = vec![None; prepared.len()];
    for alg in algorithms {
        let group: Vec<usize> = (0..prepared.len())
            .filter(|i| {
                prepared
                    .get(*i)
                    .is_some_and(|p| p.signature_algorithm() == alg)
            })
            .collect();
        let digests: Vec<Digest> = group
            .iter()
            .filter_map(|i| prepared.get(*i).map(ToBeSigned::digest_to_sign))
            .collect();
        let signed = signer.sign_digests(alg, &digests).await?;
        if signed.len() != digests.len() {
            return Err(SignerError::CountMismatch {
                sent: digests.len(),
                got: signed.len(),
            });
        }
        for (i, value) in group.into_iter().zip(signed) {
            if let Some(slot) = values.get_mut(i) {
                *slot = Some(value);
            }
        }
    }
    values
        .into_iter()
        .map(|v| {
            v.ok_or(SignerError::Device(
                "a document got no signature value".into(),
            ))
        })
        .collect()
}
