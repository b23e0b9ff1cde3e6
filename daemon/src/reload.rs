//! Hot reload of the rules file: on SIGHUP, and whenever the file changes
//! (checked every few seconds; editors replace files, so the path is polled
//! rather than watched). A broken file is reported — every problem, with its
//! line — and the rules already running keep running.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use waterwatch_rules::RuleSet;

use crate::metrics::Metrics;
use crate::web::RulesStatus;

/// How often the file's modification time is looked at.
const POLL: Duration = Duration::from_secs(2);

/// Read and validate the rules file; with `routes` (the names of the
/// daemon's `[[route]]`s), a rule's `route` must be one of them.
pub fn load(path: &std::path::Path, routes: Option<&[&str]>) -> Result<RuleSet, Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![format!(
            "{}: cannot read the rules file: {e}",
            path.display()
        )]
    })?;
    let label = path.display().to_string();
    match routes {
        Some(routes) => RuleSet::parse_routed(&label, &text, routes),
        None => RuleSet::parse(&label, &text),
    }
    .map_err(|problems| problems.iter().map(ToString::to_string).collect())
}

fn modified(path: &std::path::Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Watch `path` and publish each valid new rule set on `tx`; `routes` are
/// the names a rule's `route` may take.
pub async fn run(
    path: PathBuf,
    routes: Vec<String>,
    tx: watch::Sender<RuleSet>,
    metrics: Arc<Metrics>,
    status: Arc<RulesStatus>,
    shutdown: CancellationToken,
) {
    let mut seen = modified(&path);
    let mut hangup = hangup_signal();
    loop {
        let forced = tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(POLL) => false,
            _ = next(&mut hangup) => true,
        };
        let now = modified(&path);
        if !forced && now == seen {
            continue;
        }
        seen = now;
        let names: Vec<&str> = routes.iter().map(String::as_str).collect();
        match load(&path, Some(&names)) {
            Ok(rules) => {
                metrics.rules_reload("ok");
                status.loaded(now_ms());
                tracing::info!(file = %path.display(), rules = rules.rules.len(), "rules reloaded");
                let _ = tx.send(rules);
            }
            Err(problems) => {
                metrics.rules_reload("failed");
                status.refused(now_ms(), problems.clone());
                for problem in &problems {
                    tracing::error!("rules not reloaded, the running rules stay: {problem}");
                }
            }
        }
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[cfg(unix)]
type Hangup = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Hangup = Option<()>;

fn hangup_signal() -> Hangup {
    #[cfg(unix)]
    {
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok()
    }
    #[cfg(not(unix))]
    {
        None
    }
}

async fn next(hangup: &mut Hangup) {
    #[cfg(unix)]
    if let Some(signal) = hangup {
        signal.recv().await;
        return;
    }
    let _ = hangup;
    std::future::pending::<()>().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_broken_edit_keeps_the_old_rules_and_a_good_one_replaces_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rules.toml");
        let original = waterwatch_rules::config::DEFAULT_RULES_TOML;
        std::fs::write(&path, original).unwrap();
        let (tx, mut rx) = watch::channel(load(&path, Some(&["urgent"])).unwrap());
        let metrics = Arc::new(Metrics::new());
        let shutdown = CancellationToken::new();
        let status = Arc::new(RulesStatus::new(Some(path.clone()), 0));
        let task = tokio::spawn(run(
            path.clone(),
            vec!["urgent".to_owned()],
            tx,
            metrics.clone(),
            status.clone(),
            shutdown.clone(),
        ));

        // Make sure the modification time moves on coarse file systems.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        std::fs::write(&path, "[[rule]]\nname = \"x\"\nkind = \"nope\"\n").unwrap();
        tokio::time::sleep(POLL * 2).await;
        assert!(
            !rx.has_changed().unwrap(),
            "a broken file must not replace the rules"
        );
        assert!(
            metrics
                .render()
                .contains("waterwatch_rules_reloads_total{outcome=\"failed\"} 1")
        );
        assert_eq!(status.report().refused.len(), 1, "{:?}", status.report());

        // A rule naming a route the daemon does not have is refused too.
        let routed =
            original.replacen("after = \"12h\"", "after = \"10h\"\nroute = \"nowhere\"", 1);
        tokio::time::sleep(Duration::from_millis(1100)).await;
        std::fs::write(&path, &routed).unwrap();
        tokio::time::sleep(POLL * 2).await;
        assert!(
            !rx.has_changed().unwrap(),
            "an unknown route must not replace the rules"
        );
        let refused = status.report().refused;
        assert!(
            refused.len() == 1 && refused[0].contains("route: no [[route]] named \"nowhere\""),
            "{refused:?}"
        );

        let fewer = routed.replace("\"nowhere\"", "\"urgent\"");
        std::fs::write(&path, fewer).unwrap();
        tokio::time::timeout(POLL * 3, rx.changed())
            .await
            .unwrap()
            .unwrap();
        let rules = rx.borrow().clone();
        assert!(status.report().refused.is_empty());
        assert!(status.report().loaded_ms > 0);
        assert!(
            format!("{:?}", rules.rule("inactivity")).contains("36000"),
            "{rules:?}"
        );
        shutdown.cancel();
        task.await.unwrap();
    }
}
