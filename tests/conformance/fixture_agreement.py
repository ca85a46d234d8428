"""shomei validate over the signed PDFs of ../shared/fixtures, compared with the
MANIFEST's expected verdict (informative; issue 11 asks for >= 95 % agreement).

A MANIFEST verdict starting with "valid" means the signatures are intact (the source
test may still not trust the chain): shomei must not say TOTAL-FAILED. One starting
with "invalid" (or naming a broken/modified file) means shomei must say TOTAL-FAILED.
Trust anchors: the MANIFEST's trust/ files for the row when it names one.

    python fixture_agreement.py SHOMEI_BINARY SHARED_DIR
"""
import csv, json, os, re, subprocess, sys

binary, shared = sys.argv[1], sys.argv[2]
fixtures = os.path.join(shared, "fixtures")
rows = list(csv.DictReader(open(os.path.join(fixtures, "MANIFEST.tsv")), delimiter="\t"))
verdict_col = [c for c in rows[0].keys() if c.startswith("expected_verdict")][0]
agree = disagree = 0
lines = []
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
    ok = got == want
    agree += ok
    disagree += not ok
    lines.append(f"{'AGREE' if ok else 'DIFFER'} {row['relative_path']}: MANIFEST {want}, shomei {', '.join(inds)}")
print("\n".join(lines))
total = agree + disagree
print(f"agreement: {agree}/{total} = {100.0 * agree / max(total, 1):.1f} %")
