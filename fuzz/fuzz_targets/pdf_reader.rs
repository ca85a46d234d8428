//! Arbitrary bytes through the lazy reader and the signature preparation.
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use shomei_pdf::{prepare_signature, PdfReader, SignatureRequest};

fuzz_target!(|data: &[u8]| {
    if let Ok(mut reader) = PdfReader::open(Cursor::new(data)) {
        let _ = reader.signature_count();
        if let Ok(mut prepared) = prepare_signature(&mut reader, &SignatureRequest::default()) {
            let _ = prepared.embed(&[0x30, 0x03, 0x02, 0x01, 0x05]);
        }
    }
});
