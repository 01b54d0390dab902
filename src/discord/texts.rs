//! Everything the Discord bot says to people, in one table per language:
//! `texts/nb.toml` and `texts/en.toml`, compiled in.
//!
//! To add a text: a field in [`Texts`] and the same key in both tables. A text with
//! values in it is a [`Template`] with `{name}` places, filled with [`Template::fill`];
//! the tests check that both tables have every key and the same places. The answers
//! themselves (title, body, source) come from the knowledge base and
//! [`crate::answer::Texts`].

use std::collections::BTreeSet;
use std::fmt::Display;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::knowledge::Lang;

/// A text with `{name}` places for values.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(transparent)]
pub struct Template(String);

impl Template {
    /// The text with each `{name}` replaced by its value (a place without a value stays
    /// as written). Values are inserted as they are, never read as places themselves.
    pub fn fill(&self, values: &[(&str, &(dyn Display + Sync))]) -> String {
        let mut out = String::with_capacity(self.0.len() + 32);
        let mut rest = self.0.as_str();
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let value = after.find('}').and_then(|close| {
                let name = &after[..close];
                values
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| (v.to_string(), close))
            });
            match value {
                Some((value, close)) => {
                    out.push_str(&value);
                    rest = &after[close + 1..];
                }
                None => {
                    out.push('{');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// The names of its places.
    pub fn places(&self) -> BTreeSet<String> {
        places(&self.0)
    }
}

fn places(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        rest = &rest[open + 1..];
        if let Some(close) = rest.find('}') {
            let name = &rest[..close];
            if !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                names.insert(name.to_owned());
            }
        }
    }
    names
}

/// The texts of one language (see the tables for the wording).
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Texts {
    // ----- answering
    pub rate_limited: String,
    pub helpful: String,
    pub not_helpful: String,
    pub share: String,
    pub thanks_helpful: String,
    pub thanks_not_helpful: String,
    /// "Not helpful" when the database did not take it: no adviser was told.
    pub thanks_not_helpful_not_passed_on: String,
    pub topic_gone: String,
    pub answer_gone: String,
    /// A button the bot no longer knows the meaning of (from before a restart, or an
    /// older version).
    pub button_expired: String,
    /// A form submitted when no command waits for it; the user's text follows.
    pub form_expired: String,
    /// A message in the bot's thread whose question the bot cannot look up now (the
    /// database is away and this run did not open the thread): not answered, nothing
    /// recorded, the asker told to try again or ask anew.
    pub thread_context_lost: String,
    /// A message in a thread the bot opened whose question it no longer keeps (deleted
    /// by `/forget-me` or the retention purge, or never stored because the database was
    /// away when the thread was opened): not answered alone, the asker told to ask anew.
    pub thread_context_gone: String,
    /// In the channel, over the answer, when the thread opened for it would not take it:
    /// `{thread}` (the thread's id, shown as a link).
    pub thread_unreachable: Template,
    /// `{user}`
    pub shared_this: Template,
    pub shared: String,

    // ----- everyone's commands
    pub help: String,
    pub forget_question: String,
    pub forget_yes: String,
    pub cancel: String,
    pub not_your_button: String,
    pub nothing_deleted: String,
    pub forget_no_database: String,
    /// `{asks} {feedback} {items} {outbox}`
    pub forget_done: Template,
    /// The new name of a thread opened on the question of a user who asked to be forgotten.
    pub forgotten_thread: String,
    /// What the advisers' alert about a question says once its asker asked to be forgotten.
    pub forgotten_alert: String,

    // ----- errors and refusals (see `reply`)
    pub sorry: String,
    pub advisers_only: String,
    pub organisers_only: String,
    pub database_unavailable: String,
    /// In front of an organiser's refused input: nothing was stored or changed.
    pub nothing_changed: String,

    // ----- advisers
    pub no_questions: String,
    pub closest: String,
    /// `{count}`
    pub more_items: Template,
    pub save_entry_or_entry: String,
    /// `{item} {askers}`
    pub answered: Template,
    /// `{entry}`
    pub now_answers_from: Template,
    /// `{item}`
    pub dismissed: Template,
    /// `{id}`
    pub no_entry: Template,
    pub taught_by_adviser: String,
    /// `{problem}`
    pub not_saved: Template,
    /// `{id} {lang} {title}`
    pub saved_entry: Template,
    /// `{count}`
    pub reloaded: Template,
    pub knowledge_has_errors: String,
    /// `{questions} {answered} {share} {abstained} {open} {unhelpful}`
    pub stats: Template,
    pub most_used: String,

    // ----- organisers
    pub scheduled: String,
    pub posted: String,
    pub posted_late: String,
    pub cancelled: String,
    pub skipped: String,
    pub failed: String,
    pub last_error: String,
    /// `{id} {channel}`
    pub saved_soon: Template,
    /// `{id} {channel} {when}`
    pub saved_at: Template,
    pub on_publish: String,
    /// `{channel} {timing}`
    pub preview_intro: Template,
    pub publish: String,
    pub preview_unanswered: String,
    pub preview_cancelled: String,
    pub no_announcements: String,
    /// `{shown} {total}`
    pub latest_of: Template,
    /// `{id} {channel} {when}`
    pub changed_announcement: Template,
    pub how_it_will_look: String,
    /// `{id}`
    pub cancelled_announcement: Template,
    pub calendar_hint: String,
    /// `{title}`
    pub calendar_file: Template,
    /// `{key} {title} {when}`
    pub event_added: Template,

    // ----- delivery
    pub adviser_answered: String,
    /// Why an item is in the queue, in the advisers' alert.
    pub alert_not_helpful: String,
    pub alert_abstained: String,
    /// The alert in the advisers' channel:
    /// `{item} {why} {count} {lang} {question} {closest} {number}`
    pub adviser_alert: Template,

    // ----- /tenders (`{search}` is Doffin's search page)
    pub tenders_none_synced: Template,
    pub tenders_no_match: Template,
    /// Under a list cut at its first notices: `{more}` not shown.
    pub tenders_more: Template,
    pub tenders_watch_set: Template,
    pub tenders_no_watches: String,
    pub tenders_watch_removed: Template,
    pub tenders_no_such_watch: Template,
}

fn load(name: &str, toml_text: &str) -> Texts {
    toml::from_str(toml_text)
        .unwrap_or_else(|e| panic!("src/discord/texts/{name} is not a valid table: {e}"))
}

static NB: LazyLock<Texts> = LazyLock::new(|| load("nb.toml", include_str!("texts/nb.toml")));
static EN: LazyLock<Texts> = LazyLock::new(|| load("en.toml", include_str!("texts/en.toml")));

impl Texts {
    /// The table for `lang`.
    pub fn get(lang: Lang) -> &'static Texts {
        match lang {
            Lang::Nb => &NB,
            Lang::En => &EN,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_tables_have_every_text_with_the_same_places() {
        let as_map = |t: &Texts| match serde_json::to_value(t).unwrap() {
            serde_json::Value::Object(map) => map,
            other => panic!("{other}"),
        };
        let (nb, en) = (as_map(Texts::get(Lang::Nb)), as_map(Texts::get(Lang::En)));
        assert_eq!(nb.len(), en.len());
        for (key, nb_text) in &nb {
            let (nb_text, en_text) = (nb_text.as_str().unwrap(), en[key].as_str().unwrap());
            assert!(!nb_text.trim().is_empty(), "{key} is empty in nb.toml");
            assert_ne!(nb_text, en_text, "{key} is not translated");
            assert_eq!(places(nb_text), places(en_text), "{key}");
        }
    }

    #[test]
    fn templates_fill_their_places_and_nothing_else() {
        let t = Template("{who} sa «{what}» til {who}; {ukjent}".into());
        assert_eq!(
            t.fill(&[("who", &"Kari"), ("what", &"{who}")]),
            "Kari sa «{who}» til Kari; {ukjent}"
        );
        assert_eq!(Template("{".into()).fill(&[]), "{");
        let nb = Texts::get(Lang::Nb);
        assert_eq!(
            nb.answered
                .fill(&[("item", &crate::store::QueueItemId(7)), ("askers", &2)]),
            "Besvarte #7; 2 spørrer(e) får svaret."
        );
        assert!(nb.help.starts_with("**anbud** svarer") && nb.help.contains("her. Under"));
    }
}
