//! A stamp rendered with an installed Japanese font and written into a signature update,
//! read back with lopdf (an independent reader). Needs Debian's fonts-ipaexfont-gothic or
//! fonts-noto-cjk (installed by `.ci/run`); a missing font fails the test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

use std::io::Cursor;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use shomei_pdf::{prepare_signature, PdfReader, SignatureDictionary, SignatureRequest};
use shomei_stamp::{Stamp, StampError, StampFont};

fn font() -> Arc<StampFont> {
    Arc::new(StampFont::system_default().expect("a Japanese font (see .ci/run)"))
}

fn signed_with(stamp: &Stamp, pdf: &[u8]) -> Result<Vec<u8>, StampError> {
    let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let appearance = stamp.render("山田 太郎", time)?;
    let mut reader = PdfReader::open(Cursor::new(pdf.to_vec()))?;
    let mut req = SignatureRequest::new(SignatureDictionary::cades(), 64);
    req.appearance = Some(appearance);
    let prepared = prepare_signature(&mut reader, &req)?;
    let mut out = pdf.to_vec();
    out.extend_from_slice(prepared.update_bytes());
    Ok(out)
}

#[test]
fn the_widget_carries_the_appearance_and_the_font_maps_back_to_text() {
    let pdf = shomei_test_support::sample_pdf::one_page("stamp test");
    let mut stamp = Stamp::new(0, [300.0, 600.0, 560.0, 690.0], font());
    stamp.text = Some("承認済み\nApproved".into());
    stamp.utc_offset_minutes = 540;
    let out = signed_with(&stamp, &pdf).unwrap();

    let doc = lopdf::Document::load_mem(&out).unwrap();
    let page_id = *doc.get_pages().get(&1).unwrap();
    let page = doc.get_dictionary(page_id).unwrap();
    let annots = page.get(b"Annots").unwrap().as_array().unwrap();
    let widget = doc
        .get_dictionary(annots[0].as_reference().unwrap())
        .unwrap();
    let rect: Vec<f32> = widget
        .get(b"Rect")
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_float().unwrap())
        .collect();
    assert_eq!(rect, vec![300.0, 600.0, 560.0, 690.0]);
    let ap = widget.get(b"AP").unwrap().as_dict().unwrap();
    let form = doc
        .get_object(ap.get(b"N").unwrap().as_reference().unwrap())
        .unwrap()
        .as_stream()
        .unwrap();
    let bbox: Vec<f32> = form
        .dict
        .get(b"BBox")
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_float().unwrap())
        .collect();
    assert_eq!(bbox, vec![0.0, 0.0, 260.0, 90.0]);
    let content = String::from_utf8(form.decompressed_content().unwrap()).unwrap();
    assert_eq!(content.matches(" Tj").count(), 4, "{content}");

    // The font's ToUnicode map gives back every character drawn.
    let res = form.dict.get(b"Resources").unwrap().as_dict().unwrap();
    let fonts = res.get(b"Font").unwrap().as_dict().unwrap();
    let type0 = doc
        .get_dictionary(fonts.get(b"F1").unwrap().as_reference().unwrap())
        .unwrap();
    assert_eq!(
        type0.get(b"Encoding").unwrap().as_name().unwrap(),
        b"Identity-H"
    );
    let tu = doc
        .get_object(type0.get(b"ToUnicode").unwrap().as_reference().unwrap())
        .unwrap()
        .as_stream()
        .unwrap();
    let cmap = String::from_utf8(tu.decompressed_content().unwrap()).unwrap();
    for ch in "署名山田太郎承認済みApproved+09:00".chars() {
        let mut units = [0u16; 2];
        let hex: String = ch
            .encode_utf16(&mut units)
            .iter()
            .map(|u| format!("{u:04X}"))
            .collect();
        assert!(
            cmap.contains(&format!("> <{hex}>")),
            "{ch} missing from {cmap}"
        );
    }
    // Every glyph code in the content has a width and a ToUnicode entry.
    let cid = doc
        .get_dictionary(
            type0.get(b"DescendantFonts").unwrap().as_array().unwrap()[0]
                .as_reference()
                .unwrap(),
        )
        .unwrap();
    let widths = cid.get(b"W").unwrap().as_array().unwrap()[1]
        .as_array()
        .unwrap()
        .len();
    for hex in content
        .split('<')
        .skip(1)
        .filter_map(|s| s.split('>').next())
    {
        for code in hex.as_bytes().chunks(4) {
            let code = std::str::from_utf8(code).unwrap();
            let n = usize::from_str_radix(code, 16).unwrap();
            assert!(n > 0 && n < widths, "code {code} outside /W ({widths})");
            assert!(
                cmap.contains(&format!("<{code}> <")),
                "code {code} not in ToUnicode"
            );
        }
    }
}

#[test]
fn refusals_name_their_cause() {
    let pdf = shomei_test_support::sample_pdf::one_page("stamp test");
    let font = font();
    let mut stamp = Stamp::new(0, [10.0, 10.0, 300.0, 80.0], font.clone());
    stamp.text = Some("\u{E000}".into()); // a private-use character no font here maps
    let e = signed_with(&stamp, &pdf).unwrap_err();
    assert!(
        matches!(e, StampError::MissingGlyph { ch: '\u{E000}', .. }),
        "{e}"
    );

    let stamp = Stamp::new(1, [10.0, 10.0, 300.0, 80.0], font.clone());
    let e = signed_with(&stamp, &pdf).unwrap_err();
    assert!(e.to_string().contains("there is no page 2"), "{e}");

    let stamp = Stamp::new(0, [400.0, 10.0, 700.0, 80.0], font.clone());
    let e = signed_with(&stamp, &pdf).unwrap_err();
    assert!(e.to_string().contains("does not lie inside page 1"), "{e}");

    let stamp = Stamp::new(0, [10.0, 10.0, 40.0, 22.0], font);
    let e = signed_with(&stamp, &pdf).unwrap_err();
    assert!(e.to_string().contains("too small"), "{e}");
}

#[test]
fn the_same_stamp_renders_the_same_bytes() {
    let font = font();
    let mut stamp = Stamp::new(0, [0.0, 0.0, 200.0, 60.0], font);
    stamp.text = Some("再現性".into());
    let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    assert_eq!(stamp.render("A", t).unwrap(), stamp.render("A", t).unwrap());
}
