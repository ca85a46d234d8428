#!/usr/bin/env python3
"""RFC 6238 TOTP (SHA-1, 6 digits, 30 s), computed independently of shomei.

  totp.py SECRET_BASE32 STATE_FILE

Prints a code for a time step later than the one recorded in STATE_FILE (a service
accepts each code once), waiting for the next 30-second step when both the current and
the next step were used already; records the step it used.
"""
import base64, hashlib, hmac, os, struct, sys, time

secret = base64.b32decode(sys.argv[1] + '=' * (-len(sys.argv[1]) % 8))
state = sys.argv[2]
last = int(open(state).read()) if os.path.exists(state) else 0
while True:
    now = int(time.time()) // 30
    step = max(now, last + 1)
    if step <= now + 1:
        break
    time.sleep(30 - time.time() % 30 + 0.2)
open(state, 'w').write(str(step))
h = hmac.new(secret, struct.pack('>Q', step), hashlib.sha1).digest()
o = h[-1] & 15
print('%06d' % ((struct.unpack('>I', h[o:o + 4])[0] & 0x7fffffff) % 1000000))
