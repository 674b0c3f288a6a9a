//! The HTTP server: routes, limits, health, metrics, graceful shutdown.
//!
//! Why our own accept loop around axum's router: it lets the server close connections whose headers do not arrive
//! in time (slow-loris clients) through hyper's header read timeout, cap open connections, and drain the
//! connections in flight on shutdown, none of which `axum::serve` exposes. Everything else is axum and tower-http:
//! a request timeout (408), body limits (413), a global concurrency limit on the application routes (health,
//! readiness and metrics bypass it so they answer under load), gzip for pages and Open311 documents, and the static
//! site through `ServeDir` (GET and HEAD, byte ranges, nothing outside the directory).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tower::ServiceExt;
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;

use crate::config::Config;
use crate::db::{Db, DbError};
use crate::metrics::Metrics;
use crate::store::{self, Consultation, Route, Rules};

/// What every handler shares.
pub struct AppState {
    /// The database.
    pub db: Db,
    /// Inbox rules.
    pub rules: Rules,
    /// The configuration.
    pub config: Config,
    /// Counters.
    pub metrics: Metrics,
    /// The city id Open311 reports are filed under (the first pack's, or the jurisdiction id).
    pub city_id: String,
}

/// Shared state.
pub type Shared = Arc<AppState>;

/// A JSON error body `{"error": ...}` with a status, as the phone's endpoints answer.
pub fn json_error(status: u16, msg: &str) -> Response {
    let body = serde_json::json!({ "error": msg }).to_string();
    let mut r = (StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST), body).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

/// A database failure as a 503 the client may retry (nothing was stored).
pub fn db_unavailable(e: &DbError) -> Response {
    tracing::error!(error = %e, "database failure");
    json_error(503, "the inbox is unavailable; nothing was stored, try again later")
}

/// Opens the database and registers the city's packs: their consultations (rules fixed once voting opens) and
/// their feedback routes for any place (which office receives Open311 requests of each kind; an administrator's
/// change is kept).
pub fn open(config: &Config) -> Result<(Db, String), String> {
    let db = Db::open(&config.database.url, config.database.max_connections)
        .map_err(|e| format!("{}: {e}", redacted(&config.database.url)))?;
    let now = chrono::Utc::now().timestamp();
    let mut city_id = None;
    for p in &config.city.packs {
        let pack = cityguide_core::pack::PackFile::open(p).map_err(|e| format!("{}: {e}", p.display()))?;
        let n = register_pack(&db, &pack, now)?;
        tracing::info!(pack = %p.display(), consultations = n, "registered pack");
        city_id.get_or_insert(pack.info().city_id.clone());
    }
    Ok((db, city_id.unwrap_or_else(|| config.city.jurisdiction_id.clone())))
}

fn redacted(url: &str) -> String {
    if url.starts_with("postgres") { url.split('@').next_back().unwrap_or("").to_owned() } else { url.to_owned() }
}

/// Registers one pack's consultations and routes; returns how many consultations. A consultation whose rules a
/// pack tries to change after voting opened keeps its old rules, and the refusal is logged.
pub fn register_pack(db: &Db, pack: &cityguide_core::pack::PackFile, now: i64) -> Result<usize, String> {
    let content = pack.to_content();
    let city = content.meta.city_id.clone();
    db.run_blocking(|c| -> Result<usize, String> {
        for k in &content.consultations {
            let rec = Consultation {
                city_id: city.clone(),
                id: k.id.clone(),
                rule: k.rule.into(),
                options: k.options.iter().map(|o| (o.id.clone(), o.cost)).collect(),
                proposals_opens: k.proposals_opens.unwrap_or(0),
                opens: k.opens,
                closes: k.closes,
            };
            match store::register_consultation(c, &rec, now) {
                Ok(()) => {}
                Err(store::InboxError::Refused(_, msg)) => tracing::warn!("{msg}; the pack's change is ignored"),
                Err(e) => return Err(e.to_string()),
            }
        }
        for r in &content.feedback_routes {
            c.execute(
                "INSERT INTO offices (name, email, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
                &[r.office.as_str().into(), r.email.clone().into(), now.into()],
            )
            .map_err(|e| e.to_string())?;
        }
        for r in content.feedback_routes.iter().filter(|r| r.place_category.is_none()) {
            let exists = c
                .one(
                    "SELECT office FROM routes WHERE city_id = $1 AND kind = $2",
                    &[city.as_str().into(), r.kind.as_str().into()],
                )
                .map_err(|e| e.to_string())?;
            if exists.is_none() {
                store::save_route(
                    c,
                    &Route { city_id: city.clone(), kind: r.kind.clone(), office: r.office.clone() },
                    now,
                )
                .map_err(|e| e.to_string())?;
            }
        }
        Ok(content.consultations.len())
    })
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(s): State<Shared>) -> Response {
    if s.db.ready(Duration::from_secs(2)).await {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "the database does not answer\n").into_response()
    }
}

async fn metrics(State(s): State<Shared>) -> Response {
    let up = if s.db.ready(Duration::from_secs(2)).await { 1.0 } else { 0.0 };
    let pending =
        s.db.run(|c| c.one("SELECT count(*) FROM deliveries WHERE state = 'pending'", &[]))
            .await
            .ok()
            .flatten()
            .map_or(-1.0, |r| r.i(0) as f64);
    let dead =
        s.db.run(|c| c.one("SELECT count(*) FROM deliveries WHERE state = 'dead'", &[]))
            .await
            .ok()
            .flatten()
            .map_or(-1.0, |r| r.i(0) as f64);
    let text = s.metrics.render(&[
        ("cityguide_database_up", "1 when the database answers a query within 2 s.", up),
        ("cityguide_deliveries_pending", "Reports waiting to reach an office's own system.", pending),
        ("cityguide_deliveries_dead", "Reports whose delivery failed for good (the dead-letter list).", dead),
    ]);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response()
}

async fn track(State(s): State<Shared>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().to_string();
    let route = req.extensions().get::<MatchedPath>().map_or("static", |m| m.as_str()).to_owned();
    s.metrics.in_flight(1);
    let resp = next.run(req).await;
    s.metrics.in_flight(-1);
    let status = resp.status().as_u16();
    s.metrics.request(&method, &route, status, start.elapsed().as_secs_f64());
    resp
}

async fn fallback(State(s): State<Shared>, req: Request) -> Response {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return json_error(404, "no such endpoint");
    }
    match &s.config.server.site {
        Some(site) => match ServeDir::new(site).oneshot(req).await {
            Ok(r) => r.map(Body::new),
            Err(e) => match e {},
        },
        None => (StatusCode::NOT_FOUND, "not found\n").into_response(),
    }
}

async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    resp
}

/// The whole application.
pub fn router(state: Shared) -> Router {
    let cfg = &state.config.server;
    let api = Router::new()
        .route("/v1/feedback", post(crate::phone::feedback))
        .route("/v1/ballots", post(crate::phone::ballot))
        .route("/v1/status", post(crate::phone::status))
        .nest("/open311/v2", crate::open311::router().layer(CompressionLayer::new()))
        .merge(crate::web::router().layer(CompressionLayer::new()))
        .fallback(fallback)
        .layer(DefaultBodyLimit::max(cfg.max_body_bytes))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(cfg.request_timeout_s.max(1)),
        ))
        .layer(tower::limit::GlobalConcurrencyLimitLayer::new(cfg.max_concurrent_requests.max(1)));
    let ops =
        Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz)).route("/metrics", get(metrics));
    ops.merge(api)
        .layer(middleware::from_fn(security_headers))
        .layer(middleware::from_fn_with_state(state.clone(), track))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// A running server.
pub struct Running {
    /// The address it listens on.
    pub addr: SocketAddr,
    stop: tokio::sync::watch::Sender<bool>,
    done: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stops accepting, lets the requests in flight finish (at most 30 s), stops the delivery worker.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.done.await;
    }

    /// Waits until the server ends (after a signal, see [`shutdown_signal`]).
    pub async fn wait(self) {
        let _ = self.done.await;
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

/// Binds and starts serving (and the delivery worker). Call inside a tokio runtime.
pub async fn start(config: Config, db: Db, city_id: String) -> Result<Running, String> {
    let listener = tokio::net::TcpListener::bind(&config.server.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.server.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let rules = config.rules();
    let state = Arc::new(AppState { db, rules, config, metrics: Metrics::default(), city_id });
    let app = router(state.clone());
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(crate::delivery::worker(state.clone(), stop.subscribe()));
    let header_timeout = Duration::from_secs(state.config.server.header_timeout_s.max(1));
    let connections = Arc::new(tokio::sync::Semaphore::new(state.config.server.max_connections.max(1)));
    let done = tokio::spawn(async move {
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        loop {
            let permit = tokio::select! {
                p = connections.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
                _ = stopped.changed() => break,
            };
            let accepted = tokio::select! {
                a = listener.accept() => a,
                _ = stopped.changed() => break,
            };
            let (stream, _) = match accepted {
                Ok(s) => s,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let svc = TowerToHyperService::new(app.clone());
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .serve_connection(TokioIo::new(stream), svc);
            let conn = graceful.watch(conn);
            tokio::spawn(async move {
                let _ = conn.await;
                drop(permit);
            });
        }
        drop(listener);
        tokio::select! {
            _ = graceful.shutdown() => tracing::info!("all connections closed"),
            _ = tokio::time::sleep(Duration::from_secs(30)) => tracing::warn!("connections still open after 30 s; closing"),
        }
        let _ = worker.await;
    });
    Ok(Running { addr, stop, done })
}

/// Sets up `tracing` output: text or JSON lines on stderr, level from `RUST_LOG` (default `info`).
pub fn init_logs(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tower_http=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = if json { builder.json().try_init() } else { builder.try_init() };
}

/// A server on its own thread and runtime, for the command line's `serve`, the demo and tests.
pub struct Background {
    /// The address it listens on.
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Background {
    /// Opens the database, registers packs, binds, and serves on a new thread until [`Background::stop`] or a
    /// signal (with `signals`).
    pub fn start(config: Config, signals: bool) -> Result<Background, String> {
        let (db, city) = open(&config)?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("cityguide-server")
            .build()
            .map_err(|e| e.to_string())?;
        let (tx, rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            rt.block_on(async move {
                let running = match start(config, db, city).await {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                };
                let _ = tx.send(Ok(running.addr));
                if signals {
                    tokio::select! { _ = stop_rx => {}, _ = shutdown_signal() => {} }
                } else {
                    let _ = stop_rx.await;
                }
                tracing::info!("shutting down");
                running.stop().await;
            });
        });
        let addr = rx.recv().map_err(|_| "the server thread ended".to_owned())??;
        Ok(Background { addr, stop: Some(stop_tx), thread: Some(thread) })
    }

    /// Waits for the server to end (after a signal).
    pub fn join(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// Stops the server gracefully and waits for it.
    pub fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
