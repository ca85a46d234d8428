//! Sessions of the web page: a user signs in with the password and a TOTP code (two
//! factors) and gets a session token (for an `HttpOnly` cookie) and a CSRF token (for a
//! header on every request that changes something). A session ends after
//! `Policy::session_idle` seconds without a request and after `Policy::token_ttl` at
//! the latest; a request after that is refused as [`Refusal::SessionExpired`].

use serde_json::json;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::audit::{self, Event};
use crate::keystore::{random_token, secret_id};
use crate::store::{int, now_millis, text};
use crate::{Refusal, Service, ServiceError, User};

/// A new web session: both tokens go to the browser once.
#[derive(Debug)]
pub struct WebSession {
    /// The session token (the cookie's value).
    pub token: Zeroizing<String>,
    /// The CSRF token (sent back in a header).
    pub csrf: Zeroizing<String>,
    /// Seconds until the session ends at the latest.
    pub expires_in: i64,
}

impl Service {
    /// Signs in to the web page with the password and a TOTP code. A wrong code counts
    /// against the account like a wrong password; every attempt is audited.
    pub async fn web_sign_in(
        &self,
        name: &str,
        password: &str,
        otp: &str,
        client: &str,
    ) -> Result<WebSession, ServiceError> {
        let detail = json!({ "user": name, "client": client, "via": "web" });
        let user = self.check_password(name, password, &detail).await?;
        if !self.check_otp(&user, otp).await? {
            self.count_user_failure(&user).await?;
            return Err(self.refuse(name, Refusal::WrongOtp, detail).await);
        }
        self.open_web_session(&user, "password+totp", client).await
    }

    /// Opens a session for `user`, who has just proven two factors.
    pub(crate) async fn open_web_session(
        &self,
        user: &User,
        factor: &str,
        client: &str,
    ) -> Result<WebSession, ServiceError> {
        let token = random_token(32)?;
        let csrf = random_token(32)?;
        let now = now_millis();
        let expires_in = self.policy().token_ttl;
        let mut tx = self.store().pool().begin().await?;
        sqlx::query("UPDATE users SET failed_attempts = 0, locked_until = 0 WHERE id = $1")
            .bind(&user.id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO web_sessions (id, user_id, csrf, factor, created_at, last_seen, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $5, $6)",
        )
        .bind(secret_id(&token))
        .bind(&user.id)
        .bind(secret_id(&csrf))
        .bind(factor)
        .bind(now)
        .bind(now.saturating_add(expires_in.saturating_mul(1000)))
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            &Event {
                kind: "signin",
                actor: &user.name,
                detail: json!({ "client": client, "via": "web", "factor": factor }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(WebSession {
            token,
            csrf,
            expires_in,
        })
    }

    /// The user of a web session. `csrf` is required (and compared in constant time)
    /// for requests that change something. An unknown, ended or idle session is
    /// [`Refusal::SessionExpired`]; a missing or wrong CSRF token [`Refusal::BadCsrf`].
    pub async fn web_session_user(
        &self,
        token: &str,
        csrf: Option<&str>,
    ) -> Result<User, ServiceError> {
        let now = now_millis();
        let idle = self.policy().session_idle.saturating_mul(1000);
        let row = sqlx::query(
            "SELECT s.csrf, s.last_seen, s.expires_at, s.revoked, u.id, u.name, u.role, u.disabled \
             FROM web_sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1",
        )
        .bind(secret_id(token))
        .fetch_optional(self.store().pool())
        .await?;
        let Some(row) = row else {
            return Err(self.refuse("-", Refusal::SessionExpired, json!({})).await);
        };
        let user = crate::service::user_from_row(&row)?;
        let live = int(&row, "revoked")? == 0
            && int(&row, "expires_at")? > now
            && int(&row, "last_seen")?.saturating_add(idle) > now;
        if !live {
            return Err(self
                .refuse(&user.name, Refusal::SessionExpired, json!({}))
                .await);
        }
        if int(&row, "disabled")? != 0 {
            return Err(self
                .refuse(&user.name, Refusal::UserDisabled, json!({}))
                .await);
        }
        if let Some(given) = csrf {
            let stored = text(&row, "csrf")?;
            if !bool::from(secret_id(given).as_bytes().ct_eq(stored.as_bytes())) {
                return Err(self.refuse(&user.name, Refusal::BadCsrf, json!({})).await);
            }
        }
        sqlx::query("UPDATE web_sessions SET last_seen = $1 WHERE id = $2 AND last_seen < $1")
            .bind(now)
            .bind(secret_id(token))
            .execute(self.store().pool())
            .await?;
        Ok(user)
    }

    /// Ends a web session.
    pub async fn web_sign_out(&self, token: &str) -> Result<(), ServiceError> {
        let done = sqlx::query("UPDATE web_sessions SET revoked = 1 WHERE id = $1 AND revoked = 0")
            .bind(secret_id(token))
            .execute(self.store().pool())
            .await?;
        if done.rows_affected() == 1 {
            self.append_alone(&Event {
                kind: "signout",
                actor: "-",
                detail: json!({ "via": "web" }),
            })
            .await?;
        }
        Ok(())
    }
}
