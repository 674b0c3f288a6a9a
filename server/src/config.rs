//! `city.toml`: everything a city sets to run its server, with defaults that are safe on one machine (loopback,
//! embedded SQLite). Unknown keys are refused, so a typo is an error rather than a silently ignored setting.
//!
//! ```toml
//! [server]
//! listen = "127.0.0.1:8080"        # a reverse proxy with TLS in front; `public = true` to listen beyond loopback
//! site = "site"                    # the published site (catalog, packs, deltas, basemaps), optional
//!
//! [database]
//! url = "sqlite:inbox.db"          # or postgres://cityguide@127.0.0.1:5432/cityguide
//!
//! [city]
//! reference_prefix = "VAR"         # readable references VAR-2027-000123
//! jurisdiction_id = "varna.bg"
//! packs = ["site/varna.pack"]      # consultations, routes and services come from the city's packs
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::store::Rules;

/// The whole file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// HTTP.
    pub server: ServerSection,
    /// Storage.
    pub database: DatabaseSection,
    /// The city.
    pub city: CitySection,
    /// Abuse limits and ballot timing.
    pub limits: LimitsSection,
    /// Delivery to offices' own systems.
    pub delivery: DeliverySection,
}

/// `[server]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSection {
    /// Address to listen on.
    pub listen: String,
    /// Allow a non-loopback address.
    pub public: bool,
    /// The published site directory to serve, if any.
    pub site: Option<PathBuf>,
    /// Largest request body, bytes (the phone's JSON is capped lower, at 16 KiB).
    pub max_body_bytes: usize,
    /// Requests handled at once; more wait (health, readiness and metrics are never held back).
    pub max_concurrent_requests: usize,
    /// Open connections at once; beyond that new connections wait in the kernel's backlog.
    pub max_connections: usize,
    /// A request (with its body) must complete within this many seconds (408 otherwise).
    pub request_timeout_s: u64,
    /// A client must send its request headers within this many seconds, or the connection is closed.
    pub header_timeout_s: u64,
    /// Mark session cookies `Secure` (leave on behind TLS; tests on plain loopback HTTP turn it off).
    pub secure_cookies: bool,
    /// Log as JSON lines instead of text.
    pub json_logs: bool,
    /// The address people and systems reach the server at (behind the proxy), e.g. `https://feedback.varna.bg`;
    /// used in Open311 discovery. Taken from the request's `Host` when absent.
    pub public_url: Option<String>,
}

impl Default for ServerSection {
    fn default() -> Self {
        ServerSection {
            listen: "127.0.0.1:8080".into(),
            public: false,
            site: None,
            max_body_bytes: 64 * 1024,
            max_concurrent_requests: 256,
            max_connections: 1024,
            request_timeout_s: 30,
            header_timeout_s: 10,
            secure_cookies: true,
            json_logs: false,
            public_url: None,
        }
    }
}

/// `[database]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSection {
    /// `sqlite:PATH` (relative to the config file) or `postgres://...`. The environment variable
    /// `CITYGUIDE_DATABASE_URL` overrides it (to keep a password out of the file).
    pub url: String,
    /// Connections in the pool.
    pub max_connections: usize,
}

impl Default for DatabaseSection {
    fn default() -> Self {
        DatabaseSection { url: "sqlite:inbox.db".into(), max_connections: 8 }
    }
}

/// `[city]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CitySection {
    /// Prefix of readable references.
    pub reference_prefix: String,
    /// Open311 jurisdiction id (requests naming another are refused).
    pub jurisdiction_id: String,
    /// Packs whose consultations, feedback routes and report kinds the server takes.
    pub packs: Vec<PathBuf>,
}

impl Default for CitySection {
    fn default() -> Self {
        CitySection { reference_prefix: "CG".into(), jurisdiction_id: "cityguide".into(), packs: Vec::new() }
    }
}

/// `[limits]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsSection {
    /// Reports per installation (or Open311 key) per hour.
    pub reports_per_hour: u32,
    /// Ballots per installation per hour.
    pub ballots_per_hour: u32,
    /// Reports per Open311 client key per hour (a client such as FixMyStreet relays many people).
    pub client_reports_per_hour: u32,
    /// Hours after a consultation closes during which ballots cast before the close still count (at most 168).
    pub ballot_grace_hours: u32,
}

impl Default for LimitsSection {
    fn default() -> Self {
        LimitsSection {
            reports_per_hour: 20,
            ballots_per_hour: 30,
            client_reports_per_hour: 2000,
            ballot_grace_hours: 48,
        }
    }
}

/// `[delivery]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeliverySection {
    /// SMTP relay host for offices that receive reports by e-mail.
    pub smtp_host: String,
    /// Its port.
    pub smtp_port: u16,
    /// The sender address.
    pub from: String,
    /// Attempts before a report goes to the dead-letter list.
    pub attempts: u32,
    /// Wait after the first failure, seconds (doubling, at most 6 hours).
    pub retry_base_s: i64,
    /// How often the worker looks for due deliveries, seconds.
    pub interval_s: u64,
}

impl Default for DeliverySection {
    fn default() -> Self {
        DeliverySection {
            smtp_host: "127.0.0.1".into(),
            smtp_port: 25,
            from: "cityguide@localhost".into(),
            attempts: 8,
            retry_base_s: 60,
            interval_s: 15,
        }
    }
}

impl Config {
    /// Reads a config file; relative paths in it are taken from the file's directory.
    pub fn load(path: &Path) -> Result<Config, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut cfg: Config = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let base = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        cfg.resolve(base);
        if let Ok(url) = std::env::var("CITYGUIDE_DATABASE_URL")
            && !url.is_empty()
        {
            cfg.database.url = url;
        }
        cfg.check()?;
        Ok(cfg)
    }

    fn resolve(&mut self, base: &Path) {
        let join = |p: &Path| if p.is_absolute() { p.to_path_buf() } else { base.join(p) };
        if let Some(s) = &self.server.site {
            self.server.site = Some(join(s));
        }
        self.city.packs = self.city.packs.iter().map(|p| join(p)).collect();
        let url = &self.database.url;
        if !url.starts_with("postgres") && url != "sqlite::memory:" {
            let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
            self.database.url = format!("sqlite:{}", join(Path::new(path)).display());
        }
    }

    /// Checks values that parse but make no sense.
    pub fn check(&self) -> Result<(), String> {
        let addr: std::net::SocketAddr = self
            .server
            .listen
            .parse()
            .map_err(|_| format!("server.listen {:?} is not an address like 127.0.0.1:8080", self.server.listen))?;
        if !addr.ip().is_loopback() && !self.server.public {
            return Err(format!(
                "server.listen {} is not a loopback address; put a reverse proxy with TLS in front and keep it on \
                 loopback, or set server.public = true",
                addr.ip()
            ));
        }
        if self.server.max_body_bytes < cityguide_core::citizen::wire::MAX_BODY_BYTES {
            return Err(format!(
                "server.max_body_bytes must be at least {} (the phone's largest request)",
                cityguide_core::citizen::wire::MAX_BODY_BYTES
            ));
        }
        let prefix = &self.city.reference_prefix;
        if prefix.is_empty()
            || prefix.len() > 8
            || !prefix.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            return Err(format!("city.reference_prefix {prefix:?} must be 1 to 8 capital letters or digits, e.g. VAR"));
        }
        if self.limits.ballot_grace_hours > 168 {
            return Err("limits.ballot_grace_hours is at most 168 (a week)".into());
        }
        if let Some(site) = &self.server.site
            && !site.is_dir()
        {
            return Err(format!("server.site {} is not a directory; publish a site first", site.display()));
        }
        Ok(())
    }

    /// The inbox rules this config sets.
    pub fn rules(&self) -> Rules {
        Rules {
            reference_prefix: self.city.reference_prefix.clone(),
            reports_per_hour: self.limits.reports_per_hour,
            ballots_per_hour: self.limits.ballots_per_hour,
            client_reports_per_hour: self.limits.client_reports_per_hour,
            ballot_grace_s: i64::from(self.limits.ballot_grace_hours) * 3600,
            delivery_attempts: self.delivery.attempts.max(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_safe_and_typos_are_refused() {
        let c: Config = toml::from_str("").expect("empty is fine");
        c.check().expect("defaults pass");
        assert!(c.server.listen.starts_with("127.0.0.1"));
        let e = toml::from_str::<Config>("[server]\nlisen = \"x\"").expect_err("typo");
        assert!(e.to_string().contains("lisen"), "{e}");
        let open: Config = toml::from_str("[server]\nlisten = \"0.0.0.0:80\"").expect("parses");
        assert!(open.check().expect_err("not loopback").contains("reverse proxy"));
        let bad: Config = toml::from_str("[city]\nreference_prefix = \"var-1\"").expect("parses");
        assert!(bad.check().is_err());
    }
}
