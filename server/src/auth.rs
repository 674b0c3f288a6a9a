//! People who sign in to the office inbox: Argon2id password hashes, sessions, CSRF tokens and lockout.
//!
//! Why this shape: the inbox is used by a handful of staff per office, so a server-side session table (a random
//! token in an `HttpOnly`, `SameSite=Strict` cookie, only its SHA-256 stored) is simpler to reason about and to
//! revoke than signed tokens. Every form carries the session's CSRF token, checked on every POST. After
//! [`MAX_FAILURES`] wrong passwords in a row an account is locked for [`LOCKOUT_S`] seconds, whatever password comes
//! next, so guessing is slow even from many addresses.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use serde::Serialize;

use crate::db::{Conn, DbError};
use crate::store::{InboxError, random_hex, refuse, sha256_hex};

/// Wrong passwords in a row before the account is locked.
pub const MAX_FAILURES: i64 = 5;
/// How long a lockout lasts, seconds.
pub const LOCKOUT_S: i64 = 15 * 60;
/// How long a session lasts, seconds.
pub const SESSION_S: i64 = 8 * 3600;
/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// Argon2id with OWASP's second recommended setting (19 MiB, 2 passes, 1 lane).
fn argon() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password (PHC string with its salt and parameters).
pub fn hash_password(password: &str) -> Result<String, InboxError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| InboxError::Refused(500, format!("no random numbers: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| InboxError::Refused(500, e.to_string()))?;
    argon()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| InboxError::Refused(500, e.to_string()))
}

/// Whether `password` matches a stored hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| argon().verify_password(password.as_bytes(), &h).is_ok())
}

/// Someone who may sign in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// Sign-in name.
    pub name: String,
    /// `admin` or `staff`.
    pub role: String,
    /// The office a staff member works for.
    pub office: Option<String>,
    /// Preferred language of the inbox (`bg` or `en`).
    pub lang: String,
}

impl User {
    /// Whether this is an administrator.
    pub fn is_admin(&self) -> bool {
        self.role == "admin"
    }

    /// Whether this person may see and change a report of `office`.
    pub fn may_handle(&self, office: &str) -> bool {
        self.is_admin() || self.office.as_deref() == Some(office)
    }
}

/// Creates a person, or changes the password, role and office of an existing one.
pub fn save_user(
    c: &mut dyn Conn,
    name: &str,
    password: &str,
    role: &str,
    office: Option<&str>,
    lang: &str,
    now: i64,
) -> Result<(), InboxError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(|ch| ch.is_control() || ch.is_whitespace()) {
        return refuse(400, "a user name is 1 to 64 characters without spaces");
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return refuse(400, format!("a password needs at least {MIN_PASSWORD_CHARS} characters"));
    }
    match (role, office) {
        ("admin", _) => {}
        ("staff", Some(o)) if !o.trim().is_empty() => {}
        ("staff", _) => return refuse(400, "a staff member needs an office"),
        (other, _) => return refuse(400, format!("role {other:?} is not admin or staff")),
    }
    if !matches!(lang, "bg" | "en") {
        return refuse(400, "the inbox speaks bg and en");
    }
    let hash = hash_password(password)?;
    let office = if role == "admin" { None } else { office.map(str::trim) };
    c.transaction(|c| {
        if let Some(o) = office {
            c.execute(
                "INSERT INTO offices (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
                &[o.into(), now.into()],
            )?;
        }
        c.execute(
            "INSERT INTO users (name, password_hash, role, office, lang, failed_logins, locked_until, created_at)
             VALUES ($1, $2, $3, $4, $5, 0, 0, $6)
             ON CONFLICT (name) DO UPDATE SET password_hash = $2, role = $3, office = $4, lang = $5,
                failed_logins = 0, locked_until = 0",
            &[name.into(), hash.into(), role.into(), office.into(), lang.into(), now.into()],
        )?;
        // A changed password or role ends the person's sessions.
        c.execute("DELETE FROM sessions WHERE user_name = $1", &[name.into()])?;
        Ok(())
    })
}

/// Every person (without hashes).
pub fn users(c: &mut dyn Conn) -> Result<Vec<User>, DbError> {
    let rows = c.query("SELECT name, role, office, lang FROM users ORDER BY name", &[])?;
    Ok(rows.iter().map(|r| User { name: r.s(0), role: r.s(1), office: r.os(2), lang: r.s(3) }).collect())
}

/// What a sign-in came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Login {
    /// Signed in: the cookie token (secret) and the CSRF token.
    Ok {
        /// Put in the session cookie.
        token: String,
        /// Put in every form.
        csrf: String,
        /// Who.
        user: User,
    },
    /// Wrong name or password (the two are not told apart).
    Wrong,
    /// Too many failures: locked until this time.
    Locked(i64),
}

/// Checks a name and password; counts failures and locks the account after [`MAX_FAILURES`].
pub fn login(c: &mut dyn Conn, name: &str, password: &str, now: i64) -> Result<Login, DbError> {
    let row = c.one(
        "SELECT password_hash, role, office, lang, failed_logins, locked_until FROM users WHERE name = $1",
        &[name.into()],
    )?;
    let Some(row) = row else {
        // Spend the same time as a real check, so names cannot be told from timing.
        let _ = verify_password(
            password,
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        );
        return Ok(Login::Wrong);
    };
    if row.i(5) > now {
        return Ok(Login::Locked(row.i(5)));
    }
    if !verify_password(password, &row.s(0)) {
        let failed = row.i(4) + 1;
        let locked_until = if failed >= MAX_FAILURES { now + LOCKOUT_S } else { 0 };
        c.execute(
            "UPDATE users SET failed_logins = $2, locked_until = $3 WHERE name = $1",
            &[name.into(), (if locked_until > 0 { 0 } else { failed }).into(), locked_until.into()],
        )?;
        return Ok(if locked_until > 0 { Login::Locked(locked_until) } else { Login::Wrong });
    }
    let token = random_hex(32);
    let csrf = random_hex(16);
    c.execute("UPDATE users SET failed_logins = 0, locked_until = 0 WHERE name = $1", &[name.into()])?;
    c.execute("DELETE FROM sessions WHERE expires_at < $1", &[now.into()])?;
    c.execute(
        "INSERT INTO sessions (token_hash, user_name, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        &[sha256_hex(&token).into(), name.into(), csrf.as_str().into(), now.into(), (now + SESSION_S).into()],
    )?;
    let user = User { name: name.to_owned(), role: row.s(1), office: row.os(2), lang: row.s(3) };
    Ok(Login::Ok { token, csrf, user })
}

/// The person and CSRF token of a live session.
pub fn session(c: &mut dyn Conn, token: &str, now: i64) -> Result<Option<(User, String)>, DbError> {
    let row = c.one(
        "SELECT u.name, u.role, u.office, u.lang, s.csrf FROM sessions s JOIN users u ON u.name = s.user_name
         WHERE s.token_hash = $1 AND s.expires_at > $2",
        &[sha256_hex(token).into(), now.into()],
    )?;
    Ok(row.map(|r| (User { name: r.s(0), role: r.s(1), office: r.os(2), lang: r.s(3) }, r.s(4))))
}

/// Ends a session.
pub fn logout(c: &mut dyn Conn, token: &str) -> Result<(), DbError> {
    c.execute("DELETE FROM sessions WHERE token_hash = $1", &[sha256_hex(token).into()])?;
    Ok(())
}

/// Compares two secrets in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_argon2id_and_verify() {
        let h = hash_password("correct horse battery").expect("hash");
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterY", &h));
        assert!(!verify_password("x", "not a hash"));
        assert!(same_secret("abc", "abc") && !same_secret("abc", "abd") && !same_secret("abc", "ab"));
    }
}
