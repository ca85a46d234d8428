#!/usr/bin/env python3
"""Offline supply-chain check of the workspace: licenses, banned crates, sources.

  tests/supply-chain/check.py [MANIFEST_DIR]

Reads `cargo metadata --locked` (every package the lock file resolves, all targets) and
tests/supply-chain/policy.toml. Fails when a package's license expression cannot be
satisfied with the allowed licenses (or it has none), when a banned crate is in the
graph, or when a package comes from anywhere but crates.io or the workspace. Prints a
summary line, and the crates present in more than one version (information only).
"""
import collections
import json
import os
import re
import subprocess
import sys
import tomllib

root = sys.argv[1] if len(sys.argv) > 1 else "."
policy = tomllib.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "policy.toml"), "rb"))
allowed = set(policy["licenses"]["allow"])
exceptions = set(policy["licenses"].get("exceptions", []))
banned = set(policy["bans"]["deny"])
registries = set(policy["sources"]["allow-registries"])

meta = json.loads(subprocess.run(
    ["cargo", "metadata", "--format-version", "1", "--locked", "--manifest-path", os.path.join(root, "Cargo.toml")],
    check=True, capture_output=True, text=True).stdout)


def satisfiable(expr):
    """Whether an SPDX expression (with the old `/` for OR) can be met with `allowed`."""
    tokens = re.findall(r"\(|\)|[A-Za-z0-9.+-]+|/", expr.replace(" / ", " OR ").replace("/", " OR "))
    pos = 0

    def peek():
        return tokens[pos] if pos < len(tokens) else None

    def take():
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    def atom():
        if peek() == "(":
            take(); v = disjunction()
            if take() != ")":
                raise ValueError("unbalanced parentheses")
            return v
        ident = take()
        ok = ident in allowed or (ident.endswith("+") and ident[:-1] in allowed)
        if peek() == "WITH":
            take(); ok = ok and take() in exceptions
        return ok

    def conjunction():
        v = atom()
        while peek() == "AND":
            take(); v = atom() and v
        return v

    def disjunction():
        v = conjunction()
        while peek() == "OR":
            take(); v = conjunction() or v
        return v

    result = disjunction()
    if pos != len(tokens):
        raise ValueError(f"unexpected {tokens[pos]!r}")
    return result


problems, versions = [], collections.defaultdict(set)
for p in meta["packages"]:
    name, version, source = p["name"], p["version"], p["source"]
    versions[name].add(version)
    if name in banned:
        problems.append(f"banned crate {name} {version}")
    if source is not None:
        kind, _, where = source.partition("+")
        if kind != "registry" or where not in registries:
            problems.append(f"{name} {version} comes from {source}")
    if source is None:
        continue  # the workspace's own crates: licensed by the workspace
    lic = p.get("license")
    if not lic:
        problems.append(f"{name} {version} declares no SPDX license (license-file only)")
        continue
    try:
        if not satisfiable(lic):
            problems.append(f"{name} {version}: license {lic!r} is not allowed")
    except (ValueError, IndexError) as e:
        problems.append(f"{name} {version}: license {lic!r} cannot be read ({e})")

# MSRV: every workspace crate declares the workspace's rust-version, and no dependency
# needs a newer compiler (its own rust-version). With one toolchain on the machine this
# and clippy's incompatible_msrv lint (std items newer than rust-version) are what CI
# can check; language features newer than it are not caught.
def ver(v):
    return tuple(int(x) for x in (v.split(".") + ["0", "0"])[:3])


members = [p for p in meta["packages"] if p["source"] is None]
msrvs = {p.get("rust_version") for p in members}
if len(msrvs) != 1 or None in msrvs:
    problems.append(f"the workspace crates do not all declare one rust-version: {sorted(map(str, msrvs))}")
msrv = max((m for m in msrvs if m), key=ver, default="0")
newer = [f"{p['name']} {p['version']} needs rust {p['rust_version']}" for p in meta["packages"]
         if p["source"] is not None and p.get("rust_version") and ver(p["rust_version"]) > ver(msrv)]
problems += [f"{n} (> the MSRV {msrv})" for n in newer]

duplicates = sorted(n for n, v in versions.items() if len(v) > 1)
print(f"supply-chain: {len(meta['packages'])} packages, licenses {'ok' if not any('license' in p for p in problems) else 'FAIL'}, "
      f"bans {'ok' if not any(p.startswith('banned') for p in problems) else 'FAIL'}, "
      f"sources {'ok' if not any('comes from' in p for p in problems) else 'FAIL'}, "
      f"MSRV {msrv} {'ok' if not newer and len(msrvs) == 1 else 'FAIL'}; "
      f"{len(duplicates)} crates in several versions")
for p in problems:
    print("  " + p, file=sys.stderr)
sys.exit(1 if problems else 0)
