//! The custom ids of the bot's buttons: written and parsed here only.
//!
//! A custom id comes back from Discord as text anyone with a modified client could
//! forge, so parsing is strict: a known prefix, a known language, an entry id of safe
//! characters, numbers that parse. Anything else is `None` and ignored.

use std::fmt;

use crate::knowledge::Lang;

const PREFIX: &str = "anbud";
/// Discord's limit for a custom id.
pub const MAX_CUSTOM_ID: usize = 100;

/// Which question a feedback button is about: the run of the bot that wrote it (random
/// at each start) and a number within that run. A key from an earlier run is never looked
/// up in this run's memory, so a button sent before a restart cannot point at a question
/// asked after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ButtonKey {
    pub run: u32,
    pub number: u64,
}

impl fmt::Display for ButtonKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08x}.{}", self.run, self.number)
    }
}

impl ButtonKey {
    fn parse(text: &str) -> Option<ButtonKey> {
        let (run, number) = text.split_once('.')?;
        if run.len() != 8 {
            return None;
        }
        Some(ButtonKey {
            run: u32::from_str_radix(run, 16).ok()?,
            number: number.parse().ok()?,
        })
    }
}

/// What a click on one of the bot's buttons asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ButtonAction {
    /// "Helpful" / "Not helpful" under an answer. `key` finds the question in memory.
    Feedback {
        helpful: bool,
        lang: Lang,
        key: ButtonKey,
        entry_id: String,
    },
    /// Show a related or closest topic.
    Topic { lang: Lang, entry_id: String },
    /// Show the whole entry under a targeted answer ("More" / "Vis mer").
    More { lang: Lang, entry_id: String },
    /// Post a privately shown answer in the channel.
    Share { lang: Lang, entry_id: String },
    /// The answer to `/forget-me`'s question; only `user` may give it.
    Forget { confirm: bool, user: u64 },
    /// Post a privately shown `/tenders list` in the channel: the Doffin ids shown (at
    /// most [`MAX_SHARED_TENDERS`]).
    ShareTenders { lang: Lang, ids: Vec<String> },
}

/// The most notices one "share" button of `/tenders list` carries (Discord allows 100
/// characters of custom id).
pub const MAX_SHARED_TENDERS: usize = 5;

/// A Doffin id: "2026-115111".
fn valid_doffin_id(id: &str) -> bool {
    let mut parts = id.split('-');
    let (Some(year), Some(number), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    year.len() == 4
        && (1..=9).contains(&number.len())
        && year
            .chars()
            .chain(number.chars())
            .all(|c| c.is_ascii_digit())
}

fn valid_entry_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
}

impl ButtonAction {
    /// The custom id, or `None` when it would not be valid (an odd entry id, too long).
    pub fn custom_id(&self) -> Option<String> {
        let id = match self {
            ButtonAction::Feedback {
                helpful,
                lang,
                key,
                entry_id,
            } => {
                let verdict = if *helpful { "y" } else { "n" };
                format!("{PREFIX}:fb:{verdict}:{}:{key}:{entry_id}", lang.code())
            }
            ButtonAction::Topic { lang, entry_id } => {
                format!("{PREFIX}:topic:{}:{entry_id}", lang.code())
            }
            ButtonAction::Share { lang, entry_id } => {
                format!("{PREFIX}:share:{}:{entry_id}", lang.code())
            }
            ButtonAction::More { lang, entry_id } => {
                format!("{PREFIX}:more:{}:{entry_id}", lang.code())
            }
            ButtonAction::Forget { confirm, user } => {
                format!(
                    "{PREFIX}:forget:{}:{user}",
                    if *confirm { "yes" } else { "no" }
                )
            }
            ButtonAction::ShareTenders { lang, ids } => {
                format!("{PREFIX}:tshare:{}:{}", lang.code(), ids.join(","))
            }
        };
        let entry_ok = match self {
            ButtonAction::Feedback { entry_id, .. }
            | ButtonAction::Topic { entry_id, .. }
            | ButtonAction::More { entry_id, .. }
            | ButtonAction::Share { entry_id, .. } => valid_entry_id(entry_id),
            ButtonAction::Forget { .. } => true,
            ButtonAction::ShareTenders { ids, .. } => {
                (1..=MAX_SHARED_TENDERS).contains(&ids.len())
                    && ids.iter().all(|id| valid_doffin_id(id))
            }
        };
        (entry_ok && id.len() <= MAX_CUSTOM_ID).then_some(id)
    }

    /// Parse a custom id; `None` for anything the bot did not write.
    pub fn parse(custom_id: &str) -> Option<ButtonAction> {
        if custom_id.len() > MAX_CUSTOM_ID {
            return None;
        }
        let parts: Vec<&str> = custom_id.split(':').collect();
        let lang = |code: &str| match code {
            "nb" => Some(Lang::Nb),
            "en" => Some(Lang::En),
            _ => None,
        };
        let entry = |id: &str| valid_entry_id(id).then(|| id.to_string());
        match parts.as_slice() {
            [PREFIX, "fb", verdict, code, key, id] => Some(ButtonAction::Feedback {
                helpful: match *verdict {
                    "y" => true,
                    "n" => false,
                    _ => return None,
                },
                lang: lang(code)?,
                key: ButtonKey::parse(key)?,
                entry_id: entry(id)?,
            }),
            [PREFIX, "topic", code, id] => Some(ButtonAction::Topic {
                lang: lang(code)?,
                entry_id: entry(id)?,
            }),
            [PREFIX, "more", code, id] => Some(ButtonAction::More {
                lang: lang(code)?,
                entry_id: entry(id)?,
            }),
            [PREFIX, "share", code, id] => Some(ButtonAction::Share {
                lang: lang(code)?,
                entry_id: entry(id)?,
            }),
            [PREFIX, "tshare", code, ids] => {
                let ids: Vec<String> = ids.split(',').map(str::to_string).collect();
                let ok = (1..=MAX_SHARED_TENDERS).contains(&ids.len())
                    && ids.iter().all(|id| valid_doffin_id(id));
                ok.then_some(ButtonAction::ShareTenders {
                    lang: lang(code)?,
                    ids,
                })
            }
            [PREFIX, "forget", answer, user] => Some(ButtonAction::Forget {
                confirm: match *answer {
                    "yes" => true,
                    "no" => false,
                    _ => return None,
                },
                user: user.parse().ok()?,
            }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let actions = [
            ButtonAction::Feedback {
                helpful: true,
                lang: Lang::Nb,
                key: ButtonKey {
                    run: u32::MAX,
                    number: u64::from(u32::MAX),
                },
                entry_id: "award-criteria".into(),
            },
            ButtonAction::Feedback {
                helpful: false,
                lang: Lang::En,
                key: ButtonKey { run: 0, number: 0 },
                entry_id: "learned-12".into(),
            },
            ButtonAction::Topic {
                lang: Lang::En,
                entry_id: "complaints".into(),
            },
            ButtonAction::Share {
                lang: Lang::Nb,
                entry_id: "direct_award.v2".into(),
            },
            ButtonAction::Forget {
                confirm: true,
                user: 1_100_000_000_000_000_401,
            },
            ButtonAction::Forget {
                confirm: false,
                user: 1,
            },
            ButtonAction::ShareTenders {
                lang: Lang::Nb,
                ids: (0..5).map(|i| format!("2026-11511{i}")).collect(),
            },
        ];
        for action in actions {
            let id = action.custom_id().unwrap();
            assert!(!id.contains(' '), "{id}");
            assert!(id.len() <= MAX_CUSTOM_ID);
            assert_eq!(ButtonAction::parse(&id), Some(action));
        }
    }

    #[test]
    fn rejects_what_the_bot_did_not_write() {
        for bad in [
            "",
            "anbud",
            "other:topic:nb:x",
            "anbud:topic:sv:x",
            "anbud:topic:nb:",
            "anbud:topic:nb:a b",
            "anbud:topic:nb:x:extra",
            "anbud:fb:maybe:nb:0000000a.1:x",
            "anbud:fb:y:nb:0000000a.-1:x",
            "anbud:fb:y:nb:abc:x",
            // Keys before they named the run: expired, not someone else's question.
            "anbud:fb:y:nb:1:x",
            "anbud:fb:y:nb:a.1:x",
            "anbud:forget:yes:me",
            "anbud:forget:sure:1",
            "anbud:tshare:nb:",
            "anbud:tshare:nb:2026-1,x",
            "anbud:tshare:nb:1-2-3",
            "anbud:tshare:nb:2026-1,2026-2,2026-3,2026-4,2026-5,2026-6",
        ] {
            assert_eq!(ButtonAction::parse(bad), None, "{bad:?}");
        }
        assert_eq!(
            ButtonAction::parse(&format!("anbud:topic:nb:{}", "a".repeat(200))),
            None
        );
    }

    #[test]
    fn odd_entry_ids_get_no_button() {
        assert_eq!(
            ButtonAction::Topic {
                lang: Lang::Nb,
                entry_id: "a:b".into()
            }
            .custom_id(),
            None
        );
        assert_eq!(
            ButtonAction::Topic {
                lang: Lang::Nb,
                entry_id: "x".repeat(65)
            }
            .custom_id(),
            None
        );
    }
}
