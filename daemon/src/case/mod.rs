//! Cases: one open case per household groups its alerts; routes decide who
//! is told, in which order, and how hard to insist.
//!
//! # Layout
//! - `lifecycle.rs`: the pure state machine, `step(case, input, routes, now)`.
//!   `lifecycle/escalation.rs`: what a route says is due at a given time.
//! - `route.rs`: routes, escalation steps, roles.

pub mod lifecycle;
pub mod route;

pub use lifecycle::{Case, CaseAlert, Effect, Input, NotifyReason, Reason, step};
pub use route::{Role, Route, roles_text};
