//! Signing a PDF through your own `RemoteSigner`.
//!
//! The "device" here is a thread that owns the key and answers signing requests over
//! a channel — the shape of an HSM or a remote signing service: the document code
//! never sees the key, only digests go out and signature values come back.
//!
//! ```text
//! cargo run --example custom_signer -- examples/sample.pdf signed.pdf
//! ```

use async_trait::async_trait;
use shomei::core::{
    Digest, RemoteSigner, SignatureAlgorithm, SignatureValue, SignerDescription, SignerError,
};
use shomei::keys::SoftwareSigner;
use std::sync::mpsc;
use std::sync::Mutex;

/// One request to the device thread.
struct Request {
    algorithm: SignatureAlgorithm,
    digests: Vec<Digest>,
    reply: mpsc::Sender<Result<Vec<SignatureValue>, SignerError>>,
}

/// A signer whose key lives on another thread.
struct ThreadDevice {
    description: SignerDescription,
    requests: Mutex<mpsc::Sender<Request>>,
}

impl ThreadDevice {
    fn start(key: SoftwareSigner, description: SignerDescription) -> Self {
        let (tx, rx) = mpsc::channel::<Request>();
        std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().build() else {
                return;
            };
            for req in rx {
                println!(
                    "device: signing {} digest(s) with {}",
                    req.digests.len(),
                    req.algorithm
                );
                let result = rt.block_on(key.sign_digests(req.algorithm, &req.digests));
                let _ = req.reply.send(result);
            }
        });
        Self {
            description,
            requests: Mutex::new(tx),
        }
    }
}

#[async_trait]
impl RemoteSigner for ThreadDevice {
    async fn describe(&self) -> Result<SignerDescription, SignerError> {
        Ok(self.description.clone())
    }

    async fn sign_digests(
        &self,
        algorithm: SignatureAlgorithm,
        digests: &[Digest],
    ) -> Result<Vec<SignatureValue>, SignerError> {
        let (reply, answer) = mpsc::channel();
        self.requests
            .lock()
            .map_err(|_| SignerError::Unavailable("device lock poisoned".into()))?
            .send(Request {
                algorithm,
                digests: digests.to_vec(),
                reply,
            })
            .map_err(|_| SignerError::Unavailable("device thread stopped".into()))?;
        answer
            .recv()
            .map_err(|_| SignerError::Unavailable("device thread stopped".into()))?
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let input = args.next().unwrap_or_else(|| "examples/sample.pdf".into());
    let output = args.next().unwrap_or_else(|| "signed.pdf".into());

    // The demo identity of fixtures/pki (a test key nobody trusts).
    let chain = shomei::core::CertificateChain::from_pem_or_der(&std::fs::read(
        "fixtures/pki/demo.cert.pem",
    )?)?;
    let key =
        SoftwareSigner::from_key_and_chain(&std::fs::read("fixtures/pki/demo.key.pem")?, chain)?;
    let rt = tokio::runtime::Builder::new_current_thread().build()?;
    let description = rt.block_on(key.describe())?;
    let device = ThreadDevice::start(key, description);

    let pdf = std::fs::read(&input)?;
    let mut options = shomei::pades::PadesOptions::default();
    options.reason = Some("Signed through a custom RemoteSigner".into());
    let signed = rt.block_on(shomei::pades::sign_document(&device, &pdf, &options))?;
    std::fs::write(&output, &signed)?;
    println!(
        "wrote {output} ({} bytes, original {} bytes kept as prefix)",
        signed.len(),
        pdf.len()
    );
    Ok(())
}
