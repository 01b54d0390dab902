//! The weekly message in the advisers' channel that lists what in the knowledge base
//! became stale. The running bots' scheduler calls [`queue_weekly_digest`] each tick;
//! from `knowledge.review_digest` ("mon 09:00" in `announcements.timezone`) on, the
//! first bot to get there schedules the week's message as an announcement, which the
//! scheduler then posts like any other: once, however many bots run and however often
//! they restart (the store keeps one row per week).

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};

use crate::config::Settings;
use crate::knowledge::review::{digest_text, review};
use crate::knowledge::{Freshness, KnowledgeBase};
use crate::store::{Announcement, NewAnnouncement, Store, StoreError};

/// Who the audit log and `announcements list` name as the author of the digest.
pub const DIGEST_AUTHOR: &str = "anbud (kb review)";

/// The ISO week of a day: "2026-W49".
pub fn week_key(day: NaiveDate) -> String {
    let week = day.iso_week();
    format!("{}-W{:02}", week.year(), week.week())
}

/// Schedules this week's digest if it is due (`knowledge.review_digest` has passed this
/// week), the advisers' channel is set, something is stale and no bot has done it yet.
/// `done` remembers the week this process has settled, so later ticks of the same week
/// cost nothing. Returns the announcement when this call scheduled it.
pub async fn queue_weekly_digest(
    settings: &Settings,
    kb: &KnowledgeBase,
    store: &Store,
    now: DateTime<Utc>,
    done: &mut Option<String>,
) -> Result<Option<Announcement>, StoreError> {
    let (Some(at), Some(channel)) = (
        settings.knowledge.review_digest,
        settings.discord.adviser_channel,
    ) else {
        return Ok(None);
    };
    let tz = settings.timezone();
    let local = now.with_timezone(&tz).naive_local();
    let week = week_key(local.date());
    if done.as_deref() == Some(week.as_str()) {
        return Ok(None);
    }
    let iso = local.date().iso_week();
    let due_day = NaiveDate::from_isoywd_opt(iso.year(), iso.week(), at.weekday);
    if due_day.is_none_or(|day| local < day.and_time(at.time)) {
        return Ok(None);
    }
    let freshness = Freshness {
        today: local.date(),
        review_after_days: settings.knowledge.review_after_days,
    };
    let since = match store.last_knowledge_digest().await? {
        Some(last) => last.with_timezone(&tz).date_naive(),
        None => freshness.today - Duration::days(7),
    };
    let items = review(kb, freshness);
    let Some(text) = digest_text(&items, since, freshness, settings.announcements.language) else {
        *done = Some(week);
        return Ok(None);
    };
    let new = NewAnnouncement {
        channel_id: channel,
        text,
        publish_at: now,
        created_by: DIGEST_AUTHOR.to_owned(),
    };
    let queued = store.queue_knowledge_digest(&week, &new, now).await?;
    *done = Some(week);
    Ok(queued)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_are_iso_weeks() {
        let day = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(week_key(day("2026-12-06")), "2026-W49");
        assert_eq!(week_key(day("2026-12-07")), "2026-W50");
        assert_eq!(week_key(day("2027-01-01")), "2026-W53");
    }
}
