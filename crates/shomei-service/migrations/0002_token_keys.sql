-- Keys generated on a PKCS#11 token: the key's CKA_ID (hex) and its public key
-- (SubjectPublicKeyInfo, base64). Both empty for keys in the software keystore, whose
-- sealed key is in wrapped_key (empty for token keys).
ALTER TABLE credentials ADD COLUMN token_key_id TEXT NOT NULL DEFAULT '';
ALTER TABLE credentials ADD COLUMN public_key TEXT NOT NULL DEFAULT '';
