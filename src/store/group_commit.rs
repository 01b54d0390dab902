//! The writes answering makes, and how many of them become one transaction.
//!
//! Every answered question bumps a counter, every abstention files a queue item, and
//! feedback does both. Committing each on its own costs one fsync per question, so the
//! disk, not the search, set the pace. [`ResilientLogger`](super::ResilientLogger)
//! hands the writes that queued up while the previous commit ran to
//! [`Store::write_batch`](super::Store::write_batch), which writes them in one
//! transaction: one commit, one fsync, whatever the batch holds. Counters in a batch are
//! summed first, so a thousand answered questions are a handful of upserts.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};

use super::model::{NewFeedback, NewUnanswered, Source};
use crate::knowledge::Lang;

/// One write from answering.
#[derive(Debug, Clone, PartialEq)]
pub enum AnsweringWrite {
    /// A question for the advisers' queue ([`Store::log_unanswered`](super::Store::log_unanswered)).
    Unanswered(NewUnanswered),
    /// An asker's verdict on an answer ([`Store::record_feedback`](super::Store::record_feedback)).
    Feedback(NewFeedback),
    /// A question counted for the statistics, answered or not.
    QuestionAsked {
        /// Whether the bot answered it.
        answered: bool,
        /// The language of the reply.
        lang: Lang,
        /// When it was asked (a buffered count reaches the database later).
        at: DateTime<Utc>,
    },
    /// An answer given from an entry, counted for the statistics.
    AnswerGiven {
        /// The entry.
        entry_id: String,
        /// The language of the answer.
        lang: Lang,
        /// Where it was asked.
        source: Source,
        /// When it was given.
        at: DateTime<Utc>,
    },
    /// A question referred to a public service (`knowledge/referrals/`), counted for the
    /// statistics and not queued.
    Referred {
        /// The referral.
        referral_id: String,
        /// The language of the reply.
        lang: Lang,
        /// When it was asked.
        at: DateTime<Utc>,
    },
}

impl AnsweringWrite {
    /// True for writes someone is told about (a question passed to an adviser,
    /// feedback taken); false for anonymous counters.
    pub fn is_acknowledged(&self) -> bool {
        matches!(
            self,
            AnsweringWrite::Unanswered(_) | AnsweringWrite::Feedback(_)
        )
    }
}

/// A batch in the form the SQL takes: queue writes in their order, counters summed.
#[derive(Debug, Default)]
pub(crate) struct BatchPlan {
    /// How many writes the batch holds (the length of the result).
    pub(crate) len: usize,
    /// The queue writes, in the order they were made.
    pub(crate) filed: Vec<Filed>,
    /// `question_counts` rows to add: (day, lang) → (answered, abstained).
    pub(crate) question_counts: BTreeMap<(NaiveDate, Lang), (i64, i64)>,
    /// `answer_counts` rows to add: (day, entry, lang, source) → count.
    pub(crate) answer_counts: BTreeMap<(NaiveDate, String, Lang, &'static str), i64>,
    /// `referral_counts` rows to add: (day, referral, lang) → count.
    pub(crate) referral_counts: BTreeMap<(NaiveDate, String, Lang), i64>,
}

/// A write that files a queue item, ready for the database, with its place in the batch.
#[derive(Debug)]
pub(crate) enum Filed {
    /// An abstention: the question made storable, and its grouping key.
    Unanswered {
        index: usize,
        question: NewUnanswered,
        key: String,
    },
    /// Feedback made storable, its statistics day and the question's grouping key.
    Feedback {
        index: usize,
        feedback: NewFeedback,
        day: NaiveDate,
        key: String,
    },
}

impl BatchPlan {
    /// The plan for `writes`: texts made storable, grouping keys computed, counters
    /// summed per row they add to.
    pub(crate) fn new(writes: &[AnsweringWrite]) -> BatchPlan {
        let mut plan = BatchPlan {
            len: writes.len(),
            ..BatchPlan::default()
        };
        for (index, write) in writes.iter().enumerate() {
            match write {
                AnsweringWrite::Unanswered(question) => {
                    let (question, key) = super::prepare_unanswered(question);
                    plan.filed.push(Filed::Unanswered {
                        index,
                        question,
                        key,
                    });
                }
                AnsweringWrite::Feedback(feedback) => {
                    let (feedback, key) = super::prepare_feedback(feedback);
                    let day = super::stats_day(feedback.at);
                    plan.filed.push(Filed::Feedback {
                        index,
                        feedback,
                        day,
                        key,
                    });
                }
                AnsweringWrite::QuestionAsked { answered, lang, at } => {
                    let counts = plan
                        .question_counts
                        .entry((super::stats_day(*at), *lang))
                        .or_default();
                    if *answered {
                        counts.0 += 1;
                    } else {
                        counts.1 += 1;
                    }
                }
                AnsweringWrite::AnswerGiven {
                    entry_id,
                    lang,
                    source,
                    at,
                } => {
                    *plan
                        .answer_counts
                        .entry((
                            super::stats_day(*at),
                            super::storable(entry_id),
                            *lang,
                            source.as_str(),
                        ))
                        .or_default() += 1;
                }
                AnsweringWrite::Referred {
                    referral_id,
                    lang,
                    at,
                } => {
                    *plan
                        .referral_counts
                        .entry((super::stats_day(*at), super::storable(referral_id), *lang))
                        .or_default() += 1;
                }
            }
        }
        plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::model::{Origin, Reason};

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().expect("an RFC 3339 time")
    }

    #[test]
    fn counters_are_summed_per_row_and_queue_writes_keep_their_place() {
        let asked = |answered, lang: Lang, when| AnsweringWrite::QuestionAsked {
            answered,
            lang,
            at: at(when),
        };
        let given = |entry: &str, when| AnsweringWrite::AnswerGiven {
            entry_id: entry.into(),
            lang: Lang::Nb,
            source: Source::Discord,
            at: at(when),
        };
        let unanswered = AnsweringWrite::Unanswered(NewUnanswered {
            question: "Hva med\0 sjiraffer?".into(),
            lang: Lang::Nb,
            origin: Origin::terminal(),
            best_candidate: None,
            score: 0.0,
            reason: Reason::Abstained,
            asked_at: at("2026-03-01T10:00:00.123456789Z"),
        });
        let writes = vec![
            asked(true, Lang::Nb, "2026-03-01T10:00:00Z"),
            given("espd", "2026-03-01T10:00:00Z"),
            unanswered,
            asked(false, Lang::Nb, "2026-03-01T11:00:00Z"),
            asked(true, Lang::Nb, "2026-03-01T12:00:00Z"),
            given("espd", "2026-03-01T12:00:00Z"),
            // 23:30 UTC is the next day in Oslo: another row.
            asked(true, Lang::Nb, "2026-03-01T23:30:00Z"),
            asked(true, Lang::En, "2026-03-01T12:00:00Z"),
        ];
        let plan = BatchPlan::new(&writes);
        assert_eq!(plan.len, 8);
        let day = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let next = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        assert_eq!(
            plan.question_counts.into_iter().collect::<Vec<_>>(),
            vec![
                ((day, Lang::Nb), (2, 1)),
                ((day, Lang::En), (1, 0)),
                ((next, Lang::Nb), (1, 0)),
            ]
        );
        assert_eq!(
            plan.answer_counts.into_iter().collect::<Vec<_>>(),
            vec![((day, "espd".to_string(), Lang::Nb, "discord"), 2)]
        );
        match plan.filed.as_slice() {
            [Filed::Unanswered {
                index: 2,
                question,
                key,
            }] => {
                // Prepared as `Store::log_unanswered` prepares it.
                assert_eq!(question.question, "Hva med\u{FFFD} sjiraffer?");
                assert_eq!(question.asked_at.timestamp_subsec_nanos(), 123_456_000);
                assert_eq!(key, &crate::store::group_key(&question.question));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn referrals_are_summed_per_day_referral_and_language() {
        let referred = |id: &str, lang: Lang| AnsweringWrite::Referred {
            referral_id: id.into(),
            lang,
            at: at("2026-03-01T10:00:00Z"),
        };
        let writes = vec![
            referred("skatteetaten", Lang::Nb),
            referred("brreg", Lang::Nb),
            referred("skatteetaten", Lang::Nb),
            referred("skatteetaten", Lang::En),
        ];
        let plan = BatchPlan::new(&writes);
        let day = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        assert_eq!(
            plan.referral_counts.into_iter().collect::<Vec<_>>(),
            vec![
                ((day, "brreg".to_string(), Lang::Nb), 1),
                ((day, "skatteetaten".to_string(), Lang::Nb), 2),
                ((day, "skatteetaten".to_string(), Lang::En), 1),
            ]
        );
        assert!(plan.filed.is_empty());
        assert!(!writes[0].is_acknowledged());
    }
}
