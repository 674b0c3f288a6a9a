//! Record-level deltas against generic binary deltas of the two full packs.
//!
//! On the Varna pack and on a synthetic 20k-place city (seeded: clustered places with names and summaries in three
//! languages, descriptions in two), with 0.1 %, 1 % and 10 % of places changed (40 % of the changes move a place,
//! 30 % edit a summary, 15 % remove a place, 15 % add one), prints the sizes of the full pack, the zstd-compressed
//! pack, our delta, bsdiff of the two packs (zstd-compressed, as bsdiff tools do) and `zstd --patch-from`, and the
//! time to build (`diff` + `encode`) and apply (`decode` + `apply` + `write_pack`) a delta. Criterion then times the
//! 1 % case on 20k places.
//!
//! `cargo bench -p cityguide-publisher --bench delta`

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use cityguide_core::pack::model::{Access, AccessibilityRec, AddressRec, BBox, Content, PlaceRec, Texts};
use cityguide_core::pack::write_pack;
use cityguide_core::update::catalog::sha256_hex;
use cityguide_core::update::delta::{apply, decode};
use cityguide_publisher::build::{BuildOptions, build_pack};
use cityguide_publisher::delta::{diff, encode};
use criterion::{Criterion, criterion_group, criterion_main};
use zstd::zstd_safe::{CCtx, CParameter};

/// SplitMix64, seeded.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.unit().max(1e-12), self.unit());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

const BG: [&str; 24] = [
    "църква",
    "музей",
    "парк",
    "площад",
    "улица",
    "крепост",
    "баня",
    "римски",
    "стар",
    "нов",
    "морски",
    "градина",
    "къща",
    "паметник",
    "галерия",
    "театър",
    "пазар",
    "кей",
    "фар",
    "манастир",
    "възрожденски",
    "каменен",
    "голям",
    "малък",
];
const EN: [&str; 24] = [
    "church",
    "museum",
    "park",
    "square",
    "street",
    "fortress",
    "baths",
    "roman",
    "old",
    "new",
    "sea",
    "garden",
    "house",
    "monument",
    "gallery",
    "theatre",
    "market",
    "pier",
    "lighthouse",
    "monastery",
    "revival",
    "stone",
    "great",
    "small",
];
const DE: [&str; 24] = [
    "Kirche",
    "Museum",
    "Park",
    "Platz",
    "Straße",
    "Festung",
    "Thermen",
    "römisch",
    "alt",
    "neu",
    "Meer",
    "Garten",
    "Haus",
    "Denkmal",
    "Galerie",
    "Theater",
    "Markt",
    "Seebrücke",
    "Leuchtturm",
    "Kloster",
    "Wiedergeburt",
    "Stein",
    "groß",
    "klein",
];

fn sentence(rng: &mut Rng, words: &[&str], n: usize) -> String {
    let mut s: String = (0..n).map(|_| words[rng.below(words.len())]).collect::<Vec<_>>().join(" ");
    if let Some(first) = s.chars().next() {
        s = first.to_uppercase().chain(s.chars().skip(1)).collect();
    }
    s.push('.');
    s
}

fn texts(rng: &mut Rng, n: usize, langs: usize) -> Texts {
    let mut t = Texts::new();
    t.insert("bg".into(), sentence(rng, &BG, n));
    t.insert("en".into(), sentence(rng, &EN, n));
    if langs > 2 {
        t.insert("de".into(), sentence(rng, &DE, n));
    }
    t
}

const CENTRES: [(f64, f64); 5] = [(43.2141, 27.9147), (43.205, 27.92), (43.225, 27.93), (43.19, 27.88), (43.24, 27.95)];

fn place(rng: &mut Rng, i: usize, categories: &[String]) -> PlaceRec {
    let (clat, clon) = CENTRES[rng.below(CENTRES.len())];
    let access = |r: &mut Rng| [Access::Unknown, Access::No, Access::Limited, Access::Yes][r.below(4)];
    PlaceRec {
        id: format!("poi-{i:06}"),
        lat: clat + 0.01 * rng.normal(),
        lon: clon + 0.012 * rng.normal(),
        categories: vec![categories[rng.below(categories.len())].clone()],
        importance: rng.below(101) as u8,
        name: texts(rng, 3, 3),
        summary: texts(rng, 14, 3),
        description: if rng.below(3) == 0 { texts(rng, 50, 2) } else { Texts::new() },
        easy_read: Texts::new(),
        address: AddressRec {
            street: Some(format!("ул. {}", sentence(rng, &BG, 1))),
            housenumber: Some((1 + rng.below(120)).to_string()),
            postcode: Some("9000".into()),
            locality: Some("Варна".into()),
        },
        opening_hours: (rng.below(2) == 0).then(|| "Tu-Su 10:00-18:00".into()),
        accessibility: AccessibilityRec::from_values(std::array::from_fn(|_| access(rng))),
        contact: Default::default(),
        wikidata: (rng.below(4) == 0).then(|| format!("Q{}", 1_000_000 + rng.below(9_000_000))),
        osm_id: Some(format!("node/{}", rng.next_u64() % 10_000_000_000)),
        media: Vec::new(),
    }
}

/// A synthetic city of `n` places on top of Varna's metadata and categories.
fn synthetic(varna: &Content, n: usize) -> Content {
    let mut rng = Rng(0x5EED);
    let mut c = varna.clone();
    c.meta.languages = vec!["bg".into(), "en".into(), "de".into()];
    c.meta.bbox = BBox { min_lat: 42.9, min_lon: 27.5, max_lat: 43.5, max_lon: 28.3 };
    let cats: Vec<String> = c.categories.iter().map(|c| c.id.clone()).collect();
    c.places = (0..n).map(|i| place(&mut rng, i, &cats)).collect();
    c.tours.clear();
    c
}

/// `share` of the places changed: moved, summary edited, removed, added.
fn changed(old: &Content, share: f64, seed: u64) -> Content {
    let mut rng = Rng(seed);
    let mut c = old.clone();
    c.meta.version += 1;
    c.meta.created += 86_400;
    let n = ((old.places.len() as f64 * share).round() as usize).max(4);
    let in_tours: Vec<String> = c.tours.iter().flat_map(|t| t.stops.clone()).collect();
    let cats: Vec<String> = c.categories.iter().map(|c| c.id.clone()).collect();
    let mut removed = 0;
    for k in 0..n {
        let i = rng.below(c.places.len());
        match k * 20 / n {
            0..8 => {
                let p = &mut c.places[i];
                p.lat += 0.0003 * rng.normal();
                p.lon += 0.0003 * rng.normal();
            }
            8..14 => {
                let p = &mut c.places[i];
                let lang = if rng.below(2) == 0 { "bg" } else { "en" };
                let words: &[&str] = if lang == "bg" { &BG } else { &EN };
                let s = p.summary.entry(lang.into()).or_default();
                let extra = format!(" {}", sentence(&mut rng, words, 4));
                s.push_str(&extra);
            }
            14..17 => {
                if !in_tours.contains(&c.places[i].id) {
                    c.places.remove(i);
                    removed += 1;
                }
            }
            _ => {
                let mut p = place(&mut rng, 900_000 + k, &cats);
                p.id = format!("poi-new-{seed}-{k:06}");
                c.places.push(p);
            }
        }
    }
    let _ = removed;
    c.places.sort_by(|a, b| a.id.cmp(&b.id));
    c
}

fn zstd19(b: &[u8]) -> Vec<u8> {
    zstd::bulk::compress(b, 19).expect("compresses")
}

fn bsdiff_zstd(old: &[u8], new: &[u8]) -> Vec<u8> {
    let mut patch = Vec::new();
    bsdiff::diff(old, new, &mut patch).expect("bsdiff");
    zstd19(&patch)
}

/// `zstd -19 --long --patch-from=old new`: the old pack as a raw prefix, a window covering both.
fn zstd_patch_from(old: &[u8], new: &[u8]) -> Vec<u8> {
    let wlog = (usize::BITS - (old.len() + new.len()).leading_zeros()).clamp(10, 31);
    let mut c = CCtx::create();
    c.set_parameter(CParameter::CompressionLevel(19)).expect("level");
    c.set_parameter(CParameter::WindowLog(wlog)).expect("window");
    c.set_parameter(CParameter::EnableLongDistanceMatching(true)).expect("ldm");
    c.ref_prefix(old).expect("prefix");
    let mut out = Vec::with_capacity(zstd::zstd_safe::compress_bound(new.len()));
    c.compress2(&mut out, new).expect("compresses");
    out
}

fn time<T>(f: impl Fn() -> T) -> (T, Duration) {
    let runs = 5;
    let start = Instant::now();
    for _ in 1..runs {
        black_box(f());
    }
    let r = f();
    (r, start.elapsed() / runs)
}

fn report(name: &str, old: &Content, share: f64) {
    let new = changed(old, share, (share * 1e4) as u64 + 1);
    let (ob, nb) = (write_pack(old).expect("old writes"), write_pack(&new).expect("new writes"));
    let (oh, nh) = (sha256_hex(&ob), sha256_hex(&nb));
    let (bytes, t_build) = time(|| encode(&diff(old, &new, &oh, &nh)));
    let (applied, t_apply) = time(|| {
        let d = decode(&bytes, 256 << 20).expect("decodes");
        write_pack(&apply(old, &d).expect("applies")).expect("writes")
    });
    assert_eq!(sha256_hex(&applied), nh, "the applied delta hashes to the new pack");
    let full_z = zstd19(&nb).len();
    let bs = bsdiff_zstd(&ob, &nb).len();
    let pf = zstd_patch_from(&ob, &nb).len();
    println!(
        "| {name:<12} | {:>5.1} % | {:>9} | {:>9} | {:>8} | {:>8} | {:>8} | {:>5.1}x | {:>8.1} | {:>8.1} |",
        share * 100.0,
        nb.len(),
        full_z,
        bytes.len(),
        bs,
        pf,
        bs as f64 / bytes.len() as f64,
        t_build.as_secs_f64() * 1e3,
        t_apply.as_secs_f64() * 1e3,
    );
}

fn varna() -> Content {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/varna");
    build_pack(&dir, &BuildOptions::default()).expect("Varna builds").content
}

fn bench(c: &mut Criterion) {
    let varna = varna();
    let big = synthetic(&varna, 20_000);
    println!(
        "\n| city         | changed |      pack | pack.zst  | delta    | bsdiff   | patch-fr | vs bs  | build ms | apply ms |"
    );
    println!(
        "|--------------|---------|-----------|-----------|----------|----------|----------|--------|----------|----------|"
    );
    for share in [0.001, 0.01, 0.1] {
        report("varna", &varna, share);
    }
    for share in [0.001, 0.01, 0.1] {
        report("synthetic20k", &big, share);
    }
    println!();

    let new = changed(&big, 0.01, 101);
    let (ob, nb) = (write_pack(&big).expect("writes"), write_pack(&new).expect("writes"));
    let (oh, nh) = (sha256_hex(&ob), sha256_hex(&nb));
    let bytes = encode(&diff(&big, &new, &oh, &nh));
    let mut g = c.benchmark_group("delta_20k_1pct");
    g.sample_size(10).measurement_time(Duration::from_secs(5));
    g.bench_function("build", |b| b.iter(|| encode(&diff(&big, &new, &oh, &nh))));
    g.bench_function("apply", |b| {
        b.iter(|| write_pack(&apply(&big, &decode(&bytes, 256 << 20).expect("ok")).expect("ok")).expect("ok"))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
