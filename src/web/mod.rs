//! The staff-facing side: the whole route table in one place, plus the webhook-only router
//! that a tunnel may expose.

pub mod account;
pub mod api;
pub mod api_tokens;
pub mod appointments;
pub mod assets;
pub mod attention;
pub mod auth;
pub mod backups;
pub mod calendar;
pub mod calls;
pub mod device_cookie;
pub mod diagnostics;
pub mod email_settings;
pub mod health;
pub mod https_only;
pub mod leads;
pub mod messages;
pub mod middleware;
pub mod overview;
pub mod pages;
pub mod password_reset;
pub mod practitioners;
pub mod services;
pub mod services_api;
pub mod session;
pub mod settings;
pub mod setup;
pub mod shared_recordings;
pub mod staff;
pub mod staff_locks;
pub mod telephony;
pub mod throttle;
pub mod transport;
pub mod twilio_hooks;
pub mod twilio_settings;
pub mod unsubscribe;
pub mod vapi_tools_settings;
pub mod voice_settings;
pub mod webhook_activity;

use crate::app::AppState;
use crate::store::sessions::SessionInfo;
use crate::store::staff::Role;
use axum::response::Redirect;
use axum::routing::{delete, get, post};
use axum::Router;

/// Where a person lands after signing in: the Overview, for owners and staff alike (staff see
/// every area it summarises: appointments, calls, leads, messages).
pub fn home_for_role(_role: Role) -> &'static str {
    pages::home_path()
}

pub fn home_for(info: &SessionInfo) -> &'static str {
    home_for_role(info.staff.role)
}

/// `/` is the Overview for whoever is signed in.
async fn root(
    axum::extract::State(state): axum::extract::State<AppState>,
    session::MaybeStaff(info): session::MaybeStaff,
) -> crate::error::AppResult<axum::response::Response> {
    use axum::response::IntoResponse;
    match info {
        Some(info) => overview::show(&state, &info).await,
        None => Ok(Redirect::to("/login").into_response()),
    }
}

/// Routes that Vapi and Twilio call, plus the probes. Served on the main listener and, alone,
/// on the webhook listener.
/// The largest request body the webhook routes read: an end-of-call report of a two-hour call
/// (transcript, every message with its timings, analysis) stays well under 1 MB, so 16 MB is
/// room to spare, while still bounding what a stranger on the tunnel can make us buffer.
/// Larger bodies get 413 before any of it is parsed.
pub const WEBHOOK_BODY_LIMIT: usize = 16 * 1024 * 1024;

pub fn webhook_routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/api/vapi/tools", post(crate::voice::http::tools))
        .route(
            "/api/vapi/tools/bookClinicAppointment",
            post(crate::voice::http::book_clinic_appointment),
        )
        .route("/api/vapi/webhook", post(crate::voice::http::webhook))
        .route(
            crate::integrations::twilio::STATUS_CALLBACK_PATH,
            post(twilio_hooks::status),
        )
        .route(
            crate::integrations::twilio::INBOUND_SMS_PATH,
            post(twilio_hooks::inbound_sms),
        )
        // Telephony: Twilio's report at the end of a caller-ID verification call.
        .route(
            crate::integrations::twilio_caller_ids::CALLBACK_PATH,
            post(telephony::hook::caller_id_status),
        )
        // Calendar apps fetch subscription feeds from outside (Google from the internet), so the
        // feed is served where the tunnel points too.
        .route("/calendars/{file}", get(calendar::feed))
        // Diagnostics: when Vapi last reached us, and what it was answered.
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            webhook_activity::record,
        ))
        // A shared call recording: public (the link is the key), so also on the tunnel.
        .route("/shared/recordings/{token}", get(shared_recordings::open))
        // The unsubscribe link in reminder e-mails: public (the link is the key), on the tunnel.
        .route(
            "/unsubscribe/{token}",
            get(unsubscribe::confirm).post(unsubscribe::unsubscribe),
        )
        .layer(axum::extract::DefaultBodyLimit::max(WEBHOOK_BODY_LIMIT))
}

/// The dashboard and everything else, for the main listener.
pub fn dashboard_routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(root))
        .route("/static/{*file}", get(assets::serve))
        .route("/login", get(auth::login_form).post(auth::login))
        .route(
            "/password/{token}",
            get(password_reset::form).post(password_reset::set),
        )
        .route("/logout", post(auth::logout))
        .route("/setup", get(setup::setup_form).post(setup::setup))
        .route("/account", get(account::show))
        .route("/account/password", post(account::change_password))
        .route("/settings", get(settings::show))
        .route("/settings/profile", post(settings::save_profile))
        .route("/settings/hours", post(settings::save_hours))
        .route("/settings/rules", post(settings::save_rules))
        .route("/settings/texts", post(settings::save_texts))
        .route("/services", get(services::show).post(services::create))
        .route("/attention/{id}/done", post(attention::done))
        .route("/services/reviewed", post(services::reviewed))
        .route("/services/{id}", post(services::update))
        .route("/services/{id}/archive", post(services::archive))
        .route("/services/{id}/restore", post(services::restore))
        .route("/messages", get(messages::show))
        .route(
            "/appointments",
            get(appointments::show).post(appointments::create),
        )
        .route(
            "/appointments/{id}/reschedule",
            post(appointments::reschedule),
        )
        .route("/appointments/{id}/cancel", post(appointments::cancel))
        .route("/appointments/{id}/outcome", post(appointments::outcome))
        .route("/appointments/{id}/remind", post(appointments::remind))
        .route(
            "/appointments/{id}/calendar.ics",
            get(appointments::ics_file),
        )
        .route(
            "/api/services",
            get(services_api::list).post(services_api::create),
        )
        .route(
            "/api/services/{id}",
            get(services_api::get)
                .patch(services_api::patch)
                .delete(services_api::delete),
        )
        .route(
            "/settings/practitioners",
            get(practitioners::show).post(practitioners::add),
        )
        .route("/settings/practitioners/{id}", post(practitioners::update))
        .route(
            "/settings/practitioners/{id}/archive",
            post(practitioners::archive),
        )
        .route(
            "/settings/practitioners/{id}/restore",
            post(practitioners::restore),
        )
        .route("/settings/voice", get(voice_settings::show))
        .route("/settings/voice/reveal", post(voice_settings::reveal))
        .route("/settings/voice/rotate", post(voice_settings::rotate))
        .route("/settings/voice/hmac", post(voice_settings::save_hmac))
        .route(
            "/settings/voice/booking",
            post(voice_settings::save_booking),
        )
        .route(
            "/settings/voice/tools",
            get(vapi_tools_settings::show).post(vapi_tools_settings::sync),
        )
        .route(
            "/settings/twilio",
            get(twilio_settings::show).post(twilio_settings::save),
        )
        .route("/settings/twilio/sync", post(twilio_settings::retry_sync))
        .route(
            "/settings/email",
            get(email_settings::show).post(email_settings::save),
        )
        .route("/settings/email/test", post(email_settings::test))
        .route("/settings/email/digest", post(email_settings::save_digest))
        .route("/settings/staff", get(staff::list).post(staff::add))
        .route("/settings/staff/{id}/disable", post(staff::disable))
        .route("/settings/staff/{id}/reset", post(staff::reset))
        .route("/settings/staff/{id}/role", post(staff::set_role))
        .route("/settings/staff/{id}/remove", post(staff::remove))
        .route("/settings/staff/{id}/enable", post(staff::enable))
        .route("/settings/staff/{id}/unlock", post(staff_locks::unlock))
        .route(
            "/settings/staff/address-locks/clear",
            post(staff_locks::unlock_address),
        )
        // Call intelligence: call settings, API tokens and the JSON API.
        .route("/settings/voice/calls", post(voice_settings::save_calls))
        .route(
            "/settings/api-tokens",
            get(api_tokens::show).post(api_tokens::create),
        )
        .route("/settings/api-tokens/{id}/revoke", post(api_tokens::revoke))
        .route("/api/calls", get(api::calls::list))
        .route("/api/calls/{id}", get(api::calls::get))
        .route("/api/contacts", get(api::contacts::list))
        .route("/api/contacts/stats", get(api::contacts::stats))
        .route(
            "/api/contacts/{id}",
            get(api::contacts::get).patch(api::contacts::update),
        )
        .route(
            "/api/contacts/{id}/call-back",
            post(api::contacts::call_back),
        )
        .route("/api/dashboard/stats", get(api::stats::dashboard))
        // Telephony: the wizard pages and the JSON API of the original product.
        .route("/telephony", get(telephony::wizard::show))
        .route("/telephony/numbers", post(telephony::wizard::add_number))
        .route(
            "/telephony/numbers/{id}",
            get(telephony::wizard::show_number),
        )
        .route(
            "/telephony/numbers/{id}/check",
            post(telephony::wizard::check_number),
        )
        .route(
            "/telephony/numbers/{id}/restart",
            post(telephony::wizard::restart_number),
        )
        .route(
            "/telephony/numbers/{id}/remove",
            post(telephony::wizard::remove_number),
        )
        .route(
            "/telephony/numbers/{id}/forwarding",
            get(telephony::wizard::forwarding_form).post(telephony::wizard::create_forwarding),
        )
        .route(
            "/telephony/forwarding/{id}",
            get(telephony::wizard::show_forwarding),
        )
        .route(
            "/telephony/forwarding/{id}/confirm",
            post(telephony::wizard::confirm_forwarding),
        )
        .route(
            "/telephony/forwarding/{id}/disable",
            post(telephony::wizard::disable_forwarding),
        )
        .route(
            "/api/telephony/verify-caller-id/initiate",
            post(telephony::api::initiate),
        )
        .route(
            "/api/telephony/verify-caller-id/confirm",
            post(telephony::api::confirm),
        )
        .route(
            "/api/telephony/verified-numbers",
            get(telephony::api::list_numbers),
        )
        .route(
            "/api/telephony/verified-numbers/{id}",
            delete(telephony::api::remove_number),
        )
        .route(
            "/api/telephony/forwarding-config",
            get(telephony::api::list_configs).post(telephony::api::create_config),
        )
        .route(
            "/api/telephony/forwarding-config/confirm",
            post(telephony::api::confirm_config),
        )
        .route(
            "/api/telephony/forwarding-config/{id}",
            delete(telephony::api::disable_config),
        )
        // Calls and leads pages, and the original product's call-dashboard endpoints.
        .route("/calls", get(calls::list))
        .route("/calls/{id}", get(calls::detail))
        .route("/calls/{id}/transcript", post(calls::export))
        .route("/calls/{id}/share", post(calls::share))
        .route("/calls/{id}/follow-up", post(calls::follow_up))
        .route("/leads", get(leads::list))
        .route("/leads/{id}", get(leads::detail))
        .route("/leads/{id}/notes", post(leads::save_notes))
        .route("/leads/{id}/status", post(leads::set_status))
        .route("/leads/{id}/call-back", post(leads::call_back))
        .route("/leads/{id}/remove", post(leads::remove))
        .route(
            "/api/calls-dashboard/{id}/followup",
            post(api::calls_dashboard::follow_up),
        )
        .route(
            "/api/calls-dashboard/{id}/share",
            post(api::calls_dashboard::share),
        )
        .route(
            "/api/calls-dashboard/{id}/transcript/export",
            post(api::calls_dashboard::export),
        )
        // Overview is `/`; the week calendar, its subscription feeds, and appointments JSON.
        .route("/appointments/calendar", get(calendar::show))
        .route("/appointments/calendar/feeds", post(calendar::create_feed))
        .route(
            "/appointments/calendar/feeds/{id}/revoke",
            post(calendar::revoke_feed),
        )
        .route("/api/appointments", get(api::appointments::list))
        .route(
            "/api/appointments/{id}/send-reminder",
            post(api::appointments::send_reminder),
        )
        // Whole-appliance pages: backups and diagnostics.
        .route("/settings/backups", get(backups::show))
        .route("/settings/backups/now", post(backups::back_up_now))
        .route("/settings/backups/download", post(backups::download))
        .route("/settings/diagnostics", get(diagnostics::show))
        .layer(axum::middleware::from_fn_with_state(
            state,
            session::session,
        ))
}
