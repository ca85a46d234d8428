//! A throw-away SoftHSM2 token store in a temporary directory, for PKCS#11 tests.
//! Everything runs through SoftHSM's own `softhsm2-util` and OpenSC's `pkcs11-tool`;
//! a missing tool is a failure, never a skip.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The SoftHSM2 module: `SHOMEI_PKCS11_MODULE`, else Debian's paths. Panics when
/// missing (apt-get install softhsm2).
pub fn module() -> PathBuf {
    if let Some(p) = std::env::var_os("SHOMEI_PKCS11_MODULE") {
        return PathBuf::from(p);
    }
    [
        "/usr/lib/softhsm/libsofthsm2.so",
        "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
        "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    ]
    .into_iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
    .unwrap_or_else(|| panic!("SoftHSM2 is required for this test (apt-get install softhsm2)"))
}

/// A SoftHSM2 configuration whose tokens live in a temporary directory (removed on drop).
#[derive(Debug)]
pub struct SoftHsm {
    dir: tempfile::TempDir,
    conf: PathBuf,
}

fn run(cmd: &mut Command, what: &str) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what} is required for this test: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl SoftHsm {
    /// An empty token store.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let tokens = dir.path().join("tokens");
        std::fs::create_dir(&tokens).unwrap_or_else(|e| panic!("mkdir: {e}"));
        let conf = dir.path().join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        )
        .unwrap_or_else(|e| panic!("write conf: {e}"));
        Self { dir, conf }
    }

    /// The file to put in `SOFTHSM2_CONF` for any process that loads the module.
    pub fn conf(&self) -> &Path {
        &self.conf
    }

    /// The temporary directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Creates a token.
    pub fn init_token(&self, label: &str, pin: &str, so_pin: &str) {
        run(
            Command::new("softhsm2-util")
                .env("SOFTHSM2_CONF", &self.conf)
                .args(["--init-token", "--free", "--label", label])
                .args(["--pin", pin, "--so-pin", so_pin]),
            "softhsm2-util",
        );
    }

    /// Imports a PKCS#8 PEM private key and its certificate (PEM or DER) under one label
    /// and id (hex).
    pub fn import(
        &self,
        token: &str,
        pin: &str,
        key_pem: &Path,
        cert: &Path,
        label: &str,
        id_hex: &str,
    ) {
        run(
            Command::new("softhsm2-util")
                .env("SOFTHSM2_CONF", &self.conf)
                .arg("--import")
                .arg(key_pem)
                .args([
                    "--token", token, "--label", label, "--id", id_hex, "--pin", pin,
                ]),
            "softhsm2-util",
        );
        let bytes = std::fs::read(cert).unwrap_or_else(|e| panic!("{}: {e}", cert.display()));
        let certs = shomei_core::chain::parse_certificates(&bytes)
            .unwrap_or_else(|e| panic!("{}: {e}", cert.display()));
        let der = self.dir.path().join(format!("{label}.cert.der"));
        let first = certs
            .first()
            .unwrap_or_else(|| panic!("no certificate in {}", cert.display()));
        std::fs::write(&der, first.der()).unwrap_or_else(|e| panic!("write: {e}"));
        run(
            Command::new("pkcs11-tool")
                .env("SOFTHSM2_CONF", &self.conf)
                .arg("--module")
                .arg(module())
                .args(["--token-label", token, "--login", "--pin", pin])
                .arg("--write-object")
                .arg(&der)
                .args(["--type", "cert", "--id", id_hex, "--label", label]),
            "pkcs11-tool (apt-get install opensc)",
        );
    }
}

impl Default for SoftHsm {
    fn default() -> Self {
        Self::new()
    }
}
