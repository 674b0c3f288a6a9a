//! `cityguide import osm`: an OpenStreetMap extract into editable sources (the work is done by
//! `cityguide_publisher::osm`).

use std::path::PathBuf;

use cityguide_core::pack::model::BBox;
use cityguide_publisher::osm::read_extract;
use cityguide_publisher::osm::sources::{CityInit, ImportReport, import, source_bbox};
use clap::{Args, Subcommand};

/// What to import.
#[derive(Subcommand)]
pub enum ImportCommand {
    /// Import museums, monuments, places of worship, parks, beaches... from an OpenStreetMap .osm.pbf extract.
    ///
    /// Creates a source folder (city.toml, categories.csv, places.csv, texts/) that `cityguide pack build` builds,
    /// or with --merge updates one: ids, categories and hand-written texts are kept, facts are refreshed from
    /// OpenStreetMap, and new, changed and gone places are listed.
    Osm(OsmArgs),
}

/// Arguments of `cityguide import osm`.
#[derive(Args)]
pub struct OsmArgs {
    /// The extract, e.g. helsinki.osm.pbf.
    extract: PathBuf,
    /// The area to import: min_lon,min_lat,max_lon,max_lat (with --merge, defaults to city.toml's bbox).
    #[arg(long, allow_hyphen_values = true)]
    bbox: Option<String>,
    /// The source folder to create (or to update with --merge).
    #[arg(short, long)]
    output: PathBuf,
    /// Update existing sources instead of creating new ones.
    #[arg(long)]
    merge: bool,
    /// City id for new sources (default: the folder's name).
    #[arg(long)]
    city_id: Option<String>,
    /// The city's name in the default language for new sources (default: the id, capitalised).
    #[arg(long)]
    name: Option<String>,
    /// Language of the plain `name` tags for new sources, e.g. fi, bg.
    #[arg(long)]
    lang: Option<String>,
    /// Languages to import for new sources, e.g. fi,sv,en (default: those with names on at least 5 % of places).
    #[arg(long, value_delimiter = ',')]
    languages: Vec<String>,
    /// IANA time zone for new sources, e.g. Europe/Helsinki.
    #[arg(long)]
    time_zone: Option<String>,
    /// ISO 3166-1 country code for new sources (public holidays), e.g. FI.
    #[arg(long)]
    country: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

fn parse_bbox(s: &str) -> Result<BBox, String> {
    let v: Vec<f64> = s.split(',').map(|x| x.trim().parse::<f64>()).collect::<Result<_, _>>().map_err(|_| {
        format!("--bbox {s:?}: give four numbers min_lon,min_lat,max_lon,max_lat, e.g. 24.90,60.15,24.99,60.20")
    })?;
    let [min_lon, min_lat, max_lon, max_lat] = v[..] else {
        return Err(format!("--bbox {s:?}: give four numbers min_lon,min_lat,max_lon,max_lat"));
    };
    let ok = (-180.0..=180.0).contains(&min_lon)
        && (-180.0..=180.0).contains(&max_lon)
        && (-90.0..=90.0).contains(&min_lat)
        && (-90.0..=90.0).contains(&max_lat)
        && min_lon < max_lon
        && min_lat < max_lat;
    if !ok {
        return Err(format!(
            "--bbox {s:?}: the order is min_lon,min_lat,max_lon,max_lat (longitude first), each minimum below its maximum"
        ));
    }
    Ok(BBox { min_lat, min_lon, max_lat, max_lon })
}

/// Runs `cityguide import ...`.
pub fn run(cmd: ImportCommand) -> Result<(), String> {
    let ImportCommand::Osm(a) = cmd;
    let bbox = match (&a.bbox, a.merge) {
        (Some(b), _) => parse_bbox(b)?,
        (None, true) => source_bbox(&a.output).ok_or_else(|| {
            format!(
                "{} has no readable bbox in city.toml; pass --bbox min_lon,min_lat,max_lon,max_lat",
                a.output.display()
            )
        })?,
        (None, false) => return Err("--bbox min_lon,min_lat,max_lon,max_lat is required for new sources".into()),
    };
    let init = if a.merge {
        None
    } else {
        let city_id = match &a.city_id {
            Some(c) => c.clone(),
            None => a
                .output
                .file_name()
                .map(|n| n.to_string_lossy().to_lowercase())
                .ok_or("give the city's id with --city-id")?,
        };
        let lang = a.lang.clone().ok_or(
            "new sources need --lang, the language of OpenStreetMap's plain name tags in this city (e.g. --lang fi)",
        )?;
        let time_zone = a.time_zone.clone().ok_or("new sources need --time-zone, e.g. --time-zone Europe/Helsinki")?;
        let name = a.name.clone().unwrap_or_else(|| {
            let mut c = city_id.chars();
            c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
        });
        Some(CityInit {
            city_id,
            name,
            default_language: lang,
            languages: a.languages.clone(),
            time_zone,
            country: a.country.clone(),
            created: chrono::Utc::now().timestamp(),
            bbox: (bbox.min_lon, bbox.min_lat, bbox.max_lon, bbox.max_lat),
        })
    };
    let bar = crate::progress::bar(a.json);
    let progress = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let extract = read_extract(&a.extract, bbox, &progress).map_err(|e| e.to_string())?;
    bar.finish_and_clear();
    if extract.places.is_empty() {
        return Err(format!(
            "no named place of the extract lies inside the bbox ({} features of a guide's kinds found, {} of them outside it); check that --bbox is min_lon,min_lat,max_lon,max_lat (longitude first) and covers the city; nothing was written",
            extract.stats.matched, extract.stats.outside_bbox
        ));
    }
    let report = import(&a.output, &extract, init.as_ref(), a.merge).map_err(|e| e.to_string())?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?);
    } else {
        print_report(&a.output, &report);
    }
    Ok(())
}

fn print_report(dir: &std::path::Path, r: &ImportReport) {
    let s = &r.stats;
    println!(
        "{} {}: {} new, {} changed, {} gone, {} unchanged (languages {}; {} features matched, {} without a name, {} outside the bbox)",
        if r.created { "created" } else { "merged into" },
        dir.display(),
        r.new.len(),
        r.changed.len(),
        r.gone.len(),
        r.unchanged,
        r.languages.join(","),
        s.matched,
        s.unnamed,
        s.outside_bbox
    );
    if !r.created {
        for id in &r.new {
            println!("  new      {id}");
        }
    }
    for c in &r.changed {
        println!("  changed  {} ({}): {}", c.id, c.osm_id, c.fields.join(", "));
    }
    for g in &r.gone {
        println!("  gone     {} ({})", g.id, g.osm_id);
    }
    for k in &r.kept {
        println!("  kept     {k}");
    }
    if !r.dropped.is_empty() {
        println!("{} value(s) left out because the builder would refuse them:", r.dropped.len());
        for d in &r.dropped {
            println!("  {d}");
        }
    }
    for n in &r.notes {
        println!("note: {n}");
    }
    println!(
        "next: edit the texts in {}/texts/, then `cityguide pack report {}` and `cityguide pack build {} -o city.pack`",
        dir.display(),
        dir.display(),
        dir.display()
    );
}
