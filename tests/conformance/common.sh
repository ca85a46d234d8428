# Shared by every conformance script: the kit's Python, and the PASS/FAIL tally that
# the closing "N passed, M failed" line reports.
VENV_PY="${CONFORMANCE_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/sig-conformance/venv}/bin/python"
pass=0; fail=0
ok()  { pass=$((pass+1)); echo "PASS $*"; }
bad() { fail=$((fail+1)); echo "FAIL $*"; }
# The kit signer's key and certificate for RSA or EC (the kit env must be sourced).
key_of()  { if [ "$1" = RSA ]; then echo "$SIGNER_RSA_KEY"; else echo "$SIGNER_EC_KEY"; fi; }
cert_of() { if [ "$1" = RSA ]; then echo "$SIGNER_RSA_CERT"; else echo "$SIGNER_EC_CERT"; fi; }
