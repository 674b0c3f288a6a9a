//! `cityguide`: the tool a city's culture department uses to build and check its content pack, and developers use
//! to look inside packs.
//!
//! Every command prints what a person needs on stdout, problems on stderr, and exits non-zero when something is
//! wrong, so it works the same from a terminal and from a script.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use cityguide_core::pack::PackFile;
use cityguide_publisher::build::{BuildOptions, build_pack};
use cityguide_publisher::export::places_geojson;
use clap::{Args, Parser, Subcommand};

mod demo;
mod explore;
mod import;
mod inspect;
mod progress;
mod publish;
mod report;

/// cityguide — build, check and explore offline city guide content packs.
///
/// A content pack holds a city's places, texts in many languages, tours and accessibility information. Build it
/// from the spreadsheet (CSV) and GIS (GeoJSON) files in a source folder, check it, and publish it.
#[derive(Parser)]
#[command(name = "cityguide", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build, inspect, verify and export content packs.
    #[command(subcommand)]
    Pack(PackCommand),
    /// Import sources from other data: an OpenStreetMap extract.
    #[command(subcommand)]
    Import(import::ImportCommand),
    /// Simulate a phone: install packs and ask what the app asks (nearby, search, places, tours, walks, favourites).
    Explore(explore::ExploreArgs),
    /// Create a publisher signing key (Ed25519); prints the public key the apps embed.
    Keygen {
        /// Where to write the key, e.g. publisher.key. Keep it secret.
        #[arg(short, long)]
        output: PathBuf,
        /// Replace an existing key file.
        #[arg(long)]
        force: bool,
    },
    /// Build a city's pack and publish it to a site: compressed pack, deltas from earlier versions, signed catalog.
    Publish {
        /// Folder with the sources, e.g. data/varna.
        #[arg(long)]
        source: PathBuf,
        /// The site directory (plain files for any static host or CDN).
        #[arg(long)]
        site: PathBuf,
        /// The signing key from `cityguide keygen`.
        #[arg(long)]
        key: PathBuf,
        /// How long phones may trust this catalog without a newer one, e.g. 30d, 12h.
        #[arg(long, default_value = "30d")]
        expires: String,
        /// A new public key (ed25519:...) to endorse with this key, for a key rotation; repeatable.
        #[arg(long = "endorse-key")]
        endorse_key: Vec<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Serve a published site over HTTP (with byte ranges) for development and tests; production runs `server`.
    Serve {
        /// The site directory written by `cityguide publish`.
        site: PathBuf,
        /// Address to listen on; port 0 picks a free port.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
        /// Allow listening on an address other than loopback.
        #[arg(long)]
        public: bool,
        /// Also accept citizen feedback and consultation ballots (POST), stored in this SQLite file.
        #[arg(long)]
        feedback_db: Option<PathBuf>,
        /// A city's pack whose consultations the server accepts ballots for; repeatable (needs --feedback-db).
        #[arg(long = "pack", requires = "feedback_db")]
        packs: Vec<PathBuf>,
        /// Reports one installation may send per hour.
        #[arg(long, default_value_t = 20, requires = "feedback_db")]
        reports_per_hour: u32,
        /// Ballots one installation may send per hour.
        #[arg(long, default_value_t = 30, requires = "feedback_db")]
        ballots_per_hour: u32,
    },
    /// The city's server: the site, the phone's endpoints, Open311, the offices' web inbox, delivery to offices'
    /// own systems; PostgreSQL or embedded SQLite (see docs/feedback.md).
    Server {
        /// The server's configuration, e.g. city.toml.
        #[arg(long)]
        config: PathBuf,
        #[command(subcommand)]
        action: Option<ServerAction>,
    },
    /// The city's side of citizen feedback: each office's queue of reports.
    #[command(subcommand)]
    Feedback(FeedbackCommand),
    /// The city's side of consultations: the tally.
    #[command(subcommand)]
    Consultations(ConsultationsCommand),
    /// Build the Varna pack, install it on a fresh simulated phone and walk a visitor through the city.
    Demo {
        /// The city's sources.
        #[arg(long, default_value = "data/varna")]
        source: PathBuf,
        /// Keep the simulated phone here instead of a temporary directory.
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum ServerAction {
    /// Apply the database migrations and exit.
    Migrate,
    /// Create a person for the web inbox, or change one; the password is read from $CITYGUIDE_PASSWORD or the first
    /// line of standard input.
    User {
        /// Sign-in name.
        name: String,
        /// admin (manages offices, routes, keys, people) or staff (sees one office's reports).
        #[arg(long, default_value = "staff", value_parser = ["admin", "staff"])]
        role: String,
        /// The office a staff member works for, exactly as named in the pack's feedback.csv.
        #[arg(long)]
        office: Option<String>,
        /// Language of the inbox.
        #[arg(long, default_value = "bg", value_parser = ["bg", "en"])]
        lang: String,
    },
    /// Create an Open311 API key and print it (shown once): for a client app, or with --office for that office's
    /// own system (it may post status updates for the office's reports).
    Key {
        /// Who holds the key.
        name: String,
        /// The office whose system holds it.
        #[arg(long)]
        office: Option<String>,
    },
    /// Set how an office receives its reports: the web inbox only, e-mail, or Open311 to its own system.
    Office {
        /// The office, exactly as named in the pack's feedback.csv.
        name: String,
        /// inbox, email or open311.
        #[arg(long, default_value = "inbox", value_parser = ["inbox", "email", "open311"])]
        delivery: String,
        /// E-mail address (delivery email).
        #[arg(long)]
        email: Option<String>,
        /// The office system's Open311 base URL (delivery open311).
        #[arg(long)]
        endpoint: Option<String>,
        /// The API key their system gave us.
        #[arg(long)]
        endpoint_api_key: Option<String>,
        /// Their jurisdiction_id.
        #[arg(long)]
        endpoint_jurisdiction: Option<String>,
        /// Our service codes mapped to theirs, JSON, e.g. '{"damage": "POT"}'.
        #[arg(long, default_value = "{}")]
        service_map: String,
    },
}

#[derive(Subcommand)]
enum FeedbackCommand {
    /// Print the reports one office received, oldest first.
    Export {
        /// The inbox database: a SQLite file or a postgres:// URL.
        #[arg(long)]
        db: String,
        /// The office, exactly as named in the pack's feedback.csv.
        #[arg(long)]
        office: String,
        /// Only reports received on or after this date (YYYY-MM-DD, UTC) or time (RFC 3339).
        #[arg(long)]
        since: Option<String>,
        /// Print CSV.
        #[arg(long, conflicts_with = "json", required_unless_present = "json")]
        csv: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ConsultationsCommand {
    /// Count the ballots of every consultation the server knows (one per installation, the latest choice).
    Results {
        /// The inbox database: a SQLite file or a postgres:// URL.
        #[arg(long)]
        db: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum PackCommand {
    /// Build a pack from a source folder (city.toml, categories.csv, places.csv, texts/, tours...).
    ///
    /// Every problem in the sources is listed as FILE:LINE:COLUMN: what is wrong and how to fix it. Nothing is
    /// written unless all errors are fixed; warnings do not stop the build.
    Build(BuildArgs),
    /// Show what a pack contains: city, version, counts, languages and how complete each one is.
    Inspect {
        /// The pack file.
        file: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Check that a pack file is complete and valid (exit 0), or say why not (exit 1).
    Verify {
        /// The pack file.
        file: PathBuf,
    },
    /// What the content still lacks: texts per language, hours, accessibility, alt text, Wikidata, odd positions,
    /// tour gaps.
    Report {
        /// A source folder (with city.toml) or a pack file.
        path: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Write one self-contained HTML page showing the pack on a map, with filters, place cards and the report.
    ///
    /// Open it in any browser; it needs no network.
    Preview {
        /// The pack file.
        file: PathBuf,
        /// The HTML file to write, e.g. preview.html.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Export a pack's places as open data.
    Export {
        /// The pack file.
        file: PathBuf,
        /// Write GeoJSON (the only format for now).
        #[arg(long, required = true)]
        geojson: bool,
        /// Write to this file instead of the terminal.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
}

#[derive(Args)]
struct BuildArgs {
    /// Folder with the sources, e.g. data/varna.
    source: PathBuf,
    /// Where to write the pack, e.g. varna.pack.
    #[arg(short, long)]
    output: PathBuf,
    /// Content version to write instead of the one in city.toml.
    #[arg(long = "content-version")]
    content_version: Option<u64>,
}

/// Parses `--since`: a date (midnight UTC) or an RFC 3339 time.
fn parse_since(s: &str) -> Result<i64, String> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.timestamp());
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp())
        .ok_or_else(|| format!("--since {s:?} is not a date like 2027-01-31 or a time like 2027-01-31T08:00:00Z"))
}

/// Opens an existing inbox: a SQLite file that must exist, or a PostgreSQL URL.
fn open_inbox(db: &str) -> Result<cityguide_server::db::Db, String> {
    if !db.starts_with("postgres") {
        let path = db.strip_prefix("sqlite:").unwrap_or(db);
        if !Path::new(path).is_file() {
            return Err(format!("{path} does not exist; it is the server's database (database.url in city.toml)"));
        }
    }
    cityguide_server::db::Db::open(db, 1).map_err(|e| e.to_string())
}

/// A report as exported: times in RFC 3339.
fn export_row(r: &cityguide_server::store::Report) -> serde_json::Value {
    let mut v = serde_json::to_value(r).unwrap_or_default();
    for k in ["received_at", "created_at", "updated_at"] {
        if let Some(t) = v.get(k).and_then(|t| t.as_i64()) {
            v[k] = serde_json::Value::from(cityguide_server::store::rfc3339(t));
        }
    }
    v
}

const EXPORT_COLUMNS: [&str; 22] = [
    "reference",
    "key",
    "source",
    "received_at",
    "city_id",
    "office",
    "category",
    "place_id",
    "place_name",
    "address",
    "text",
    "rating",
    "photo",
    "contact",
    "lat",
    "lon",
    "accuracy_m",
    "lang",
    "public",
    "status",
    "public_reply",
    "duplicate_of",
];

fn feedback_export(db: &str, office: &str, since: Option<&str>, json: bool) -> Result<(), String> {
    use cityguide_server::store;
    let since = since.map(parse_since).transpose()?;
    let inbox = open_inbox(db)?;
    let f = store::Filter { office: Some(office.to_owned()), from: since, ..store::Filter::default() };
    let rows = inbox.run_blocking(|c| store::list_reports(c, &f)).map_err(|e| e.to_string())?;
    if rows.is_empty() {
        let offices = inbox.run_blocking(|c| store::status_counts(c, None).and_then(|_| store::offices(c)));
        if let Ok(offices) = offices
            && !offices.is_empty()
            && !offices.iter().any(|o| o.name == office)
        {
            let known: Vec<String> = offices.iter().map(|o| o.name.clone()).collect();
            eprintln!("no reports for office {office:?}; the offices are: {}", known.join(", "));
        }
    }
    let values: Vec<serde_json::Value> = rows.iter().map(export_row).collect();
    let mut out = std::io::stdout().lock();
    if json {
        let text = serde_json::to_string_pretty(&values).map_err(|e| e.to_string())?;
        writeln!(out, "{text}").map_err(|e| e.to_string())?;
        return Ok(());
    }
    let mut w = csv::Writer::from_writer(out);
    w.write_record(EXPORT_COLUMNS).map_err(|e| e.to_string())?;
    for v in &values {
        let cells = EXPORT_COLUMNS.map(|k| match &v[k] {
            serde_json::Value::Null => String::new(),
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        });
        w.write_record(cells).map_err(|e| e.to_string())?;
    }
    w.flush().map_err(|e| e.to_string())
}

fn consultation_results(db: &str, json: bool) -> Result<(), String> {
    let inbox = open_inbox(db)?;
    let now = chrono::Utc::now().timestamp();
    let tallies = inbox.run_blocking(|c| cityguide_server::store::results(c, now)).map_err(|e| e.to_string())?;
    if json {
        println!("{}", serde_json::to_string_pretty(&tallies).map_err(|e| e.to_string())?);
        return Ok(());
    }
    for t in &tallies {
        println!("{}/{} ({}, {} to {}): {} ballot(s)", t.city_id, t.id, t.phase, t.opens, t.closes, t.ballots);
        for o in &t.options {
            let cost = if o.cost > 0 {
                format!("  cost {}{}", o.cost, if o.funded { ", funded" } else { "" })
            } else {
                String::new()
            };
            println!("  {:>6}  {}{cost}", o.ballots, o.option);
        }
    }
    Ok(())
}

fn server(config: &Path, action: Option<ServerAction>) -> Result<(), String> {
    use cityguide_server::{auth, store};
    let cfg = cityguide_server::Config::load(config)?;
    cityguide_server::app::init_logs(cfg.server.json_logs);
    let now = chrono::Utc::now().timestamp();
    let Some(action) = action else {
        let site = cfg.server.site.clone();
        let db = cfg.database.url.clone();
        let server = cityguide_server::Background::start(cfg, true)?;
        println!(
            "listening on http://{}/ (database {}, site {})",
            server.addr,
            if db.starts_with("postgres") { "PostgreSQL" } else { db.as_str() },
            site.map_or("none".into(), |s| s.display().to_string())
        );
        println!(
            "office inbox: http://{}/inbox/   Open311: http://{}/open311/v2/discovery.json",
            server.addr, server.addr
        );
        let _ = std::io::stdout().flush();
        server.join();
        return Ok(());
    };
    let (db, _) = cityguide_server::app::open(&cfg)?;
    match action {
        ServerAction::Migrate => {
            println!("the database is up to date ({} migrations)", cityguide_server::db::MIGRATIONS.len());
            Ok(())
        }
        ServerAction::User { name, role, office, lang } => {
            let password = match std::env::var("CITYGUIDE_PASSWORD") {
                Ok(p) if !p.is_empty() => p,
                _ => {
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line).map_err(|e| e.to_string())?;
                    line.trim_end_matches(['\r', '\n']).to_owned()
                }
            };
            db.run_blocking(|c| auth::save_user(c, &name, &password, &role, office.as_deref(), &lang, now))
                .map_err(|e| e.to_string())?;
            println!("saved {role} {name}{}", office.map(|o| format!(" of {o}")).unwrap_or_default());
            Ok(())
        }
        ServerAction::Key { name, office } => {
            let secret = db
                .run_blocking(|c| store::create_api_key(c, &name, office.as_deref(), now))
                .map_err(|e| e.to_string())?;
            println!("{secret}");
            eprintln!("API key {name:?} created; it is shown only now");
            Ok(())
        }
        ServerAction::Office {
            name,
            delivery,
            email,
            endpoint,
            endpoint_api_key,
            endpoint_jurisdiction,
            service_map,
        } => {
            let o = store::Office {
                name: name.clone(),
                delivery,
                email,
                endpoint,
                endpoint_api_key,
                endpoint_jurisdiction,
                service_map,
            };
            db.run_blocking(|c| store::save_office(c, &o, now)).map_err(|e| e.to_string())?;
            println!("saved office {name} (delivery {})", o.delivery);
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    restore_default_sigpipe();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("error: {msg}");
            ExitCode::FAILURE
        }
    }
}

/// A command piped into `head` stops quietly when `head` has read enough, as command-line tools do. Rust ignores
/// SIGPIPE by default, which turns the closed pipe into a panic in `println!`; the default action ends the process.
fn restore_default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in `main`, before any other thread exists; setting a signal's disposition to its
    // default has no other effect on the process.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn run(cli: Cli) -> Result<ExitCode, String> {
    match cli.command {
        Command::Keygen { output, force } => publish::keygen(&output, force).map(|()| ExitCode::SUCCESS),
        Command::Publish { source, site, key, expires, endorse_key, json } => {
            let expires = publish::parse_duration(&expires)?;
            let spin = progress::spinner(json, "building, computing deltas and signing...");
            let p = publish::publish(&source, &site, &key, &endorse_key, expires, chrono::Utc::now().timestamp());
            spin.finish_and_clear();
            let p = p?;
            if json {
                println!("{}", serde_json::to_string_pretty(&p).map_err(|e| e.to_string())?);
            } else {
                println!(
                    "published {} version {}{} in catalog {} ({} bytes compressed; deltas: {})",
                    p.city_id,
                    p.version,
                    if p.new_version { "" } else { " (unchanged, catalog re-signed)" },
                    p.catalog_version,
                    p.compressed_size,
                    if p.deltas.is_empty() {
                        "none".to_owned()
                    } else {
                        p.deltas.iter().map(|(v, n)| format!("from {v}: {n} bytes")).collect::<Vec<_>>().join(", ")
                    }
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve { site, addr, public, feedback_db, packs, reports_per_hour, ballots_per_hour } => {
            let o = cityguide_server::serve::ServeOptions {
                site,
                addr,
                public,
                feedback_db,
                packs,
                reports_per_hour,
                ballots_per_hour,
            };
            cityguide_server::serve::run(&o).map(|()| ExitCode::SUCCESS)
        }
        Command::Server { config, action } => server(&config, action).map(|()| ExitCode::SUCCESS),
        Command::Feedback(FeedbackCommand::Export { db, office, since, csv: _, json }) => {
            feedback_export(&db, &office, since.as_deref(), json).map(|()| ExitCode::SUCCESS)
        }
        Command::Consultations(ConsultationsCommand::Results { db, json }) => {
            consultation_results(&db, json).map(|()| ExitCode::SUCCESS)
        }
        Command::Import(cmd) => import::run(cmd).map(|()| ExitCode::SUCCESS),
        Command::Explore(args) => explore::run(args).map(|()| ExitCode::SUCCESS),
        Command::Demo { source, data_dir } => demo::run(&source, data_dir.as_deref()).map(|()| ExitCode::SUCCESS),
        Command::Pack(PackCommand::Build(args)) => build(&args),
        Command::Pack(PackCommand::Inspect { file, json }) => {
            let pack = open(&file)?;
            inspect::print(&pack, json)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Pack(PackCommand::Verify { file }) => match PackFile::open(&file) {
            Ok(pack) => {
                let m = pack.info();
                println!("{}: valid pack of {} version {}", file.display(), m.city_id, m.version);
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                eprintln!("{}: {e}", file.display());
                Ok(ExitCode::FAILURE)
            }
        },
        Command::Pack(PackCommand::Report { path, json }) => report::run(&path, json).map(|()| ExitCode::SUCCESS),
        Command::Pack(PackCommand::Preview { file, output }) => {
            let pack = open(&file)?;
            let html = cityguide_publisher::preview::html(&pack.to_content())?;
            write_atomic(&output, html.as_bytes())?;
            println!("wrote {} ({} bytes); open it in a browser", output.display(), html.len());
            Ok(ExitCode::SUCCESS)
        }
        Command::Pack(PackCommand::Export { file, geojson: _, output }) => {
            let pack = open(&file)?;
            let fc = places_geojson(&pack.to_content());
            let text = serde_json::to_string_pretty(&fc).map_err(|e| e.to_string())? + "\n";
            match output {
                Some(path) => write_atomic(&path, text.as_bytes())?,
                None => std::io::stdout().write_all(text.as_bytes()).map_err(|e| e.to_string())?,
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn open(file: &Path) -> Result<PackFile, String> {
    PackFile::open(file).map_err(|e| format!("{}: {e}", file.display()))
}

fn build(args: &BuildArgs) -> Result<ExitCode, String> {
    let opts = BuildOptions { version: args.content_version, created: None };
    let spin = progress::spinner(false, "reading and checking the sources...");
    let result = build_pack(&args.source, &opts);
    spin.finish_and_clear();
    match result {
        Ok(built) => {
            for w in &built.warnings {
                eprintln!("{}", prefixed(&args.source, w));
            }
            write_atomic(&args.output, &built.bytes)?;
            let c = &built.content;
            println!(
                "built {}: {} version {}, {} places, {} tours, {} categories, languages {}, {} bytes{}",
                args.output.display(),
                c.meta.city_id,
                c.meta.version,
                c.places.len(),
                c.tours.len(),
                c.categories.len(),
                c.meta.languages.join(","),
                built.bytes.len(),
                match built.warnings.len() {
                    0 => String::new(),
                    n => format!(" ({n} warnings)"),
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(failed) => {
            for d in &failed.diagnostics {
                eprintln!("{}", prefixed(&args.source, d));
            }
            let n = failed.errors().count();
            eprintln!("{n} error(s): nothing was written. Fix the problems above and build again.");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// A diagnostic with its file given relative to the current directory, so editors can jump to it.
fn prefixed(source: &Path, d: &cityguide_publisher::build::Diagnostic) -> String {
    let mut d = d.clone();
    let joined = source.join(&d.file);
    if joined.exists() || !Path::new(&d.file).is_absolute() {
        d.file = joined.display().to_string();
    }
    d.to_string()
}

/// Writes through a temporary file and a rename, so a failed or interrupted write never leaves half a file.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().ok_or_else(|| format!("{} is not a file name", path.display()))?;
    let tmp = dir.join(format!(".{}.tmp{}", name.to_string_lossy(), std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot write {}: {e}", path.display())
    })
}
