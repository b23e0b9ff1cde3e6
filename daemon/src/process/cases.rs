//! Alert events into cases: suppressions (away mode, silences) checked,
//! each case stepped through its lifecycle and stored, and its
//! notifications queued in the outbox with their audit lines.

use chrono::{DateTime, Utc};
use sqlx::AnyConnection;
use waterwatch_rules::{AlertEvent, Kind, Severity, Transition};

use super::Processor;
use crate::case::{self, Case, Effect, Input, NotifyReason, Role};
use crate::links::{Claim, LinkAction};
use crate::notify::contacts;
use crate::notify::template;
use crate::notify::{Message, payload};
use crate::store::{self, StoreError};
use crate::suppress;

/// The template for each reason a case notifies.
fn template_reason(reason: NotifyReason) -> template::Reason {
    match reason {
        NotifyReason::ResidentCheck => template::Reason::ResidentCheck,
        NotifyReason::CaseOpened => template::Reason::CaseOpened,
        NotifyReason::Escalated => template::Reason::Escalated,
        NotifyReason::Reminder => template::Reason::Reminder,
        NotifyReason::SeverityRaised => template::Reason::SeverityRaised,
        NotifyReason::Acknowledged => template::Reason::Acknowledged,
        NotifyReason::VisitOverdue => template::Reason::VisitOverdue,
        NotifyReason::AllClear => template::Reason::AllClear,
        NotifyReason::Closed => template::Reason::Closed,
        NotifyReason::SeenLate => template::Reason::SeenLate,
    }
}

/// What fills a template for this case: the summary is the closure's
/// reason once closed, except in a seen-late notice (the alert's evidence).
fn template_values(case: &Case, case_id: i64, reason: NotifyReason) -> template::Values {
    let summary = match &case.closed {
        Some(closure) if reason != NotifyReason::SeenLate => {
            closure.reason.as_str().replace('_', " ")
        }
        _ => case
            .alerts
            .iter()
            .rev()
            .find(|a| a.resolved.is_none())
            .or(case.alerts.last())
            .map(|a| a.summary.clone())
            .unwrap_or_default(),
    };
    template::Values {
        household: case.household.clone(),
        name: case.household.clone(),
        summary,
        since: case.opened.format("%H:%M UTC").to_string(),
        // Signed acknowledgement links come with the dashboard; until then
        // the case number is what a person quotes.
        link: format!("case #{case_id}"),
        by: case
            .acknowledged
            .as_ref()
            .map(|a| a.by.clone())
            .or_else(|| case.closed.as_ref().and_then(|c| c.by.clone()))
            .unwrap_or_default(),
    }
}

impl Processor {
    /// Run each event through the case lifecycle and queue its notifications.
    /// Returns how many notifications were queued.
    pub(super) async fn apply_events(
        &self,
        conn: &mut AnyConnection,
        events: &[AlertEvent],
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let mut queued = 0;
        let mut suppressions = None;
        let late = seen_late(events);
        let mut ended_late = Vec::new();
        for (i, event) in events.iter().enumerate() {
            if ended_late.contains(&i) {
                continue;
            }
            if event.event == Transition::Fired {
                // Read only when something fires: firing is rare.
                if suppressions.is_none() {
                    suppressions = Some(store::suppressions::current(conn, now).await?);
                }
                let grid = self
                    .settings
                    .grids
                    .get(&event.household)
                    .map(String::as_str);
                let active = suppressions.as_deref().unwrap_or_default();
                if let Some(by) =
                    suppress::covering(active, &event.household, grid, event.kind, now)
                {
                    store::suppressions::hold(conn, event, now).await?;
                    self.metrics
                        .suppressed(if by.away { "away" } else { "silence" });
                    tracing::info!(
                        household = %event.household,
                        rule = %event.rule,
                        "held back ({}: {}) until {}",
                        if by.away { "away" } else { "silenced" },
                        by.reason,
                        by.ends
                    );
                    continue;
                }
            } else if store::suppressions::release(conn, event).await? {
                // It fired and ended while suppressed: nobody needs to hear of it.
                continue;
            }
            let open = store::cases::open_case(conn, &event.household).await?;
            if let (None, Some(&(_, j))) = (&open, late.iter().find(|(f, _)| *f == i)) {
                // Over before it arrived: kept, nobody paged. One case for
                // the household's batch, on its most severe such alert: the
                // same quiet may end several rules' alerts (a check-in rule
                // and the urgent one).
                ended_late.push(j);
                self.metrics.suppressed("seen_late");
                if most_severe_late(events, &late, &event.household) != (i, j) {
                    continue;
                }
                let input = Input::SeenLate {
                    event,
                    ended: &events[j],
                    route: self.route_of_rule(&event.rule),
                };
                queued += self.apply(conn, None, input, Some(event), now).await?.0;
                tracing::info!(
                    household = %event.household,
                    rule = %event.rule,
                    "seen late: fired and resolved within one batch of readings; nobody paged"
                );
                continue;
            }
            queued += self
                .apply(conn, open, self.alert_input(event), Some(event), now)
                .await?
                .0;
        }
        Ok(queued)
    }

    /// The case input for an alert, with the route its rule names (a rule
    /// renamed or removed since the alert fired names none).
    fn alert_input<'a>(&'a self, event: &'a AlertEvent) -> Input<'a> {
        Input::Alert {
            event,
            route: self.route_of_rule(&event.rule),
        }
    }

    /// The route the rule `name` names, if it names one.
    fn route_of_rule(&self, name: &str) -> Option<&str> {
        self.engine
            .rules()
            .rule(name)
            .and_then(|r| r.route.as_deref())
    }

    /// Alerts held back by a suppression that has ended and still active:
    /// they open (or join) a case now.
    pub(super) async fn release_held(
        &self,
        conn: &mut AnyConnection,
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let held = store::suppressions::held(conn).await?;
        if held.is_empty() {
            return Ok(0);
        }
        let suppressions = store::suppressions::current(conn, now).await?;
        let mut queued = 0;
        for event in held {
            let grid = self
                .settings
                .grids
                .get(&event.household)
                .map(String::as_str);
            if suppress::covering(&suppressions, &event.household, grid, event.kind, now).is_some()
            {
                continue;
            }
            store::suppressions::release(conn, &event).await?;
            let open = store::cases::open_case(conn, &event.household).await?;
            queued += self
                .apply(conn, open, self.alert_input(&event), Some(&event), now)
                .await?
                .0;
        }
        Ok(queued)
    }

    /// Step one case with one input, store the result and queue its
    /// notifications. Returns (notifications queued, the case afterwards).
    pub(super) async fn apply(
        &self,
        conn: &mut AnyConnection,
        case: Option<Case>,
        input: Input<'_>,
        cause: Option<&AlertEvent>,
        now: DateTime<Utc>,
    ) -> Result<(usize, Option<Case>), StoreError> {
        let (next, effects) = case::step(case.as_ref(), input, &self.settings.routes, now);
        let Some(mut next) = next else {
            return Ok((0, case));
        };
        let case_id = store::cases::save(conn, &next).await?;
        next.id = Some(case_id);
        let mut queued = 0;
        for effect in effects {
            match effect {
                Effect::Audit(kind, detail) => {
                    store::cases::audit(conn, case_id, now, kind, &detail).await?;
                }
                Effect::Notify { reason, roles } => {
                    queued += self
                        .queue_notices(conn, &next, case_id, reason, &roles, cause, now)
                        .await?;
                }
            }
        }
        Ok((queued, Some(next)))
    }

    /// Queue one notification: to every broadcast channel, and to every
    /// contact of the household with one of `roles` over each of their
    /// channels (held until the end of their quiet hours unless critical).
    #[allow(clippy::too_many_arguments)]
    async fn queue_notices(
        &self,
        conn: &mut AnyConnection,
        case: &Case,
        case_id: i64,
        reason: NotifyReason,
        roles: &[Role],
        cause: Option<&AlertEvent>,
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let body = payload::case_notification(case_id, case, reason, roles, cause, now);
        // What makes this notification unique within its case.
        // A case that changed route sends its new route's steps (and maybe
        // asks the resident) again: those keys carry the route's number.
        let rerouted = match case.progress.reroutes {
            0 => String::new(),
            n => format!("r{n}"),
        };
        let nth = match reason {
            NotifyReason::CaseOpened | NotifyReason::Escalated => {
                format!("{}{rerouted}", case.progress.steps_done)
            }
            NotifyReason::ResidentCheck => rerouted,
            NotifyReason::Reminder => case.progress.reminders.to_string(),
            NotifyReason::SeverityRaised => cause
                .map(|c| format!("{}-{}", c.rule, c.ts.timestamp_millis()))
                .unwrap_or_default(),
            _ => String::new(),
        };
        let subject = format!("waterwatch: {} {}", case.household, reason.as_str());
        let text = payload::text(case, reason);
        let now_ms = now.timestamp_millis();
        let mut outgoing: Vec<(String, String, Message, i64)> = Vec::new();
        for channel in &self.settings.channels {
            let message = Message {
                to: None,
                subject: subject.clone(),
                text: text.clone(),
                body: body.clone(),
            };
            outgoing.push((
                format!("case-{case_id}-{}-{nth}-{channel}", reason.as_str()),
                channel.clone(),
                message,
                now_ms,
            ));
        }
        let grid = self.settings.grids.get(&case.household).map(String::as_str);
        let values = template_values(case, case_id, reason);
        // A seen-late notice is news, not an emergency: the resident was up.
        let severity = match reason {
            NotifyReason::SeenLate => Severity::Warning,
            _ => case.severity(),
        };
        for contact in
            contacts::for_household(&self.settings.contacts, &case.household, grid, roles)
        {
            let not_before = contact.not_before(severity, now).timestamp_millis();
            let mut values = values.clone();
            values.since = contact
                .zone()
                .local(case.opened)
                .format("%H:%M")
                .to_string();
            if let Some((signer, valid_for)) = &self.settings.links {
                let action = if contact.role == Role::Resident {
                    LinkAction::ResidentOk
                } else {
                    LinkAction::Acknowledge
                };
                let expires = now + chrono::Duration::from_std(*valid_for).unwrap_or_default();
                values.link = signer.link(&Claim {
                    case_id,
                    action,
                    who: contact.name.clone(),
                    expires: expires.timestamp(),
                });
            }
            let (subject, text) =
                self.settings
                    .templates
                    .render(template_reason(reason), contact.language, &values);
            for reach in &contact.reach {
                let message = Message {
                    to: reach.to.clone(),
                    subject: subject.clone(),
                    text: text.clone(),
                    body: body.clone(),
                };
                let key = format!(
                    "case-{case_id}-{}-{nth}-{}-{}-{}",
                    reason.as_str(),
                    reach.channel,
                    contact.name,
                    reach.to.as_deref().unwrap_or("")
                );
                outgoing.push((key, reach.channel.clone(), message, not_before));
            }
        }
        let mut queued = 0;
        for (key, channel, message, not_before) in outgoing {
            let payload = serde_json::to_string(&message).unwrap_or_default();
            if store::outbox::enqueue(
                conn,
                &key,
                &channel,
                Some(case_id),
                &payload,
                now_ms,
                not_before,
            )
            .await?
            {
                queued += 1;
                let to = message
                    .to
                    .as_deref()
                    .map(crate::notify::mask)
                    .unwrap_or_default();
                store::cases::audit(
                    conn,
                    case_id,
                    now,
                    "notification_queued",
                    &format!(
                        "{} for {} via {channel} {to}",
                        reason.as_str(),
                        case::roles_text(roles)
                    ),
                )
                .await?;
            }
        }
        Ok(queued)
    }
}

/// Of the household's alerts seen late in this batch, the most severe
/// (the first of equals): its rule's route is the one the notice takes.
fn most_severe_late(
    events: &[AlertEvent],
    late: &[(usize, usize)],
    household: &str,
) -> (usize, usize) {
    let mut best: Option<(usize, usize)> = None;
    for &(i, j) in late
        .iter()
        .filter(|(i, _)| events[*i].household == household)
    {
        if best.is_none_or(|(b, _)| events[i].severity > events[b].severity) {
            best = Some((i, j));
        }
    }
    best.unwrap_or_default()
}

/// The inactivity alerts that fired and resolved within `events` (one
/// batch of readings: a daily upload, a backlog): `(fired, resolved)`
/// positions.
fn seen_late(events: &[AlertEvent]) -> Vec<(usize, usize)> {
    events
        .iter()
        .enumerate()
        .filter(|(_, e)| e.event == Transition::Fired && e.kind == Kind::Inactivity)
        .filter_map(|(i, fired)| {
            let later = events.get(i + 1..)?;
            let j = later.iter().position(|e| {
                e.event == Transition::Resolved
                    && e.meter_id == fired.meter_id
                    && e.rule == fired.rule
            })?;
            Some((i, i + 1 + j))
        })
        .collect()
}
