//! Publishing a city: build its pack and write a site of plain files that any static host, CDN or S3-compatible
//! bucket can serve:
//!
//! ```text
//! SITE/catalog.json                      signed catalog (written last, so it never points at missing files)
//! SITE/packs/<city>/<version>.pack       every published version, kept to compute deltas
//! SITE/packs/<city>/<version>.pack.zst   the same, compressed for transfer
//! SITE/deltas/<city>/<from>-<to>.delta   record-level deltas from earlier versions, compressed
//! ```
//!
//! A new version is published only when the content changed; otherwise the catalog is re-signed with a fresh expiry.

use std::io::Write;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::build::{BuildOptions, build_pack};
use crate::delta;
use crate::signing::{SigningKeyPair, sign_catalog};
use cityguide_core::pack::PackFile;
use cityguide_core::update::catalog::{
    Catalog, CatalogCity, CatalogDelta, KeyRotation, PublicKey, TrustPolicy, verify_catalog,
};

/// Earlier versions offered as deltas per city.
pub const KEEP_VERSIONS: usize = 5;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes a file via a temporary name, fsync and rename.
fn write_file(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let tmp = dir.join(format!(".tmp-{}", std::process::id()));
    let r = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    r.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot write {}: {e}", path.display())
    })
}

/// What publish did.
#[derive(serde::Serialize)]
pub struct Published {
    /// City.
    pub city_id: String,
    /// Version now current.
    pub version: u64,
    /// Whether the content changed (false: only the catalog was re-signed).
    pub new_version: bool,
    /// Catalog version.
    pub catalog_version: u64,
    /// Full pack, compressed, bytes.
    pub compressed_size: u64,
    /// Deltas from earlier versions: (from version, bytes).
    pub deltas: Vec<(u64, u64)>,
}

/// Builds `source` and publishes it into `site`, signing the catalog with `key`; the catalog expires `expires_in`
/// seconds after `now`. Keys in `endorse` are listed as a key rotation signed by `key`, so phones trust them from then
/// on.
pub fn publish(
    source: &Path,
    site: &Path,
    key: &SigningKeyPair,
    endorse: &[PublicKey],
    expires_in: i64,
    now: i64,
) -> Result<Published, String> {
    let built = build_pack(source, &BuildOptions::default()).map_err(|f| {
        let mut msg = String::new();
        for d in &f.diagnostics {
            msg += &format!("{}\n", d);
        }
        msg + "the sources have errors; nothing was published. Fix them (`cityguide pack build` lists each with file:line:column) and publish again"
    })?;
    let city_id = built.content.meta.city_id.clone();

    // The catalog as published so far (verified with our own key; its expiry does not matter here).
    let catalog_path = site.join("catalog.json");
    let previous: Option<Catalog> = match std::fs::read(&catalog_path) {
        Ok(bytes) => {
            let policy = TrustPolicy {
                trusted: vec![key.public()],
                last_seen_version: None,
                now: i64::MIN + 1,
                max_bytes: 16 << 20,
            };
            Some(
                verify_catalog(&bytes, &policy)
                    .map_err(|e| format!("{}: {e}; was it signed with another key?", catalog_path.display()))?,
            )
        }
        Err(_) => None,
    };

    // Versions kept on the site, oldest first.
    let packs_dir = site.join("packs").join(&city_id);
    let mut kept: Vec<u64> = std::fs::read_dir(&packs_dir)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| {
                    e.file_name().to_str().and_then(|n| n.strip_suffix(".pack")).and_then(|v| v.parse().ok())
                })
                .collect()
        })
        .unwrap_or_default();
    kept.sort_unstable();
    let latest = kept.last().copied();

    // Same content as the latest version: keep it, only re-sign the catalog with a fresh expiry.
    let (version, bytes, new_version) = match latest {
        Some(v) => {
            let same =
                build_pack(source, &BuildOptions { version: Some(v), created: None }).map_err(|_| "rebuild failed")?;
            let old = std::fs::read(packs_dir.join(format!("{v}.pack"))).map_err(|e| e.to_string())?;
            if same.bytes == old {
                (v, old, false)
            } else {
                let next = built.content.meta.version.max(v + 1);
                let b = build_pack(source, &BuildOptions { version: Some(next), created: None })
                    .map_err(|_| "rebuild failed")?;
                (next, b.bytes, true)
            }
        }
        None => (built.content.meta.version, built.bytes.clone(), true),
    };
    let new_pack = PackFile::from_bytes(bytes.clone()).map_err(|e| e.to_string())?;
    let new_content = new_pack.to_content();
    let sha = hex(&Sha256::digest(&bytes));
    let rel_pack = format!("packs/{city_id}/{version}.pack.zst");
    let compressed = zstd::bulk::compress(&bytes, 19).map_err(|e| e.to_string())?;
    if new_version {
        write_file(&packs_dir.join(format!("{version}.pack")), &bytes)?;
        write_file(&site.join(&rel_pack), &compressed)?;
        kept.push(version);
    }
    // Deltas from earlier kept versions (the newest few).
    let mut deltas = Vec::new();
    for &from in kept.iter().rev().filter(|&&v| v < version).take(KEEP_VERSIONS) {
        let old_bytes = std::fs::read(packs_dir.join(format!("{from}.pack"))).map_err(|e| e.to_string())?;
        let old = PackFile::from_bytes(old_bytes.clone()).map_err(|e| format!("kept pack {from}: {e}"))?.to_content();
        let old_sha = hex(&Sha256::digest(&old_bytes));
        let rel = format!("deltas/{city_id}/{from}-{version}.delta");
        let path = site.join(&rel);
        let encoded = if path.exists() && !new_version {
            std::fs::read(&path).map_err(|e| e.to_string())?
        } else {
            let d = delta::diff(&old, &new_content, &old_sha, &sha);
            let e = delta::encode(&d);
            write_file(&path, &e)?;
            e
        };
        deltas.push(CatalogDelta {
            from_version: from,
            from_sha256: old_sha,
            file: rel,
            size: encoded.len() as u64,
            sha256: hex(&Sha256::digest(&encoded)),
        });
    }
    let m = &new_content.meta;
    let entry = CatalogCity {
        city_id: city_id.clone(),
        version,
        size: bytes.len() as u64,
        sha256: sha,
        file: rel_pack,
        compressed_size: compressed.len() as u64,
        compressed_sha256: hex(&Sha256::digest(&compressed)),
        languages: m.languages.clone(),
        bbox: [m.bbox.min_lat, m.bbox.min_lon, m.bbox.max_lat, m.bbox.max_lon],
        deltas: deltas.clone(),
    };
    let mut cities: Vec<CatalogCity> = previous.as_ref().map(|c| c.cities.clone()).unwrap_or_default();
    cities.retain(|c| c.city_id != city_id);
    cities.push(entry);
    cities.sort_by(|a, b| a.city_id.cmp(&b.city_id));
    let catalog = Catalog {
        format: 1,
        version: previous.as_ref().map_or(1, |c| c.version + 1),
        created: now,
        expires: now + expires_in,
        cities,
        rotation: (!endorse.is_empty()).then(|| KeyRotation { keys: endorse.to_vec() }),
    };
    write_file(&catalog_path, &sign_catalog(&catalog, &[key]))?;
    Ok(Published {
        city_id,
        version,
        new_version,
        catalog_version: catalog.version,
        compressed_size: compressed.len() as u64,
        deltas: deltas.iter().map(|d| (d.from_version, d.size)).collect(),
    })
}
