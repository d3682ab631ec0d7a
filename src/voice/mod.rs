//! The Vapi-facing side: request authentication, message parsing, the tool definitions and
//! their dispatch, and call-event ingest.

pub mod auth;
pub mod booking_tools;
pub mod call_back;
pub mod call_event;
pub mod call_locks;
pub mod clinic_tools;
pub mod common;
pub mod dispatch;
pub mod events;
pub mod http;
pub mod ingest;
pub mod parse;
pub mod sms_tools;
pub mod tools;
pub mod verify;

/// The addresses Vapi must call, from `VOXANNE_PUBLIC_URL` (or a placeholder until it is set).
pub struct VapiUrls {
    pub webhook: String,
    pub tools: String,
    pub legacy_booking: String,
}

pub fn urls(config: &crate::config::Config) -> VapiUrls {
    let base = config
        .public_url
        .clone()
        .unwrap_or_else(|| "https://YOUR-TUNNEL-ADDRESS".to_string());
    VapiUrls {
        webhook: format!("{base}/api/vapi/webhook"),
        tools: format!("{base}/api/vapi/tools"),
        legacy_booking: format!("{base}/api/vapi/tools/bookClinicAppointment"),
    }
}
