//! The network as the apps provide it: a foreign trait that Kotlin implements on `HttpURLConnection` or OkHttp and
//! Swift on `URLSession`, adapted to the core's [`cityguide_core::Transport`].
//!
//! Why one `send(request)` method rather than one method per HTTP verb: a foreign trait is an interface the apps
//! implement, so every method added later breaks every implementation. A request record with a method enum and a body
//! already carries POST (for sending feedback); a new kind of request is a new field with a default, which existing
//! apps do not notice.

use std::sync::Arc;

use cityguide_core::{Fetched, Transport as CoreTransport, TransportError as CoreTransportError};

/// HTTP method of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum HttpMethod {
    /// Download (catalog, packs, deltas).
    Get,
    /// Upload (reports to the city); the body and its content type are set.
    Post,
}

/// A byte range of a resource: `length` bytes from `start` (HTTP `Range: bytes=start-(start+length-1)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct ByteRange {
    /// First byte.
    pub start: u64,
    /// Number of bytes (at least 1).
    pub length: u64,
}

/// A request header.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpHeader {
    /// Name, e.g. "Idempotency-Key".
    pub name: String,
    /// Value.
    pub value: String,
}

/// One HTTP request the core asks the app to make.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpRequest {
    /// GET or POST.
    pub method: HttpMethod,
    /// Absolute URL.
    pub url: String,
    /// Only these bytes of the resource (GET only).
    #[uniffi(default)]
    pub range: Option<ByteRange>,
    /// The transport must fail with `TransportError.TooLarge` rather than return a longer body.
    pub max_response_bytes: u64,
    /// Give up when the server sends nothing for this long, milliseconds.
    #[uniffi(default = 15000)]
    pub timeout_ms: u32,
    /// Extra headers to send (besides `Range` and `Content-Type`, which the transport sets from the fields).
    #[uniffi(default)]
    pub headers: Vec<HttpHeader>,
    /// Body (POST only).
    #[uniffi(default)]
    pub body: Option<Vec<u8>>,
    /// Content type of the body (POST only).
    #[uniffi(default)]
    pub content_type: Option<String>,
}

/// The server's answer.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpResponse {
    /// HTTP status (200, 206, 404, ...). Error statuses are answers, not transport errors.
    pub status: u16,
    /// The body, at most `max_response_bytes` long.
    pub body: Vec<u8>,
    /// The resource's full size when the server said (from `Content-Range`, else `Content-Length` of a 200).
    #[uniffi(default)]
    pub total_size: Option<u64>,
}

/// Why a request failed; thrown by the app's transport.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum TransportError {
    /// No network, or the host cannot be reached.
    #[error("offline")]
    Offline,
    /// The server did not answer in time.
    #[error("the server did not answer in time")]
    Timeout,
    /// The server sent more than `max_response_bytes`.
    #[error("the server sent more than {max_bytes} bytes")]
    TooLarge {
        /// The limit that was exceeded.
        max_bytes: u64,
    },
    /// Anything else, in words (the core removes URLs from it before it reaches an error message).
    #[error("transfer failed: {reason}")]
    Other {
        /// What happened.
        reason: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for TransportError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        TransportError::Other { reason: format!("the app's transport failed unexpectedly: {}", e.reason) }
    }
}

/// An HTTP client provided by the app. Implementations must be safe to call from any thread, honour
/// `range`, `max_response_bytes` and `timeout_ms`, and report HTTP error statuses as responses.
#[uniffi::export(with_foreign)]
pub trait Transport: Send + Sync {
    /// Makes one request.
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError>;
}

/// How long the core lets a request stall.
pub(crate) const REQUEST_TIMEOUT_MS: u32 = 15_000;

/// The app's transport as the core's [`CoreTransport`].
pub(crate) struct Adapter(pub Arc<dyn Transport>);

impl Adapter {
    /// Sends one request through the app's transport, mapping its errors and holding it to the size cap.
    fn call(&self, request: HttpRequest) -> Result<Fetched, CoreTransportError> {
        let max_bytes = request.max_response_bytes;
        let response = self.0.send(request).map_err(|e| match e {
            TransportError::Offline => CoreTransportError::Offline,
            TransportError::Timeout => CoreTransportError::Timeout,
            TransportError::TooLarge { max_bytes } => CoreTransportError::TooLarge { max: max_bytes },
            TransportError::Other { reason } => CoreTransportError::Other(reason),
        })?;
        // The contract is the app's to keep, but a body beyond the cap never reaches the core.
        if response.body.len() as u64 > max_bytes {
            return Err(CoreTransportError::TooLarge { max: max_bytes });
        }
        Ok(Fetched { status: response.status, body: response.body, total_size: response.total_size })
    }
}

impl CoreTransport for Adapter {
    fn post(&self, url: &str, content_type: &str, body: &[u8], max_bytes: u64) -> Result<Fetched, CoreTransportError> {
        self.call(HttpRequest {
            method: HttpMethod::Post,
            url: url.to_owned(),
            range: None,
            max_response_bytes: max_bytes,
            timeout_ms: REQUEST_TIMEOUT_MS,
            headers: Vec::new(),
            body: Some(body.to_vec()),
            content_type: Some(content_type.to_owned()),
        })
    }

    fn get(&self, url: &str, range: Option<(u64, u64)>, max_bytes: u64) -> Result<Fetched, CoreTransportError> {
        self.call(HttpRequest {
            method: HttpMethod::Get,
            url: url.to_owned(),
            range: range.map(|(start, length)| ByteRange { start, length: length.max(1) }),
            max_response_bytes: max_bytes,
            timeout_ms: REQUEST_TIMEOUT_MS,
            headers: Vec::new(),
            body: None,
            content_type: None,
        })
    }
}
