//! The audit trail: every sign-in, token, SAD, signature, refusal and administrator act,
//! appended as a hash chain — each record carries the hash of the one before — in the
//! same transaction as the change it records. `verify` walks the chain and names the
//! first record that was changed, deleted or inserted. No secret is ever written here.
//!
//! Optionally the head is time-stamped by a TSA every N records or minutes
//! ([`anchor`], [`run_anchoring`]): `verify` checks each token and that the chain
//! still has the hash it time-stamped, so even an operator who rewrites the history
//! and recomputes every hash after it is caught.

use crate::store::{int, now_millis, text, Store};
use crate::ServiceError;
use aws_lc_rs::digest;
use base64ct::{Base64, Encoding};
use shomei_core::{Digest, DigestAlgorithm};
use shomei_tsp::{TimestampAuthority, TimestampToken};
use sqlx::AnyConnection;
use std::sync::Arc;

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
    /// Time-stamped anchors checked.
    pub anchors: u64,
    /// The latest anchor: the record it names and the time the TSA gave it.
    pub last_anchor: Option<(i64, std::time::SystemTime)>,
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
            anchors: 0,
            last_anchor: None,
            problem: Some(p),
        })
    };
    // The hash of every record, for the anchors.
    let mut hashes: Vec<String> = Vec::with_capacity(rows.len());
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
        hashes.push(stored.clone());
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
    check_anchors(conn, records, &hashes).await
}

/// What an anchor time-stamps for the head `(seq, hash)`.
fn anchor_imprint(seq: i64, hash: &str) -> Digest {
    Digest::compute(
        DigestAlgorithm::Sha256,
        format!("shomei audit head {seq} {hash}").as_bytes(),
    )
}

/// Every anchor's token must verify over its head, and the intact chain must still
/// have, at that record, the hash that was time-stamped.
async fn check_anchors(
    conn: &mut AnyConnection,
    records: u64,
    hashes: &[String],
) -> Result<Verdict, ServiceError> {
    let rows = sqlx::query("SELECT seq, hash, token FROM audit_anchors ORDER BY seq")
        .fetch_all(&mut *conn)
        .await?;
    let mut verdict = Verdict {
        records,
        anchors: 0,
        last_anchor: None,
        problem: None,
    };
    for row in &rows {
        let (seq, hash) = (int(row, "seq")?, text(row, "hash")?);
        let token = Base64::decode_vec(&text(row, "token")?)
            .ok()
            .and_then(|der| TimestampToken::from_der(&der).ok());
        let Some(token) = token else {
            verdict.problem = Some(format!(
                "the anchor of record {seq} holds no readable time-stamp token"
            ));
            return Ok(verdict);
        };
        if let Err(e) = token.verify(&anchor_imprint(seq, &hash)) {
            verdict.problem = Some(format!(
                "the anchor of record {seq} was changed: its time-stamp does not cover it ({e})"
            ));
            return Ok(verdict);
        }
        let when = utc(token.gen_time());
        let at = usize::try_from(seq - 1).ok().and_then(|i| hashes.get(i));
        match at {
            Some(h) if *h == hash => {}
            Some(_) => {
                verdict.problem = Some(format!(
                    "record {seq} does not have the hash the TSA time-stamped at {when}: the history \
                     up to record {seq} was rewritten"
                ));
                return Ok(verdict);
            }
            None => {
                verdict.problem = Some(format!(
                    "record {seq} was time-stamped at {when} but is missing: records were deleted at the end"
                ));
                return Ok(verdict);
            }
        }
        verdict.anchors += 1;
        verdict.last_anchor = Some((seq, token.gen_time()));
    }
    Ok(verdict)
}

/// `YYYY-MM-DDTHH:MM:SSZ`.
pub fn utc(t: std::time::SystemTime) -> String {
    shomei_core::time::UtcTime::from_system_time(t)
        .map_or_else(|| "?".into(), shomei_core::time::UtcTime::to_xml_datetime)
}

/// When to time-stamp the head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnchorPolicy {
    /// After this many new records (0: not by count).
    pub every_records: u64,
    /// After this many seconds with new records (0: not by time).
    pub every_seconds: u64,
}

/// Time-stamps the current head of the chain by `tsa`, unless it is anchored already
/// or the chain is empty. Returns the record anchored. Several nodes may anchor the
/// same head: the first one's anchor stays.
///
/// # Errors
/// The database, or the TSA (its token must verify over the head).
pub async fn anchor(
    store: &Store,
    tsa: &dyn TimestampAuthority,
) -> Result<Option<i64>, ServiceError> {
    let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_one(store.pool())
        .await?;
    let (seq, hash) = (int(&head, "seq")?, text(&head, "hash")?);
    if seq == 0 {
        return Ok(None);
    }
    let done = sqlx::query("SELECT seq FROM audit_anchors WHERE seq = $1")
        .bind(seq)
        .fetch_optional(store.pool())
        .await?;
    if done.is_some() {
        return Ok(None);
    }
    let token = tsa
        .timestamp(&anchor_imprint(seq, &hash))
        .await
        .map_err(|e| ServiceError::Internal(format!("audit anchor: the TSA: {e}")))?;
    sqlx::query(
        "INSERT INTO audit_anchors (seq, hash, at, token) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (seq) DO NOTHING",
    )
    .bind(seq)
    .bind(&hash)
    .bind(now_millis())
    .bind(Base64::encode_string(token.der()))
    .execute(store.pool())
    .await?;
    Ok(Some(seq))
}

/// Anchors the head whenever `policy` says so, checking once a second, until the task
/// is dropped. Failures (the TSA down) are logged and retried at the next check.
pub async fn run_anchoring(store: Store, tsa: Arc<dyn TimestampAuthority>, policy: AnchorPolicy) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match due(&store, policy).await {
            Ok(false) => {}
            Ok(true) => match anchor(&store, tsa.as_ref()).await {
                Ok(Some(seq)) => tracing::info!(record = seq, "audit head time-stamped"),
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "audit anchor failed; retrying"),
            },
            Err(e) => tracing::warn!(error = %e, "audit anchor check failed"),
        }
    }
}

/// Whether the head should be anchored now.
async fn due(store: &Store, policy: AnchorPolicy) -> Result<bool, ServiceError> {
    let head = sqlx::query("SELECT seq FROM audit_head WHERE id = 1")
        .fetch_one(store.pool())
        .await?;
    let seq = int(&head, "seq")?;
    let last = sqlx::query("SELECT seq, at FROM audit_anchors ORDER BY seq DESC LIMIT 1")
        .fetch_optional(store.pool())
        .await?;
    let (last_seq, last_at) = match &last {
        Some(row) => (int(row, "seq")?, int(row, "at")?),
        None => (0, 0),
    };
    if seq <= last_seq {
        return Ok(false);
    }
    let new = u64::try_from(seq - last_seq).unwrap_or(0);
    let waited = u64::try_from((now_millis() - last_at) / 1000).unwrap_or(0);
    Ok((policy.every_records > 0 && new >= policy.every_records)
        || (policy.every_seconds > 0 && waited >= policy.every_seconds))
}
