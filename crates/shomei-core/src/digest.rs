//! Digest values and a streaming hasher.

use crate::alg::DigestAlgorithm;
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

/// A computed hash together with the algorithm that produced it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Digest {
    algorithm: DigestAlgorithm,
    #[serde(with = "hex_bytes")]
    value: Vec<u8>,
}

impl Digest {
    /// Wraps a precomputed value; `None` when its length does not fit the algorithm.
    pub fn new(algorithm: DigestAlgorithm, value: Vec<u8>) -> Option<Self> {
        (value.len() == algorithm.output_len()).then_some(Self { algorithm, value })
    }

    /// Hashes `data` in one call.
    pub fn compute(algorithm: DigestAlgorithm, data: &[u8]) -> Self {
        let mut h = Hasher::new(algorithm);
        h.update(data);
        h.finish()
    }

    /// The algorithm.
    pub fn algorithm(&self) -> DigestAlgorithm {
        self.algorithm
    }

    /// The hash bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.value
    }

    /// Lower-case hexadecimal form.
    pub fn to_hex(&self) -> String {
        hex_bytes::encode(&self.value)
    }
}

/// Incremental hashing over any supported algorithm.
#[derive(Clone)]
pub struct Hasher {
    algorithm: DigestAlgorithm,
    state: State,
}

#[derive(Clone)]
enum State {
    Sha256(sha2::Sha256),
    Sha384(sha2::Sha384),
    Sha512(sha2::Sha512),
}

impl Hasher {
    /// Starts a new hash.
    pub fn new(algorithm: DigestAlgorithm) -> Self {
        let state = match algorithm {
            DigestAlgorithm::Sha256 => State::Sha256(sha2::Sha256::new()),
            DigestAlgorithm::Sha384 => State::Sha384(sha2::Sha384::new()),
            DigestAlgorithm::Sha512 => State::Sha512(sha2::Sha512::new()),
        };
        Self { algorithm, state }
    }

    /// Feeds bytes.
    pub fn update(&mut self, data: &[u8]) {
        match &mut self.state {
            State::Sha256(h) => h.update(data),
            State::Sha384(h) => h.update(data),
            State::Sha512(h) => h.update(data),
        }
    }

    /// Completes the hash.
    pub fn finish(self) -> Digest {
        let value = match self.state {
            State::Sha256(h) => h.finalize().to_vec(),
            State::Sha384(h) => h.finalize().to_vec(),
            State::Sha512(h) => h.finalize().to_vec(),
        };
        Digest {
            algorithm: self.algorithm,
            value,
        }
    }
}

impl std::io::Write for Hasher {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Serde helper: bytes as a hex string.
pub mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Lower-case hex.
    pub fn encode(bytes: &[u8]) -> String {
        let mut s = String::with_capacity(bytes.len().saturating_mul(2));
        for b in bytes {
            for nibble in [b >> 4, b & 0x0f] {
                s.push(char::from_digit(u32::from(nibble), 16).unwrap_or('0'));
            }
        }
        s
    }

    /// Parses hex (either case); `None` on odd length or a non-hex digit.
    pub fn decode(s: &str) -> Option<Vec<u8>> {
        let bytes = s.as_bytes();
        if !bytes.len().is_multiple_of(2) {
            return None;
        }
        bytes
            .chunks_exact(2)
            .map(|pair| {
                let hi = char::from(*pair.first()?).to_digit(16)?;
                let lo = char::from(*pair.get(1)?).to_digit(16)?;
                u8::try_from(hi * 16 + lo).ok()
            })
            .collect()
    }

    /// Serde serialize.
    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&encode(bytes))
    }

    /// Serde deserialize.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        decode(&s).ok_or_else(|| serde::de::Error::custom("invalid hex string"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_abc() {
        let d = Digest::compute(DigestAlgorithm::Sha256, b"abc");
        assert_eq!(
            d.to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn wrong_length_is_refused() {
        assert!(Digest::new(DigestAlgorithm::Sha384, vec![0; 32]).is_none());
    }

    #[test]
    fn hex_round_trip() {
        assert_eq!(hex_bytes::decode("00fFa1"), Some(vec![0, 255, 0xa1]));
        assert_eq!(hex_bytes::decode("0"), None);
        assert_eq!(hex_bytes::decode("zz"), None);
    }
}
