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
        rules,
        mut commands,
        mut consents,
    } = inlets;
    let mut rules = Some(rules);
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
            new_rules = next_rules(&mut rules) => processor.replace_rules(new_rules),
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

/// The next rule set from the reloader. Without a rules file there is no
/// reloader and its sender is gone at start-up: from then on this waits
/// forever (a closed channel answers at once, every time, and the loop
/// around it would spin a whole core doing nothing).
async fn next_rules(rules: &mut Option<watch::Receiver<RuleSet>>) -> RuleSet {
    loop {
        match rules {
            Some(rx) => match rx.changed().await {
                Ok(()) => return rx.borrow_and_update().clone(),
                Err(_) => *rules = None,
            },
            None => std::future::pending::<()>().await,
        }
    }
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

#[cfg(test)]
mod tests {
    use futures_util::FutureExt;
    use tokio::sync::watch;
    use waterwatch_rules::RuleSet;

    use super::next_rules;

    #[test]
    fn without_a_reloader_the_rules_inlet_waits_instead_of_answering_at_once() {
        let (tx, rx) = watch::channel(RuleSet::default_rules());
        drop(tx);
        let mut rules = Some(rx);
        // Polled once: a closed channel must leave it pending, not ready.
        assert!(next_rules(&mut rules).now_or_never().is_none());
        assert!(next_rules(&mut rules).now_or_never().is_none());
        assert!(rules.is_none());
    }

    #[tokio::test]
    async fn a_reloaded_rule_set_is_handed_over() {
        let (tx, rx) = watch::channel(RuleSet::default_rules());
        let mut rules = Some(rx);
        let mut changed = RuleSet::default_rules();
        changed.rules.truncate(1);
        tx.send(changed.clone()).expect("the processor listens");
        assert_eq!(next_rules(&mut rules).await, changed);
    }
}
