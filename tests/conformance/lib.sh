# Shared by the conformance scripts (sourced): which fixtures are refused by design,
# which ones pyHanko cannot open, the eligible input lists, and PASS/FAIL counting.
# Needs FIX (the shared fixtures folder) and KIT (the conformance kit) set.
# Fixtures shomei must refuse (exit 2, no output), with the reason.
declare -A REFUSED=(
  [pyhanko_minimal-aes256.pdf]="encrypted (AES-256): shomei does not sign encrypted PDFs"
  [pyhanko_minimal-rc4.pdf]="encrypted (RC4): shomei does not sign encrypted PDFs"
  [qpdf_V4-aes.pdf]="encrypted (AESV2): shomei does not sign encrypted PDFs"
  [qpdf_20-pages.pdf]="encrypted (RC4): shomei does not sign encrypted PDFs"
  [qpdf_c-r6-in.pdf]="encrypted (AES-256 R6): shomei does not sign encrypted PDFs"
  [dss_open_protected.pdf]="encrypted (AES, user password): shomei does not sign encrypted PDFs"
  [dss_edition_protected_signing_allowed_with_field.pdf]="encrypted (AES, owner password): shomei does not sign encrypted PDFs"
  [dss_encrypted.pdf]="encrypted signed PDF (RC4): shomei does not sign encrypted PDFs"
  [dss_certified-no-change-permitted.pdf]="certified with DocMDP P=1: no new signature is permitted (the refusal DSS's test expects)"
  [pdf20_pdf20-utf8-test.pdf]="damaged cross-reference offsets: an incremental update would chain to a broken xref, so shomei refuses it with the byte position"
  [dss_AD-RB.pdf]="a signature's FieldMDP transform has /P 1 (PDF 2.0 document lock): no new signature is permitted (DSS's PDFSignWithPermissionsTest expects the refusal)"
  [dss_pkcs7-no-message-digest.pdf]="certified with DocMDP P=1: no new signature is permitted"
  [pyhanko_certified-with-indirect-refs-in-dir.pdf]="certified with DocMDP P=1: no new signature is permitted"
  [dss_pades-5-signatures-and-1-document-timestamp.pdf]="newest trailer has /Prev 0, cutting off every earlier revision: the page tree (object 56) does not exist (qpdf reads it as null, pyHanko fails to open the file)"
)

# Fixtures pyHanko (strict mode, as the kit runs it) cannot open even before we sign
# them, so validate-pdf cannot judge our signature there. They are judged instead by
# poppler's pdfsig (digest + whole-document coverage) and OpenSSL (CMS signature and
# chain to the kit root), both independent of shomei.
declare -A PYHANKO_CANNOT_OPEN=(
  [pyhanko_minimal-hybrid-xref.pdf]="hybrid-reference file: pyHanko's strict settings refuse signatures in hybrid files"
  [qpdf_hybrid-xref.pdf]="hybrid-reference file: pyHanko's strict settings refuse signatures in hybrid files"
  [dss_PAdES-LT.pdf]="hybrid-reference file: pyHanko's strict settings refuse signatures in hybrid files"
  [dss_Signature-P-BG_BOR-2.pdf]="hybrid-reference file: pyHanko's strict settings refuse signatures in hybrid files"
  [dss_Signature-P-FR_CS-5.pdf]="hybrid-reference file: pyHanko's strict settings refuse signatures in hybrid files"
  [dss_timestamped_and_signed.pdf]="hybrid-reference file: pyHanko's strict settings refuse signatures in hybrid files"
  [siva_TEST_ESTEID2018_PAdES_LT_enveloped.pdf]="hybrid-reference file: pyHanko's strict settings refuse signatures in hybrid files"
  [dss_pdf-xref-streams.pdf]="pyHanko strict read error in the original: object 19 has an orphaned generation"
  [pdf20_PDF-2.0-with-offset-start.pdf]="junk before %PDF-: pyHanko reports 'Illegal PDF header' for the original"
  [siva_hellopades-pades-lt-sha256-sign.pdf]="pyHanko crashes validating the original (ValueError: math domain error in its path builder)"
)
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
command -v pdfsig >/dev/null || { echo "missing tool: pdfsig" >&2; exit 2; }

# Eligible inputs: every unsigned fixture, and every signed fixture whose expected
# verdict in MANIFEST.tsv is "valid..." (co-signing an invalid file proves nothing).
mapfile -t UNSIGNED < <(cd "$FIX" && ls pdf-unsigned/*.pdf)
mapfile -t SIGNED < <(awk -F'\t' '$2=="pdf-signed" && $1 ~ /\.pdf$/ && $10 ~ /^valid/ {print $1}' "$FIX/MANIFEST.tsv")

