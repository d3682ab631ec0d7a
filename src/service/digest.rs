//! The owners' daily digest, run by the mail job: for each clinic that takes one, once its
//! local hour has come, the day's facts are gathered and the e-mail queued to its owners.

use crate::app::AppState;
use crate::domain::digest::{day_start, digest_mail, due_on};
use crate::domain::format::{local_datetime, spoken_date};
use crate::error::AppResult;
use crate::store::{digest, orgs};
use chrono::Duration;

/// Queues every digest that is due now. Returns how many clinics got one.
pub async fn run_due(state: &AppState) -> AppResult<usize> {
    let subscribed = state.db.read(digest::subscribed_system).await?;
    let mut sent = 0;
    for sub in subscribed {
        let scope = sub.scope;
        let now = state.clock.now();
        let org = state.db.read(move |c| orgs::get(c, &scope)).await?;
        let Some(date) = due_on(local_datetime(now, org.timezone), sub.hour, sub.sent_on) else {
            continue;
        };
        let tz = org.timezone;
        let today = (
            day_start(tz, date).timestamp(),
            day_start(tz, date + Duration::days(1)).timestamp(),
        );
        let yesterday = (day_start(tz, date - Duration::days(1)).timestamp(), today.0);
        let since = (now - Duration::days(7)).timestamp();
        let facts = state
            .db
            .read(move |c| digest::facts(c, &scope, tz, yesterday, today, since))
            .await?;
        let words = digest_mail(&org.name, &spoken_date(date), &facts);
        let at = now.timestamp();
        state
            .db
            .write(move |tx| digest::queue(tx, &scope, date, &words, at))
            .await?;
        sent += 1;
    }
    Ok(sent)
}
