//! `cityguide serve`: the development server, now a thin preset of the real one ([`crate::app`]): the site, and
//! with `--feedback-db FILE` the phone's endpoints on an embedded SQLite inbox, on loopback unless `--public`.
//! Production uses `cityguide server --config city.toml` (see docs/feedback.md).

use std::path::PathBuf;

use crate::config::Config;

/// Flags of `cityguide serve`.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The site directory.
    pub site: PathBuf,
    /// Address to listen on.
    pub addr: String,
    /// Allow a non-loopback address.
    pub public: bool,
    /// The inbox database, if reports and ballots are accepted.
    pub feedback_db: Option<PathBuf>,
    /// Packs whose consultations accept ballots.
    pub packs: Vec<PathBuf>,
    /// Reports per installation per hour.
    pub reports_per_hour: u32,
    /// Ballots per installation per hour.
    pub ballots_per_hour: u32,
}

/// The configuration `serve` runs with.
pub fn config(o: &ServeOptions) -> Result<Config, String> {
    if !o.site.is_dir() {
        return Err(format!("{} is not a directory; publish a site first (cityguide publish)", o.site.display()));
    }
    let mut c = Config::default();
    c.server.listen = o.addr.clone();
    c.server.public = o.public;
    c.server.site = Some(o.site.clone());
    c.server.secure_cookies = false;
    c.city.packs = o.packs.clone();
    c.limits.reports_per_hour = o.reports_per_hour;
    c.limits.ballots_per_hour = o.ballots_per_hour;
    // Without --feedback-db the endpoints still answer, on an in-memory database that leaves nothing behind.
    c.database.url = match &o.feedback_db {
        Some(db) => format!("sqlite:{}", db.display()),
        None => "sqlite::memory:".into(),
    };
    c.check()?;
    Ok(c)
}

/// Runs until Ctrl-C or SIGTERM; prints the URL first (`serving SITE on http://ADDR/`).
pub fn run(o: &ServeOptions) -> Result<(), String> {
    let config = config(o)?;
    let site = o.site.clone();
    let server = crate::app::Background::start(config, true)?;
    println!("serving {} on http://{}/", site.display(), server.addr);
    if o.feedback_db.is_some() {
        println!(
            "accepting feedback on http://{0}/v1/feedback, ballots on http://{0}/v1/ballots, status on http://{0}/v1/status",
            server.addr
        );
    }
    use std::io::Write;
    let _ = std::io::stdout().flush();
    server.join();
    Ok(())
}
