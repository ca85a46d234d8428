"""shomei validate over the signed PDFs and XML files of ../shared/fixtures, compared
with the MANIFEST's expected verdict (issue 11 asks for >= 95 % agreement).

A MANIFEST verdict starting with "valid" means the signatures are intact (the source
test may still not trust the chain): shomei must not say TOTAL-FAILED. One starting
with "invalid" (or naming a broken/modified file) means shomei must say TOTAL-FAILED.
Trust anchors: the MANIFEST's trust/ files for the row when it names one.

The same files go through the kit's validate-pdf (pyHanko) when KIT_TRUST names a
PEM for its required --trust: its "failed" is a signature not intact, not valid, or
with changes its DocMDP analysis calls illegal; the agreement of shomei with pyHanko
is printed too. The XML files go through xmlsec1 --insecure (core validation, trust
aside) and the kit's validate-xml (signxml): "failed" is a reference or signature value
that does not verify (xmlsec1 failing with references counted, signxml InvalidDigest /
InvalidSignature); xmlsec1 failing before any reference is no verdict; a file in a subdirectory
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
    """failed / not failed / error, by xmlsec1 --insecure (core validation: references
    and signature value, whatever the trust) and the kit's validate-xml (signxml)."""
    if not kit_trust:
        return None
    d = os.path.dirname(path)
    # xmlsec1 knows no Id attribute without a DTD: declare every element that has one.
    ids = []
    try:
        import xml.etree.ElementTree as ET
        for e in ET.parse(path).iter():
            for attr in ("Id", "ID", "id"):
                if attr in e.attrib:
                    tag = e.tag[1:].replace("}", ":") if e.tag.startswith("{") else e.tag
                    ids += [f"--id-attr:{attr}", tag]
    except Exception:
        pass
    try:
        x = subprocess.run(["xmlsec1", "--verify", "--insecure", *ids, os.path.basename(path)],
                           capture_output=True, text=True, timeout=60, cwd=d)
    except Exception:
        x = None
    verdict = None
    if x is not None:
        refs = [(int(a), int(b)) for a, b in
                re.findall(r"References \(ok/all\): (\d+)/(\d+)", x.stdout + x.stderr)]
        if x.returncode == 0:
            verdict = "not failed"
        elif any(a < b for a, b in refs):
            verdict = "failed"
        elif any(b > 0 for _, b in refs):
            verdict = "failed"  # every reference verified: the signature value did not
    t = trust[1] if trust else kit_trust
    try:
        r = subprocess.run([os.path.join(shared, "conformance", "validate-xml"), os.path.basename(path),
                            "--trust", t], capture_output=True, text=True, timeout=120, cwd=d)
        err = (json.loads(r.stdout).get("signxml") or {}).get("error") or ""
    except Exception:
        err = ""
    if err.startswith("InvalidDigest") or err.startswith("InvalidSignature"):
        verdict = "failed"
    return verdict or "error"


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
