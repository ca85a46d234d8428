//! Arbitrary XML through the extension of existing XAdES signatures to B-T, B-LT and
//! B-LTA (`shomei_xades::ltv::extend`): the check of each signature before extension,
//! the signature time-stamp, the gathering of certificate and revocation values, the
//! archive time-stamp input, and the splicing of new properties. The time-stamping
//! authority and the revocation source are the in-process ones of the test support (no
//! network). The last input byte picks the level and the options. Every document
//! extended must parse again. No panic, no hang.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use shomei_core::Level;
use shomei_levels::{ExtendOptions, LtvServices, MissingData};
use shomei_test_support::ocsp_responder::InProcessRevocation;
use shomei_test_support::tsa::InProcessTsa;
use shomei_xades::ltv::{extend, NoDetachedData};

struct Services {
    runtime: tokio::runtime::Runtime,
    tsa: InProcessTsa,
    revocation: InProcessRevocation,
}

fn services() -> &'static Services {
    static SERVICES: OnceLock<Services> = OnceLock::new();
    SERVICES.get_or_init(|| Services {
        runtime: tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime"),
        tsa: InProcessTsa::new(),
        revocation: InProcessRevocation::new(),
    })
}

fuzz_target!(|data: &[u8]| {
    let Some(&control) = data.last() else {
        return;
    };
    let s = services();
    let mut options =
        ExtendOptions::new([Level::BT, Level::BLT, Level::BLTA][usize::from(control % 3)]);
    // Mostly forced and with gaps allowed, so broken and foreign signatures go all the
    // way through; the refusals are exercised too.
    options.force = control & 0x10 == 0;
    options.missing = if control & 0x20 == 0 {
        MissingData::Allow
    } else {
        MissingData::Refuse
    };
    let clock = s.revocation.clock();
    let ltv = LtvServices::new(&s.tsa, &s.revocation, clock.as_ref());
    let result = s
        .runtime
        .block_on(extend(data, ltv, &NoDetachedData, &options));
    if let Ok(extension) = result {
        shomei_xml::Document::parse(&extension.bytes).expect("an extended document parses");
    }
});
