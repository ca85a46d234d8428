//! Building the signer from command-line options.

use super::{Failure, SignerArgs};
use shomei_core::chain::parse_certificates;
use shomei_core::{CertificateChain, RemoteSigner};
use shomei_keys::SoftwareSigner;
use std::path::Path;
use std::sync::Arc;

/// The bundled demo identity: a test key and certificate that nobody trusts, so a new
/// user can sign without any setup. Regenerated with `fixtures/pki/generate`.
const DEMO_KEY: &[u8] = include_bytes!("../../fixtures/pki/demo.key.pem");
const DEMO_CERT: &[u8] = include_bytes!("../../fixtures/pki/demo.cert.pem");

fn read(path: &Path, what: &str) -> Result<Vec<u8>, Failure> {
    std::fs::read(path)
        .map_err(|e| Failure::Input(format!("{}: cannot read {what}: {e}", path.display())))
}

/// True when `bytes` look like a PKCS#12 PFX: `SEQUENCE { INTEGER 3, ... }`
/// (a PKCS#8 key starts with version 0 or 1).
fn looks_like_pkcs12(bytes: &[u8]) -> bool {
    use der::{Decode, Reader};
    let Ok(mut reader) = der::SliceReader::new(bytes) else {
        return false;
    };
    let Ok(header) = der::Header::decode(&mut reader) else {
        return false;
    };
    if header.tag() != der::Tag::Sequence {
        return false;
    }
    matches!(u8::decode(&mut reader), Ok(3)) && reader.position() > der::Length::ZERO
}

/// Builds the software signer described by the options.
pub(crate) fn build(args: &SignerArgs) -> Result<Arc<dyn RemoteSigner>, Failure> {
    if args.demo {
        let chain = CertificateChain::from_pem_or_der(DEMO_CERT)
            .map_err(|e| Failure::Signing(format!("bundled demo certificate: {e}")))?;
        let signer = SoftwareSigner::from_key_and_chain(DEMO_KEY, chain)
            .map_err(|e| Failure::Signing(format!("bundled demo key: {e}")))?;
        return Ok(Arc::new(signer));
    }
    let key_path = args
        .key
        .as_deref()
        .ok_or_else(|| Failure::Input("--key is required (or use --demo)".into()))?;
    let key_bytes = zeroize::Zeroizing::new(read(key_path, "the key")?);
    let extra = match &args.chain {
        Some(p) => parse_certificates(&read(p, "the chain")?)
            .map_err(|e| Failure::Input(format!("{}: {e}", p.display())))?,
        None => Vec::new(),
    };
    let mut signer = if looks_like_pkcs12(&key_bytes) {
        let var = args.key_password_env.as_deref().ok_or_else(|| {
            Failure::Input(format!(
                "{}: PKCS#12 file needs --key-password-env VAR naming the variable that holds its password",
                key_path.display()
            ))
        })?;
        let password = zeroize::Zeroizing::new(std::env::var(var).map_err(|_| {
            Failure::Input(format!(
                "environment variable {var} (PKCS#12 password) is not set"
            ))
        })?);
        let signer = SoftwareSigner::from_pkcs12(&key_bytes, &password)
            .map_err(|e| Failure::Input(format!("{}: {e}", key_path.display())))?;
        if let Some(cert_path) = &args.cert {
            // An explicit certificate must match the key in the file.
            let chain = CertificateChain::from_pem_or_der(&read(cert_path, "the certificate")?)
                .map_err(|e| Failure::Input(format!("{}: {e}", cert_path.display())))?;
            let signing = chain.signing_cert();
            let theirs = signer_chain_first(&signer);
            if theirs.as_deref() != Some(signing.der()) {
                return Err(Failure::Input(format!(
                    "{}: the certificate does not belong to the key in {}",
                    cert_path.display(),
                    key_path.display()
                )));
            }
        }
        signer
    } else {
        let cert_path = args.cert.as_deref().ok_or_else(|| {
            Failure::Input(
                "--cert is required with a PKCS#8/PEM key (or use a PKCS#12 file)".into(),
            )
        })?;
        let chain = CertificateChain::from_pem_or_der(&read(cert_path, "the certificate")?)
            .map_err(|e| Failure::Input(format!("{}: {e}", cert_path.display())))?;
        SoftwareSigner::from_key_and_chain(&key_bytes, chain)
            .map_err(|e| Failure::Input(format!("{}: {e}", key_path.display())))?
    };
    signer.add_chain_certs(extra);
    Ok(Arc::new(signer))
}

fn signer_chain_first(signer: &SoftwareSigner) -> Option<Vec<u8>> {
    signer.chain().certs().first().map(|c| c.der().to_vec())
}
