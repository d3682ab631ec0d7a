//! The workflows that more than one entry point runs. Voice tools, dashboard handlers, the
//! JSON API, the command line and jobs call these; they call `domain`, `store` and
//! `integrations`, never the other way round.
//!
//! - `booking`: hold, book, confirm, reschedule, cancel, record an outcome, remind — each one
//!   write with its audit row and its effects
//! - `effects`: what every booking change sets going (texts today), declared in one place and
//!   queued in the change's own transaction
//! - `messaging`: sending what the changes queued (the outbox sender), and nudging it

pub mod booking;
pub mod effects;
pub mod messaging;
pub mod outbox_reconcile;
