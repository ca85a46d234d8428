-- Passkeys (WebAuthn) of users, and the ceremonies in progress (issue 12). A ceremony
-- lives five minutes and is deleted when it is finished, on any node.
CREATE TABLE passkeys (
    id TEXT PRIMARY KEY,                -- the credential id (base64url)
    user_id TEXT NOT NULL,
    name TEXT NOT NULL,
    passkey TEXT NOT NULL,              -- JSON (webauthn-rs Passkey): public key, counter, flags
    created_at BIGINT NOT NULL,
    last_used BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX passkeys_user ON passkeys (user_id);

CREATE TABLE webauthn_ceremonies (
    id TEXT PRIMARY KEY,                -- random, hex
    user_id TEXT NOT NULL,
    kind TEXT NOT NULL,                 -- 'register', 'signin', 'approve'
    state TEXT NOT NULL,                -- JSON: webauthn-rs's ceremony state
    bound TEXT NOT NULL,                -- JSON: an approval's nonce, credential and hashes
    expires_at BIGINT NOT NULL
);
