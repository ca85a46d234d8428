#!/usr/bin/env python3
"""Joins what signHash clients received against the service's audit trail and SAD.

  audit_join.py (--sqlite DB | --pg URL) --credential ID --sad SAD
                [--allow STATUS ...] [--require STATUS ...] RECORD.jsonl ...

RECORD files are the load generator's (examples/signhash_load.rs --record): one JSON
line per call. Checks, each a failure when it does not hold:
  - every hash of every 200 answer is named by a `signature` audit record of the
    credential (a signature handed out without its record is the worst outcome);
  - the SAD's spent count equals the number of hashes those records name (no use
    without a record, no record without a use) and is within its numSignatures;
  - every error answer's status is in --allow and its body was the JSON error;
  - every status in --require was seen at least once (the fault really happened).
Prints one JSON summary line.
"""
import argparse
import hashlib
import json
import subprocess
import sys


def rows_sqlite(path, sql, args):
    import sqlite3
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def rows_pg(url, sql, args):
    # psql's own variables keep the values out of the SQL text.
    cmd = ["psql", url, "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1"]
    for i, a in enumerate(args):
        cmd += ["-v", f"a{i}={a}"]
        sql = sql.replace("?", f":'a{i}'", 1)
    out = subprocess.run(cmd, input=sql, capture_output=True, text=True, check=True).stdout
    return [tuple(line.split("\t")) for line in out.splitlines() if line]


def main():
    p = argparse.ArgumentParser()
    db = p.add_mutually_exclusive_group(required=True)
    db.add_argument("--sqlite")
    db.add_argument("--pg")
    p.add_argument("--credential", required=True)
    p.add_argument("--sad", required=True)
    p.add_argument("--allow", type=int, action="append", default=[])
    p.add_argument("--require", type=int, action="append", default=[])
    p.add_argument("--recovered-after", type=int,
                   help="every node answered 200 again after this many ms from the start")
    p.add_argument("records", nargs="+")
    a = p.parse_args()
    query = (lambda sql, args=(): rows_sqlite(a.sqlite, sql, args)) if a.sqlite else (
        lambda sql, args=(): rows_pg(a.pg, sql, args))

    audited = {}
    for (detail,) in query("SELECT detail FROM audit WHERE kind = 'signature'"):
        d = json.loads(detail)
        if d.get("credential") != a.credential:
            continue
        for h in d.get("hashes", []):
            audited[h] = audited.get(h, 0) + 1
    sad_id = hashlib.sha256(a.sad.encode()).hexdigest()
    sad = query("SELECT used, num_signatures FROM sads WHERE id = ?", (sad_id,))
    if len(sad) != 1:
        sys.exit(f"audit_join: the SAD is not in the database ({len(sad)} rows)")
    used, limit = (int(v) for v in sad[0])

    received, statuses, problems = 0, {}, []
    last_ok, nodes = {}, set()
    not_audited = 0
    for path in a.records:
        with open(path) as f:
            for line in f:
                r = json.loads(line)
                s = r["status"]
                statuses[s] = statuses.get(s, 0) + 1
                nodes.add(r["node"])
                if s == 200:
                    last_ok[r["node"]] = max(last_ok.get(r["node"], 0), r["t"])
                if s == 200:
                    for h in r["hashes"]:
                        received += 1
                        if h not in audited:
                            not_audited += 1
                elif s != 0:
                    if s not in a.allow:
                        problems.append(f"an answer with status {s} ({r.get('error')})")
                    if not r.get("json"):
                        problems.append(f"an error answer ({s}) without the JSON error body")
    total_audited = sum(audited.values())
    duplicates = sum(n - 1 for n in audited.values() if n > 1)
    if not_audited:
        problems.append(f"{not_audited} signatures received without an audit record")
    if duplicates:
        problems.append(f"{duplicates} hashes audited twice")
    if used != total_audited:
        problems.append(f"the SAD's spent count {used} differs from the {total_audited} audited signatures")
    if used > limit:
        problems.append(f"the SAD was over-spent: {used} of {limit}")
    if a.recovered_after is not None:
        for n in sorted(nodes):
            if last_ok.get(n, -1) <= a.recovered_after:
                problems.append(f"node {n} signed nothing after {a.recovered_after} ms")
    for s in a.require:
        if s not in statuses:
            problems.append(f"no answer with status {s}: the fault was not seen")
    summary = {
        "received": received, "audited": total_audited,
        "audited_not_received": total_audited - (received - not_audited),
        "sad_used": used, "sad_limit": limit,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "problems": sorted(set(problems)),
    }
    print(json.dumps(summary))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
