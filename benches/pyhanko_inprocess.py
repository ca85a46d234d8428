"""pyHanko's in-process PAdES B-B signing rate on the same one-page PDF that
`cargo bench --bench sign` uses (examples/sample.pdf), for the ratio in benches/README.md.

    $VENV/bin/python benches/pyhanko_inprocess.py KEY CERT CHAIN [SECONDS]
"""
import sys, time
from io import BytesIO
from pyhanko.sign import signers, fields
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

key, cert, chain = sys.argv[1:4]
seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 5.0
data = open("examples/sample.pdf", "rb").read()
signer = signers.SimpleSigner.load(key, cert, ca_chain_files=(chain,))
meta = signers.PdfSignatureMetadata(field_name="Signature1", subfilter=fields.SigSeedSubFilter.PADES)

def once():
    w = IncrementalPdfFileWriter(BytesIO(data))
    return signers.sign_pdf(w, meta, signer=signer).getvalue()

once()  # warm-up
n, t0 = 0, time.perf_counter()
while time.perf_counter() - t0 < seconds:
    once(); n += 1
dt = time.perf_counter() - t0
print(f"pyhanko in-process: {n} signatures in {dt:.2f}s = {n/dt:.1f}/s")
