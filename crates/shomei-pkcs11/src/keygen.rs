//! Signing key pairs generated inside the token, for a signing service that must never
//! see a private key: the private key is created sensitive and never extractable, the
//! token's own report of those attributes is checked, and only the public key leaves
//! the token, as a `SubjectPublicKeyInfo` to put in a certificate request.

use crate::session::{open_logged_in, Access, TokenLogin};
use crate::signer::describe_selector;
use crate::{KeySelector, Pkcs11Error};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::Session;
use cryptoki::types::Ulong;
use der::asn1::{Any, BitString, OctetString, UintRef};
use der::{Decode, Encode};
use shomei_core::alg::oid;
use shomei_core::KeyKind;
use spki::{AlgorithmIdentifierOwned, ObjectIdentifier, SubjectPublicKeyInfoOwned};
use std::fmt;

/// The kind of key pair [`generate_key_pair`] makes: the key kinds shomei signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenKeyKind {
    /// RSA with a 2048-bit modulus and public exponent 65537.
    Rsa2048,
    /// RSA with a 3072-bit modulus and public exponent 65537.
    Rsa3072,
    /// ECDSA over NIST P-256 (`prime256v1`).
    EcP256,
    /// ECDSA over NIST P-384 (`secp384r1`).
    EcP384,
}

impl TokenKeyKind {
    /// The kind of key as the rest of shomei names it.
    pub fn key_kind(self) -> KeyKind {
        match self {
            Self::Rsa2048 => KeyKind::Rsa { bits: 2048 },
            Self::Rsa3072 => KeyKind::Rsa { bits: 3072 },
            Self::EcP256 => KeyKind::EcP256,
            Self::EcP384 => KeyKind::EcP384,
        }
    }
}

impl fmt::Display for TokenKeyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.key_kind().fmt(f)
    }
}

/// A key pair that now exists on the token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct GeneratedKey {
    /// `CKA_ID` of both key objects: 16 bytes from the token's random generator.
    pub id: Vec<u8>,
    /// `CKA_LABEL` of both key objects.
    pub label: String,
    /// What was generated.
    pub kind: TokenKeyKind,
    /// The DER `SubjectPublicKeyInfo` (RFC 5280 4.1) of the public key: `rsaEncryption`
    /// with NULL parameters (RFC 3279 2.3.1), or `id-ecPublicKey` with the named curve
    /// (RFC 5480 2.1.1).
    pub spki_der: Vec<u8>,
}

impl GeneratedKey {
    /// Selects this key in a [`Pkcs11Config`](crate::Pkcs11Config) by its `CKA_ID`, which
    /// unlike the label cannot be shared with another key.
    pub fn selector(&self) -> KeySelector {
        KeySelector::Id(self.id.clone())
    }
}

/// Length of a generated `CKA_ID`: as unlikely to repeat as a random serial number.
const ID_LEN: u32 = 16;

/// RSA public exponent F4 = 65537, big-endian.
const RSA_EXPONENT: [u8; 3] = [0x01, 0x00, 0x01];

/// What the private key must report after generation. Every boolean of the template is
/// here, plus `CKA_ALWAYS_SENSITIVE` and `CKA_NEVER_EXTRACTABLE`, which the token sets
/// itself (PKCS#11 v2.40 4.9) and which tell that the key was never exposed.
const PRIVATE_KEY_POLICY: [(AttributeType, &str, bool); 10] = [
    (AttributeType::Token, "CKA_TOKEN", true),
    (AttributeType::Private, "CKA_PRIVATE", true),
    (AttributeType::Sensitive, "CKA_SENSITIVE", true),
    (AttributeType::AlwaysSensitive, "CKA_ALWAYS_SENSITIVE", true),
    (AttributeType::Extractable, "CKA_EXTRACTABLE", false),
    (
        AttributeType::NeverExtractable,
        "CKA_NEVER_EXTRACTABLE",
        true,
    ),
    (AttributeType::Sign, "CKA_SIGN", true),
    (AttributeType::Decrypt, "CKA_DECRYPT", false),
    (AttributeType::Unwrap, "CKA_UNWRAP", false),
    (AttributeType::Derive, "CKA_DERIVE", false),
];

/// What the generation mechanism needs to know about a key kind.
#[derive(Clone, Copy)]
enum Parameters {
    /// Modulus length in bits.
    Rsa(usize),
    /// The curve's OID and the length of an uncompressed point (SEC 1 2.3.3).
    Ec(ObjectIdentifier, usize),
}

impl TokenKeyKind {
    fn parameters(self) -> Parameters {
        match self {
            Self::Rsa2048 => Parameters::Rsa(2048),
            Self::Rsa3072 => Parameters::Rsa(3072),
            Self::EcP256 => Parameters::Ec(oid::SECP256R1, 65),
            Self::EcP384 => Parameters::Ec(oid::SECP384R1, 97),
        }
    }
}

/// Generates a signing key pair inside the token and returns its id and public key.
///
/// The private key is a token object (`CKA_TOKEN`), needs the login (`CKA_PRIVATE`), is
/// `CKA_SENSITIVE` and not `CKA_EXTRACTABLE`, and may sign only (no decrypt, unwrap or
/// derive); both objects carry `label` and a fresh random `CKA_ID`. After generation the
/// private key's attributes are read back: if the token reports any of them otherwise,
/// or its public key is malformed, the pair is destroyed and an error returned — a
/// weaker key is never left behind silently.
///
/// Refuses an empty label and a label that a key on the token already has (selection by
/// label would become ambiguous; the check is not atomic against another process
/// generating at the same moment). Blocks for as long as the token takes (seconds for
/// RSA on some devices): call it from a blocking thread in async code.
pub fn generate_key_pair(
    login: &TokenLogin,
    label: &str,
    kind: TokenKeyKind,
) -> Result<GeneratedKey, Pkcs11Error> {
    if label.is_empty() {
        return Err(Pkcs11Error::ApiMisuse("the key label is empty".into()));
    }
    let token = login.token_label.as_str();
    let ck = |e| Pkcs11Error::from_ck(e, token);
    let (_context, _slot, session) =
        open_logged_in(&login.module, token, &login.pin, Access::ReadWrite)?;
    if !keys_with(&session, Attribute::Label(label.as_bytes().to_vec()), token)?.is_empty() {
        return Err(Pkcs11Error::LabelInUse {
            token: token.to_owned(),
            label: label.to_owned(),
        });
    }
    let id = session.generate_random_vec(ID_LEN).map_err(ck)?;
    if !keys_with(&session, Attribute::Id(id.clone()), token)?.is_empty() {
        // 2^-128 by chance: the token's generator is broken.
        return Err(Pkcs11Error::Internal(
            "the token's random generator returned a key id already in use".into(),
        ));
    }

    let mut public = vec![
        Attribute::Class(ObjectClass::PUBLIC_KEY),
        Attribute::Token(true),
        Attribute::Private(false),
        Attribute::Verify(true),
        Attribute::Encrypt(false),
        Attribute::Wrap(false),
        Attribute::Id(id.clone()),
        Attribute::Label(label.as_bytes().to_vec()),
    ];
    let mut private = vec![
        Attribute::Class(ObjectClass::PRIVATE_KEY),
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Sign(true),
        Attribute::Decrypt(false),
        Attribute::Unwrap(false),
        Attribute::Derive(false),
        Attribute::Id(id.clone()),
        Attribute::Label(label.as_bytes().to_vec()),
    ];
    let mechanism = match kind.parameters() {
        Parameters::Rsa(bits) => {
            let bits = Ulong::try_from(bits)
                .map_err(|e| Pkcs11Error::Internal(format!("modulus length: {e}")))?;
            public.push(Attribute::KeyType(KeyType::RSA));
            public.push(Attribute::ModulusBits(bits));
            public.push(Attribute::PublicExponent(RSA_EXPONENT.to_vec()));
            private.push(Attribute::KeyType(KeyType::RSA));
            Mechanism::RsaPkcsKeyPairGen
        }
        Parameters::Ec(curve, _) => {
            public.push(Attribute::KeyType(KeyType::EC));
            public.push(Attribute::EcParams(curve_parameters(curve)?));
            private.push(Attribute::KeyType(KeyType::EC));
            Mechanism::EccKeyPairGen
        }
    };
    let (public_key, private_key) = session
        .generate_key_pair(&mechanism, &public, &private)
        .map_err(ck)?;

    let checked = check_private_key(&session, private_key, token)
        .and_then(|()| public_key_info(&session, public_key, kind, token));
    match checked {
        Ok(spki_der) => Ok(GeneratedKey {
            id,
            label: label.to_owned(),
            kind,
            spki_der,
        }),
        Err(cause) => {
            // Private key first: it is the one that must not outlive a failed check.
            let destroyed = session
                .destroy_object(private_key)
                .and_then(|()| session.destroy_object(public_key));
            match destroyed {
                Ok(()) => Err(cause),
                Err(e) => Err(Pkcs11Error::LeftOnToken {
                    id: describe_selector(&KeySelector::Id(id)),
                    cause: Box::new(cause),
                    destroy: Box::new(ck(e)),
                }),
            }
        }
    }
}

/// Destroys the private key and the public key with `CKA_ID` `id`.
///
/// Fails, destroying nothing, when no key has the id or when two private (or two public)
/// keys share it. A certificate object with the same id is left in place. Blocks for as long as
/// the token takes. A [`Pkcs11Signer`](crate::Pkcs11Signer) already open on the key
/// fails its next signature.
pub fn destroy_key_pair(login: &TokenLogin, id: &[u8]) -> Result<(), Pkcs11Error> {
    if id.is_empty() {
        return Err(Pkcs11Error::ApiMisuse("the key id is empty".into()));
    }
    let token = login.token_label.as_str();
    let ck = |e| Pkcs11Error::from_ck(e, token);
    let (_context, _slot, session) =
        open_logged_in(&login.module, token, &login.pin, Access::ReadWrite)?;
    let selector = KeySelector::Id(id.to_vec());
    let find = |class| {
        session
            .find_objects(&[Attribute::Class(class), Attribute::Id(id.to_vec())])
            .map_err(ck)
    };
    let private = find(ObjectClass::PRIVATE_KEY)?;
    let public = find(ObjectClass::PUBLIC_KEY)?;
    if private.len() > 1 || public.len() > 1 {
        return Err(Pkcs11Error::Key(format!(
            "{} private and {} public keys with {} on token `{token}`: nothing destroyed",
            private.len(),
            public.len(),
            describe_selector(&selector),
        )));
    }
    if private.is_empty() && public.is_empty() {
        return Err(Pkcs11Error::Key(format!(
            "no key with {} on token `{token}`",
            describe_selector(&selector)
        )));
    }
    // A public key alone is what an earlier, interrupted destruction leaves behind.
    for object in private.into_iter().chain(public) {
        session.destroy_object(object).map_err(ck)?;
    }
    Ok(())
}

/// Private and public key objects carrying `attribute`.
fn keys_with(
    session: &Session,
    attribute: Attribute,
    token: &str,
) -> Result<Vec<ObjectHandle>, Pkcs11Error> {
    let mut found = Vec::new();
    for class in [ObjectClass::PRIVATE_KEY, ObjectClass::PUBLIC_KEY] {
        found.extend(
            session
                .find_objects(&[Attribute::Class(class), attribute.clone()])
                .map_err(|e| Pkcs11Error::from_ck(e, token))?,
        );
    }
    Ok(found)
}

/// The DER `namedCurve` OID that `CKA_EC_PARAMS` holds (PKCS#11 v2.40 2.3.3).
fn curve_parameters(curve: ObjectIdentifier) -> Result<Vec<u8>, Pkcs11Error> {
    curve
        .to_der()
        .map_err(|e| Pkcs11Error::Internal(format!("encoding the curve OID: {e}")))
}

fn bool_value(attribute: &Attribute) -> Option<bool> {
    match attribute {
        Attribute::Token(b)
        | Attribute::Private(b)
        | Attribute::Sensitive(b)
        | Attribute::AlwaysSensitive(b)
        | Attribute::Extractable(b)
        | Attribute::NeverExtractable(b)
        | Attribute::Sign(b)
        | Attribute::Decrypt(b)
        | Attribute::Unwrap(b)
        | Attribute::Derive(b) => Some(*b),
        _ => None,
    }
}

/// Refuses a private key whose attributes are not [`PRIVATE_KEY_POLICY`].
fn check_private_key(session: &Session, key: ObjectHandle, token: &str) -> Result<(), Pkcs11Error> {
    let types: Vec<AttributeType> = PRIVATE_KEY_POLICY.iter().map(|(t, _, _)| *t).collect();
    let reported = session
        .get_attributes(key, &types)
        .map_err(|e| Pkcs11Error::from_ck(e, token))?;
    match policy_violation(&reported) {
        None => Ok(()),
        Some((attribute, expected, reported)) => Err(Pkcs11Error::TemplateNotHonoured {
            token: token.to_owned(),
            attribute,
            expected,
            reported,
        }),
    }
}

/// The first attribute of [`PRIVATE_KEY_POLICY`] that `reported` does not hold, with the
/// value expected and the value reported. An attribute the token does not report (it
/// leaves it out, or calls it sensitive) counts as not honoured.
fn policy_violation(reported: &[Attribute]) -> Option<(&'static str, bool, Option<bool>)> {
    PRIVATE_KEY_POLICY
        .into_iter()
        .find_map(|(which, name, expected)| {
            let value = reported
                .iter()
                .find(|a| a.attribute_type() == which)
                .and_then(bool_value);
            (value != Some(expected)).then_some((name, expected, value))
        })
}

/// The value of one attribute of `object`, `None` when the token does not give it.
fn bytes_attribute(
    session: &Session,
    object: ObjectHandle,
    which: AttributeType,
    token: &str,
) -> Result<Option<Vec<u8>>, Pkcs11Error> {
    let found = session
        .get_attributes(object, &[which])
        .map_err(|e| Pkcs11Error::from_ck(e, token))?;
    Ok(found.into_iter().find_map(|a| match a {
        Attribute::Modulus(v)
        | Attribute::PublicExponent(v)
        | Attribute::EcPoint(v)
        | Attribute::EcParams(v) => Some(v),
        _ => None,
    }))
}

fn required(
    session: &Session,
    object: ObjectHandle,
    (which, name): (AttributeType, &str),
    token: &str,
) -> Result<Vec<u8>, Pkcs11Error> {
    bytes_attribute(session, object, which, token)?
        .ok_or_else(|| Pkcs11Error::PublicKey(format!("the token does not give {name}")))
}

const MODULUS: (AttributeType, &str) = (AttributeType::Modulus, "CKA_MODULUS");
const PUBLIC_EXPONENT: (AttributeType, &str) =
    (AttributeType::PublicExponent, "CKA_PUBLIC_EXPONENT");
const EC_PARAMS: (AttributeType, &str) = (AttributeType::EcParams, "CKA_EC_PARAMS");
const EC_POINT: (AttributeType, &str) = (AttributeType::EcPoint, "CKA_EC_POINT");

/// The `SubjectPublicKeyInfo` DER of the generated public key, after checking that it
/// is the key that was asked for.
fn public_key_info(
    session: &Session,
    key: ObjectHandle,
    kind: TokenKeyKind,
    token: &str,
) -> Result<Vec<u8>, Pkcs11Error> {
    let bad = |what: String| Pkcs11Error::PublicKey(what);
    let der_err = |e: der::Error| bad(format!("encoding the SubjectPublicKeyInfo: {e}"));
    let (algorithm, key_bits) = match kind.parameters() {
        Parameters::Rsa(bits) => {
            let modulus = required(session, key, MODULUS, token)?;
            let exponent = required(session, key, PUBLIC_EXPONENT, token)?;
            let modulus = UintRef::new(&modulus).map_err(der_err)?;
            let exponent = UintRef::new(&exponent).map_err(der_err)?;
            let got = bit_length(modulus.as_bytes());
            if got != Some(bits) {
                return Err(bad(format!(
                    "the modulus has {} bits, not {bits}",
                    got.unwrap_or(0)
                )));
            }
            if exponent.as_bytes() != RSA_EXPONENT {
                return Err(bad("the public exponent is not 65537".into()));
            }
            let pkcs1 = RsaPublicKey {
                modulus,
                public_exponent: exponent,
            }
            .to_der()
            .map_err(der_err)?;
            (
                AlgorithmIdentifierOwned {
                    oid: oid::RSA_ENCRYPTION,
                    parameters: Some(Any::null()),
                },
                pkcs1,
            )
        }
        Parameters::Ec(curve, point_len) => {
            let params = required(session, key, EC_PARAMS, token)?;
            if params != curve_parameters(curve)? {
                return Err(bad(format!(
                    "CKA_EC_PARAMS does not name the curve {curve}"
                )));
            }
            let reported = required(session, key, EC_POINT, token)?;
            let point = uncompressed_point(&reported, point_len)?;
            (
                AlgorithmIdentifierOwned {
                    oid: oid::EC_PUBLIC_KEY,
                    parameters: Some(Any::encode_from(&curve).map_err(der_err)?),
                },
                point,
            )
        }
    };
    SubjectPublicKeyInfoOwned {
        algorithm,
        subject_public_key: BitString::from_bytes(&key_bits).map_err(der_err)?,
    }
    .to_der()
    .map_err(der_err)
}

/// `RSAPublicKey` (RFC 8017 A.1.1).
///
/// ```text
/// RSAPublicKey ::= SEQUENCE {
///     modulus           INTEGER,  -- n
///     publicExponent    INTEGER   -- e
/// }
/// ```
#[derive(der::Sequence)]
struct RsaPublicKey<'a> {
    modulus: UintRef<'a>,
    public_exponent: UintRef<'a>,
}

/// Bits in a big-endian unsigned integer without leading zero bytes.
fn bit_length(magnitude: &[u8]) -> Option<usize> {
    let first = magnitude.first()?;
    let zeros = usize::try_from(first.leading_zeros()).ok()?;
    magnitude.len().checked_mul(8)?.checked_sub(zeros)
}

/// The uncompressed point (`04 ‖ X ‖ Y`) in `CKA_EC_POINT`. PKCS#11 v2.40 2.3.3 makes it
/// the DER OCTET STRING of the point; some tokens give the bare point, which has a
/// different length, so the two cannot be confused.
fn uncompressed_point(reported: &[u8], len: usize) -> Result<Vec<u8>, Pkcs11Error> {
    let point = if reported.len() == len {
        reported.to_vec()
    } else {
        OctetString::from_der(reported)
            .map_err(|e| Pkcs11Error::PublicKey(format!("CKA_EC_POINT: {e}")))?
            .into_bytes()
            .into_vec()
    };
    if point.len() != len || point.first() != Some(&0x04) {
        return Err(Pkcs11Error::PublicKey(format!(
            "CKA_EC_POINT is not an uncompressed point of {len} bytes"
        )));
    }
    Ok(point)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn ec_point_wrapped_or_bare_but_uncompressed_and_of_the_curve_length() {
        let mut point = vec![0x04];
        point.extend([7u8; 64]);
        let wrapped = OctetString::new(point.clone()).unwrap().to_der().unwrap();
        assert_eq!(uncompressed_point(&wrapped, 65).unwrap(), point);
        assert_eq!(uncompressed_point(&point, 65).unwrap(), point);
        // A P-256 point is not a P-384 point.
        assert!(uncompressed_point(&wrapped, 97).is_err());
        // Compressed form.
        let mut compressed = vec![0x02];
        compressed.extend([7u8; 32]);
        let wrapped = OctetString::new(compressed).unwrap().to_der().unwrap();
        assert!(uncompressed_point(&wrapped, 65).is_err());
        // Trailing bytes after the OCTET STRING.
        let mut trailing = OctetString::new(point).unwrap().to_der().unwrap();
        trailing.push(0);
        assert!(uncompressed_point(&trailing, 65).is_err());
    }

    fn honoured() -> Vec<Attribute> {
        vec![
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::AlwaysSensitive(true),
            Attribute::Extractable(false),
            Attribute::NeverExtractable(true),
            Attribute::Sign(true),
            Attribute::Decrypt(false),
            Attribute::Unwrap(false),
            Attribute::Derive(false),
        ]
    }

    #[test]
    fn a_private_key_that_is_extractable_or_not_sensitive_or_silent_is_refused() {
        assert_eq!(policy_violation(&honoured()), None);
        let mut extractable = honoured();
        extractable[4] = Attribute::Extractable(true);
        assert_eq!(
            policy_violation(&extractable),
            Some(("CKA_EXTRACTABLE", false, Some(true)))
        );
        let mut not_sensitive = honoured();
        not_sensitive[2] = Attribute::Sensitive(false);
        assert_eq!(
            policy_violation(&not_sensitive),
            Some(("CKA_SENSITIVE", true, Some(false)))
        );
        // Once exposed, a key stays suspect even if it is sensitive now.
        let mut was_exposed = honoured();
        was_exposed[5] = Attribute::NeverExtractable(false);
        assert_eq!(
            policy_violation(&was_exposed),
            Some(("CKA_NEVER_EXTRACTABLE", true, Some(false)))
        );
        // A token that does not report CKA_EXTRACTABLE has not honoured it.
        let mut silent = honoured();
        silent.remove(4);
        assert_eq!(
            policy_violation(&silent),
            Some(("CKA_EXTRACTABLE", false, None))
        );
    }

    #[test]
    fn bit_length_of_a_modulus() {
        assert_eq!(bit_length(&[0x80, 0, 0]), Some(24));
        assert_eq!(bit_length(&[0x01, 0]), Some(9));
        assert_eq!(bit_length(&[]), None);
    }

    #[test]
    fn curve_parameters_are_the_der_oid() {
        assert_eq!(
            curve_parameters(oid::SECP256R1).unwrap(),
            [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]
        );
        assert_eq!(
            curve_parameters(oid::SECP384R1).unwrap(),
            [0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22]
        );
    }
}
