//! Live updates: one task watches the store for changes to cases, alerts and
//! suppressions (whoever made them: the processor, the API, another daemon
//! sharing the database) and every open page hears about it over
//! server-sent events.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::auth::Identity;
use crate::http::AppState;
use crate::store::{Store, dashboard};

/// How often the store is asked whether anything changed.
const POLL: Duration = Duration::from_secs(1);

/// Watch the store until `shutdown`; the receiver changes with it.
pub fn spawn(store: Store, shutdown: CancellationToken) -> watch::Receiver<String> {
    let (tx, rx) = watch::channel(String::new());
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(POLL) => {}
            }
            // Nobody is looking: do not ask the store.
            if tx.receiver_count() <= 1 {
                continue;
            }
            match dashboard::change_mark(store.pool()).await {
                Ok(mark) => {
                    tx.send_if_modified(|old| {
                        let changed = *old != mark;
                        *old = mark;
                        changed
                    });
                }
                Err(e) => tracing::debug!(error = %e, "the live view cannot read the store"),
            }
        }
    });
    rx
}

/// `GET /events`: a `change` event whenever the dashboard's data changes.
pub async fn events(
    State(state): State<AppState>,
    _who: Identity,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let rx = state.web.live.clone();
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.changed().await.ok()?;
        let mark = rx.borrow_and_update().clone();
        Some((Ok(Event::default().event("change").data(mark)), rx))
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(20)))
}
