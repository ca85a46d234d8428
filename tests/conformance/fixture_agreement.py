"""shomei validate over the signed PDFs and XML files of ../shared/fixtures, compared
with the MANIFEST's expected verdict (issue 11 asks for >= 95 % agreement).

A MANIFEST verdict starting with "valid" means the signatures are intact (the source
test may still not trust the chain): shomei must not say TOTAL-FAILED. One starting
with "invalid" (or naming a broken/modified file) means shomei must say TOTAL-FAILED.
Trust anchors: the MANIFEST's trust/ files for the row when it names one.

The same files go through the kit's validate-pdf (pyHanko) when KIT_TRUST names a
PEM for its required --trust: its "failed" is a signature not intact, not valid, or
with changes its DocMDP analysis calls illegal; the agreement of shomei with pyHanko
is printed too. The XML files go through the kit's validate-xml (xmlsec1, signxml): its
"failed" is a reference or signature value that does not verify (xmlsec1 counting a
failed reference, signxml InvalidDigest / InvalidSignature); a file in a subdirectory
gets the other files there as --detached data. A MANIFEST verdict "mixed" is skipped.

    python fixture_agreement.py SHOMEI_BINARY SHARED_DIR
"""
import csv, json, os, re, subprocess, sys

binary, shared = sys.argv[1], sys.argv[2]
fixtures = os.path.join(shared, "fixtures")
rows = list(csv.DictReader(open(os.path.join(fixtures, "MANIFEST.tsv")), delimiter="\t"))
verdict_col = [c for c in rows[0].keys() if c.startswith("expected_verdict")][0]
agree = disagree = 0
ph_agree = ph_total = 0
ph_errors, x_errors, x_total = [], [], []
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

def kit_xml_verdict(path, trust):
    """failed / not failed / error, by the kit's validate-xml (xmlsec1, signxml)."""
    if not kit_trust:
        return None
    t = trust[1] if trust else kit_trust
    args = [os.path.join(shared, "conformance", "validate-xml"), os.path.basename(path), "--trust", t]
    try:
        r = subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=os.path.dirname(path))
        d = json.loads(r.stdout)
        out = " ".join(d["xmlsec1"]["output"])
        err = (d.get("signxml") or {}).get("error") or ""
    except Exception:
        return "error"
    refs = re.findall(r"References \(ok/all\): (\d+)/(\d+)", out)
    broken = any(int(a) < int(b) for a, b in refs)
    broken |= err.startswith("InvalidDigest") or err.startswith("InvalidSignature")
    return "failed" if broken else "not failed"


for row in rows:
    if row["category"] not in ("pdf-signed", "xml-signed"):
        continue
    xml = row["category"] == "xml-signed"
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
    path = os.path.join(fixtures, row["relative_path"])
    detached = []
    if xml and "/" in row["relative_path"].split("xml-signed/", 1)[1]:
        d = os.path.dirname(path)
        detached = [a for n in sorted(os.listdir(d)) if os.path.join(d, n) != path
                    for a in ("--detached", os.path.join(d, n))]
    r = subprocess.run([binary, "validate", path, "--offline",
                        "--format", "json", *trust, *detached], capture_output=True, text=True, timeout=60)
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
    ph = kit_xml_verdict(path, trust) if xml else pyhanko_verdict(path, trust)
    who = "xmlsec1/signxml" if xml else "pyHanko"
    ph_note = ""
    if ph == "error":
        (x_errors if xml else ph_errors).append(1)
        ph_note = f"; {who} (kit) gave no verdict"
    elif ph is not None:
        if xml:
            x_total.append(ph == got)
        else:
            ph_total += 1
            ph_agree += ph == got
        ph_note = f"; {who} {ph}" + ("" if ph == got else " (differs from shomei)")
    lines.append(f"{'AGREE' if ok else 'DIFFER'} {row['relative_path']}: MANIFEST {want}, shomei {', '.join(inds)}{ph_note}")
print("\n".join(lines))
total = agree + disagree
print(f"agreement with the MANIFEST: {agree}/{total} = {100.0 * agree / max(total, 1):.1f} %")
if ph_total:
    print(f"agreement with pyHanko (kit validate-pdf): {ph_agree}/{ph_total} = "
          f"{100.0 * ph_agree / ph_total:.1f} % ({len(ph_errors)} files without a pyHanko verdict)")
if x_total:
    print(f"agreement with xmlsec1/signxml (kit validate-xml): {sum(x_total)}/{len(x_total)} = "
          f"{100.0 * sum(x_total) / len(x_total):.1f} % ({len(x_errors)} files without a verdict)")
if os.environ.get("AGREEMENT_MIN"):
    sys.exit(0 if 100.0 * agree / max(total, 1) >= float(os.environ["AGREEMENT_MIN"]) else 1)
