//! Statistics: questions per day and the share answered (an SVG chart), top entries,
//! top unanswered questions, unhelpful answers per entry, and all of it by language.
//! From the anonymous daily counters, so forgetting users does not change history.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::Html;
use axum::{Extension, Json};
use chrono::{DateTime, Days, NaiveDate, Utc};
use maud::html;
use serde::{Deserialize, Serialize};

use super::page::{layout, Nav, WebError};
use super::{chart, Session, WebState};
use crate::knowledge::Lang;
use crate::store::{DayCount, EntryFeedback, LangCount, QueueItem, QueueStatus, Stats};

/// The periods offered, in days.
const PERIODS: [u32; 4] = [7, 30, 90, 365];

#[derive(Debug, Default, Deserialize)]
pub struct StatsQuery {
    days: Option<u32>,
}

/// Everything on the page, also served as JSON (`/stats.json`).
#[derive(Debug, Serialize)]
pub struct Report {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub totals: Stats,
    pub per_day: Vec<DayCount>,
    pub by_language: Vec<LangCount>,
    pub unhelpful_by_entry: Vec<EntryFeedback>,
    /// Open queue items, most asked first (at most 10).
    pub top_unanswered: Vec<QueueItem>,
}

async fn report(state: &WebState, days: u32) -> Result<Report, WebError> {
    let store = state.store()?;
    let tz = state.app.settings.timezone();
    let to = Utc::now().with_timezone(&tz).date_naive();
    let from = to
        .checked_sub_days(Days::new(u64::from(days.saturating_sub(1))))
        .unwrap_or(to);
    let from_utc: DateTime<Utc> = from
        .and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(tz).earliest())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(Utc::now);
    let totals = store.stats(Some(from)).await?;
    let per_day = store.questions_by_day(from).await?;
    let by_language = store.questions_by_lang(from).await?;
    let mut unhelpful_by_entry = store.feedback_by_entry(from_utc).await?;
    unhelpful_by_entry.retain(|f| f.unhelpful > 0);
    let mut top_unanswered = store.list_queue(Some(QueueStatus::Open)).await?;
    top_unanswered.sort_by(|a, b| b.count.cmp(&a.count).then(a.id.cmp(&b.id)));
    top_unanswered.truncate(10);
    Ok(Report {
        from,
        to,
        totals,
        per_day,
        by_language,
        unhelpful_by_entry,
        top_unanswered,
    })
}

fn period(query: &StatsQuery) -> u32 {
    query.days.filter(|d| (1..=3660).contains(d)).unwrap_or(30)
}

fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        "–".into()
    } else {
        format!("{:.0} %", part as f64 * 100.0 / whole as f64)
    }
}

/// `GET /stats`.
pub async fn page(
    State(state): State<Arc<WebState>>,
    Extension(session): Extension<Session>,
    Query(query): Query<StatsQuery>,
) -> Result<Html<String>, WebError> {
    let days = period(&query);
    let r = report(&state, days).await?;
    let answerer = state.app.answerer();
    let title = |id: &str, lang: Lang| {
        answerer
            .knowledge()
            .entry(id, lang)
            .map(|e| e.title.clone())
            .unwrap_or_default()
    };
    let body = html! {
        h1 { "Statistics" }
        nav.periods {
            @for d in PERIODS {
                a href={ "/stats?days=" (d) } class=[(d == days).then_some("active")] { "Last " (d) " days" }
            }
            a href={ "/stats.json?days=" (days) } { "JSON" }
        }
        p.summary {
            strong { (r.totals.questions) } " questions from " (r.from.format("%Y-%m-%d")) " to " (r.to.format("%Y-%m-%d")) ", "
            strong { (percent(r.totals.answered, r.totals.questions)) } " answered by the bot; "
            (r.totals.unhelpful) " answers marked not helpful; " (r.totals.open_queue) " questions waiting in the queue."
        }
        figure {
            (chart::questions_per_day(&r.per_day, r.from, r.to))
            figcaption {
                span.key.answered {} " answered " span.key.abstained {} " not answered (went to the queue) " span.key.share {} " share answered (right scale)"
            }
        }
        div.columns {
            section {
                h2 { "Top entries" }
                @if r.totals.top_entries.is_empty() { p.muted { "No answers in this period." } } @else {
                    table { thead { tr { th { "Entry" } th { "Answers" } } } tbody {
                        @for (id, n) in &r.totals.top_entries {
                            tr { td { a href={ "/entries/" (id) } { (id) } " " span.muted { (title(id, Lang::Nb)) } } td.num { (n) } }
                        }
                    } }
                }
                h2 { "By language" }
                table { thead { tr { th { "Language" } th { "Questions" } th { "Answered" } th { "Helpful" } th { "Not helpful" } } } tbody {
                    @for l in &r.by_language {
                        tr { td { (l.lang) } td.num { (l.answered + l.abstained) } td.num { (percent(l.answered, l.answered + l.abstained)) } td.num { (l.helpful) } td.num { (l.unhelpful) } }
                    }
                } }
            }
            section {
                h2 { "Top unanswered" }
                @if r.top_unanswered.is_empty() { p.muted { "The queue is empty." } } @else {
                    table { thead { tr { th { "#" } th { "Question" } th { "Asked" } } } tbody {
                        @for item in &r.top_unanswered {
                            tr { td { a href={ "/queue/" (item.id.0) } { (item.id) } } td.question { (item.question) } td.num { (item.count) } }
                        }
                    } }
                }
                h2 { "Unhelpful answers per entry" }
                @if r.unhelpful_by_entry.is_empty() { p.muted { "None marked not helpful in this period." } } @else {
                    table { thead { tr { th { "Entry" } th { "Lang" } th { "Not helpful" } th { "Helpful" } } } tbody {
                        @for f in &r.unhelpful_by_entry {
                            tr { td { a href={ "/entries/" (f.entry_id) } { (f.entry_id) } " " span.muted { (title(&f.entry_id, f.lang)) } } td { (f.lang) } td.num { (f.unhelpful) } td.num { (f.helpful) } }
                        }
                    } }
                }
            }
        }
    };
    Ok(layout("Statistics", Some(&session), Nav::Stats, body))
}

/// `GET /stats.json`.
pub async fn json(
    State(state): State<Arc<WebState>>,
    Query(query): Query<StatsQuery>,
) -> Result<Json<Report>, WebError> {
    Ok(Json(report(&state, period(&query)).await?))
}
