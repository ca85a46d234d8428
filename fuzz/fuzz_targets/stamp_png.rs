//! The seal image of a visible stamp: any bytes given as a PNG decode or fail cleanly,
//! within the size limits.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(img) = shomei_stamp::SealImage::from_png(data) {
        let (w, h) = img.size();
        assert!(w >= 1 && h >= 1);
        assert!(w <= shomei_stamp::MAX_SEAL_SIDE && h <= shomei_stamp::MAX_SEAL_SIDE);
    }
});
