//! Offline-first updates: check a signed catalog, download a delta or a full pack, verify everything, then activate
//! atomically through [`Guide::install_pack_bytes`].
//!
//! Nothing here trusts the server. The catalog must carry a valid signature by a configured key, must not be older
//! than the last catalog this phone accepted (rollback) and must not have expired (freeze). Every download is capped
//! at the size the catalog announced and checked against its SHA-256; a pack rebuilt from a delta must hash to the
//! catalog's hash of the full pack, otherwise the full pack is fetched instead; the pack must name the city and
//! version the catalog promised (mix-and-match); and the pack verifier runs before activation. Downloads are chunked
//! range requests written to a partial file, so an interrupted download resumes where it stopped. A failure at any
//! step leaves the installed guide exactly as it was.
//!
//! Every request needs the user's `updates` consent ([`crate::citizen::ConsentScope::Updates`]), checked before each
//! one: without it the transport is never called.

use std::collections::HashSet;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sha2::{Digest, Sha256};

use crate::citizen::{CitizenError, ConsentScope};
use crate::failpoint;
use crate::guide::{Guide, GuideError, InstalledCity};
use crate::pack::PackFile;
use crate::update::catalog::{Catalog, CatalogCity, CatalogError, PublicKey, TrustPolicy, verify_catalog};
use crate::update::delta;
use crate::update::transport::{Fetched, Transport, TransportError};

/// Size limits for everything downloaded.
#[derive(Debug, Clone, Copy)]
pub struct Caps {
    /// Largest catalog accepted, bytes.
    pub catalog: u64,
    /// Largest pack (compressed or not) accepted, bytes.
    pub pack: u64,
    /// Largest delta (compressed or not) accepted, bytes.
    pub delta: u64,
    /// Bytes asked for per range request.
    pub chunk: u64,
}

impl Default for Caps {
    fn default() -> Self {
        Caps { catalog: 1 << 20, pack: 256 << 20, delta: 64 << 20, chunk: 256 << 10 }
    }
}

/// Where updates come from and whom to trust.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// URL of the signed `catalog.json`; file names in it are relative to its directory.
    pub catalog_url: String,
    /// Publisher keys the app ships with.
    pub trusted_keys: Vec<PublicKey>,
    /// Size limits.
    pub caps: Caps,
}

/// Why an update failed. The installed guide is unchanged in every case.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The user has not allowed downloading updates; no request was made.
    #[error("the {scope} consent is off; the user can turn it on in the privacy settings")]
    ConsentRequired {
        /// The consent that is missing (always [`ConsentScope::Updates`] for updates).
        scope: ConsentScope,
    },
    /// No network.
    #[error("offline")]
    Offline,
    /// The network failed in another way.
    #[error("download failed: {0}")]
    Transport(TransportError),
    /// The server answered with an HTTP error.
    #[error("the server answered {status} for {file}")]
    Http {
        /// HTTP status.
        status: u16,
        /// Which file (a name from the catalog, never a URL).
        file: String,
    },
    /// The catalog was refused.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// The catalog does not list this city.
    #[error("the catalog has no city {city_id}")]
    UnknownCity {
        /// The city asked for.
        city_id: String,
    },
    /// A downloaded file does not match what the catalog promised.
    #[error("{file} does not match the signed catalog ({reason})")]
    Mismatch {
        /// Which file (a name from the catalog).
        file: String,
        /// Size, hash, city or version.
        reason: String,
    },
    /// The user cancelled.
    #[error("cancelled")]
    Cancelled,
    /// Installing failed.
    #[error(transparent)]
    Guide(#[from] GuideError),
}

impl From<TransportError> for SyncError {
    fn from(e: TransportError) -> Self {
        match e {
            TransportError::Offline => SyncError::Offline,
            other => SyncError::Transport(other),
        }
    }
}

/// Receives download progress.
pub trait ProgressListener: Send + Sync {
    /// `done` of `total` bytes of the current download.
    fn progress(&self, done: u64, total: u64);
}

impl<F: Fn(u64, u64) + Send + Sync> ProgressListener for F {
    fn progress(&self, done: u64, total: u64) {
        self(done, total)
    }
}

/// Cancels an update from another thread; checked between chunks.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token that is not cancelled.
    pub fn new() -> Self {
        Self::default()
    }
    /// Asks the running update to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    /// Whether cancel was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// What an update of one city would do.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UpdateInfo {
    /// City.
    pub city_id: String,
    /// Installed version, if any.
    pub installed_version: Option<u64>,
    /// Version in the catalog.
    pub available_version: u64,
    /// Whether updating would change anything: not installed, or another version than the catalog's.
    pub update_available: bool,
    /// Bytes to download (the delta if one fits, else the compressed pack).
    pub download_bytes: u64,
    /// Whether a delta fits the installed version.
    pub via_delta: bool,
}

/// How an update reached the catalog's version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateMethod {
    /// A delta from the installed version, applied and verified on the phone.
    Delta,
    /// The full pack (no delta from the installed version was offered).
    FullPack,
    /// The full pack, because the offered delta did not verify.
    FullPackAfterDeltaFailed,
}

/// What an update did.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum UpdateOutcome {
    /// The installed version is the catalog's: nothing was downloaded.
    UpToDate {
        /// The city as installed.
        city: InstalledCity,
    },
    /// The city was not installed; now it is.
    Installed {
        /// The city as installed now.
        city: InstalledCity,
        /// Bytes downloaded.
        downloaded_bytes: u64,
    },
    /// An older version was replaced.
    Updated {
        /// The city as installed now.
        city: InstalledCity,
        /// The version it replaced.
        from_version: u64,
        /// Delta or full pack.
        method: UpdateMethod,
        /// Bytes downloaded.
        downloaded_bytes: u64,
    },
}

impl UpdateOutcome {
    /// The city as installed after the update.
    pub fn city(&self) -> &InstalledCity {
        match self {
            UpdateOutcome::UpToDate { city }
            | UpdateOutcome::Installed { city, .. }
            | UpdateOutcome::Updated { city, .. } => city,
        }
    }

    /// Bytes downloaded (0 when up to date).
    pub fn downloaded_bytes(&self) -> u64 {
        match self {
            UpdateOutcome::UpToDate { .. } => 0,
            UpdateOutcome::Installed { downloaded_bytes, .. } | UpdateOutcome::Updated { downloaded_bytes, .. } => {
                *downloaded_bytes
            }
        }
    }
}

const LAST_CATALOG_KEY: &str = "sync.last_catalog_version";
/// Keys endorsed by a verified catalog's key rotation, space-separated.
const ENDORSED_KEYS_KEY: &str = "sync.endorsed_keys";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn base_url(catalog_url: &str) -> &str {
    match catalog_url.rfind('/') {
        Some(i) => &catalog_url[..=i],
        None => "",
    }
}

/// Update client bound to a guide and a transport.
pub struct Syncer<'a> {
    guide: &'a Guide,
    transport: &'a dyn Transport,
    config: &'a SyncConfig,
}

impl<'a> Syncer<'a> {
    /// A client for `guide` over `transport`.
    pub fn new(guide: &'a Guide, transport: &'a dyn Transport, config: &'a SyncConfig) -> Self {
        Syncer { guide, transport, config }
    }

    /// The only way this client reaches the network: checks the updates consent before every request.
    fn get(&self, url: &str, range: Option<(u64, u64)>, max_bytes: u64) -> Result<Fetched, SyncError> {
        match self.guide.require_consent(ConsentScope::Updates) {
            Ok(()) => {}
            Err(CitizenError::ConsentRequired { scope }) => return Err(SyncError::ConsentRequired { scope }),
            Err(CitizenError::Guide(e)) => return Err(SyncError::Guide(e)),
            Err(other) => return Err(SyncError::Transport(TransportError::Other(other.to_string()))),
        }
        Ok(self.transport.get(url, range, max_bytes)?)
    }

    fn downloads_dir(&self) -> PathBuf {
        self.guide.store().dir().join("downloads")
    }

    /// Fetches and verifies the catalog; on success remembers its version (rollback protection).
    pub fn fetch_catalog(&self, now: i64) -> Result<Catalog, SyncError> {
        let fetched = self.get(&self.config.catalog_url, None, self.config.caps.catalog)?;
        if fetched.status != 200 {
            return Err(SyncError::Http { status: fetched.status, file: "catalog.json".into() });
        }
        let last_seen =
            self.guide.store().setting(LAST_CATALOG_KEY).map_err(GuideError::from)?.and_then(|v| v.parse().ok());
        let store = self.guide.store();
        let mut trusted = self.config.trusted_keys.clone();
        for k in store.setting(ENDORSED_KEYS_KEY).map_err(GuideError::from)?.unwrap_or_default().split_whitespace() {
            if let Ok(k) = k.parse::<PublicKey>()
                && !trusted.contains(&k)
            {
                trusted.push(k);
            }
        }
        let policy = TrustPolicy {
            trusted: trusted.clone(),
            last_seen_version: last_seen,
            now,
            max_bytes: self.config.caps.catalog,
        };
        let catalog = verify_catalog(&fetched.body, &policy)?;
        store.set_setting(LAST_CATALOG_KEY, &catalog.version.to_string()).map_err(GuideError::from)?;
        // Remember only keys a trusted catalog endorsed through rotation; the configured keys stay configuration.
        let endorsed: Vec<String> = catalog
            .endorsed_keys(&trusted)
            .iter()
            .filter(|k| !self.config.trusted_keys.contains(k))
            .map(ToString::to_string)
            .collect();
        store.set_setting(ENDORSED_KEYS_KEY, &endorsed.join(" ")).map_err(GuideError::from)?;
        Ok(catalog)
    }

    /// What would change for each city in the catalog (installed cities first; others as available).
    pub fn check(&self, now: i64) -> Result<Vec<UpdateInfo>, SyncError> {
        let catalog = self.fetch_catalog(now)?;
        let installed = self.guide.installed()?;
        Ok(catalog
            .cities
            .iter()
            .map(|c| {
                let inst = installed.iter().find(|i| i.city_id == c.city_id);
                let delta = inst
                    .and_then(|i| c.deltas.iter().find(|d| d.from_version == i.version && d.from_sha256 == i.sha256));
                UpdateInfo {
                    city_id: c.city_id.clone(),
                    installed_version: inst.map(|i| i.version),
                    available_version: c.version,
                    update_available: inst.is_none_or(|i| i.version != c.version || i.sha256 != c.sha256),
                    download_bytes: delta.map_or(c.compressed_size, |d| d.size),
                    via_delta: delta.is_some(),
                }
            })
            .collect())
    }

    /// Brings one city to the catalog's version: a delta when one fits the installed pack and verifies, the full
    /// pack otherwise.
    pub fn update(
        &self,
        city_id: &str,
        now: i64,
        progress: &dyn ProgressListener,
        cancel: &CancelToken,
    ) -> Result<UpdateOutcome, SyncError> {
        let _one_at_a_time = self.guide.update_lock();
        let catalog = self.fetch_catalog(now)?;
        let entry = catalog
            .cities
            .iter()
            .find(|c| c.city_id == city_id)
            .ok_or_else(|| SyncError::UnknownCity { city_id: city_id.into() })?;
        let installed = self.guide.installed()?.into_iter().find(|i| i.city_id == city_id);
        if let Some(i) = &installed
            && i.version == entry.version
            && i.sha256 == entry.sha256
        {
            return Ok(UpdateOutcome::UpToDate { city: i.clone() });
        }
        let mut downloaded = 0;
        let mut fell_back = false;
        if let Some(inst) = &installed
            && let Some(d) =
                entry.deltas.iter().find(|d| d.from_version == inst.version && d.from_sha256 == inst.sha256)
        {
            match self.try_delta(entry, d, progress, cancel) {
                Ok((bytes, n)) => {
                    downloaded += n;
                    let city = self.activate(entry, bytes)?;
                    self.collect_downloads(&catalog);
                    return Ok(UpdateOutcome::Updated {
                        city,
                        from_version: inst.version,
                        method: UpdateMethod::Delta,
                        downloaded_bytes: downloaded,
                    });
                }
                Err(SyncError::Cancelled) => return Err(SyncError::Cancelled),
                Err(e @ SyncError::ConsentRequired { .. }) => return Err(e),
                Err(SyncError::Offline) => return Err(SyncError::Offline),
                Err(_) => fell_back = true,
            }
        }
        let (compressed, n) = self.download(
            &entry.file,
            entry.compressed_size,
            &entry.compressed_sha256,
            self.config.caps.pack,
            progress,
            cancel,
        )?;
        downloaded += n;
        let bytes = zstd_decompress(&compressed, entry.size.min(self.config.caps.pack))
            .map_err(|reason| SyncError::Mismatch { file: entry.file.clone(), reason })?;
        check_digest(&entry.file, &bytes, entry.size, &entry.sha256)?;
        let city = self.activate(entry, bytes)?;
        self.collect_downloads(&catalog);
        Ok(match installed {
            None => UpdateOutcome::Installed { city, downloaded_bytes: downloaded },
            Some(inst) => UpdateOutcome::Updated {
                city,
                from_version: inst.version,
                method: if fell_back { UpdateMethod::FullPackAfterDeltaFailed } else { UpdateMethod::FullPack },
                downloaded_bytes: downloaded,
            },
        })
    }

    fn try_delta(
        &self,
        entry: &CatalogCity,
        d: &crate::update::catalog::CatalogDelta,
        progress: &dyn ProgressListener,
        cancel: &CancelToken,
    ) -> Result<(Vec<u8>, u64), SyncError> {
        let (raw, n) = self.download(&d.file, d.size, &d.sha256, self.config.caps.delta, progress, cancel)?;
        let mismatch = |reason: String| SyncError::Mismatch { file: d.file.clone(), reason };
        let delta = delta::decode(&raw, self.config.caps.delta).map_err(|e| mismatch(e.to_string()))?;
        let current = self.guide.installed_content(&entry.city_id)?;
        let next = delta::apply(&current, &delta).map_err(|e| mismatch(e.to_string()))?;
        let bytes = crate::pack::write_pack(&next).map_err(|e| mismatch(e.to_string()))?;
        check_digest(&d.file, &bytes, entry.size, &entry.sha256)?;
        failpoint::hit(failpoint::DELTA_APPLIED);
        Ok((bytes, n))
    }

    /// After a successful update, removes partial downloads the catalog no longer names (a failed delta, an
    /// earlier version's pack): they could never be resumed.
    fn collect_downloads(&self, catalog: &Catalog) {
        let wanted: HashSet<String> = catalog
            .cities
            .iter()
            .flat_map(|c| std::iter::once(c.compressed_sha256.clone()).chain(c.deltas.iter().map(|d| d.sha256.clone())))
            .map(|sha| format!("{sha}.part"))
            .collect();
        let Ok(entries) = std::fs::read_dir(self.downloads_dir()) else { return };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let empty = e.metadata().map(|m| m.len() == 0).unwrap_or(true);
            if empty || !wanted.contains(&name) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }

    /// Final checks against the catalog entry, then atomic activation.
    fn activate(&self, entry: &CatalogCity, bytes: Vec<u8>) -> Result<InstalledCity, SyncError> {
        let pack = PackFile::from_bytes(bytes).map_err(GuideError::from)?;
        let meta = pack.meta();
        if meta.city_id() != entry.city_id || meta.version() != entry.version {
            return Err(SyncError::Mismatch {
                file: entry.file.clone(),
                reason: format!(
                    "the pack is {} version {}, the catalog promised {} version {}",
                    meta.city_id(),
                    meta.version(),
                    entry.city_id,
                    entry.version
                ),
            });
        }
        let bytes = pack.bytes().to_vec();
        drop(pack);
        failpoint::hit(failpoint::VERIFIED);
        Ok(self.guide.install_pack_bytes(bytes)?)
    }

    /// Downloads a file named by the catalog in range requests, resuming a partial download, never accepting more
    /// than `size` bytes, and checks its SHA-256.
    fn download(
        &self,
        file: &str,
        size: u64,
        sha256: &str,
        cap: u64,
        progress: &dyn ProgressListener,
        cancel: &CancelToken,
    ) -> Result<(Vec<u8>, u64), SyncError> {
        if size > cap {
            return Err(SyncError::Mismatch {
                file: file.into(),
                reason: format!("{size} bytes is more than the limit of {cap}"),
            });
        }
        let dir = self.downloads_dir();
        let io = |e: std::io::Error| {
            GuideError::Store(crate::store::StoreError::Io { path: dir.display().to_string(), source: e })
        };
        std::fs::create_dir_all(&dir).map_err(io)?;
        // The partial file is named by the expected hash: a resume only ever continues the same content.
        let part = dir.join(format!("{sha256}.part"));
        let mut have = std::fs::read(&part).unwrap_or_default();
        if have.len() as u64 > size {
            have.clear();
        }
        let url = format!("{}{}", base_url(&self.config.catalog_url), file);
        let mut fetched_now = 0u64;
        // Opened at the first byte received, so a download refused at once leaves no empty file behind.
        let mut out: Option<std::fs::File> = None;
        while (have.len() as u64) < size {
            if cancel.is_cancelled() {
                return Err(SyncError::Cancelled);
            }
            let offset = have.len() as u64;
            let want = self.config.caps.chunk.min(size - offset);
            let got = self.get(&url, Some((offset, want)), want)?;
            let body = match got.status {
                206 => got.body,
                // A server that ignores ranges sends everything from the start.
                200 if offset == 0 => got.body,
                status => return Err(SyncError::Http { status, file: file.into() }),
            };
            if body.is_empty() {
                return Err(SyncError::Mismatch { file: file.into(), reason: "the server sent no data".into() });
            }
            if (have.len() + body.len()) as u64 > size {
                return Err(SyncError::Mismatch {
                    file: file.into(),
                    reason: format!("more than the {size} bytes announced"),
                });
            }
            let file_out = match &mut out {
                Some(f) => f,
                None => {
                    let f = std::fs::OpenOptions::new().create(true).append(true).open(&part).map_err(io)?;
                    if have.is_empty() {
                        f.set_len(0).map_err(io)?;
                    }
                    out.insert(f)
                }
            };
            file_out.write_all(&body).map_err(io)?;
            fetched_now += body.len() as u64;
            have.extend_from_slice(&body);
            progress.progress(have.len() as u64, size);
            failpoint::hit(failpoint::DOWNLOAD_CHUNK);
        }
        if let Some(f) = out.take() {
            f.sync_all().map_err(io)?;
        }
        failpoint::hit(failpoint::DOWNLOAD_COMPLETE);
        let _ = std::fs::remove_file(&part);
        if hex(&Sha256::digest(&have)) != sha256 {
            // The partial file is gone too, so the next attempt starts clean.
            return Err(SyncError::Mismatch { file: file.into(), reason: "SHA-256 differs".into() });
        }
        Ok((have, fetched_now))
    }
}

fn check_digest(what: &str, bytes: &[u8], size: u64, sha256: &str) -> Result<(), SyncError> {
    if bytes.len() as u64 != size {
        return Err(SyncError::Mismatch {
            file: what.into(),
            reason: format!("{} bytes, the catalog says {size}", bytes.len()),
        });
    }
    if hex(&Sha256::digest(bytes)) != sha256 {
        return Err(SyncError::Mismatch { file: what.into(), reason: "SHA-256 differs".into() });
    }
    Ok(())
}

/// Decompresses zstd data, refusing output beyond `max` bytes.
fn zstd_decompress(data: &[u8], max: u64) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let mut dec = zstd::stream::read::Decoder::new(data).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    (&mut dec).take(max + 1).read_to_end(&mut out).map_err(|e| format!("not valid zstd data: {e}"))?;
    if out.len() as u64 > max {
        return Err(format!("decompresses to more than {max} bytes"));
    }
    Ok(out)
}
