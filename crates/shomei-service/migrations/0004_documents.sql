-- Documents uploaded for signing (issue 12). The files live in the data directory
-- (`documents/`, shared by every node); the prepared signature state lives here, so
-- any node can finish a document another node prepared.
CREATE TABLE documents (
    id TEXT PRIMARY KEY,                -- random, hex (unguessable)
    user_id TEXT NOT NULL,
    credential_id TEXT NOT NULL,
    name TEXT NOT NULL,                 -- the file name given at upload (display only)
    format TEXT NOT NULL,               -- 'pdf' or 'xml'
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,               -- hex, of the uploaded file
    pages BIGINT NOT NULL,              -- 0 for XML
    page_box TEXT NOT NULL DEFAULT '',  -- PDF: the first page's box, 'x0 y0 x1 y1' in points
    options TEXT NOT NULL DEFAULT '{}', -- JSON: the signing options asked for at upload
    level TEXT NOT NULL,                -- 'B-B' ... 'B-LTA'
    hash_alg TEXT NOT NULL,             -- name of the digest to be signed ('SHA-256', ...)
    hash TEXT NOT NULL,                 -- hex: the digest the signer approves and signs
    prepared TEXT NOT NULL,             -- JSON: the prepared signature (serializable state)
    state TEXT NOT NULL,                -- 'prepared', 'signed', 'failed'
    error TEXT NOT NULL DEFAULT '',
    signed_size BIGINT NOT NULL DEFAULT 0,
    signed_sha256 TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,         -- deleted (files and row) after this
    downloaded_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX documents_user ON documents (user_id);
CREATE INDEX documents_expiry ON documents (expires_at);
