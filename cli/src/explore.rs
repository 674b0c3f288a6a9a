//! `cityguide explore`: a phone simulator over a data directory, so every guide feature can be tried from a shell
//! and scripted (`--json`).

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use cityguide_core::citizen::{ConsentScope, FeedbackDraft, OutboxItem, ReportLocation};
use cityguide_core::{AccessFeature, Guide, GuideConfig, NearbyQuery, PlaceFilter, SavedPlace};
use cityguide_core::{LatLon, LocationFix, ProximityConfig, ProximityEvent, UpdateMethod, UpdateOutcome};
use clap::{Args, Subcommand};
use serde::Serialize;

/// Options shared by every explore command.
#[derive(Args)]
pub struct ExploreArgs {
    /// The simulated phone's data directory (database and packs); created if missing.
    #[arg(long, global = true, default_value = "cityguide-data")]
    data_dir: PathBuf,
    /// Reader's languages, most preferred first, e.g. "de,en".
    #[arg(long, global = true, value_delimiter = ',')]
    lang: Vec<String>,
    /// City to query (needed only when several are installed).
    #[arg(long, global = true)]
    city: Option<String>,
    /// Print JSON.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: ExploreCommand,
}

#[derive(Subcommand)]
enum ExploreCommand {
    /// Verify and install a pack file (no network).
    Install {
        /// The pack file.
        file: PathBuf,
    },
    /// List installed cities.
    Installed,
    /// Remove a city's pack (favourites and notes are kept).
    Remove {
        /// City id.
        city_id: String,
    },
    /// Places near a position, nearest first.
    Near {
        /// Latitude.
        #[arg(long, allow_hyphen_values = true)]
        lat: f64,
        /// Longitude.
        #[arg(long, allow_hyphen_values = true)]
        lon: f64,
        /// Most results.
        #[arg(long, default_value_t = 10)]
        limit: usize,
        /// Only places within this many metres.
        #[arg(long)]
        radius: Option<f64>,
        /// Only these categories (and their subcategories); repeatable.
        #[arg(long)]
        category: Vec<String>,
        /// Only places with step-free access.
        #[arg(long)]
        accessible: bool,
        /// Only places open now (or at --at).
        #[arg(long)]
        open_now: bool,
        /// The time for --open-now, RFC 3339 (default: now).
        #[arg(long)]
        at: Option<DateTime<Utc>>,
    },
    /// Search places as you type, best first.
    Search {
        /// What to look for, in any script.
        text: String,
        /// Rank places near LAT,LON higher.
        #[arg(long, value_parser = parse_latlon, allow_hyphen_values = true)]
        near: Option<LatLon>,
        /// Most results.
        #[arg(long, default_value_t = 10)]
        limit: usize,
    },
    /// Everything about one place.
    Place {
        /// Place id.
        id: String,
        /// Time for the opening status, RFC 3339 (default: now).
        #[arg(long)]
        at: Option<DateTime<Utc>>,
    },
    /// The city's walking tours.
    Tours,
    /// One tour, and the progress of a walker at a position.
    Tour {
        /// Tour id.
        id: String,
        /// The walker's position LAT,LON.
        #[arg(long, value_parser = parse_latlon, allow_hyphen_values = true)]
        at: Option<LatLon>,
        /// GPS accuracy, metres.
        #[arg(long, default_value_t = 10.0)]
        accuracy: f64,
    },
    /// Replay a track (GPX, or CSV with lat,lon[,accuracy][,time]) through the proximity tracker and print the events.
    Walk {
        /// The track file.
        track: PathBuf,
    },
    /// Check the publisher's signed catalog and update the installed city (a delta when possible).
    Sync {
        /// URL of the publisher's catalog.json.
        #[arg(long)]
        catalog: String,
        /// The publisher's public key (ed25519:...); repeatable during a key rotation.
        #[arg(long = "key", required = true)]
        keys: Vec<String>,
        /// Only check, do not download.
        #[arg(long)]
        check: bool,
    },
    /// Favourites: add, remove or list.
    Favourite {
        #[command(subcommand)]
        action: FavouriteAction,
    },
    /// Show the consent settings, or change one (all are off until turned on).
    Consent {
        #[command(subcommand)]
        action: Option<ConsentAction>,
    },
    /// Report a problem or suggest an improvement to the city office in charge (queued in the outbox).
    Feedback {
        #[command(subcommand)]
        action: FeedbackAction,
    },
    /// The outbox: reports and ballots with their status; `flush` sends what is due.
    Outbox {
        #[command(subcommand)]
        action: Option<OutboxAction>,
    },
    /// The city's consultations; `vote` records a choice (changeable while the consultation is open).
    Consultations {
        #[command(subcommand)]
        action: Option<ConsultationAction>,
    },
    /// Print everything the app keeps about its user, as JSON.
    ExportData {
        /// Write to this file instead of the terminal.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Replace the user's data with an export (checked first; a bad file changes nothing).
    ImportData {
        /// The file written by export-data.
        file: PathBuf,
    },
    /// Remove everything the app keeps about its user (installed cities stay).
    EraseData,
}

#[derive(Subcommand)]
enum ConsentAction {
    /// Turn one consent on or off.
    Set {
        /// updates, feedback or location.
        scope: ConsentScope,
        /// on or off.
        #[arg(value_parser = ["on", "off"])]
        value: String,
    },
}

#[derive(Subcommand)]
enum FeedbackAction {
    /// Queue a report; it is on disk when the command returns, and sent by `outbox flush`.
    Send {
        /// The place the report is about.
        #[arg(long)]
        place: Option<String>,
        /// accessibility, damage, cleanliness, closure, information, safety, suggestion, rating or other.
        #[arg(long)]
        category: String,
        /// What is wrong or what could be better.
        #[arg(long, default_value = "")]
        text: String,
        /// Stars (1 to 5) for --category rating.
        #[arg(long)]
        rating: Option<u8>,
        /// Attach the position given with --at (needs the location consent).
        #[arg(long, requires = "at")]
        locate: bool,
        /// The phone's position LAT,LON for --locate (a shell has no GPS).
        #[arg(long, value_parser = parse_latlon, allow_hyphen_values = true)]
        at: Option<LatLon>,
        /// How the office may answer (optional).
        #[arg(long)]
        contact: Option<String>,
        /// Reference to a photo (a URL), optional.
        #[arg(long)]
        photo: Option<String>,
        /// Allow the city to list the report publicly (Open311), without contact details.
        #[arg(long)]
        public: bool,
    },
    /// Which office would receive a report.
    Office {
        /// The place.
        #[arg(long)]
        place: Option<String>,
        /// The report kind.
        #[arg(long)]
        category: String,
    },
}

#[derive(Subcommand)]
enum OutboxAction {
    /// Send every due item to the city's server (needs the feedback consent).
    Flush {
        /// The server's base URL, e.g. http://127.0.0.1:8080/
        #[arg(long)]
        server: String,
    },
    /// What the city said about each sent report (reference, status, public reply), as last fetched; no network.
    Status,
    /// Ask the city's server where the sent reports stand (needs the feedback consent), then show them.
    Refresh {
        /// The server's base URL, e.g. http://127.0.0.1:8080/
        #[arg(long)]
        server: String,
    },
}

#[derive(Subcommand)]
enum ConsultationAction {
    /// Choose an option; a later vote replaces it until the consultation closes.
    Vote {
        /// Consultation id.
        id: String,
        /// Option id; several when the consultation allows (pick up to N, or projects within a budget).
        #[arg(required = true, num_args = 1..)]
        option: Vec<String>,
    },
}

#[derive(Subcommand)]
enum FavouriteAction {
    /// Add a place.
    Add {
        /// Place id.
        id: String,
    },
    /// Remove a place.
    Remove {
        /// Place id.
        id: String,
    },
    /// List favourites (places removed by a later pack are shown as removed).
    List,
}

fn parse_latlon(s: &str) -> Result<LatLon, String> {
    let (a, b) = s.split_once(',').ok_or("expected LAT,LON, e.g. 43.2050,27.9106")?;
    let lat: f64 = a.trim().parse().map_err(|_| format!("latitude {a:?} is not a number"))?;
    let lon: f64 = b.trim().parse().map_err(|_| format!("longitude {b:?} is not a number"))?;
    LatLon::new(lat, lon).map_err(|e| e.to_string())
}

fn print<T: Serialize>(json: bool, value: &T, text: impl FnOnce(&T) -> String) -> Result<(), String> {
    if json {
        println!("{}", serde_json::to_string_pretty(value).map_err(|e| e.to_string())?);
    } else {
        print!("{}", text(value));
    }
    Ok(())
}

fn open_guide(args: &ExploreArgs) -> Result<Guide, String> {
    let languages = if args.lang.is_empty() { vec!["en".to_owned()] } else { args.lang.clone() };
    Guide::open(GuideConfig { data_dir: args.data_dir.clone(), languages }).map_err(|e| e.to_string())
}

fn city_of(guide: &Guide, args: &ExploreArgs) -> Result<String, String> {
    if let Some(c) = &args.city {
        return Ok(c.clone());
    }
    let installed = guide.installed().map_err(|e| e.to_string())?;
    match installed.as_slice() {
        [one] => Ok(one.city_id.clone()),
        [] => Err(format!(
            "no city installed in {}; run `cityguide explore install FILE.pack` first",
            args.data_dir.display()
        )),
        many => Err(format!(
            "several cities are installed ({}); choose one with --city",
            many.iter().map(|c| c.city_id.as_str()).collect::<Vec<_>>().join(", ")
        )),
    }
}

fn lines<T>(items: &[T], f: impl Fn(&T) -> String) -> String {
    items.iter().map(|i| f(i) + "\n").collect()
}

fn saved_line(s: &SavedPlace) -> String {
    let status = match s.status {
        cityguide_core::SavedStatus::Present => "",
        cityguide_core::SavedStatus::Removed => " (removed from the guide)",
        cityguide_core::SavedStatus::CityMissing => " (city not installed)",
    };
    format!("{}/{}  {}{status}", s.city_id, s.place_id, s.name)
}

/// Runs one explore command.
pub fn run(args: ExploreArgs) -> Result<(), String> {
    let guide = open_guide(&args)?;
    let json = args.json;
    let langs = None;
    match &args.command {
        ExploreCommand::Install { file } => {
            let city = guide.install_pack_file(file).map_err(|e| format!("{}: {e}", file.display()))?;
            print(json, &city, |c| {
                format!("installed {} ({}) version {}, {} places\n", c.city_id, c.name.text, c.version, c.places)
            })
        }
        ExploreCommand::Installed => {
            let cities = guide.installed().map_err(|e| e.to_string())?;
            print(json, &cities, |cs| {
                lines(cs, |c| {
                    format!(
                        "{} ({}) version {}, {} places, {} bytes",
                        c.city_id, c.name.text, c.version, c.places, c.size
                    )
                })
            })
        }
        ExploreCommand::Remove { city_id } => {
            guide.remove_city(city_id).map_err(|e| e.to_string())?;
            print(json, &serde_json::json!({ "removed": city_id }), |_| format!("removed {city_id}\n"))
        }
        ExploreCommand::Near { lat, lon, limit, radius, category, accessible, open_now, at } => {
            let city = city_of(&guide, &args)?;
            let filter = PlaceFilter {
                categories: category.clone(),
                accessibility: if *accessible { vec![AccessFeature::StepFree] } else { Vec::new() },
                open_at: open_now.then(|| at.unwrap_or_else(Utc::now)),
            };
            let at = LatLon::new(*lat, *lon).map_err(|e| e.to_string())?;
            let q = NearbyQuery { at, limit: *limit, radius_m: *radius, filter };
            let places = guide.nearby(&city, &q, langs).map_err(|e| e.to_string())?;
            print(json, &places, |ps| {
                lines(ps, |p| {
                    format!(
                        "{:>7.0} m {:>3.0}°  {}  [{}] ({})",
                        p.distance_m.unwrap_or(0.0),
                        p.bearing_deg.unwrap_or(0.0),
                        p.name,
                        p.category,
                        p.id
                    )
                })
            })
        }
        ExploreCommand::Search { text, near, limit } => {
            let city = city_of(&guide, &args)?;
            let places = guide.search(&city, text, *near, *limit, langs).map_err(|e| e.to_string())?;
            print(json, &places, |ps| lines(ps, |p| format!("{}  ({}, {})", p.name, p.id, p.lang)))
        }
        ExploreCommand::Place { id, at } => {
            let city = city_of(&guide, &args)?;
            let d = guide.place(&city, id, at.unwrap_or_else(Utc::now), langs).map_err(|e| e.to_string())?;
            print(json, &d, |d| {
                let mut s = format!("{} [{}]\n", d.summary.name, d.summary.lang);
                if let Some(x) = &d.summary.summary {
                    s += &format!("{}\n", x.text);
                }
                s += &format!("hours: {}\n", d.hours.label);
                if let Some(a) = &d.address {
                    s += &format!("address: {a}\n");
                }
                if let Some(x) = &d.description {
                    s += &format!("\n{}\n", x.text);
                }
                s
            })
        }
        ExploreCommand::Tours => {
            let city = city_of(&guide, &args)?;
            let tours = guide.tours(&city, langs).map_err(|e| e.to_string())?;
            print(json, &tours, |ts| {
                lines(ts, |t| {
                    format!(
                        "{}  {} — {} stops, {:.1} km, {} min",
                        t.id,
                        t.title.text,
                        t.stops,
                        f64::from(t.distance_m) / 1000.0,
                        t.duration_min
                    )
                })
            })
        }
        ExploreCommand::Tour { id, at, accuracy } => {
            let city = city_of(&guide, &args)?;
            let tour = guide.tour(&city, id, langs).map_err(|e| e.to_string())?;
            let progress = match at {
                Some(p) => Some(guide.tour_progress(&city, id, *p, *accuracy, None).map_err(|e| e.to_string())?),
                None => None,
            };
            let value = serde_json::json!({ "tour": tour, "progress": progress });
            print(json, &value, |_| {
                let mut s = format!("{} — {} stops\n", tour.summary.title.text, tour.stops.len());
                for (i, st) in tour.stops.iter().enumerate() {
                    s += &format!("  {}. {}\n", i + 1, st.name);
                }
                if let Some(p) = &progress {
                    let next = p
                        .next_stop
                        .as_ref()
                        .and_then(|n| tour.stops.get(n.index as usize))
                        .map_or("the end".to_owned(), |s| s.name.clone());
                    s += &format!(
                        "at {:.0} m of {:.0} m; next: {next} in {:.0} m; {}\n",
                        p.along_m,
                        p.along_m + p.distance_left_m,
                        p.distance_to_next_stop_m.unwrap_or(0.0),
                        if p.off_route { format!("OFF ROUTE by {:.0} m", p.off_route_m) } else { "on route".into() }
                    );
                }
                s
            })
        }
        ExploreCommand::Walk { track } => {
            let city = city_of(&guide, &args)?;
            let fixes = read_track(track)?;
            let events = walk(&guide, &city, &fixes)?;
            print(json, &events, |es| {
                lines(es, |e| format!("{:>6} s  {:<5}  {} ({})", e.time_ms / 1000, e.event, e.name, e.place_id))
            })
        }
        ExploreCommand::Sync { catalog, keys, check } => sync(&guide, &args, catalog, keys, *check),
        ExploreCommand::Consent { action } => {
            if let Some(ConsentAction::Set { scope, value }) = action {
                guide.set_consent(*scope, value == "on", Utc::now().timestamp()).map_err(|e| e.to_string())?;
            }
            let consent = guide.consent().map_err(|e| e.to_string())?;
            print(json, &consent, |c| {
                let on = |b: bool| if b { "on" } else { "off" };
                format!("updates: {}\nfeedback: {}\nlocation: {}\n", on(c.updates), on(c.feedback), on(c.location))
            })
        }
        ExploreCommand::Feedback { action: FeedbackAction::Office { place, category } } => {
            let city = city_of(&guide, &args)?;
            let office = guide.feedback_office(&city, place.as_deref(), category).map_err(|e| e.to_string())?;
            print(json, &office, |o| format!("{}\n", o.office))
        }
        ExploreCommand::Feedback {
            action: FeedbackAction::Send { place, category, text, rating, locate, at, contact, photo, public },
        } => {
            let city = city_of(&guide, &args)?;
            let draft = FeedbackDraft {
                city_id: city,
                place_id: place.clone(),
                category: category.clone(),
                text: text.clone(),
                rating: *rating,
                photo: photo.clone(),
                contact: contact.clone(),
                location: if *locate {
                    at.map(|p| ReportLocation { lat: p.lat(), lon: p.lon(), accuracy_m: None })
                } else {
                    None
                },
                lang: guide.languages().first().cloned(),
                public: *public,
            };
            let item = guide.submit_feedback(&draft, Utc::now().timestamp()).map_err(|e| e.to_string())?;
            print(json, &item, |i| {
                format!(
                    "saved report {} for {}; it is sent by `explore outbox flush`{}\n",
                    i.key,
                    i.office.as_deref().unwrap_or("-"),
                    if guide.consent().map(|c| c.feedback).unwrap_or(false) {
                        ""
                    } else {
                        " once you turn on the feedback consent (explore consent set feedback on)"
                    }
                )
            })
        }
        ExploreCommand::Outbox { action: None } => {
            let items = guide.outbox().map_err(|e| e.to_string())?;
            print(json, &items, |is| lines(is, outbox_line))
        }
        ExploreCommand::Outbox { action: Some(OutboxAction::Flush { server }) } => {
            let transport = cityguide_core::update::transport::HttpTransport::default();
            let report = guide.flush_outbox(&transport, server, Utc::now().timestamp()).map_err(|e| e.to_string())?;
            print(json, &report, |r| {
                format!(
                    "{} sent, {} acknowledged, {} rejected, {} waiting{}\n",
                    r.attempted,
                    r.acknowledged,
                    r.rejected,
                    r.pending,
                    r.next_attempt_at
                        .and_then(|t| DateTime::from_timestamp(t, 0))
                        .map(|t| format!(" (next try from {})", t.to_rfc3339()))
                        .unwrap_or_default()
                )
            })
        }
        ExploreCommand::Outbox { action: Some(OutboxAction::Status) } => {
            let items: Vec<OutboxItem> = guide
                .outbox()
                .map_err(|e| e.to_string())?
                .into_iter()
                .filter(|i| i.kind == cityguide_core::citizen::OutboxKind::Feedback)
                .collect();
            print(json, &items, |is| lines(is, status_line))
        }
        ExploreCommand::Outbox { action: Some(OutboxAction::Refresh { server }) } => {
            let transport = cityguide_core::update::transport::HttpTransport::default();
            let r =
                guide.refresh_report_statuses(&transport, server, Utc::now().timestamp()).map_err(|e| e.to_string())?;
            let items: Vec<OutboxItem> = guide
                .outbox()
                .map_err(|e| e.to_string())?
                .into_iter()
                .filter(|i| i.kind == cityguide_core::citizen::OutboxKind::Feedback)
                .collect();
            if json {
                return print(true, &serde_json::json!({"refresh": r, "reports": items}), |_| String::new());
            }
            println!("asked about {} report(s): {} answered, {} changed", r.asked, r.answered, r.changed);
            print(false, &items, |is| lines(is, status_line))
        }
        ExploreCommand::Consultations { action: None } => {
            let city = city_of(&guide, &args)?;
            let list = guide.consultations(&city, Utc::now().timestamp()).map_err(|e| e.to_string())?;
            print(json, &list, |cs| {
                let mut s = String::new();
                for c in cs {
                    s += &format!(
                        "{}  {} [{}]\n  {}\n",
                        c.id,
                        c.title.text,
                        if c.open { "open" } else { "closed" },
                        c.question.text
                    );
                    for o in &c.options {
                        let mine = c.my_ballot.as_ref().is_some_and(|b| b.option_id == o.id);
                        s += &format!("    {} {}  {}\n", if mine { "*" } else { "-" }, o.id, o.label.text);
                    }
                }
                s
            })
        }
        ExploreCommand::Consultations { action: Some(ConsultationAction::Vote { id, option }) } => {
            let city = city_of(&guide, &args)?;
            let ballot = guide.vote_for(&city, id, option, Utc::now().timestamp()).map_err(|e| e.to_string())?;
            print(json, &ballot, |b| {
                format!(
                    "voted {} in {} (ballot {}, {}); sent by `explore outbox flush`\n",
                    b.choices().join(", "),
                    b.consultation_id,
                    b.seq,
                    b.status.as_str()
                )
            })
        }
        ExploreCommand::ExportData { output } => {
            let text = guide.export_user_data(Utc::now().timestamp()).map_err(|e| e.to_string())? + "\n";
            match output {
                Some(path) => std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display())),
                None => {
                    print!("{text}");
                    Ok(())
                }
            }
        }
        ExploreCommand::ImportData { file } => {
            let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
            let counts = guide
                .import_user_data(&text, Utc::now().timestamp())
                .map_err(|e| format!("{}: {e}", file.display()))?;
            print(json, &counts, |c| {
                format!(
                    "imported {} favourites, {} visits, {} notes, {} outbox items, {} ballots\n",
                    c.favourites, c.visits, c.notes, c.outbox, c.ballots
                )
            })
        }
        ExploreCommand::EraseData => {
            let counts = guide.erase_user_data().map_err(|e| e.to_string())?;
            print(json, &counts, |c| {
                format!(
                    "erased {} favourites, {} visits, {} notes, {} outbox items, {} ballots, the consent settings and the installation key\n",
                    c.favourites, c.visits, c.notes, c.outbox, c.ballots
                )
            })
        }
        ExploreCommand::Favourite { action } => {
            match action {
                FavouriteAction::Add { id } => {
                    let city = city_of(&guide, &args)?;
                    guide.add_favourite(&city, id).map_err(|e| e.to_string())?
                }
                FavouriteAction::Remove { id } => {
                    let city = city_of(&guide, &args)?;
                    guide.remove_favourite(&city, id).map_err(|e| e.to_string())?
                }
                FavouriteAction::List => {}
            }
            let favs = guide.favourites().map_err(|e| e.to_string())?;
            print(json, &favs, |fs| lines(fs, saved_line))
        }
    }
}

/// A proximity event as printed.
#[derive(Serialize)]
pub struct WalkEvent {
    /// `enter` or `exit`.
    pub event: &'static str,
    /// Place id.
    pub place_id: String,
    /// Place name.
    pub name: String,
    /// Milliseconds since the start of the track.
    pub time_ms: i64,
    /// Distance at the event, for `enter`.
    pub distance_m: Option<f64>,
}

/// Replays fixes through a proximity tracker fed by the guide's spatial index.
pub fn walk(guide: &Guide, city: &str, fixes: &[LocationFix]) -> Result<Vec<WalkEvent>, String> {
    let mut session = guide.proximity_session(city, ProximityConfig::default()).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for fix in fixes {
        for e in session.update(guide, *fix).map_err(|e| e.to_string())? {
            let (event, p, time_ms, distance_m) = match e {
                ProximityEvent::Enter { place, distance_m, time_ms } => ("enter", place, time_ms, Some(distance_m)),
                ProximityEvent::Exit { place, time_ms } => ("exit", place, time_ms, None),
            };
            out.push(WalkEvent { event, place_id: p.id, name: p.name, time_ms, distance_m });
        }
    }
    Ok(out)
}

/// Reads a GPX track or a CSV of `lat,lon[,accuracy][,time]` (time in seconds or RFC 3339; one fix per second when
/// missing).
pub fn read_track(path: &Path) -> Result<Vec<LocationFix>, String> {
    let err = |e: String| format!("{}: {e}", path.display());
    let is_gpx = path.extension().and_then(|e| e.to_str()).is_some_and(|e| e.eq_ignore_ascii_case("gpx"));
    if is_gpx {
        let file = std::fs::File::open(path).map_err(|e| err(e.to_string()))?;
        let gpx = gpx::read(std::io::BufReader::new(file)).map_err(|e| err(format!("not a valid GPX file: {e}")))?;
        let mut fixes = Vec::new();
        let mut t0: Option<i64> = None;
        for (n, w) in gpx.tracks.iter().flat_map(|t| &t.segments).flat_map(|s| &s.points).enumerate() {
            let p = w.point();
            let time = w
                .time
                .and_then(|t| t.format().ok())
                .and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
                .map(|t| t.timestamp_millis());
            let ms = match (time, t0) {
                (Some(t), Some(start)) => t - start,
                (Some(t), None) => {
                    t0 = Some(t);
                    0
                }
                (None, _) => n as i64 * 1000,
            };
            let accuracy = w.hdop.map_or(10.0, |h| h * 5.0);
            let position = LatLon::new(p.y(), p.x()).map_err(|e| err(format!("track point {}: {e}", n + 1)))?;
            fixes.push(LocationFix { position, accuracy_m: accuracy, time_ms: ms });
        }
        return Ok(fixes);
    }
    let mut rdr =
        csv::ReaderBuilder::new().has_headers(true).flexible(true).from_path(path).map_err(|e| err(e.to_string()))?;
    let headers = rdr.headers().map_err(|e| err(e.to_string()))?.clone();
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let (c_lat, c_lon) = (
        col("lat").ok_or_else(|| err("the CSV needs lat and lon columns".into()))?,
        col("lon").ok_or_else(|| err("the CSV needs lat and lon columns".into()))?,
    );
    let (c_acc, c_time) = (col("accuracy"), col("time"));
    let mut fixes = Vec::new();
    let mut t0: Option<i64> = None;
    for (n, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| err(e.to_string()))?;
        let num = |c: usize, what: &str| -> Result<f64, String> {
            rec.get(c)
                .unwrap_or("")
                .trim()
                .parse::<f64>()
                .map_err(|_| err(format!("row {}: {what} is not a number", n + 2)))
        };
        let time = match c_time.and_then(|c| rec.get(c)).map(str::trim).filter(|s| !s.is_empty()) {
            None => n as i64 * 1000,
            Some(s) => {
                let t = match s.parse::<f64>() {
                    Ok(secs) => (secs * 1000.0) as i64,
                    Err(_) => DateTime::parse_from_rfc3339(s)
                        .map_err(|_| err(format!("row {}: time {s:?} is neither seconds nor RFC 3339", n + 2)))?
                        .timestamp_millis(),
                };
                t - *t0.get_or_insert(t)
            }
        };
        let position =
            LatLon::new(num(c_lat, "lat")?, num(c_lon, "lon")?).map_err(|e| err(format!("row {}: {e}", n + 2)))?;
        fixes.push(LocationFix {
            position,
            accuracy_m: match c_acc {
                Some(c) => num(c, "accuracy")?,
                None => 10.0,
            },
            time_ms: time,
        });
    }
    Ok(fixes)
}

fn status_line(i: &OutboxItem) -> String {
    let what = format!("report to {}", i.office.as_deref().unwrap_or("-"));
    match &i.office_status {
        Some(s) => format!(
            "{}  {}  {}  {what}{}{}",
            i.key,
            s.reference,
            s.status,
            s.public_reply.as_ref().map(|r| format!("\n    reply: {r}")).unwrap_or_default(),
            s.duplicate_of.as_ref().map(|d| format!("\n    duplicate of {d}")).unwrap_or_default()
        ),
        None => format!("{}  {:<12} {what} (no answer from the city yet)", i.key, i.status.as_str()),
    }
}

fn outbox_line(i: &OutboxItem) -> String {
    let what = match (&i.office, &i.consultation_id) {
        (Some(o), _) => format!("report to {o}"),
        (None, Some(c)) => format!("ballot in {c}"),
        _ => "item".to_owned(),
    };
    format!(
        "{}  {:<12} {}  {}{}",
        i.key,
        i.status.as_str(),
        i.city_id,
        what,
        i.reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default()
    )
}

fn sync(guide: &Guide, args: &ExploreArgs, catalog: &str, keys: &[String], check: bool) -> Result<(), String> {
    use cityguide_core::{CancelToken, SyncConfig, Syncer};
    // The stored consent decides; say how to give it rather than fail deep inside the sync.
    if !guide.consent().map_err(|e| e.to_string())?.updates {
        return Err(
            "downloading updates needs your consent, which is off; turn it on with `cityguide explore consent set updates on`"
                .into(),
        );
    }
    let trusted_keys =
        keys.iter().map(|k| k.parse().map_err(|e| format!("--key {k:?}: {e}"))).collect::<Result<Vec<_>, String>>()?;
    let config = SyncConfig { catalog_url: catalog.to_owned(), trusted_keys, caps: Default::default() };
    let transport = cityguide_core::update::transport::HttpTransport::default();
    let syncer = Syncer::new(guide, &transport, &config);
    let now = Utc::now().timestamp();
    let infos = syncer.check(now).map_err(|e| e.to_string())?;
    let wanted: Vec<String> = match &args.city {
        Some(c) => vec![c.clone()],
        None => infos.iter().map(|i| i.city_id.clone()).collect(),
    };
    if check {
        return print(args.json, &infos, |is| {
            lines(is, |i| {
                format!(
                    "{}: installed {}, available {} ({} bytes{})",
                    i.city_id,
                    i.installed_version.map_or("-".into(), |v| v.to_string()),
                    i.available_version,
                    i.download_bytes,
                    if i.via_delta { ", delta" } else { "" }
                )
            })
        });
    }
    let bar = crate::progress::bar(args.json);
    let mut outcomes = Vec::new();
    for city in wanted {
        let progress = |done: u64, total: u64| {
            bar.set_length(total);
            bar.set_position(done);
        };
        let outcome = syncer.update(&city, now, &progress, &CancelToken::new()).map_err(|e| format!("{city}: {e}"))?;
        outcomes.push(outcome);
    }
    bar.finish_and_clear();
    print(args.json, &outcomes, |os| {
        lines(os, |o| {
            let how = match o {
                UpdateOutcome::UpToDate { .. } => ", already up to date",
                UpdateOutcome::Installed { .. } => ", installed",
                UpdateOutcome::Updated { method: UpdateMethod::Delta, .. } => ", delta",
                UpdateOutcome::Updated { method: UpdateMethod::FullPack, .. } => ", full pack",
                UpdateOutcome::Updated { method: UpdateMethod::FullPackAfterDeltaFailed, .. } => {
                    ", the delta did not verify so the full pack was used"
                }
            };
            format!(
                "{} is at version {} ({} bytes downloaded{how})",
                o.city().city_id,
                o.city().version,
                o.downloaded_bytes(),
            )
        })
    })
}
