-- One schema for SQLite and PostgreSQL: only TEXT and BIGINT columns (binary values
-- are hex or base64), times in milliseconds since the Unix epoch.

CREATE TABLE users (
    id TEXT PRIMARY KEY,                -- random, hex
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,                 -- 'signer' or 'admin'
    password_hash TEXT NOT NULL,        -- argon2id PHC string
    disabled BIGINT NOT NULL DEFAULT 0,
    failed_attempts BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT NOT NULL DEFAULT 0,
    totp_secret TEXT,                   -- wrapped under the master key (base64)
    totp_last_step BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

CREATE TABLE credentials (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    key_kind TEXT NOT NULL,             -- 'rsa-2048', 'rsa-3072', 'ec-p256', 'ec-p384'
    wrapped_key TEXT NOT NULL,          -- PKCS#8 sealed with AES-256-GCM (base64), never exported
    chain_pem TEXT,                     -- signing certificate first, once imported
    scal BIGINT NOT NULL,               -- 1 or 2
    multisign BIGINT NOT NULL,
    pin_hash TEXT NOT NULL,             -- argon2id PHC string
    failed_attempts BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT NOT NULL DEFAULT 0,
    state TEXT NOT NULL,                -- 'active', 'disabled', 'destroyed'
    created_at BIGINT NOT NULL
);

CREATE TABLE sads (
    id TEXT PRIMARY KEY,                -- SHA-256 of the SAD (hex): the SAD itself is never stored
    user_id TEXT NOT NULL,
    credential_id TEXT NOT NULL,
    hash_alg TEXT NOT NULL,
    num_signatures BIGINT NOT NULL,
    used BIGINT NOT NULL DEFAULT 0,
    bound BIGINT NOT NULL,              -- 1: only the hashes in sad_hashes may be signed
    expires_at BIGINT NOT NULL
);

CREATE TABLE sad_hashes (
    sad_id TEXT NOT NULL,
    hash TEXT NOT NULL,                 -- hex
    allowed BIGINT NOT NULL,            -- how often the list names it
    spent BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (sad_id, hash)
);

CREATE TABLE audit (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    detail TEXT NOT NULL,               -- JSON
    prev_hash TEXT NOT NULL,            -- hex
    hash TEXT NOT NULL                  -- hex: SHA-256(prev_hash, record)
);

-- The head of the audit chain: one row. Every append updates it first, which
-- serializes appends across processes (a row lock in PostgreSQL, the write lock in
-- SQLite) so the chain never forks.
CREATE TABLE audit_head (
    id BIGINT PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Bearer tokens of signed-in users: only their SHA-256 is stored.
CREATE TABLE tokens (
    id TEXT PRIMARY KEY,                -- SHA-256 of the token (hex)
    user_id TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked BIGINT NOT NULL DEFAULT 0
);

-- Facts about the installation, e.g. the master-key check value: a value sealed
-- with the master key, so a wrong key is refused at start.
CREATE TABLE meta (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
