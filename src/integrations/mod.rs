//! Clients for the outside services, with base URLs from configuration so tests point them at
//! fakes on loopback. They never touch the database.

pub mod twilio;
