"""pyHanko's in-process validation rate of one signed PDF, for the ratio in
benches/README.md g): B-B with revocation checking soft-failing offline, or B-LTA by
pyHanko's AdES long-term validation with revocation required and taken from the file
only (as the conformance kit's validate-pdf does).

    $VENV/bin/python benches/pyhanko_validate.py FILE.pdf ROOT.pem bb|lta [SECONDS] [warm]

With `warm`, one ValidationContext serves every B-B validation (pyHanko's own caches of
certificates and validated paths stay filled), as shomei's "warm" rate keeps its
certificate-signature verdicts.
"""
import asyncio, sys, time
from io import BytesIO

from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.ades import ades_lta_validation
from pyhanko.sign.validation.policy_decl import (
    CertificateFetchingRule, PdfSignatureValidationSpec, RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec, SignatureValidationSpec)
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.ltv.types import ValidationTimingInfo
from pyhanko_certvalidator.policy_decl import (
    REQUIRE_REVINFO, CertRevTrustPolicy, FreshnessReqType)
from pyhanko_certvalidator.registry import SimpleTrustManager

path, root_path, mode = sys.argv[1:4]
seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 5.0
warm = len(sys.argv) > 5 and sys.argv[5] == "warm"
data = open(path, "rb").read()
root = load_cert_from_pemder(root_path)
spec = PdfSignatureValidationSpec(SignatureValidationSpec(
    CertValidationPolicySpec(
        trust_manager=SimpleTrustManager.build(trust_roots=[root]),
        revinfo_policy=CertRevTrustPolicy(
            REQUIRE_REVINFO, freshness_req_type=FreshnessReqType.MAX_DIFF_REVOCATION_VALIDATION)),
    revinfo_gathering_policy=RevocationInfoGatheringSpec(
        online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY,
        certificate_fetching_rule=CertificateFetchingRule.NEVER_FETCH)))


def once():
    sig = PdfFileReader(BytesIO(data)).embedded_regular_signatures[0]
    if mode == "lta":
        res = asyncio.run(ades_lta_validation(sig, spec, timing_info=ValidationTimingInfo.now()))
        return bool(res.api_status and res.api_status.bottom_line)
    vc = shared_vc if warm else ValidationContext(
        trust_roots=[root], allow_fetching=False, revocation_mode="soft-fail")
    return validate_pdf_signature(sig, vc).bottom_line


shared_vc = ValidationContext(trust_roots=[root], allow_fetching=False, revocation_mode="soft-fail")


print(f"pyhanko verdict: {'passed' if once() else 'NOT passed'}", file=sys.stderr)
n, t0 = 0, time.perf_counter()
while time.perf_counter() - t0 < seconds:
    once()
    n += 1
dt = time.perf_counter() - t0
print(f"pyhanko in-process {mode}{' (warm)' if warm else ''}: {n} validations in {dt:.2f}s = {n / dt:.1f}/s")
