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
    let head = Head::lock(conn).await?;
    head.append_all(conn, std::slice::from_ref(event)).await
}

/// The head of the chain, locked in the caller's transaction: until it commits, no
/// other writer (of any process) can append, or change what the appended records
/// describe if it locks the head first, as every writer here does.
#[derive(Debug)]
pub struct Head {
    seq: i64,
    hash: String,
}

/// Records one multi-row `INSERT` carries (7 values each, well under the bind limits
/// of SQLite and PostgreSQL).
const ROWS_PER_INSERT: usize = 128;

impl Head {
    /// Locks the head (a write to its row) and reads it, in one statement.
    pub async fn lock(conn: &mut AnyConnection) -> Result<Self, ServiceError> {
        let row = sqlx::query("UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash")
            .fetch_one(&mut *conn)
            .await?;
        Ok(Self {
            seq: int(&row, "seq")?,
            hash: text(&row, "hash")?,
        })
    }

    /// Appends `events` in order after this head; returns the last sequence number.
    /// The chain is computed here and written with a few multi-row inserts and one
    /// update of the head.
    pub async fn append_all(
        mut self,
        conn: &mut AnyConnection,
        events: &[Event<'_>],
    ) -> Result<i64, ServiceError> {
        if events.is_empty() {
            return Ok(self.seq);
        }
        let at = now_millis();
        let mut rows = Vec::with_capacity(events.len());
        for event in events {
            let seq = self.seq + 1;
            let detail = event.detail.to_string();
            let hash = record_hash(&self.hash, seq, at, event.kind, event.actor, &detail);
            rows.push((
                seq,
                event,
                detail,
                std::mem::replace(&mut self.hash, hash.clone()),
                hash,
            ));
            self.seq = seq;
        }
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            let mut sql = String::from(
                "INSERT INTO audit (seq, at, kind, actor, detail, prev_hash, hash) VALUES ",
            );
            for i in 0..chunk.len() {
                let b = i * 7;
                if i > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!(
                    "(${},${},${},${},${},${},${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6,
                    b + 7
                ));
            }
            let mut query = sqlx::query(&sql);
            for (seq, event, detail, prev, hash) in chunk {
                query = query
                    .bind(*seq)
                    .bind(at)
                    .bind(event.kind)
                    .bind(event.actor)
                    .bind(detail.as_str())
                    .bind(prev.as_str())
                    .bind(hash.as_str());
            }
            query.execute(&mut *conn).await?;
        }
        sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
            .bind(self.seq)
            .bind(&self.hash)
            .execute(&mut *conn)
            .await?;
        Ok(self.seq)
    }
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
