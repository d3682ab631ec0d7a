use super::*;
use crate::domain::schedule::Interval;
use chrono::{NaiveTime, TimeZone};

fn status(s: &str) -> CallStatus {
    CallStatus::parse(s).expect("known status")
}

#[test]
fn status_only_moves_forward_in_any_order() {
    let order = ["queued", "ringing", "in-progress", "forwarding", "ended"];
    // Every permutation of the five statuses ends at `ended`, and never steps back on the way.
    let mut idx: Vec<usize> = (0..order.len()).collect();
    let mut seen = 0;
    permute(&mut idx, 0, &mut |p| {
        seen += 1;
        let mut at = status(order[p[0]]);
        for &i in &p[1..] {
            let next = at.advance(status(order[i]));
            assert!(next >= at, "{p:?} moved back");
            at = next;
        }
        assert_eq!(at, CallStatus::Ended, "{p:?}");
    });
    assert_eq!(seen, 120);
    assert_eq!(
        CallStatus::Failed.advance(CallStatus::Ended),
        CallStatus::Failed
    );
    assert_eq!(
        CallStatus::Ended.advance(CallStatus::Failed),
        CallStatus::Ended
    );
    assert_eq!(
        CallStatus::Pending.advance(CallStatus::Queued),
        CallStatus::Queued
    );
    assert_eq!(CallStatus::parse("not-found"), None);
}

fn permute(v: &mut Vec<usize>, k: usize, f: &mut impl FnMut(&[usize])) {
    if k == v.len() {
        f(v);
        return;
    }
    for i in k..v.len() {
        v.swap(k, i);
        permute(v, k + 1, f);
        v.swap(k, i);
    }
}

#[test]
fn call_types_from_vapi() {
    assert_eq!(
        CallType::from_vapi("inboundPhoneCall"),
        Some(CallType::Inbound)
    );
    assert_eq!(
        CallType::from_vapi("outboundPhoneCall"),
        Some(CallType::Outbound)
    );
    assert_eq!(CallType::from_vapi("webCall"), Some(CallType::Web));
    assert_eq!(
        CallType::from_vapi("vapi.websocketCall"),
        Some(CallType::Web)
    );
    assert_eq!(CallType::from_vapi("carrierPigeon"), None);
}

fn live_ended() -> CallFacts {
    CallFacts {
        status: Some(CallStatus::Ended),
        ended_at: Some(1_000_300),
        ended_reason: Some("customer-ended-call".into()),
        ..CallFacts::default()
    }
}

fn report() -> CallFacts {
    CallFacts {
        status: Some(CallStatus::Ended),
        started_at: Some(1_000_000),
        ended_at: Some(1_000_231),
        duration_ms: Some(231_290),
        ended_reason: Some("assistant-ended-call".into()),
        summary: Some("Booked a cleaning.".into()),
        recording_url: Some("https://storage.vapi.ai/x-mono.wav".into()),
        ..CallFacts::default()
    }
}

#[test]
fn the_report_wins_whenever_it_arrives() {
    let before = merge(
        merge(CallFacts::default(), live_ended(), Authority::Live),
        report(),
        Authority::Report,
    );
    let after = merge(
        merge(CallFacts::default(), report(), Authority::Report),
        live_ended(),
        Authority::Live,
    );
    assert_eq!(before, after);
    assert_eq!(before.ended_reason.as_deref(), Some("assistant-ended-call"));
    assert_eq!(before.ended_at, Some(1_000_231));
    assert_eq!(before.recording_status, Some(RecordingStatus::Completed));
    assert!(before.report_received);
    // The same report twice changes nothing.
    assert_eq!(merge(before.clone(), report(), Authority::Report), before);
}

#[test]
fn live_events_fill_blanks_and_never_move_back() {
    let ringing = CallFacts {
        status: Some(CallStatus::Ringing),
        call_type: Some(CallType::Inbound),
        customer_number: Some("+14155550123".into()),
        ..CallFacts::default()
    };
    let live = CallFacts {
        status: Some(CallStatus::InProgress),
        started_at: Some(1_000_000),
        customer_number: Some("+19999999999".into()),
        call_type: Some(CallType::Outbound),
        ..CallFacts::default()
    };
    let m = merge(ringing, live, Authority::Live);
    assert_eq!(m.status, Some(CallStatus::InProgress));
    assert_eq!(m.customer_number.as_deref(), Some("+14155550123"));
    assert_eq!(m.call_type, Some(CallType::Inbound));
    assert_eq!(m.recording_status, Some(RecordingStatus::Pending));
    let m = merge(m, live_ended(), Authority::Live);
    assert_eq!(m.recording_status, Some(RecordingStatus::Processing));
    assert_eq!(m.duration_ms, Some(300_000), "derived from start and end");
    let stale = CallFacts {
        status: Some(CallStatus::InProgress),
        ..CallFacts::default()
    };
    assert_eq!(
        merge(m, stale, Authority::Live).status,
        Some(CallStatus::Ended)
    );
}

#[test]
fn a_report_without_a_recording_marks_it_failed_for_good() {
    let no_recording = CallFacts {
        recording_url: None,
        ..report()
    };
    let m = merge(CallFacts::default(), no_recording, Authority::Report);
    assert_eq!(m.recording_status, Some(RecordingStatus::Failed));
    let m = merge(m, live_ended(), Authority::Live);
    assert_eq!(m.recording_status, Some(RecordingStatus::Failed));
}

#[test]
fn duration_from_the_fields_present_else_start_and_end() {
    assert_eq!(
        duration_ms(Some(231.29), Some(1.0), None, None, None),
        Some(231_290)
    );
    assert_eq!(
        duration_ms(None, Some(231_290.0), None, None, None),
        Some(231_290)
    );
    assert_eq!(
        duration_ms(None, None, Some(2.5), None, None),
        Some(150_000)
    );
    assert_eq!(
        duration_ms(None, None, None, Some(1_000), Some(4_500)),
        Some(3_500)
    );
    assert_eq!(
        duration_ms(Some(-3.0), Some(f64::NAN), None, Some(5), Some(1)),
        None
    );
}

#[test]
fn lead_status_transitions() {
    use LeadStatus::*;
    assert_eq!(next_lead_status(New, false, false), Contacted);
    assert_eq!(next_lead_status(New, false, true), Lost);
    assert_eq!(next_lead_status(Lost, true, true), Booked);
    assert_eq!(next_lead_status(Booked, false, true), Booked);
    assert_eq!(next_lead_status(Lost, false, false), Lost);
    assert_eq!(next_lead_status(Contacted, true, false), Booked);
    assert_eq!(after_call_back(New), Contacted);
    assert_eq!(after_call_back(Lost), Lost);
    for s in [New, Contacted, Booked, Lost] {
        assert_eq!(LeadStatus::parse(s.as_str()), Some(s));
    }
}

fn svc(name: &str, dollars: i64) -> PricedService {
    PricedService {
        name: name.into(),
        price_cents: dollars * 100,
    }
}

#[test]
fn pipeline_value_counts_each_service_once() {
    assert_eq!(
        pipeline_value(&[svc("Botox", 400)], Some(&svc("Botox", 400))),
        (40_000, vec!["Botox".to_string()])
    );
    assert_eq!(
        pipeline_value(&[svc("Fillers", 500), svc("Botox", 400)], None),
        (90_000, vec!["Fillers".to_string(), "Botox".to_string()])
    );
    assert_eq!(
        pipeline_value(&[], Some(&svc("Consultation", 150))),
        (15_000, vec!["Consultation".to_string()])
    );
    assert_eq!(pipeline_value(&[], None), (0, vec![]));
}

#[test]
fn caller_lines_keep_only_the_caller() {
    let t =
        "AI: We offer Botox and Facelift.\nUser: Just botox please.\nAI: Sure.\nCustomer: thanks";
    assert_eq!(caller_lines(t), "Just botox please.\nthanks\n");
    assert_eq!(caller_lines("botox please"), "botox please");
}

#[test]
fn open_hours_and_closures_in_the_clinic_zone() {
    let tz: Tz = "America/New_York".parse().unwrap();
    let mut hours = WeeklyHours {
        days: Default::default(),
    };
    hours.days[0] = vec![Interval {
        open: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
        close: NaiveTime::from_hms_opt(17, 0, 0).unwrap(),
    }];
    // Monday 2026-06-15: 09:00 and 16:59 local are open, 17:00 is not.
    let at = |h, m| Utc.with_ymd_and_hms(2026, 6, 15, h, m, 0).unwrap();
    assert!(is_open_at(&hours, &[], tz, at(13, 0)));
    assert!(is_open_at(&hours, &[], tz, at(20, 59)));
    assert!(!is_open_at(&hours, &[], tz, at(21, 0)));
    assert!(!is_open_at(&hours, &[], tz, at(12, 59)));
    let closed = [NaiveDate::from_ymd_opt(2026, 6, 15).unwrap()];
    assert!(!is_open_at(&hours, &closed, tz, at(14, 0)));
}

#[test]
fn transfer_plans() {
    let main = Some("+14155550199");
    let fb = Some("+14155550188");
    assert!(
        matches!(plan_transfer(true, main, fb), TransferPlan::To { number, reason, .. } if number == "+14155550199" && reason == TRANSFER_REASON_HOURS)
    );
    assert!(
        matches!(plan_transfer(false, main, fb), TransferPlan::To { number, reason, .. } if number == "+14155550188" && reason == TRANSFER_REASON_AFTER_HOURS)
    );
    assert!(
        matches!(plan_transfer(true, None, fb), TransferPlan::To { reason, .. } if reason == TRANSFER_REASON_NO_MAIN)
    );
    assert!(
        matches!(plan_transfer(false, main, None), TransferPlan::Refuse(m) if m.contains("closed"))
    );
    assert!(matches!(
        plan_transfer(true, None, None),
        TransferPlan::Refuse(_)
    ));
}

#[test]
fn periods_start_at_local_midnight_and_monday() {
    let tz: Tz = "America/New_York".parse().unwrap();
    // Wednesday 2026-06-17 02:00 UTC is Tuesday 22:00 in New York.
    let now = Utc.with_ymd_and_hms(2026, 6, 17, 2, 0, 0).unwrap();
    let (today, week) = today_and_week_start(tz, now);
    assert_eq!(today, Utc.with_ymd_and_hms(2026, 6, 16, 4, 0, 0).unwrap());
    assert_eq!(week, Utc.with_ymd_and_hms(2026, 6, 15, 4, 0, 0).unwrap());
    // Santiago skips midnight on 2026-09-06: the day starts at 01:00 local.
    let scl: Tz = "America/Santiago".parse().unwrap();
    let d = NaiveDate::from_ymd_opt(2026, 9, 6).unwrap();
    assert_eq!(
        day_start(scl, d),
        Utc.with_ymd_and_hms(2026, 9, 6, 4, 0, 0).unwrap()
    );
}

#[test]
fn success_rate_rounds_to_one_decimal() {
    assert_eq!(success_rate_pct(1, 3), Some(33.3));
    assert_eq!(success_rate_pct(2, 2), Some(100.0));
    assert_eq!(success_rate_pct(0, 0), None);
}
