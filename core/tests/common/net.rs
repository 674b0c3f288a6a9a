//! A fake network that serves a site directory like a static host, with range requests and chosen misbehaviour.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use cityguide_core::{Fetched, Transport, TransportError};

/// Where the fake host serves the site.
pub const BASE: &str = "https://cdn.example.org/varna-site/";

/// One request: file relative to the site, and the byte range asked for.
pub type Request = (String, Option<(u64, u64)>);

/// How the fake network misbehaves.
#[derive(Clone, Debug, PartialEq)]
pub enum Mode {
    Normal,
    Offline,
    Stall,
    /// The server streams without end: the transport hits its cap.
    Endless,
    /// Flip one byte in the middle of every file whose name ends like this.
    Flip(String),
    /// Cut the connection once after this many bytes of a file whose name ends like this.
    CutOnce(String, u64),
    /// Send more bytes than the range asked for.
    Overlong,
}

/// Serves a site directory like a static host, with range requests; records every request.
pub struct FakeNet {
    pub site: PathBuf,
    pub mode: Mutex<Mode>,
    /// Replaces the catalog body when set (replays, forgeries).
    pub catalog_override: Mutex<Option<Vec<u8>>>,
    pub log: Mutex<Vec<Request>>,
}

impl FakeNet {
    pub fn new(site: &Path) -> Self {
        FakeNet {
            site: site.to_path_buf(),
            mode: Mutex::new(Mode::Normal),
            catalog_override: Mutex::new(None),
            log: Mutex::new(Vec::new()),
        }
    }
    pub fn set(&self, m: Mode) {
        *self.mode.lock().expect("lock") = m;
    }
    pub fn requests(&self) -> Vec<Request> {
        self.log.lock().expect("lock").clone()
    }
}

impl Transport for FakeNet {
    fn post(&self, url: &str, _: &str, _: &[u8], _: u64) -> Result<Fetched, TransportError> {
        panic!("sync never posts, but {url} was posted to")
    }

    fn get(&self, url: &str, range: Option<(u64, u64)>, max_bytes: u64) -> Result<Fetched, TransportError> {
        let rel = url.strip_prefix(BASE).ok_or(TransportError::Offline)?.to_owned();
        self.log.lock().expect("lock").push((rel.clone(), range));
        let mode = self.mode.lock().expect("lock").clone();
        match &mode {
            Mode::Offline => return Err(TransportError::Offline),
            Mode::Stall => return Err(TransportError::Timeout),
            Mode::Endless => return Err(TransportError::TooLarge { max: max_bytes }),
            _ => {}
        }
        let mut bytes = match (rel.as_str(), self.catalog_override.lock().expect("lock").clone()) {
            ("catalog.json", Some(b)) => b,
            _ => match std::fs::read(self.site.join(&rel)) {
                Ok(b) => b,
                Err(_) => return Ok(Fetched { status: 404, body: b"not found".to_vec(), total_size: None }),
            },
        };
        let total = bytes.len() as u64;
        if let Mode::Flip(suffix) = &mode
            && rel.ends_with(suffix.as_str())
        {
            let mid = bytes.len() / 2;
            bytes[mid] ^= 0x40;
        }
        let (status, mut body) = match range {
            None => (200, bytes),
            Some((start, len)) => {
                let end = (start + len).min(total);
                (206, bytes.get(start as usize..end as usize).unwrap_or_default().to_vec())
            }
        };
        if let Mode::CutOnce(suffix, after) = &mode
            && rel.ends_with(suffix.as_str())
        {
            let start = range.map_or(0, |r| r.0);
            if start + body.len() as u64 > *after {
                // The connection drops inside this chunk: the request fails.
                *self.mode.lock().expect("lock") = Mode::Normal;
                return Err(TransportError::Other("connection reset".into()));
            }
        }
        if mode == Mode::Overlong && rel != "catalog.json" {
            body.extend_from_slice(&[0u8; 64]);
        }
        if body.len() as u64 > max_bytes {
            return Err(TransportError::TooLarge { max: max_bytes });
        }
        Ok(Fetched { status, body, total_size: Some(total) })
    }
}
