//! Hybrid telephony: the clinic keeps its own number and forwards calls to the AI. The owner
//! proves the number through Twilio's caller-ID verification, picks carrier and mode, and dials
//! the forwarding code. [`crate::service::telephony`] holds the actions, `wizard` the pages,
//! `api` the JSON API of the original product, `hook` Twilio's signed verification report.

pub mod api;
pub mod hook;
pub mod wizard;
