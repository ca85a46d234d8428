#!/usr/bin/env python3
"""Load generator for /api/v1/documents: each of N concurrent clients repeats
upload -> approve (PIN + TOTP) -> download of one PDF for SECONDS, over loopback.

  documents_load.py BASE_URL USERS_JSON PDF CLIENTS SECONDS

USERS_JSON lists {"user", "password", "secret", "credential", "pin"}; the users are
split among the clients. The service accepts each TOTP time step once per user (and
only later steps, within one step of its clock), so every user can approve about three
times per 30 s: a client moves on to its next user whose next step is free. Prints one
JSON line: documents completed, per second, latency percentiles, errors.
"""
import base64, hashlib, hmac, http.client, json, struct, sys, threading, time, uuid

base, users_path, pdf_path, clients, seconds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
host, port = base.split('//')[1].split(':')
port = int(port)
users = json.load(open(users_path))
pdf = open(pdf_path, 'rb').read()


def totp(secret, step):
    key = base64.b32decode(secret + '=' * (-len(secret) % 8))
    h = hmac.new(key, struct.pack('>Q', step), hashlib.sha1).digest()
    o = h[-1] & 15
    return '%06d' % ((struct.unpack('>I', h[o:o + 4])[0] & 0x7fffffff) % 1000000)


def call(conn, method, path, body=None, headers=None):
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    data = r.read()
    return r.status, data


lock = threading.Lock()
done, errors, latencies = 0, {}, []
stop_at = 0.0
go = threading.Event()
ready = threading.Barrier(clients + 1)


def worker(mine):
    global done
    conn = http.client.HTTPConnection(host, port, timeout=60)
    tokens, last = {}, {}
    for u in mine:
        auth = base64.b64encode(f"{u['user']}:{u['password']}".encode()).decode()
        status, data = call(conn, 'POST', '/csc/v2/auth/login', b'{}', {'Authorization': f'Basic {auth}', 'Content-Type': 'application/json'})
        tokens[u['user']] = json.loads(data)['access_token']
        last[u['user']] = 0
    ready.wait()
    go.wait()
    i = 0
    while time.time() < stop_at:
        u = mine[i % len(mine)]
        i += 1
        now = int(time.time()) // 30
        step = max(now - 1, last[u['user']] + 1)
        if step > now + 1:
            if i % len(mine) == 0:
                time.sleep(0.05)
            continue
        last[u['user']] = step
        auth = {'Authorization': f"Bearer {tokens[u['user']]}"}
        t0 = time.time()
        boundary = uuid.uuid4().hex
        options = json.dumps({'credential_id': u['credential'], 'level': 'B-B'}).encode()
        body = (f'--{boundary}\r\nContent-Disposition: form-data; name="options"\r\n\r\n').encode() + options + \
            (f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="doc.pdf"\r\n'
             'Content-Type: application/pdf\r\n\r\n').encode() + pdf + f'\r\n--{boundary}--\r\n'.encode()
        try:
            status, data = call(conn, 'POST', '/api/v1/documents', body, {**auth, 'Content-Type': f'multipart/form-data; boundary={boundary}'})
            if status != 201:
                raise RuntimeError(f'upload {status}')
            doc = json.loads(data)['documents'][0]
            approval = json.dumps({'credential_id': u['credential'], 'pin': u['pin'], 'otp': totp(u['secret'], step),
                                   'documents': [{'id': doc['id'], 'sha256': doc['sha256'], 'hash': doc['hash']}]}).encode()
            status, data = call(conn, 'POST', '/api/v1/documents/approve', approval, {**auth, 'Content-Type': 'application/json'})
            if status != 200 or json.loads(data)['documents'][0]['state'] != 'signed':
                raise RuntimeError(f'approve {status} {data[:120]!r}')
            status, data = call(conn, 'GET', f"/api/v1/documents/{doc['id']}/signed", None, auth)
            if status != 200 or not data.startswith(b'%PDF'):
                raise RuntimeError(f'download {status}')
            with lock:
                done += 1
                latencies.append(time.time() - t0)
        except Exception as e:  # noqa: BLE001 - counted and reported
            with lock:
                key = str(e)[:80]
                errors[key] = errors.get(key, 0) + 1
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=60)


per = max(1, len(users) // clients)
groups = [users[k * per:(k + 1) * per] for k in range(clients)]
threads = [threading.Thread(target=worker, args=(g,)) for g in groups]
for t in threads:
    t.start()
ready.wait()  # every client signed in: the measured window starts now
start = time.time()
stop_at = start + seconds
go.set()
for t in threads:
    t.join()
elapsed = time.time() - start
latencies.sort()
pct = lambda p: round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 1) if latencies else None
print(json.dumps({'clients': clients, 'users': len(users), 'seconds': round(elapsed, 1), 'documents': done,
                  'per_second': round(done / elapsed, 2), 'p50_ms': pct(0.5), 'p95_ms': pct(0.95), 'errors': errors}))
