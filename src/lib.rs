//! Voxanne: an AI receptionist appliance for clinics, in one binary.
//!
//! - `app`: state, routers, `serve` — `config`: layered settings — `error`: errors by meaning
//! - `clock`: the source of "now" — `crypto`: vault, password hashing, tokens — `keys`: key rotation
//! - `domain`: pure rules (phones, times, slots) — `store`: everything SQL, org-scoped
//! - `service`: the workflows several entry points run (booking) — `failpoints`: test crash points
//! - `jobs`: background loops — `voice`: the Vapi-facing side — `integrations`: Vapi API client
//! - `web`: the staff dashboard and probes — `cli`: the `voxanne` command line
//! - `net`: the listeners, with their timeouts and connection caps — `tls`: the dashboard's HTTPS
//! - `backup`: the backup set, encrypted backups, restore — `diagnostics`: the health report
//! - `private_files`: owner-only modes for everything the appliance writes

pub mod app;
pub mod backup;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod diagnostics;
pub mod domain;
pub mod error;
pub mod failpoints;
pub mod integrations;
pub mod jobs;
pub mod keys;
pub mod service;
pub mod store;
pub mod systemd;
pub mod voice;
pub mod web;

// The process around the app: its listeners and the modes of the files it writes.
pub mod net;
pub mod private_files;
pub mod tls;

/// One allocator for everything that links the appliance: the binary, its tests and benchmarks.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
