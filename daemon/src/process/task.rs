//! The processor's task: batches from the source, rule reloads, people's
//! actions, ticks, and a graceful drain on shutdown.

use super::*;

/// Everything that flows into the processor.
pub struct Inlets {
    /// Messages from the broker.
    pub deliveries: mpsc::Receiver<Delivery>,
    /// Acknowledges stored messages (none in replay-like uses).
    pub acker: Option<Acker>,
    /// New rule sets from the reloader.
    pub rules: watch::Receiver<RuleSet>,
    /// People's actions on cases.
    pub commands: mpsc::Receiver<Command>,
    /// Consent withdrawn or given again.
    pub consents: mpsc::Receiver<ConsentCommand>,
}

pub async fn run(
    mut processor: Processor,
    inlets: Inlets,
    batch_size: usize,
    tick_every: Duration,
    shutdown: CancellationToken,
) {
    let Inlets {
        deliveries: mut rx,
        acker,
        mut rules,
        mut commands,
        mut consents,
    } = inlets;
    let mut ticker = tokio::time::interval(tick_every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut acks = AckQueue::new(acker);
    loop {
        acks.offer();
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(Duration::from_millis(10)), if !acks.is_empty() => {}
            first = rx.recv() => {
                let Some(first) = first else { break };
                let batch = fill(first, &mut rx, batch_size);
                if commit_with_retry(&mut processor, &batch, &shutdown).await {
                    acks.stored(&batch);
                }
            }
            changed = rules.changed() => {
                if changed.is_ok() {
                    processor.replace_rules(rules.borrow_and_update().clone());
                }
            }
            Some(command) = commands.recv() => {
                let result = processor
                    .act(command.case_id, &command.action)
                    .await
                    .map_err(|e| e.to_string());
                let _ = command.reply.send(result);
            }
            Some(command) = consents.recv() => {
                let result = processor
                    .set_consent(&command.household, command.monitoring)
                    .await
                    .map_err(|e| e.to_string());
                let _ = command.reply.send(result);
            }
            _ = ticker.tick() => {
                if let Err(e) = processor.tick().await {
                    tracing::error!(error = %e, "time-based rules could not be stored; retrying next tick");
                }
                if let Err(e) = processor.escalate().await {
                    tracing::error!(error = %e, "case escalation could not be stored; retrying next tick");
                }
            }
        }
    }
    // Flush what was already taken from the broker, then stop.
    rx.close();
    while let Ok(first) = rx.try_recv() {
        let batch = fill(first, &mut rx, batch_size);
        if processor.handle(&batch).await.is_ok() {
            acks.stored(&batch);
        }
    }
    acks.finish(Duration::from_secs(2)).await;
}

fn fill(first: Delivery, rx: &mut mpsc::Receiver<Delivery>, batch_size: usize) -> Vec<Delivery> {
    let mut batch = vec![first];
    while batch.len() < batch_size {
        match rx.try_recv() {
            Ok(next) => batch.push(next),
            Err(_) => break,
        }
    }
    batch
}

/// Store a batch, retrying with backoff; false if shut down before it was stored.
async fn commit_with_retry(
    processor: &mut Processor,
    batch: &[Delivery],
    shutdown: &CancellationToken,
) -> bool {
    let mut wait = Duration::from_millis(100);
    loop {
        match processor.handle(batch).await {
            Ok(()) => return true,
            Err(e) => {
                tracing::error!(error = %e, retry_in = ?wait, "could not store a batch; it stays unacknowledged");
                tokio::select! {
                    _ = shutdown.cancelled() => return false,
                    _ = tokio::time::sleep(wait) => {}
                }
                wait = (wait * 2).min(Duration::from_secs(10));
            }
        }
    }
}
