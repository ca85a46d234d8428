//! Reading the PKCS#12 container (RFC 7292): integrity MAC, encrypted safes, bags.
//!
//! Password privacy mode with password integrity mode only (what every tool
//! writes). Encryption: PBES2 (PBKDF2 with AES-CBC, what OpenSSL 3 writes) and the
//! legacy PKCS#12 PBE schemes `pbeWithSHAAnd3-KeyTripleDES-CBC` and
//! `pbeWithSHAAnd40BitRC2-CBC` (OpenSSL 1.x, older Windows exports).
//! Input must be DER; BER indefinite lengths are refused.

use crate::error::Pkcs12Error;
use aws_lc_rs::{digest, hmac};
use cbc::cipher::{block_padding::Pkcs7, BlockModeDecrypt, KeyIvInit};
use der::asn1::{AnyRef, ObjectIdentifier, OctetStringRef};
use der::{Decode, Encode, Sequence};
use spki::AlgorithmIdentifierRef;
use zeroize::Zeroizing;

/// Upper bound on the iteration count of the MAC and of every key derivation.
/// Writers use 2048 (OpenSSL), 2000 or 10000 (Windows), 10000 (Java, NSS); the
/// bound keeps the work a hostile file can demand to about a second per step
/// (`p12-keystore` uses the same figure).
const MAX_ITERATIONS: u32 = 1_000_000;
/// Upper bound on the encrypted items (safes and shrouded keys) decrypted per
/// file: each costs a key derivation of up to [`MAX_ITERATIONS`]. Real files have
/// two (one certificate safe, one key).
const MAX_DECRYPTIONS: usize = 8;

mod oids {
    use der::asn1::ObjectIdentifier;
    pub(super) const DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
    pub(super) const SIGNED_DATA: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
    pub(super) const ENCRYPTED_DATA: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.6");
    pub(super) const KEY_BAG: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.10.1.1");
    pub(super) const SHROUDED_KEY_BAG: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.10.1.2");
    pub(super) const CERT_BAG: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.10.1.3");
    pub(super) const X509_CERTIFICATE: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.22.1");
    pub(super) const PBES2: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.5.13");
    pub(super) const PBMAC1: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.5.14");
    pub(super) const PBE_SHA1_3DES: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.1.3");
    pub(super) const PBE_SHA1_RC2_40: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.1.6");
    pub(super) const SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
    pub(super) const SHA256: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
    pub(super) const SHA384: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
    pub(super) const SHA512: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
}

/// ```text
/// PFX ::= SEQUENCE {
///   version     INTEGER {v3(3)}(v3,...),
///   authSafe    ContentInfo,
///   macData     MacData OPTIONAL }
/// ```
#[derive(Sequence)]
struct Pfx<'a> {
    version: u8,
    auth_safe: ContentInfo<'a>,
    mac_data: Option<MacData<'a>>,
}

/// ```text
/// ContentInfo ::= SEQUENCE {
///   contentType ContentType,
///   content     [0] EXPLICIT ANY DEFINED BY contentType OPTIONAL }
/// ```
#[derive(Sequence)]
struct ContentInfo<'a> {
    content_type: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    content: Option<AnyRef<'a>>,
}

/// ```text
/// MacData ::= SEQUENCE {
///   mac        DigestInfo,
///   macSalt    OCTET STRING,
///   iterations INTEGER DEFAULT 1 }
/// DigestInfo ::= SEQUENCE { digestAlgorithm AlgorithmIdentifier, digest OCTET STRING }
/// ```
#[derive(Sequence)]
struct MacData<'a> {
    mac: DigestInfo<'a>,
    mac_salt: &'a OctetStringRef,
    #[asn1(default = "one")]
    iterations: u32,
}

fn one() -> u32 {
    1
}

#[derive(Sequence)]
struct DigestInfo<'a> {
    algorithm: AlgorithmIdentifierRef<'a>,
    digest: &'a OctetStringRef,
}

/// ```text
/// EncryptedData ::= SEQUENCE {
///   version              CMSVersion,
///   encryptedContentInfo EncryptedContentInfo }
/// EncryptedContentInfo ::= SEQUENCE {
///   contentType                ContentType,
///   contentEncryptionAlgorithm ContentEncryptionAlgorithmIdentifier,
///   encryptedContent           [0] IMPLICIT OCTET STRING OPTIONAL }
/// ```
#[derive(Sequence)]
struct EncryptedData<'a> {
    version: u8,
    info: EncryptedContentInfo<'a>,
}

#[derive(Sequence)]
struct EncryptedContentInfo<'a> {
    content_type: ObjectIdentifier,
    algorithm: AlgorithmIdentifierRef<'a>,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    encrypted_content: Option<&'a OctetStringRef>,
}

/// ```text
/// SafeBag ::= SEQUENCE {
///   bagId         BAG-TYPE.&id ({PKCS12BagSet}),
///   bagValue      [0] EXPLICIT BAG-TYPE.&Type({PKCS12BagSet}{@bagId}),
///   bagAttributes SET OF PKCS12Attribute OPTIONAL }
/// ```
#[derive(Sequence)]
struct SafeBag<'a> {
    bag_id: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    bag_value: AnyRef<'a>,
    bag_attributes: Option<AnyRef<'a>>,
}

/// ```text
/// CertBag ::= SEQUENCE {
///   certId    BAG-TYPE.&id   ({CertTypes}),
///   certValue [0] EXPLICIT BAG-TYPE.&Type ({CertTypes}{@certId}) }
/// ```
#[derive(Sequence)]
struct CertBag<'a> {
    cert_id: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    cert_value: &'a OctetStringRef,
}

/// ```text
/// EncryptedPrivateKeyInfo ::= SEQUENCE {
///   encryptionAlgorithm EncryptionAlgorithmIdentifier,
///   encryptedData       OCTET STRING }
/// ```
#[derive(Sequence)]
struct EncryptedPrivateKeyInfo<'a> {
    algorithm: AlgorithmIdentifierRef<'a>,
    encrypted_data: &'a OctetStringRef,
}

/// ```text
/// pkcs-12PbeParams ::= SEQUENCE { salt OCTET STRING, iterations INTEGER }
/// ```
#[derive(Sequence)]
struct Pkcs12PbeParams<'a> {
    salt: &'a OctetStringRef,
    iterations: u32,
}

/// What a PKCS#12 file holds: private keys (PKCS#8 DER, wiped on drop) and
/// X.509 certificates (DER), in file order.
pub(crate) struct Contents {
    pub(crate) keys: Vec<Zeroizing<Vec<u8>>>,
    pub(crate) certs: Vec<Vec<u8>>,
}

/// Why one encrypted item could not be opened.
enum DecryptError {
    Unsupported(String),
    Limit(String),
    /// Bad padding: the usual sign of a wrong password when there is no MAC.
    Failed,
}

/// Reads `p12`, checking its MAC and decrypting its contents with `password`.
pub(crate) fn read(p12: &[u8], password: &str) -> Result<Contents, Pkcs12Error> {
    let malformed = |what: &str, e: der::Error| Pkcs12Error::Malformed(format!("{what}: {e}"));
    let pfx = Pfx::from_der(p12).map_err(|e| malformed("PFX", e))?;
    if pfx.version != 3 {
        return Err(Pkcs12Error::Malformed(format!(
            "version {} (expected 3)",
            pfx.version
        )));
    }
    if pfx.auth_safe.content_type == oids::SIGNED_DATA {
        return Err(Pkcs12Error::Unsupported(
            "public-key integrity mode (signed authSafe)".into(),
        ));
    }
    if pfx.auth_safe.content_type != oids::DATA {
        return Err(Pkcs12Error::Malformed(format!(
            "authSafe content type {}",
            pfx.auth_safe.content_type
        )));
    }
    let auth_safe = octets(pfx.auth_safe.content).map_err(|e| malformed("authSafe", e))?;
    let bmp = bmp_password(password);
    let has_mac = pfx.mac_data.is_some();
    if let Some(mac) = &pfx.mac_data {
        verify_mac(mac, &bmp, auth_safe)?;
    }

    // After a MAC that verified, decryption failures mean a damaged file;
    // without a MAC they are how a wrong password shows.
    let undecryptable = |e: DecryptError| match e {
        DecryptError::Unsupported(m) => Pkcs12Error::Unsupported(m),
        DecryptError::Limit(m) => Pkcs12Error::Malformed(m),
        DecryptError::Failed if has_mac => {
            Pkcs12Error::Malformed("an encrypted part does not decrypt".into())
        }
        DecryptError::Failed => Pkcs12Error::WrongPassword,
    };
    let secrets = Secrets {
        password,
        bmp: &bmp,
    };
    let mut budget = MAX_DECRYPTIONS;
    let mut contents = Contents {
        keys: Vec::new(),
        certs: Vec::new(),
    };
    let safes = Vec::<ContentInfo<'_>>::from_der(auth_safe)
        .map_err(|e| malformed("AuthenticatedSafe", e))?;
    for safe in safes {
        if safe.content_type == oids::DATA {
            let bags = octets(safe.content).map_err(|e| malformed("SafeContents", e))?;
            read_bags(bags, &secrets, &mut budget, &mut contents).map_err(&undecryptable)?;
        } else if safe.content_type == oids::ENCRYPTED_DATA {
            let encrypted = safe
                .content
                .ok_or_else(|| Pkcs12Error::Malformed("EncryptedData without content".into()))?
                .decode_as::<EncryptedData<'_>>()
                .map_err(|e| malformed("EncryptedData", e))?;
            if encrypted.info.content_type != oids::DATA {
                return Err(Pkcs12Error::Malformed(format!(
                    "EncryptedData (version {}) of content type {}",
                    encrypted.version, encrypted.info.content_type
                )));
            }
            let ciphertext = encrypted
                .info
                .encrypted_content
                .map(|o| o.as_bytes())
                .unwrap_or_default();
            take_budget(&mut budget).map_err(&undecryptable)?;
            let plain =
                decrypt(&encrypted.info.algorithm, ciphertext, &secrets).map_err(&undecryptable)?;
            read_bags(&plain, &secrets, &mut budget, &mut contents).map_err(&undecryptable)?;
        } else {
            return Err(Pkcs12Error::Unsupported(format!(
                "safe of content type {}",
                safe.content_type
            )));
        }
    }
    Ok(contents)
}

/// The password in both encodings the schemes need.
struct Secrets<'a> {
    /// UTF-8 bytes, for PBES2 (what OpenSSL and Windows feed PBKDF2).
    password: &'a str,
    /// BMPString with a terminating NUL, for the PKCS#12 KDF (RFC 7292 B.1).
    bmp: &'a [u8],
}

fn bmp_password(password: &str) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(
        password.len().saturating_mul(4).saturating_add(2),
    ));
    for unit in password.encode_utf16() {
        out.extend_from_slice(&unit.to_be_bytes());
    }
    out.extend_from_slice(&[0, 0]);
    out
}

/// The bytes of an `[0] EXPLICIT OCTET STRING` content.
fn octets(content: Option<AnyRef<'_>>) -> Result<&[u8], der::Error> {
    match content {
        Some(any) => any.decode_as::<&OctetStringRef>().map(|o| o.as_bytes()),
        None => Ok(&[]),
    }
}

fn take_budget(budget: &mut usize) -> Result<(), DecryptError> {
    *budget = budget.checked_sub(1).ok_or_else(|| {
        DecryptError::Limit(format!(
            "more than {MAX_DECRYPTIONS} encrypted parts (a real file has two)"
        ))
    })?;
    Ok(())
}

fn read_bags(
    der_bags: &[u8],
    secrets: &Secrets<'_>,
    budget: &mut usize,
    contents: &mut Contents,
) -> Result<(), DecryptError> {
    // Undecodable plaintext after decryption is a wrong key as often as a damaged
    // file; the caller decides which to report.
    let bags = Vec::<SafeBag<'_>>::from_der(der_bags).map_err(|_| DecryptError::Failed)?;
    for bag in bags {
        // Attributes (friendlyName, localKeyId) are not used: keys are matched to
        // certificates by public key.
        let _attributes = bag.bag_attributes;
        if bag.bag_id == oids::KEY_BAG {
            let der = bag.bag_value.to_der().map_err(|_| DecryptError::Failed)?;
            contents.keys.push(Zeroizing::new(der));
        } else if bag.bag_id == oids::SHROUDED_KEY_BAG {
            let info = bag
                .bag_value
                .decode_as::<EncryptedPrivateKeyInfo<'_>>()
                .map_err(|_| DecryptError::Failed)?;
            take_budget(budget)?;
            let key = decrypt(&info.algorithm, info.encrypted_data.as_bytes(), secrets)?;
            contents.keys.push(key);
        } else if bag.bag_id == oids::CERT_BAG {
            let cert = bag
                .bag_value
                .decode_as::<CertBag<'_>>()
                .map_err(|_| DecryptError::Failed)?;
            if cert.cert_id == oids::X509_CERTIFICATE {
                contents.certs.push(cert.cert_value.as_bytes().to_vec());
            }
        }
        // CRL, secret and nested safe-contents bags are not needed for signing.
    }
    Ok(())
}

fn verify_mac(mac: &MacData<'_>, bmp: &[u8], data: &[u8]) -> Result<(), Pkcs12Error> {
    let alg_oid = mac.mac.algorithm.oid;
    let (hash, hmac_alg) = if alg_oid == oids::SHA1 {
        (
            &digest::SHA1_FOR_LEGACY_USE_ONLY,
            hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        )
    } else if alg_oid == oids::SHA256 {
        (&digest::SHA256, hmac::HMAC_SHA256)
    } else if alg_oid == oids::SHA384 {
        (&digest::SHA384, hmac::HMAC_SHA384)
    } else if alg_oid == oids::SHA512 {
        (&digest::SHA512, hmac::HMAC_SHA512)
    } else if alg_oid == oids::PBMAC1 {
        return Err(Pkcs12Error::Unsupported(
            "PBMAC1 integrity (RFC 9579); export with a SHA-2 HMAC instead".into(),
        ));
    } else {
        return Err(Pkcs12Error::Unsupported(format!("MAC digest {alg_oid}")));
    };
    check_iterations(mac.iterations).map_err(Pkcs12Error::Malformed)?;
    let key = pkcs12_kdf(
        hash,
        bmp,
        mac.mac_salt.as_bytes(),
        KdfPurpose::Mac,
        mac.iterations,
        hash.output_len(),
    );
    hmac::verify(
        &hmac::Key::new(hmac_alg, &key),
        data,
        mac.mac.digest.as_bytes(),
    )
    .map_err(|_| Pkcs12Error::WrongPassword)
}

fn check_iterations(n: u32) -> Result<(), String> {
    if n > MAX_ITERATIONS {
        Err(format!(
            "iteration count {n} exceeds the limit of {MAX_ITERATIONS}"
        ))
    } else {
        Ok(())
    }
}

/// Decrypts one item, returning the plaintext in a buffer wiped on drop.
fn decrypt(
    alg: &AlgorithmIdentifierRef<'_>,
    ciphertext: &[u8],
    secrets: &Secrets<'_>,
) -> Result<Zeroizing<Vec<u8>>, DecryptError> {
    if alg.oid == oids::PBES2 {
        let scheme = pkcs5::EncryptionScheme::try_from(*alg)
            .map_err(|e| DecryptError::Unsupported(format!("PBES2 parameters: {e}")))?;
        let Some(params) = scheme.pbes2() else {
            return Err(DecryptError::Unsupported("PBES2 parameters".into()));
        };
        match &params.kdf {
            pkcs5::pbes2::Kdf::Pbkdf2(p) => {
                check_iterations(p.iteration_count).map_err(DecryptError::Limit)?;
            }
            _ => {
                return Err(DecryptError::Unsupported(
                    "PBES2 with a key derivation other than PBKDF2".into(),
                ))
            }
        }
        // `decrypt` decrypts in place in the Vec it returns, so wrapping it
        // covers the only copy of the plaintext.
        return scheme
            .decrypt(secrets.password.as_bytes(), ciphertext)
            .map(Zeroizing::new)
            .map_err(|e| match e {
                pkcs5::Error::DecryptFailed => DecryptError::Failed,
                other => DecryptError::Unsupported(format!("PBES2: {other}")),
            });
    }
    let (key_len, triple_des) = if alg.oid == oids::PBE_SHA1_3DES {
        (24, true)
    } else if alg.oid == oids::PBE_SHA1_RC2_40 {
        (5, false)
    } else {
        return Err(DecryptError::Unsupported(format!(
            "encryption algorithm {}",
            alg.oid
        )));
    };
    let params = alg
        .parameters
        .ok_or(DecryptError::Failed)?
        .decode_as::<Pkcs12PbeParams<'_>>()
        .map_err(|_| DecryptError::Failed)?;
    check_iterations(params.iterations).map_err(DecryptError::Limit)?;
    let sha1 = &digest::SHA1_FOR_LEGACY_USE_ONLY;
    let salt = params.salt.as_bytes();
    let key = pkcs12_kdf(
        sha1,
        secrets.bmp,
        salt,
        KdfPurpose::Key,
        params.iterations,
        key_len,
    );
    let iv = pkcs12_kdf(
        sha1,
        secrets.bmp,
        salt,
        KdfPurpose::Iv,
        params.iterations,
        8,
    );
    let plain = if triple_des {
        cbc::Decryptor::<des::TdesEde3>::new_from_slices(&key, &iv)
            .map_err(|_| DecryptError::Failed)?
            .decrypt_padded_vec::<Pkcs7>(ciphertext)
    } else {
        cbc::Decryptor::<rc2::Rc2>::new_from_slices(&key, &iv)
            .map_err(|_| DecryptError::Failed)?
            .decrypt_padded_vec::<Pkcs7>(ciphertext)
    };
    plain.map(Zeroizing::new).map_err(|_| DecryptError::Failed)
}

/// The diversifier `ID` of the PKCS#12 KDF (RFC 7292 B.3).
#[derive(Clone, Copy)]
enum KdfPurpose {
    Key,
    Iv,
    Mac,
}

impl KdfPurpose {
    fn id(self) -> u8 {
        match self {
            Self::Key => 1,
            Self::Iv => 2,
            Self::Mac => 3,
        }
    }
}

/// The PKCS#12 key derivation function (RFC 7292 Appendix B.2), used for the
/// MAC key and by the legacy PBE schemes.
fn pkcs12_kdf(
    hash: &'static digest::Algorithm,
    bmp_password: &[u8],
    salt: &[u8],
    purpose: KdfPurpose,
    iterations: u32,
    out_len: usize,
) -> Zeroizing<Vec<u8>> {
    let u = hash.output_len();
    let v = hash.block_len();
    // Concatenates copies of `src` to a multiple of v bytes (empty stays empty).
    let fill = |src: &[u8], out: &mut Vec<u8>| {
        if !src.is_empty() {
            let len = v.saturating_mul(src.len().div_ceil(v));
            out.extend(src.iter().cycle().take(len));
        }
    };
    let capacity = v
        .saturating_mul(salt.len().div_ceil(v) + bmp_password.len().div_ceil(v))
        .saturating_add(v);
    // I = S || P; sized up front so no reallocation leaves a copy behind.
    let mut i_buf = Zeroizing::new(Vec::with_capacity(capacity));
    fill(salt, &mut i_buf);
    fill(bmp_password, &mut i_buf);
    let d = vec![purpose.id(); v];
    let mut out = Zeroizing::new(Vec::with_capacity(out_len.saturating_add(u)));
    loop {
        let mut ctx = digest::Context::new(hash);
        ctx.update(&d);
        ctx.update(&i_buf);
        let mut a = ctx.finish();
        for _ in 1..iterations {
            a = digest::digest(hash, a.as_ref());
        }
        out.extend_from_slice(a.as_ref());
        if out.len() >= out_len {
            break;
        }
        // I_j = (I_j + B + 1) mod 2^(8v), with B = A repeated to v bytes.
        let b: Zeroizing<Vec<u8>> =
            Zeroizing::new(a.as_ref().iter().cycle().take(v).copied().collect());
        for block in i_buf.chunks_mut(v) {
            let mut carry = 1u16;
            for (x, y) in block.iter_mut().rev().zip(b.iter().rev()) {
                let [high, low] = (u16::from(*x) + u16::from(*y) + carry).to_be_bytes();
                *x = low;
                carry = u16::from(high);
            }
        }
    }
    out.truncate(out_len);
    out
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// RFC 7292 has no test vectors; these come from the PKCS#12 KDF vectors
    /// used by Bouncy Castle and OpenSSL's test suite (password "smeg",
    /// salt 0x0A58CF64530D823F, SHA-1).
    #[test]
    fn kdf_matches_known_vectors() {
        let bmp = bmp_password("smeg");
        let salt = [0x0a, 0x58, 0xcf, 0x64, 0x53, 0x0d, 0x82, 0x3f];
        let sha1 = &digest::SHA1_FOR_LEGACY_USE_ONLY;
        let key = pkcs12_kdf(sha1, &bmp, &salt, KdfPurpose::Key, 1, 24);
        assert_eq!(
            hex(&key),
            "8aaae6297b6cb04642ab5b077851284eb7128f1a2a7fbca3"
        );
        let iv = pkcs12_kdf(sha1, &bmp, &salt, KdfPurpose::Iv, 1, 8);
        assert_eq!(hex(&iv), "79993dfe048d3b76");
    }

    #[test]
    fn bmp_password_is_utf16be_with_nul() {
        assert_eq!(&*bmp_password("ab"), &[0, b'a', 0, b'b', 0, 0]);
        assert_eq!(&*bmp_password(""), &[0, 0]);
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        for input in [&b""[..], b"\x30", b"\x30\x03\x02\x01\x03", b"not a p12"] {
            assert!(matches!(read(input, "x"), Err(Pkcs12Error::Malformed(_))));
        }
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }
}
