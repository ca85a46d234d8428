//! In-process RFC 3161 time-stamping authority over the test PKI (being written).
