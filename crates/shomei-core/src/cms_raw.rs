//! The byte positions inside a CMS `SignedData` that signature checks need as they
//! were encoded: decoded-and-re-encoded structures are not always the bytes that were
//! signed (a producer's signed attributes may be in another order than DER sorting
//! gives). Used for time-stamp tokens and for checking other producers' signatures.

use der::asn1::AnyRef;
use der::{Decode, Encode, Header, Length, Reader, SliceReader, Tag, TagNumber, Tagged};

/// Why the structure could not be walked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RawCmsError {
    /// A DER error, positioned in the whole input.
    #[error("{0}")]
    Der(der::Error),
    /// A part that must be there is not.
    #[error("{0} is missing or malformed")]
    Missing(&'static str),
}

/// The parts of a DER `ContentInfo` holding `SignedData`, as slices of the input.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct RawSignedData<'a> {
    /// The SignedData TLV.
    pub signed_data: &'a [u8],
    /// The eContent octets, when the content is encapsulated.
    pub econtent: Option<&'a [u8]>,
    /// The contents of the first SignerInfo's `[0] IMPLICIT` signedAttrs.
    pub signed_attrs: Option<&'a [u8]>,
}

impl<'a> RawSignedData<'a> {
    /// Walks `der` (a DER `ContentInfo`).
    pub fn walk(der: &'a [u8]) -> Result<Self, RawCmsError> {
        let info = AnyRef::from_der(der).map_err(RawCmsError::Der)?;
        let explicit = *children(der, info.value())?
            .get(1)
            .ok_or(RawCmsError::Missing("ContentInfo content"))?;
        let signed_data = explicit.value();
        let sd = AnyRef::from_der(signed_data)
            .map_err(|e| RawCmsError::Der(shift(e, der, signed_data)))?;
        let sd_parts = children(der, sd.value())?;
        let encap = sd_parts
            .get(2)
            .ok_or(RawCmsError::Missing("encapContentInfo"))?;
        let econtent = match children(der, encap.value())?.get(1) {
            Some(tagged) => Some(
                children(der, tagged.value())?
                    .first()
                    .filter(|o| o.tag() == Tag::OctetString)
                    .ok_or(RawCmsError::Missing("eContent"))?
                    .value(),
            ),
            None => None,
        };
        let signer_infos = sd_parts.last().ok_or(RawCmsError::Missing("signerInfos"))?;
        let signed_attrs = match children(der, signer_infos.value())?.first() {
            Some(si) => children(der, si.value())?
                .get(3)
                .filter(|a| {
                    a.tag()
                        == Tag::ContextSpecific {
                            constructed: true,
                            number: TagNumber(0),
                        }
                })
                .map(|a| a.value()),
            None => None,
        };
        Ok(Self {
            signed_data,
            econtent,
            signed_attrs,
        })
    }

    /// The signed attributes re-tagged as `SET OF` (RFC 5652 5.4): the bytes the
    /// signature covers.
    pub fn signed_attrs_der(&self) -> Result<Option<Vec<u8>>, der::Error> {
        let Some(contents) = self.signed_attrs else {
            return Ok(None);
        };
        let len = Length::try_from(contents.len())?;
        let mut out = Header::new(Tag::Set, len).to_der()?;
        out.extend_from_slice(contents);
        Ok(Some(out))
    }
}

/// The TLVs inside `value` (a slice of `whole`); error positions count from `whole`.
fn children<'a>(whole: &[u8], value: &'a [u8]) -> Result<Vec<AnyRef<'a>>, RawCmsError> {
    let read = || -> der::Result<Vec<AnyRef<'a>>> {
        let mut reader = SliceReader::new(value)?;
        let mut out = Vec::new();
        while !reader.is_finished() {
            out.push(reader.decode::<AnyRef<'a>>()?);
        }
        Ok(out)
    };
    read().map_err(|e| RawCmsError::Der(shift(e, whole, value)))
}

/// Moves an error's position from `part`'s frame to `whole`'s (`part` lies in `whole`).
pub fn shift(e: der::Error, whole: &[u8], part: &[u8]) -> der::Error {
    let offset = part.as_ptr().addr().saturating_sub(whole.as_ptr().addr());
    match (e.position(), Length::try_from(offset)) {
        (Some(pos), Ok(off)) => match pos + off {
            Ok(p) => der::Error::new(e.kind(), p),
            Err(_) => e,
        },
        _ => e,
    }
}
