//! Where the service keeps its state: SQLite in the data directory by default, or
//! PostgreSQL for several nodes, through one sqlx `Any` pool and one set of migrations
//! (run at every start, for both).

use crate::ServiceError;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};
use std::path::Path;

/// The database behind a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Backend {
    /// One SQLite file (the embedded default).
    Sqlite,
    /// A PostgreSQL server, shared by several nodes.
    Postgres,
}

/// The connection pool and its backend.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

/// Milliseconds since the Unix epoch, as stored.
pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()
        .and_then(|d| i64::try_from(d.as_millis()).ok())
        .unwrap_or(0)
}

impl Store {
    /// Connects to `url` (`sqlite://…` or `postgres://…`) and runs the migrations.
    pub async fn connect(url: &str) -> Result<Self, ServiceError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(ServiceError::Config(format!(
                "database URL must start with sqlite: or postgres:// (got {})",
                url.split(':').next().unwrap_or("")
            )));
        };
        let mut options = AnyPoolOptions::new()
            .max_connections(match backend {
                // One writer at a time in SQLite: a small pool avoids lock contention.
                Backend::Sqlite => 4,
                Backend::Postgres => 16,
            })
            // No ping before each use (a round trip per transaction): a connection
            // that died fails its query, and the pool replaces it.
            .test_before_acquire(false)
            // While the database is unreachable (a restart, a network cut) a call
            // waits this long for a connection, then fails with 503 instead of hanging
            // for the pool's default 30 s; the pool reconnects by itself afterwards.
            .acquire_timeout(std::time::Duration::from_secs(5))
            // A connection given back inside a transaction was left by an error (a
            // full disk, a cut connection): its rollback may fail and leave SQLite's
            // write lock held, blocking every other connection. Close it instead; the
            // database rolls back what it held.
            .after_release(|conn, _| {
                use sqlx::Connection;
                let clean = !conn.is_in_transaction();
                Box::pin(async move { Ok(clean) })
            });
        if backend == Backend::Sqlite {
            options = options.after_connect(|conn, _| {
                Box::pin(async move {
                    // WAL lets readers go on while one transaction writes; wait for the
                    // write lock instead of failing at once.
                    sqlx::query("PRAGMA journal_mode = WAL")
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query("PRAGMA busy_timeout = 10000")
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query("PRAGMA synchronous = FULL")
                        .execute(&mut *conn)
                        .await?;
                    Ok(())
                })
            });
        }
        let pool = options.connect(url).await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Self { pool, backend })
    }

    /// The SQLite database in `data_dir` (created if missing).
    pub async fn open_data_dir(data_dir: &Path) -> Result<Self, ServiceError> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            ServiceError::Config(format!("{}: cannot create: {e}", data_dir.display()))
        })?;
        let path = data_dir.join("shomei.db");
        Self::connect(&format!("sqlite://{}?mode=rwc", path.display())).await
    }

    /// The pool.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }
}

/// A text column of `row`.
pub(crate) fn text(row: &AnyRow, column: &str) -> Result<String, ServiceError> {
    Ok(row.try_get::<String, _>(column)?)
}

/// An integer column of `row`.
pub(crate) fn int(row: &AnyRow, column: &str) -> Result<i64, ServiceError> {
    Ok(row.try_get::<i64, _>(column)?)
}
