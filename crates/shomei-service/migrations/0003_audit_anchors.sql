-- Time-stamped anchors of the audit chain: the head (sequence number and hash) at a
-- moment, and an RFC 3161 token from the configured TSA over
-- SHA-256("shomei audit head {seq} {hash}"). Rewriting history before an anchor —
-- even recomputing every hash after it — no longer matches the time-stamped hash.
CREATE TABLE audit_anchors (
    seq BIGINT PRIMARY KEY,
    hash TEXT NOT NULL,
    at BIGINT NOT NULL,
    token TEXT NOT NULL                 -- the TimeStampToken, base64 DER
);
