//! The HTTP edge: the webhook's signature is verified over the raw bytes before anything is
//! parsed, the delivery becomes a typed event, is journaled and queued, and only then answered.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::forge::Forge;

use super::Service;
use super::event::{Event, classify};
use super::journal::Delivery;
use super::signature;

/// The daemon's routes.
pub fn router<F: Forge>(svc: Arc<Service<F>>) -> Router {
    let limit = svc.ctx.config.max_body;
    Router::new()
        .route("/webhook", post(webhook::<F>))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz::<F>))
        .route("/metrics", get(metrics::<F>))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(svc)
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

async fn webhook<F: Forge>(
    State(svc): State<Arc<Service<F>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let event = header(&headers, "x-github-event").unwrap_or("unknown");
    let m = &svc.ctx.metrics;
    if let Err(e) = signature::verify(
        &svc.ctx.config.secrets,
        headers.get("x-hub-signature-256").map(|v| v.as_bytes()),
        &body,
    ) {
        m.delivery(event, "unauthorized");
        return (StatusCode::UNAUTHORIZED, format!("{e}\n")).into_response();
    }
    let Some(id) =
        header(&headers, "x-github-delivery").filter(|s| !s.is_empty() && s.len() <= 100)
    else {
        m.delivery(event, "bad_request");
        return (StatusCode::BAD_REQUEST, "no X-GitHub-Delivery header\n").into_response();
    };
    if event == "ping" {
        m.delivery(event, "pong");
        return (StatusCode::OK, "pong\n").into_response();
    }
    let repo = svc.ctx.config.repository.to_string();
    let typed = match classify(event, &body, &repo, svc.ctx.known_bot()) {
        Ok(t) => t,
        Err(e) => {
            m.delivery(event, "bad_request");
            return (
                StatusCode::BAD_REQUEST,
                format!("the body is not a JSON object ({e}); set the webhook's content type to application/json\n"),
            )
                .into_response();
        }
    };
    if let Event::Ignored(why) = &typed {
        m.delivery(event, "ignored");
        return (StatusCode::OK, format!("ignored: {why}\n")).into_response();
    }
    let text: Arc<str> = match std::str::from_utf8(&body) {
        Ok(t) => Arc::from(t),
        Err(_) => return (StatusCode::BAD_REQUEST, "the body is not UTF-8\n").into_response(),
    };
    let delivery = Delivery {
        id: id.to_string(),
        event: event.to_string(),
        body: text,
    };
    match svc.accept(delivery, typed, started).await {
        Accepted::Queued => {
            m.delivery(event, "accepted");
            (StatusCode::ACCEPTED, "accepted\n").into_response()
        }
        Accepted::Duplicate => {
            m.delivery(event, "duplicate");
            (StatusCode::OK, "duplicate delivery: already accepted\n").into_response()
        }
        Accepted::Full => {
            m.delivery(event, "queue_full");
            (
                [("retry-after", "30")],
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the queue is full; try again later\n",
                ),
            )
                .into_response()
        }
        Accepted::NotJournaled(e) => {
            m.delivery(event, "journal_error");
            tracing::error!(error = %e, "the journal refused a delivery");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the delivery could not be recorded\n",
            )
                .into_response()
        }
    }
}

/// How accepting a delivery ended.
pub enum Accepted {
    /// Journaled and queued.
    Queued,
    /// Seen before.
    Duplicate,
    /// No room: nothing was written.
    Full,
    /// The journal failed: nothing was queued.
    NotJournaled(std::io::Error),
}

async fn readyz<F: Forge>(State(svc): State<Arc<Service<F>>>) -> Response {
    match svc.ready(Duration::from_secs(5)).await {
        Ok(()) => (StatusCode::OK, "ready\n").into_response(),
        Err(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {why}\n"),
        )
            .into_response(),
    }
}

async fn metrics<F: Forge>(State(svc): State<Arc<Service<F>>>) -> Response {
    let text = svc.ctx.metrics.render(svc.queue.depth(), &svc.forge_stats);
    (
        [("content-type", "text/plain; version=0.0.4; charset=utf-8")],
        text,
    )
        .into_response()
}
