//! Tools that read: the clinic's context ("now", hours, services), free times, and prices.

use crate::domain::format::{self, format_cents};
use crate::domain::schedule::week_hours_sentence;
use crate::domain::when;
use crate::error::AppResult;
use crate::voice::common::{join_and, Args};
use crate::voice::dispatch::{ToolCtx, ToolOutcome};
use crate::voice::tools::arg_str;
use chrono::{Datelike, Duration, Timelike};
use serde_json::json;

/// How many days one availability question may span.
const MAX_RANGE_DAYS: i64 = 7;
/// How many times to read out per day; the data carries all of them.
const SPOKEN_PER_DAY: usize = 6;

pub async fn get_clinic_context(ctx: &ToolCtx) -> AppResult<ToolOutcome> {
    let tz = ctx.org.timezone;
    let today = ctx.today();
    let week: Vec<_> = (0..7)
        .map(|i| {
            let day = today + Duration::days(i);
            let closed = ctx.org.closures.contains(&day);
            let hours: Vec<String> = if closed {
                vec![]
            } else {
                ctx.org
                    .hours
                    .on(day.weekday())
                    .iter()
                    .map(|iv| format!("{}-{}", iv.open.format("%H:%M"), iv.close.format("%H:%M")))
                    .collect()
            };
            json!({"date": day.to_string(), "weekday": format::weekday_name(day.weekday()), "hours": hours, "closedDate": closed})
        })
        .collect();
    let priced = ctx.org.quotes_prices();
    let services: Vec<_> = ctx
        .services
        .iter()
        .map(|s| json!({"name": s.name, "price": priced.then(|| format_cents(s.price_cents)), "durationMinutes": s.duration_minutes}))
        .collect();
    let sentence = format!(
        "It is {} at {}. Opening hours: {}.",
        ctx.spoken(ctx.now),
        ctx.org.name,
        week_hours_sentence(&ctx.org.hours)
    );
    Ok(ToolOutcome::result(
        sentence,
        json!({
            "clinic": ctx.org.name,
            "timezone": tz.name(),
            "now": ctx.local_iso(ctx.now),
            "today": today.to_string(),
            "weekday": format::weekday_name(today.weekday()),
            "week": week,
            "services": services,
        }),
    ))
}

fn part_of_day_ok(part: &str, hour: u32) -> bool {
    match part {
        "morning" => hour < 12,
        "afternoon" => (12..17).contains(&hour),
        "evening" => hour >= 17,
        _ => true,
    }
}

pub async fn check_availability(ctx: &ToolCtx, args: &Args) -> AppResult<ToolOutcome> {
    let today = ctx.today();
    let Some(raw_date) = arg_str(args, &["date", "day", "startDate"]) else {
        return Ok(ToolOutcome::error(
            "Which day would the caller like? Please ask for a date.",
        ));
    };
    let first = match when::parse_date(&raw_date, today) {
        Ok(d) => d,
        Err(e) => return Ok(ToolOutcome::error(e.to_string())),
    };
    let last = match arg_str(args, &["endDate"]).map(|d| when::parse_date(&d, today)) {
        Some(Ok(d)) if d >= first => d.min(first + Duration::days(MAX_RANGE_DAYS - 1)),
        Some(Ok(_)) => first,
        Some(Err(e)) => return Ok(ToolOutcome::error(e.to_string())),
        None => first,
    };
    let service = match ctx.service_or_default(args) {
        Ok(s) => s,
        Err(o) => return Ok(o),
    };
    let providers = match ctx.practitioner_ids(args, service) {
        Ok(p) => p,
        Err(o) => return Ok(o),
    };
    // Named in the reply when the caller asked for one, or there is only one who does it.
    let only_working = match providers.as_slice() {
        [one] if ctx.working.len() > 1 => ctx.working.iter().find(|w| w.id == *one),
        _ => None,
    };
    let only = only_working.map(|w| w.name.as_str());
    let part = arg_str(args, &["partOfDay", "timeOfDay"])
        .unwrap_or_default()
        .to_lowercase();
    let tz = ctx.org.timezone;
    let from = first
        .and_hms_opt(0, 0, 0)
        .and_then(|d| d.and_local_timezone(tz).earliest());
    let from = from
        .map(|d| d.with_timezone(&chrono::Utc))
        .unwrap_or(ctx.now)
        - Duration::days(1);
    let busy = ctx
        .busy(&providers, from, from + Duration::days(MAX_RANGE_DAYS + 3))
        .await?;

    let mut days = Vec::new();
    let mut spoken = Vec::new();
    let mut any = None;
    let mut day = first;
    while day <= last {
        let free: Vec<(chrono::DateTime<chrono::Utc>, Vec<i64>)> = ctx
            .free_on(day, service.duration_minutes, &busy)
            .into_iter()
            .filter(|(t, _)| part_of_day_ok(&part, format::local_datetime(*t, tz).hour()))
            .collect();
        let times: Vec<_> = free.iter().map(|(t, _)| *t).collect();
        if let Some(t) = times.first() {
            any.get_or_insert(*t);
            let mut said: Vec<String> = times
                .iter()
                .take(SPOKEN_PER_DAY)
                .map(|t| format::spoken_time(format::local_datetime(*t, tz).time()))
                .collect();
            if times.len() > SPOKEN_PER_DAY {
                said.push(format!("{} more", times.len() - SPOKEN_PER_DAY));
            }
            spoken.push(format!(
                "on {} I have {}",
                format::spoken_date(day),
                join_and(&said)
            ));
        }
        let with: Vec<_> = free
            .iter()
            .map(|(t, ids)| {
                let names: Vec<&str> = ids
                    .iter()
                    .filter_map(|id| ctx.practitioner_name(*id))
                    .collect();
                json!({"time": format::hhmm(*t, tz), "practitioners": names})
            })
            .collect();
        days.push(json!({
            "date": day.to_string(),
            "weekday": format::weekday_name(day.weekday()),
            "times": times.iter().map(|t| format::hhmm(*t, tz)).collect::<Vec<_>>(),
            "slots": with,
        }));
        day += Duration::days(1);
    }
    let data = json!({
        "service": service.name,
        "practitioner": only,
        "durationMinutes": service.duration_minutes,
        "timezone": tz.name(),
        "days": days,
    });
    let with = only.map(|n| format!(" with {n}")).unwrap_or_default();
    if any.is_some() {
        let mut s = spoken.join("; ");
        if let Some(first_char) = s.get(..1) {
            s = format!("{}{}", first_char.to_uppercase(), &s[1..]);
        }
        return Ok(ToolOutcome::result(
            format!("For {}{with}: {s}.", service.name),
            data,
        ));
    }
    // Nothing in the range: say why for a single closed day, and offer the nearest times.
    let why = if first == last
        && (ctx.org.closures.contains(&first) || ctx.org.hours.on(first.weekday()).is_empty())
    {
        format!("We're closed on {}.", format::spoken_date(first))
    } else if let (true, Some(name)) = (first == last, only) {
        let off = only_working
            .is_some_and(|w| w.closures.contains(&first) || w.hours.on(first.weekday()).is_empty());
        if off {
            format!("{name} isn't working on {}.", format::spoken_date(first))
        } else {
            format!(
                "I have no openings for {}{with} on {}.",
                service.name,
                format::spoken_date(first)
            )
        }
    } else if first == last {
        format!(
            "I have no openings for {} on {}.",
            service.name,
            format::spoken_date(first)
        )
    } else {
        format!(
            "I have no openings for {}{with} between {} and {}.",
            service.name,
            format::spoken_date(first),
            format::spoken_date(last)
        )
    };
    let around = from + Duration::days(1) + Duration::hours(12);
    let around = around.max(ctx.now);
    let nearest = ctx
        .alternatives(around, service.duration_minutes, &providers, 3)
        .await?;
    let mut data = data;
    data["nearest"] = json!(nearest
        .iter()
        .map(|t| ctx.local_iso(*t))
        .collect::<Vec<_>>());
    let sentence = if nearest.is_empty() {
        why
    } else {
        format!(
            "{why} The nearest openings are {}.",
            ctx.spoken_list(&nearest)
        )
    };
    Ok(ToolOutcome::result(sentence, data))
}

pub async fn get_service_price(ctx: &ToolCtx, args: &Args) -> AppResult<ToolOutcome> {
    let Some(query) = arg_str(args, &["service", "serviceType", "treatment"]) else {
        return Ok(ToolOutcome::error(
            "Which treatment would the caller like a price for?",
        ));
    };
    Ok(match ctx.service_named(&query) {
        // A catalogue nobody has reviewed holds sample prices: none is quoted.
        Ok(s) if !ctx.org.quotes_prices() => ToolOutcome::result(
            format!(
                "{} takes about {} minutes. I don't have a confirmed price for it; the team will confirm the price.",
                s.name, s.duration_minutes
            ),
            json!({"ok": true, "service": s.name, "price": null, "priceCents": null, "priceConfirmed": false, "durationMinutes": s.duration_minutes}),
        ),
        Ok(s) => ToolOutcome::result(
            format!(
                "{} is {} and takes about {} minutes.",
                s.name,
                format_cents(s.price_cents),
                s.duration_minutes
            ),
            json!({"ok": true, "service": s.name, "price": format_cents(s.price_cents), "priceCents": s.price_cents, "priceConfirmed": true, "durationMinutes": s.duration_minutes}),
        ),
        Err(o) => o,
    })
}
