//! An OpenStreetMap extract is a downloaded file: no byte sequence may crash the import. Truncated and corrupted
//! copies of a real extract, and random bytes, give an error or a (partial) result, never a panic.
#![cfg(feature = "osm")]

use std::path::Path;

use cityguide_core::pack::model::BBox;
use cityguide_publisher::osm::read_extract;
use proptest::prelude::*;

const BBOX: BBox = BBox { min_lat: 60.15, min_lon: 24.90, max_lat: 60.19, max_lon: 25.00 };

fn real() -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/fixtures/osm/helsinki.osm.pbf");
    std::fs::read(p).expect("the Helsinki extract")
}

fn read(bytes: &[u8]) -> Result<usize, String> {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("x.osm.pbf");
    std::fs::write(&p, bytes).expect("write");
    read_extract(&p, BBOX, &|_, _| {}).map(|e| e.places.len()).map_err(|e| e.to_string())
}

#[test]
fn the_real_extract_reads_and_a_missing_file_is_a_clear_error() {
    let n = read(&real()).expect("reads");
    assert!(n >= 100, "{n} places");
    let e = read_extract(Path::new("/nonexistent/x.osm.pbf"), BBOX, &|_, _| {}).expect_err("missing");
    assert!(e.to_string().contains("cannot open"), "{e}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn truncated_or_corrupted_extracts_never_panic(cut in 0usize..685_110, flips in proptest::collection::vec((0usize..685_110, any::<u8>()), 0..8)) {
        let mut bytes = real();
        for (i, b) in flips {
            let i = i % bytes.len();
            bytes[i] ^= b;
        }
        bytes.truncate(cut.min(bytes.len()));
        let _ = read(&bytes);
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let _ = read(&bytes);
    }
}
