//! In-process OCSP responder and CRL issuer over the test PKI (being written).
