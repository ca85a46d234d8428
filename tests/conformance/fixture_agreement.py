"""shomei validate over the signed PDFs of ../shared/fixtures, compared with the
MANIFEST's expected verdict (informative; issue 11 asks for >= 95 % agreement).

A MANIFEST verdict starting with "valid" means the signatures are intact (the source
test may still not trust the chain): shomei must not say TOTAL-FAILED. One starting
with "invalid" (or naming a broken/modified file) means shomei must say TOTAL-FAILED.
Trust anchors: the MANIFEST's trust/ files for the row when it names one.

The same files go through the kit's validate-pdf (pyHanko) when KIT_TRUST names a
PEM for its required --trust: its "failed" is a signature not intact, not valid, or
with changes its DocMDP analysis calls illegal; the agreement of shomei with pyHanko
is printed too.

    python fixture_agreement.py SHOMEI_BINARY SHARED_DIR
"""
import csv, json, os, re, subprocess, sys

binary, shared = sys.argv[1], sys.argv[2]
fixtures = os.path.join(shared, "fixtures")
rows = list(csv.DictReader(open(os.path.join(fixtures, "MANIFEST.tsv")), delimiter="\t"))
verdict_col = [c for c in rows[0].keys() if c.startswith("expected_verdict")][0]
agree = disagree = 0
ph_agree = ph_total = ph_errors = 0
lines = []
kit_trust = os.environ.get("KIT_TRUST")


def pyhanko_verdict(path, trust):
    """failed / not failed / error, by the kit's validate-pdf (pyHanko)."""
    if not kit_trust:
        return None
    args = [os.path.join(shared, "conformance", "validate-pdf"), path, "--revocation", "none", "--no-pdfsig"]
    args += trust or ["--trust", kit_trust]
    try:
        r = subprocess.run(args, capture_output=True, text=True, timeout=120)
        sigs = json.loads(r.stdout)["signatures"]
    except Exception:
        return "error"
    bad = any(not s.get("intact") or not s.get("valid") or s.get("docmdp_ok") is False for s in sigs)
    return "failed" if bad else "not failed"

for row in rows:
    if row["category"] != "pdf-signed":
        continue
    expected = row[verdict_col].strip().lower()
    if expected.startswith("invalid") or expected.startswith("broken"):
        want = "failed"
    elif expected.startswith("valid"):
        want = "not failed"
    else:
        lines.append(f"SKIP {row['relative_path']}: verdict {expected[:40]!r}")
        continue
    trust = []
    for t in re.findall(r"trust/[\w.\-]+", row[verdict_col] + " " + row["notes"]):
        path = os.path.join(fixtures, t)
        if os.path.exists(path):
            trust += ["--trust", path]
    r = subprocess.run([binary, "validate", os.path.join(fixtures, row["relative_path"]), "--offline",
                        "--format", "json", *trust], capture_output=True, text=True, timeout=60)
    try:
        report = json.loads(r.stdout)
        inds = [s["indication"] + ("/" + s["sub_indication"] if s["sub_indication"] else "") for s in report["signatures"]]
        got = "failed" if any(i.startswith("TOTAL-FAILED") for i in inds) else "not failed"
    except Exception:
        inds = [f"exit {r.returncode}: {r.stderr.strip()[:80]}"]
        got = "error"
    if got == "error" and want == "failed":
        got = "failed"  # an unreadable file is never a pass
    ok = got == want
    agree += ok
    disagree += not ok
    ph = pyhanko_verdict(os.path.join(fixtures, row["relative_path"]), trust)
    ph_note = ""
    if ph == "error":
        ph_errors += 1
        ph_note = "; pyHanko (kit) gave no verdict"
    elif ph is not None:
        ph_total += 1
        ph_agree += ph == got
        ph_note = f"; pyHanko {ph}" + ("" if ph == got else " (differs from shomei)")
    lines.append(f"{'AGREE' if ok else 'DIFFER'} {row['relative_path']}: MANIFEST {want}, shomei {', '.join(inds)}{ph_note}")
print("\n".join(lines))
total = agree + disagree
print(f"agreement: {agree}/{total} = {100.0 * agree / max(total, 1):.1f} %")
if ph_total:
    print(f"agreement with pyHanko (kit validate-pdf): {ph_agree}/{ph_total} = "
          f"{100.0 * ph_agree / ph_total:.1f} % ({ph_errors} files without a pyHanko verdict)")
