//! Clients for the outside services, with base URLs from configuration so tests point them at
//! fakes on loopback. They never touch the database.

pub mod smtp;
pub mod twilio;
pub mod twilio_caller_ids;
pub mod twilio_check;
pub mod twilio_signature;
pub mod vapi;
pub mod vapi_assistant;
