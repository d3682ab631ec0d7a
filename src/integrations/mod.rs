//! Clients for the outside services, with base URLs from the configuration so tests can point
//! them at fakes. Nothing here touches the database.

pub mod vapi;
