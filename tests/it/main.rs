//! The integration tests, in one binary: each module is one area of the appliance, all sharing
//! the harness in `support` (the real app on loopback, fake Vapi and Twilio, headless Chromium).
#![allow(clippy::disallowed_methods)] // Tests and benches arrange and read the database directly.

mod support;

mod appointments;
mod appointments_api;
mod audit;
mod auth;
mod backups;
mod booking_flow;
mod browser;
mod browser_pages;
mod calendar;
mod calls;
mod calls_api;
mod calls_pages;
mod calls_robustness;
mod cli;
mod clinic_types;
mod crash_safety;
mod diagnostics;
mod email;
mod file_modes;
mod front_desk;
mod front_desk_home;
mod keys;
mod logs;
mod messaging;
mod org_isolation;
mod outbox_reconcile;
mod overview;
mod pages;
mod practitioners;
mod retention;
mod services;
mod setup;
mod sign_in_throttle;
mod slow_clients;
mod staff_admin;
mod telephony;
mod telephony_browser;
mod twilio_settings;
mod twilio_webhooks;
mod vapi_fixtures;
mod vapi_hmac;
mod vapi_tools;
mod voice_settings;
mod voice_tools;
