-- Sessions of the web page (issue 12): a cookie holds the session token, every request
-- that changes something also carries the CSRF token. Only SHA-256 of each is stored.
CREATE TABLE web_sessions (
    id TEXT PRIMARY KEY,                -- SHA-256 of the session token (hex)
    user_id TEXT NOT NULL,
    csrf TEXT NOT NULL,                 -- SHA-256 of the CSRF token (hex)
    factor TEXT NOT NULL,               -- how the user signed in: 'password+totp', 'passkey'
    created_at BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,          -- the session ends after the idle limit without a request
    expires_at BIGINT NOT NULL,         -- ... and at this time at the latest
    revoked BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX web_sessions_user ON web_sessions (user_id);
