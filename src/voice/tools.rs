//! The tools the voice assistant can call: the one list of their names, the JSON-schema definitions the LLM
//! sees, the `POST /tool` body that registers them with Vapi, and lenient readers for the arguments it sends.
//!
//! Descriptions are prompts: they tell the model what to ask the caller first and that every date and time is
//! the clinic's local time. Parameter names follow the original product's camelCase (`patientName`,
//! `appointmentDate`, ...) so assistants configured for it keep working; handlers also accept the aliases
//! noted in each schema via [`arg_str`]. No field is `required` where the handler accepts alternatives,
//! because Vapi (and the model) treat `required` literally.

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

/// Every tool we serve. The dispatcher matches on this, never on raw strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tool {
    GetClinicContext,
    CheckAvailability,
    ReserveSlot,
    BookAppointment,
    FindAppointment,
    RescheduleAppointment,
    CancelAppointment,
    GetServicePrice,
    SendVerificationCode,
    VerifyCode,
    SendConfirmationSms,
}

impl Tool {
    pub const ALL: [Tool; 11] = [
        Tool::GetClinicContext,
        Tool::CheckAvailability,
        Tool::ReserveSlot,
        Tool::BookAppointment,
        Tool::FindAppointment,
        Tool::RescheduleAppointment,
        Tool::CancelAppointment,
        Tool::GetServicePrice,
        Tool::SendVerificationCode,
        Tool::VerifyCode,
        Tool::SendConfirmationSms,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Tool::GetClinicContext => "get_clinic_context",
            Tool::CheckAvailability => "check_availability",
            Tool::ReserveSlot => "reserve_slot",
            Tool::BookAppointment => "book_appointment",
            Tool::FindAppointment => "find_appointment",
            Tool::RescheduleAppointment => "reschedule_appointment",
            Tool::CancelAppointment => "cancel_appointment",
            Tool::GetServicePrice => "get_service_price",
            Tool::SendVerificationCode => "send_verification_code",
            Tool::VerifyCode => "verify_code",
            Tool::SendConfirmationSms => "send_confirmation_sms",
        }
    }

    /// Exact name, or the original product's `bookClinicAppointment` (assistants still configured with it).
    pub fn from_name(name: &str) -> Option<Tool> {
        if name == "bookClinicAppointment" {
            return Some(Tool::BookAppointment);
        }
        Tool::ALL.into_iter().find(|tool| tool.name() == name)
    }

    pub fn def(self) -> ToolDef {
        ToolDef {
            name: self.name(),
            description: self.description(),
            parameters: self.parameters(),
        }
    }

    fn description(self) -> &'static str {
        match self {
            Tool::GetClinicContext => {
                "Get the clinic's name, time zone, today's local date, time and weekday, this week's opening \
                 hours, and the services offered with price and duration. Call it once at the start of the \
                 call and whenever you need to know what 'today', 'tomorrow' or 'next Monday' means. All \
                 times are the clinic's local time."
            }
            Tool::CheckAvailability => {
                "List free appointment times. First ask which service the caller wants and which day suits \
                 them. Pass date as YYYY-MM-DD or in the caller's words ('tomorrow', 'next Tuesday'). Times \
                 are the clinic's local time. Offer the caller two or three of the returned times, never a \
                 time that was not returned."
            }
            Tool::ReserveSlot => {
                "Hold one free time for a few minutes while you finish the booking. Only use a time \
                 check_availability returned. Ask for the patient's full name first; the phone number \
                 defaults to the number they are calling from. Pass start, or date and time, in the clinic's \
                 local time. Returns a holdId for book_appointment."
            }
            Tool::BookAppointment => {
                "Confirm an appointment. Before calling, read the service, day and time back to the caller \
                 and get a clear yes. Preferred: pass the holdId from reserve_slot. Without a hold, pass \
                 patientName, patientPhone, appointmentDate (YYYY-MM-DD), appointmentTime (HH:MM, 24-hour) \
                 and serviceType. Times are the clinic's local time. The reply says whether the confirmation \
                 text was sent."
            }
            Tool::FindAppointment => {
                "Find the caller's upcoming appointments. Uses the number they are calling from unless you \
                 pass patientPhone (ask for it if they booked under another number). Pass date to narrow to \
                 one day. Times are the clinic's local time."
            }
            Tool::RescheduleAppointment => {
                "Move an existing appointment to a new time. First use find_appointment and confirm with the \
                 caller which appointment, then check_availability for the new time. Pass appointmentId (or \
                 patientPhone and the current date) and newStart, or newDate and newTime, in the clinic's \
                 local time. Read the new time back before calling."
            }
            Tool::CancelAppointment => {
                "Cancel an appointment. First use find_appointment, confirm with the caller which one, and \
                 that they want to cancel. Pass appointmentId, or patientPhone and date (clinic's local \
                 time). Ask if they want to give a reason; do not insist."
            }
            Tool::GetServicePrice => {
                "Look up the price and duration of a service by name, e.g. 'cleaning' or 'whitening'. Say \
                 the price exactly as returned; never guess a price. When the price comes back empty, \
                 say the team will confirm it."
            }
            Tool::SendVerificationCode => {
                "Text a one-time code to the patient's phone to confirm a held slot. Use it only when a tool \
                 reply says verification is needed. Then ask the caller to read the code back and call \
                 verify_code."
            }
            Tool::VerifyCode => {
                "Check the code the caller read back from the text message. Pass the holdId and the code \
                 digits only. If it is wrong, let them try again or offer to resend."
            }
            Tool::SendConfirmationSms => {
                "Text the appointment confirmation to the patient again. Only when the caller asks for it."
            }
        }
    }

    fn parameters(self) -> Value {
        let patient_phone =
            prop("Patient's phone number. Leave out to use the number the caller is calling from.");
        let appointment_id = prop("Appointment id from find_appointment.");
        let hold_id = prop("holdId returned by reserve_slot.");
        match self {
            Tool::GetClinicContext => schema(json!({}), &[]),
            Tool::CheckAvailability => schema(
                json!({
                    "date": prop("Day to check: YYYY-MM-DD, or the caller's words like 'tomorrow' or 'next Monday'."),
                    "endDate": prop("Optional last day of a range to search, same formats as date."),
                    "service": prop("Service the caller wants, e.g. 'cleaning'."),
                    "provider": prop("Preferred dentist or practitioner, if the caller named one."),
                    "partOfDay": {
                        "type": "string",
                        "enum": ["morning", "afternoon", "evening", "any"],
                        "description": "Part of the day the caller prefers."
                    }
                }),
                &["date"],
            ),
            Tool::ReserveSlot => schema(
                json!({
                    "start": prop("Start as ISO 8601 local date-time, e.g. 2025-11-24T11:30. Or give date and time."),
                    "date": prop("Day, YYYY-MM-DD (with time, instead of start)."),
                    "time": prop("Time, HH:MM 24-hour (with date, instead of start)."),
                    "service": prop("Service being booked, as the caller named it."),
                    "patientName": prop("Patient's full name."),
                    "patientPhone": patient_phone,
                    "patientEmail": prop("Patient's e-mail, only if they offered it; the reply spells it for you to read back."),
                    "provider": prop("Dentist or practitioner, if the caller chose one."),
                }),
                &["service", "patientName"],
            ),
            Tool::BookAppointment => schema(
                json!({
                    "holdId": hold_id,
                    "patientName": prop("Patient's full name (when there is no holdId)."),
                    "patientPhone": prop("Patient's phone number (when there is no holdId)."),
                    "patientEmail": prop("Patient's e-mail, only if they offered it; spell it back to the caller before booking."),
                    "appointmentDate": prop("Day, YYYY-MM-DD (when there is no holdId)."),
                    "appointmentTime": prop("Time, HH:MM 24-hour (when there is no holdId)."),
                    "start": prop("Alternative to appointmentDate and appointmentTime: ISO 8601 local date-time."),
                    "serviceType": prop("Service being booked (when there is no holdId)."),
                    "provider": prop("Dentist or practitioner, if the caller chose one (when there is no holdId)."),
                    "notes": prop("Anything the clinic should know, in a few words."),
                }),
                &[],
            ),
            Tool::FindAppointment => schema(
                json!({
                    "patientPhone": patient_phone,
                    "date": prop("Only appointments on this day: YYYY-MM-DD or the caller's words."),
                }),
                &[],
            ),
            Tool::RescheduleAppointment => schema(
                json!({
                    "appointmentId": appointment_id,
                    "patientPhone": patient_phone,
                    "date": prop("Day of the current appointment, if there is no appointmentId."),
                    "newStart": prop("New start as ISO 8601 local date-time. Or give newDate and newTime."),
                    "newDate": prop("New day, YYYY-MM-DD."),
                    "newTime": prop("New time, HH:MM 24-hour."),
                    "provider": prop("Another practitioner, only if the caller asks to change who they see."),
                }),
                &[],
            ),
            Tool::CancelAppointment => schema(
                json!({
                    "appointmentId": appointment_id,
                    "patientPhone": patient_phone,
                    "date": prop("Day of the appointment, if there is no appointmentId."),
                    "reason": prop("The caller's reason, in a few words, if given."),
                }),
                &[],
            ),
            Tool::GetServicePrice => schema(
                json!({ "service": prop("Service name as the caller said it.") }),
                &["service"],
            ),
            Tool::SendVerificationCode => schema(json!({ "holdId": hold_id }), &["holdId"]),
            Tool::VerifyCode => schema(
                json!({ "holdId": hold_id, "code": prop("The digits the caller read back.") }),
                &["holdId", "code"],
            ),
            Tool::SendConfirmationSms => schema(
                json!({ "appointmentId": appointment_id }),
                &["appointmentId"],
            ),
        }
    }

    /// Spoken while the tool runs, so the caller does not hear silence.
    fn request_start(self) -> &'static str {
        match self {
            Tool::GetClinicContext => "One moment.",
            Tool::CheckAvailability => "Let me check the schedule.",
            Tool::ReserveSlot => "Let me hold that time.",
            Tool::BookAppointment => "Booking that now.",
            Tool::FindAppointment => "Let me look that up.",
            Tool::RescheduleAppointment => "Let me move that for you.",
            Tool::CancelAppointment => "One moment.",
            Tool::GetServicePrice => "Let me check the price.",
            Tool::SendVerificationCode => "Sending you a code now.",
            Tool::VerifyCode => "Let me check that code.",
            Tool::SendConfirmationSms => "Sending that text now.",
        }
    }
}

/// One tool as the LLM sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolDef {
    pub name: &'static str,
    pub description: &'static str,
    /// JSON schema of the arguments (`type: object`).
    pub parameters: Value,
}

/// All tools, in a stable order.
pub fn all() -> Vec<ToolDef> {
    Tool::ALL.into_iter().map(Tool::def).collect()
}

/// `POST /tool` body (`docs/vapi.md` §4.1). `secret` goes out as a static `X-Vapi-Secret` header, which
/// `verify::verify` accepts.
pub fn vapi_create_body(def: &ToolDef, server_url: &str, secret: &str) -> Value {
    let mut body = definition(def);
    if let Value::Object(map) = &mut body {
        map.insert(
            "server".into(),
            json!({
                "url": server_url,
                "timeoutSeconds": 20,
                "headers": { "X-Vapi-Secret": secret }
            }),
        );
    }
    body
}

/// Hex SHA-256 of the canonical JSON of everything the code decides about a tool (type, async, function,
/// spoken messages), so a sync can skip tools whose stored hash matches. The server part (URL, secret) is
/// left out: it depends on the deployment and is compared separately.
pub fn definition_hash(def: &ToolDef) -> String {
    let mut canonical = String::new();
    write_canonical(&definition(def), &mut canonical);
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

fn definition(def: &ToolDef) -> Value {
    let request_start = Tool::from_name(def.name).map_or("One moment.", Tool::request_start);
    json!({
        "type": "function",
        "async": false,
        "function": {
            "name": def.name,
            "description": def.description,
            "parameters": def.parameters,
            "strict": false
        },
        "messages": [{ "type": "request-start", "content": request_start, "blocking": false }]
    })
}

/// Sorted keys, no whitespace. Written by hand rather than relying on `serde_json::Map` being a BTreeMap,
/// which stops being true if any crate in the build enables serde_json's `preserve_order`.
fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                if let Some(inner) = map.get(key) {
                    write_canonical(inner, out);
                }
            }
            out.push('}');
        }
        Value::Array(list) => {
            out.push('[');
            for (i, inner) in list.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(inner, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

fn prop(description: &str) -> Value {
    json!({ "type": "string", "description": description })
}

fn schema(properties: Value, required: &[&str]) -> Value {
    let mut schema = json!({ "type": "object", "properties": properties });
    if !required.is_empty() {
        if let Value::Object(map) = &mut schema {
            map.insert("required".into(), json!(required));
        }
    }
    schema
}

/// The first of `keys` holding a usable value: strings trimmed, integers and other numbers written out.
/// Blank strings and the literals "null"/"undefined" (models send them for "unknown") count as absent, so
/// the next alias is tried.
pub fn arg_str(args: &Map<String, Value>, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|key| match args.get(*key)? {
        Value::String(s) => {
            let s = s.trim();
            let absent = s.is_empty()
                || s.eq_ignore_ascii_case("null")
                || s.eq_ignore_ascii_case("undefined");
            (!absent).then(|| s.to_string())
        }
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

/// The first of `keys` that reads as a boolean: JSON booleans, 0/1, and "true"/"false"/"yes"/"no"/"1"/"0".
pub fn arg_bool(args: &Map<String, Value>, keys: &[&str]) -> Option<bool> {
    keys.iter().find_map(|key| match args.get(*key)? {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_i64() {
            Some(0) => Some(false),
            Some(1) => Some(true),
            _ => None,
        },
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "y" | "1" => Some(true),
            "false" | "no" | "n" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    })
}

/// The first of `keys` that reads as an integer: JSON integers, whole floats, and integer strings.
pub fn arg_i64(args: &Map<String, Value>, keys: &[&str]) -> Option<i64> {
    keys.iter().find_map(|key| match args.get(*key)? {
        Value::Number(n) => n.as_i64().or_else(|| whole(n.as_f64()?)),
        Value::String(s) => {
            let s = s.trim();
            s.parse::<i64>()
                .ok()
                .or_else(|| whole(s.parse::<f64>().ok()?))
        }
        _ => None,
    })
}

/// Integers beyond 2^53 are not exact in an f64, so they are refused rather than rounded.
const MAX_EXACT_F64: f64 = 9_007_199_254_740_992.0;

fn whole(f: f64) -> Option<i64> {
    // NaN and infinities fail both tests, so the cast below is always exact.
    let exact = f.fract() == 0.0 && (-MAX_EXACT_F64..=MAX_EXACT_F64).contains(&f);
    exact.then_some(f as i64)
}

#[cfg(test)]
mod tests;
