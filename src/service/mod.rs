//! The workflows that more than one entry point runs. Voice tools, dashboard handlers, the
//! JSON API, the command line and jobs call these; they call `domain`, `store` and
//! `integrations`, never the other way round.
//!
//! - `booking`: hold, book, confirm, reschedule, cancel, record an outcome, remind — each one
//!   write with its audit row and its effects
//! - `effects`: what every booking change sets going (texts and e-mails), declared in one place and
//!   queued in the change's own transaction
//! - `messaging`: sending what the changes queued (the outbox sender), and nudging it
//! - `mailing`: sending the e-mails the changes queued (the mail sender), and the test e-mail
//! - `digest`: the owners' daily digest, queued once a day at the clinic's hour
//! - `outbox_reconcile`: texts left mid-send by a crash, looked up on Twilio
//! - `call_actions`: export a transcript, share a recording, text the caller a follow-up
//! - `telephony`: verify the clinic's number as a caller ID and set up call forwarding

pub mod availability;
pub mod booking;
pub mod call_actions;
pub mod digest;
pub mod effects;
pub mod mailing;
pub mod messaging;
pub mod outbox_reconcile;
pub mod telephony;
