//! The audit trail: every sign-in, token, SAD, signature, refusal and administrator act,
//! appended as a hash chain — each record carries the hash of the one before — in the
//! same transaction as the change it records. `verify` walks the chain and names the
//! first record that was changed, deleted or inserted. No secret is ever written here.

use crate::store::{int, now_millis, text};
use crate::ServiceError;
use aws_lc_rs::digest;
use sqlx::AnyConnection;

/// The hash before the first record.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One event to record.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    /// What happened: `signin`, `token.issue`, `sad.issue`, `signature`, `refusal`,
    /// `admin.user.create`, ...
    pub kind: &'a str,
    /// Who did it (a user name, `admin`, or `-`).
    pub actor: &'a str,
    /// The details, as JSON (no password, PIN, OTP, SAD, token or key material).
    pub detail: serde_json::Value,
}

fn record_hash(prev: &str, seq: i64, at: i64, kind: &str, actor: &str, detail: &str) -> String {
    let mut ctx = digest::Context::new(&digest::SHA256);
    for part in [prev, &seq.to_string(), &at.to_string(), kind, actor, detail] {
        // Length-prefixed, so no two records share an encoding.
        ctx.update(&u64::try_from(part.len()).unwrap_or(u64::MAX).to_be_bytes());
        ctx.update(part.as_bytes());
    }
    hex::encode(ctx.finish().as_ref())
}

/// Appends `event` in the caller's transaction. The head row is updated first, which
/// takes the write lock (SQLite) or the row lock (PostgreSQL), so concurrent appends
/// from several processes queue up and the chain never forks.
pub async fn append(conn: &mut AnyConnection, event: &Event<'_>) -> Result<i64, ServiceError> {
    sqlx::query("UPDATE audit_head SET seq = seq + 1 WHERE id = 1")
        .execute(&mut *conn)
        .await?;
    let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_one(&mut *conn)
        .await?;
    let (seq, prev) = (int(&head, "seq")?, text(&head, "hash")?);
    let at = now_millis();
    let detail = event.detail.to_string();
    let hash = record_hash(&prev, seq, at, event.kind, event.actor, &detail);
    sqlx::query(
        "INSERT INTO audit (seq, at, kind, actor, detail, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(seq)
    .bind(at)
    .bind(event.kind)
    .bind(event.actor)
    .bind(&detail)
    .bind(&prev)
    .bind(&hash)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(&hash)
        .execute(&mut *conn)
        .await?;
    Ok(seq)
}

/// The outcome of [`verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verdict {
    /// Records read.
    pub records: u64,
    /// `None` when the chain is intact; else the first problem, naming the record.
    pub problem: Option<String>,
}

/// Walks the whole chain in order: every record's hash must be recomputable, link to
/// the one before, and the sequence must run from 1 to the head without gaps.
pub async fn verify(conn: &mut AnyConnection) -> Result<Verdict, ServiceError> {
    let rows =
        sqlx::query("SELECT seq, at, kind, actor, detail, prev_hash, hash FROM audit ORDER BY seq")
            .fetch_all(&mut *conn)
            .await?;
    let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_one(&mut *conn)
        .await?;
    let mut expected_seq = 1i64;
    let mut prev = GENESIS.to_string();
    let mut records = 0u64;
    let problem = |p: String, records: u64| {
        Ok(Verdict {
            records,
            problem: Some(p),
        })
    };
    for row in &rows {
        records += 1;
        let seq = int(row, "seq")?;
        let stored = text(row, "hash")?;
        let recomputed = record_hash(
            &text(row, "prev_hash")?,
            seq,
            int(row, "at")?,
            &text(row, "kind")?,
            &text(row, "actor")?,
            &text(row, "detail")?,
        );
        if seq != expected_seq {
            return problem(
                format!(
                    "record {expected_seq} is missing (deleted): the chain goes on at record {seq}"
                ),
                records,
            );
        }
        if recomputed != stored {
            return problem(
                format!("record {seq} was changed: its content does not match its hash"),
                records,
            );
        }
        if text(row, "prev_hash")? != prev {
            return problem(
                format!(
                    "record {seq} does not follow record {}: a record was inserted, deleted or replaced before it",
                    seq - 1
                ),
                records,
            );
        }
        prev = stored;
        expected_seq += 1;
    }
    let (head_seq, head_hash) = (int(&head, "seq")?, text(&head, "hash")?);
    if head_seq != expected_seq - 1 || head_hash != prev {
        let p = if head_seq < expected_seq - 1 {
            format!(
                "records {} to {} were inserted after the chain's head ({head_seq})",
                head_seq + 1,
                expected_seq - 1
            )
        } else {
            format!(
                "records {} to {head_seq} are missing at the end (deleted)",
                expected_seq
            )
        };
        return problem(p, records);
    }
    Ok(Verdict {
        records,
        problem: None,
    })
}
