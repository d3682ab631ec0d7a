//! Pure rules with no I/O: phone numbers, dates and times as people say them, schedules and
//! free slots, the one formatter for every time a person reads or hears, the services
//! catalogue matcher, transcript redaction, SMS text and segments, lead scoring, carrier
//! call-forwarding codes, the telephony set-up's rules and how a Vapi HMAC credential signs. Nothing here imports the rest of the crate.

pub mod attention;
pub mod calls;
pub mod catalog;
pub mod channel;
pub mod charts;
pub mod clinic_type;
pub mod conversation;
pub mod delivery;
pub mod digest;
pub mod format;
pub mod forwarding;
pub mod go_live;
pub mod hmac_plan;
pub mod ics;
pub mod lead;
pub mod mail;
pub mod mail_failure;
pub mod overview;
pub mod phone;
pub mod plain;
pub mod practitioner;
pub mod redact;
pub mod schedule;
pub mod search;
pub mod sms;
pub mod telephony;
pub mod when;
