//! The network, seen from the core: one small trait the apps implement with their platform HTTP stack (OkHttp or
//! `HttpURLConnection`, `URLSession`), and the CLI and tests with `ureq` (feature `http`).
//!
//! Downloads are made of byte-range requests of bounded size, so the core alone decides how much it accepts (endless
//! data is cut at the cap), can resume after an interruption, report progress and be cancelled between chunks. Every
//! static host, CDN and S3-compatible store serves ranges.
//!
//! Sending (citizen feedback and consultation ballots from the outbox) is one `POST` of a small JSON body. The core
//! calls the transport only for what the user's consent covers (see [`crate::citizen`]); a transport never decides
//! that on its own.

/// What a transport returns for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// HTTP status (200, 206, 404, ...).
    pub status: u16,
    /// The body; a transport never returns more than the `max_bytes` it was given.
    pub body: Vec<u8>,
    /// The resource's full size when the server said (from `Content-Range` or `Content-Length`).
    pub total_size: Option<u64>,
}

/// Why a request failed, as far as the core needs to know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// No network, or the host cannot be reached.
    #[error("offline")]
    Offline,
    /// The server did not answer in time.
    #[error("the server did not answer in time")]
    Timeout,
    /// The server sent more than the caller allowed.
    #[error("the server sent more than {max} bytes")]
    TooLarge {
        /// The cap.
        max: u64,
    },
    /// Anything else, in words.
    #[error("transfer failed: {0}")]
    Other(String),
}

/// An HTTP client for the core.
pub trait Transport: Send + Sync {
    /// GETs `url`, or only bytes `start..start + len` of it when `range` is `Some((start, len))` (a `Range` request).
    /// Must fail with [`TransportError::TooLarge`] rather than return a body longer than `max_bytes`, and must time
    /// out on a stalled connection.
    fn get(&self, url: &str, range: Option<(u64, u64)>, max_bytes: u64) -> Result<Fetched, TransportError>;

    /// POSTs `body` (of type `content_type`, e.g. `application/json`) to `url` and returns the answer, whatever its
    /// status. Same rules as [`Transport::get`]: never a body longer than `max_bytes`, a timeout on a stalled
    /// connection. An error means the core cannot know whether the server received the request, so it retries with
    /// the same idempotency key.
    fn post(&self, url: &str, content_type: &str, body: &[u8], max_bytes: u64) -> Result<Fetched, TransportError>;
}

#[cfg(feature = "http")]
mod http {
    use std::io::Read;
    use std::time::Duration;

    use super::{Fetched, Transport, TransportError};

    /// A [`Transport`] on `ureq`, for the CLI and tests.
    pub struct HttpTransport {
        agent: ureq::Agent,
    }

    impl HttpTransport {
        /// A client whose requests fail after `timeout` without progress.
        pub fn new(timeout: Duration) -> Self {
            let config = ureq::Agent::config_builder()
                .timeout_connect(Some(timeout))
                .timeout_recv_response(Some(timeout))
                .timeout_recv_body(Some(timeout))
                .http_status_as_error(false)
                .build();
            HttpTransport { agent: config.into() }
        }
    }

    impl Default for HttpTransport {
        fn default() -> Self {
            Self::new(Duration::from_secs(15))
        }
    }

    fn classify(e: ureq::Error) -> TransportError {
        match e {
            ureq::Error::Timeout(_) => TransportError::Timeout,
            ureq::Error::Io(io)
                if io.kind() == std::io::ErrorKind::TimedOut || io.kind() == std::io::ErrorKind::WouldBlock =>
            {
                TransportError::Timeout
            }
            ureq::Error::Io(_) | ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => TransportError::Offline,
            other => TransportError::Other(other.to_string()),
        }
    }

    impl Transport for HttpTransport {
        fn get(&self, url: &str, range: Option<(u64, u64)>, max_bytes: u64) -> Result<Fetched, TransportError> {
            let mut req = self.agent.get(url);
            if let Some((start, len)) = range {
                req = req.header("Range", &format!("bytes={}-{}", start, start + len.max(1) - 1));
            }
            let resp = req.call().map_err(classify)?;
            read_response(resp, max_bytes)
        }

        fn post(&self, url: &str, content_type: &str, body: &[u8], max_bytes: u64) -> Result<Fetched, TransportError> {
            let resp = self.agent.post(url).header("Content-Type", content_type).send(body).map_err(classify)?;
            read_response(resp, max_bytes)
        }
    }

    fn read_response(resp: ureq::http::Response<ureq::Body>, max_bytes: u64) -> Result<Fetched, TransportError> {
        let status = resp.status().as_u16();
        let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let total_size = match header("content-range") {
            Some(cr) => cr.rsplit('/').next().and_then(|t| t.trim().parse().ok()),
            None if status == 200 => header("content-length").and_then(|l| l.trim().parse().ok()),
            None => None,
        };
        let mut body = Vec::new();
        resp.into_body()
            .into_reader()
            .take(max_bytes + 1)
            .read_to_end(&mut body)
            .map_err(|e| classify(ureq::Error::Io(e)))?;
        if body.len() as u64 > max_bytes {
            return Err(TransportError::TooLarge { max: max_bytes });
        }
        Ok(Fetched { status, body, total_size })
    }
}

#[cfg(feature = "http")]
pub use http::HttpTransport;
