//! The Vapi-facing side: request authentication, message parsing, the tool definitions and
//! their dispatch, and call-event ingest.

pub mod parse;
pub mod tools;
pub mod verify;
