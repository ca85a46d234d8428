# Shared by the scripts that run `shomei serve --demo` (documents.sh, browser.sh):
# sourced after BIN, KIT, TRUST_ROOT, CHAIN and CRL_INTERM_URL are set, in the
# script's output directory.
#
#   kit_certify CREDENTIAL ADMIN-ARGS...   the credential's key certified by the kit's
#       intermediate CA (CRL distribution point: the kit's CRL) and imported with
#       `shomei admin credential csr` / `import`, so its signatures chain to the kit
#       root the validators trust, as the kit TSA's tokens do.
#   demo DATA_DIR KEY                      a value of DATA_DIR/demo.json.
#   wait_ready PORT                        waits up to 10 s for /readyz.
INTERM_CERT="$(dirname "$TRUST_ROOT")/interm.cert.pem"
INTERM_KEY="$KIT/pki/keys/interm.key.pem"
printf '[v3]\nkeyUsage = critical, digitalSignature, nonRepudiation\ncrlDistributionPoints = URI:%s\nauthorityKeyIdentifier = keyid\nsubjectKeyIdentifier = hash\n' "$CRL_INTERM_URL" > ext.cnf
kit_certify() { # CREDENTIAL ADMIN-ARGS...
  local cred="$1"; shift
  "$BIN" admin "$@" credential csr "$cred" --subject "山田 太郎 (demo)" -o "$cred.csr" >/dev/null \
  && openssl x509 -req -in "$cred.csr" -CA "$INTERM_CERT" -CAkey "$INTERM_KEY" -set_serial "0x$(openssl rand -hex 12)" \
       -days 365 -extfile ext.cnf -extensions v3 -out "$cred.cert.pem" 2>/dev/null \
  && cat "$cred.cert.pem" "$CHAIN" > "$cred.chain.pem" \
  && "$BIN" admin "$@" credential import "$cred" "$cred.chain.pem" >/dev/null
}
demo() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1/demo.json" "$2"; }
wait_ready() { for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$1/readyz" >/dev/null && return 0; sleep 0.1; done; return 1; }
