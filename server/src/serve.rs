//! `cityguide serve`: a small static file server for a published site, for development and tests.
//!
//! Production sites are plain files on any static host or CDN; this server only needs what phones use: GET and
//! HEAD, byte ranges (resumable downloads), and nothing outside the site directory. It listens on loopback unless
//! told otherwise.
//!
//! With `--feedback-db FILE` it is also the city's inbox: `POST /v1/feedback` and `POST /v1/ballots` take the JSON
//! requests phones send from their outbox (see [`crate::inbox`]); bodies larger than the wire format's cap are
//! refused with 413 before they are read in full.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use cityguide_core::citizen::wire::{BALLOT_PATH, FEEDBACK_PATH, MAX_BODY_BYTES};

use crate::inbox::Inbox;

use tiny_http::{Header, Method, Request, Response, Server, StatusCode};

/// Starts serving `site` on `addr` and answers requests until the process ends. Prints the URL first. With an
/// inbox, also accepts feedback and ballots.
pub fn run(site: &Path, addr: &str, public: bool, inbox: Option<Inbox>) -> Result<(), String> {
    let addr: SocketAddr = addr.parse().map_err(|_| format!("{addr:?} is not an address like 127.0.0.1:8080"))?;
    if !addr.ip().is_loopback() && !public {
        return Err(format!(
            "{} is not a loopback address; the development server only listens on this machine unless you pass --public",
            addr.ip()
        ));
    }
    if !site.is_dir() {
        return Err(format!("{} is not a directory; publish a site first (cityguide publish)", site.display()));
    }
    let server = Server::http(addr).map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let bound = server.server_addr().to_ip().ok_or("not an IP listener")?;
    println!("serving {} on http://{bound}/", site.display());
    if inbox.is_some() {
        println!("accepting feedback on http://{bound}/{FEEDBACK_PATH} and ballots on http://{bound}/{BALLOT_PATH}");
    }
    let inbox = inbox.map(Arc::new);
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let site = site.canonicalize().map_err(|e| format!("{}: {e}", site.display()))?;
    for request in server.incoming_requests() {
        let site = site.clone();
        let inbox = inbox.clone();
        std::thread::spawn(move || handle(&site, inbox.as_deref(), request));
    }
    Ok(())
}

/// The file a URL path names inside `site`, refusing anything that would leave it.
fn resolve(site: &Path, url_path: &str) -> Option<PathBuf> {
    let path = url_path.split(['?', '#']).next().unwrap_or("");
    let mut out = site.to_path_buf();
    for comp in Path::new(path.trim_start_matches('/')).components() {
        match comp {
            Component::Normal(c) => out.push(c),
            Component::CurDir => {}
            _ => return None,
        }
    }
    if path.contains('%') || path.contains('\\') {
        return None;
    }
    let real = out.canonicalize().ok()?;
    real.starts_with(site).then_some(real).filter(|p| p.is_file())
}

/// Parses a single `bytes=` range against a file of `len` bytes; `Err(())` when unsatisfiable.
fn parse_range(header: &str, len: u64) -> Option<Result<(u64, u64), ()>> {
    let spec = header.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None; // several ranges: answer with the whole file
    }
    let (a, b) = spec.split_once('-')?;
    let (start, end) = match (a.trim(), b.trim()) {
        ("", n) => {
            let n: u64 = n.parse().ok()?;
            (len.saturating_sub(n), len.saturating_sub(1))
        }
        (s, "") => (s.parse().ok()?, len.saturating_sub(1)),
        (s, e) => (s.parse().ok()?, e.parse::<u64>().ok()?.min(len.saturating_sub(1))),
    };
    if len == 0 || start >= len || start > end {
        return Some(Err(()));
    }
    Some(Ok((start, end)))
}

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).unwrap_or_else(|_| {
        Header::from_bytes(&b"X-Invalid"[..], &b"1"[..]).unwrap_or_else(|_| unreachable!("static header is valid"))
    })
}

fn json_response(status: u16, body: String) -> Response<std::io::Cursor<Vec<u8>>> {
    Response::from_string(body).with_status_code(status).with_header(header("Content-Type", "application/json"))
}

/// Answers a POST to the inbox: the body is read up to one byte past the cap, never more.
fn handle_post(inbox: &Inbox, mut request: Request) {
    let path = request.url().split(['?', '#']).next().unwrap_or("").trim_start_matches('/').to_owned();
    let declared = request.body_length();
    if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
        let msg = format!("{{\"error\":\"the body is larger than {MAX_BODY_BYTES} bytes\"}}");
        let _ = request.respond(json_response(413, msg));
        return;
    }
    let mut body = Vec::new();
    if request.as_reader().take(MAX_BODY_BYTES as u64 + 1).read_to_end(&mut body).is_err() {
        let _ = request.respond(json_response(400, "{\"error\":\"the body could not be read\"}".into()));
        return;
    }
    let now = chrono::Utc::now().timestamp();
    let (status, answer) = match path.as_str() {
        p if p == FEEDBACK_PATH => inbox.post_feedback(&body, now),
        p if p == BALLOT_PATH => inbox.post_ballot(&body, now),
        _ => (404, "{\"error\":\"no such endpoint\"}".into()),
    };
    let _ = request.respond(json_response(status, answer));
}

fn handle(site: &Path, inbox: Option<&Inbox>, request: Request) {
    let method = request.method().clone();
    if method == Method::Post
        && let Some(inbox) = inbox
    {
        handle_post(inbox, request);
        return;
    }
    if method != Method::Get && method != Method::Head {
        let _ = request.respond(Response::from_string("only GET and HEAD").with_status_code(405));
        return;
    }
    let Some(path) = resolve(site, request.url()) else {
        let _ = request.respond(Response::from_string("not found").with_status_code(404));
        return;
    };
    let Ok(mut file) = File::open(&path) else {
        let _ = request.respond(Response::from_string("not found").with_status_code(404));
        return;
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let range =
        request.headers().iter().find(|h| h.field.equiv("Range")).and_then(|h| parse_range(h.value.as_str(), len));
    let (status, start, count) = match range {
        None => (200, 0, len),
        Some(Ok((s, e))) => (206, s, e - s + 1),
        Some(Err(())) => {
            let resp = Response::from_string("range not satisfiable")
                .with_status_code(416)
                .with_header(header("Content-Range", &format!("bytes */{len}")));
            let _ = request.respond(resp);
            return;
        }
    };
    if file.seek(SeekFrom::Start(start)).is_err() {
        let _ = request.respond(Response::from_string("read error").with_status_code(500));
        return;
    }
    let body: Box<dyn Read + Send> =
        if method == Method::Head { Box::new(std::io::empty()) } else { Box::new(file.take(count)) };
    let mut resp =
        Response::new(StatusCode(status), vec![header("Accept-Ranges", "bytes")], body, Some(count as usize), None);
    if status == 206 {
        resp.add_header(header("Content-Range", &format!("bytes {start}-{}/{len}", start + count - 1)));
    }
    let _ = request.respond(resp);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), Some(Ok((0, 9))));
        assert_eq!(parse_range("bytes=90-", 100), Some(Ok((90, 99))));
        assert_eq!(parse_range("bytes=-10", 100), Some(Ok((90, 99))));
        assert_eq!(parse_range("bytes=50-500", 100), Some(Ok((50, 99))));
        assert_eq!(parse_range("bytes=100-", 100), Some(Err(())));
        assert_eq!(parse_range("bytes=0-1,5-6", 100), None);
        assert_eq!(parse_range("items=0-1", 100), None);
    }

    #[test]
    fn paths_stay_inside_the_site() {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::write(dir.path().join("catalog.json"), b"{}").expect("write");
        let site = dir.path().canonicalize().expect("canon");
        assert!(resolve(&site, "/catalog.json").is_some());
        assert!(resolve(&site, "/catalog.json?x=1").is_some());
        assert!(resolve(&site, "/../etc/passwd").is_none());
        assert!(resolve(&site, "/%2e%2e/etc/passwd").is_none());
        assert!(resolve(&site, "/").is_none());
        assert!(resolve(&site, "/missing").is_none());
    }
}
