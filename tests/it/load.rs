//! Load through the fake Discord: 2,000 questions from 200 simulated users in a Q&A channel,
//! with the per-user rate limit off. Every question must get exactly one reply (an answer or
//! an abstention), nothing may be lost in the store, and the latency percentiles from the
//! fake's point of view (message dispatched → reply posted) are printed, not asserted:
//! speed is measured by the benchmarks, behaviour by tests.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use crate::fake_discord::ids;
use crate::support::spawn_bot;

const USERS: u64 = 200;
const QUESTIONS: usize = 2_000;
/// Simulated users start at this id; they are not guild members, like most suppliers.
const FIRST_USER: u64 = 700_000_000_000_000_000;

fn questions() -> Vec<String> {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/quality/train.tsv"),
    )
    .unwrap();
    text.lines()
        .skip(1)
        .filter_map(|l| l.split('\t').nth(4))
        .map(str::to_string)
        .collect()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_questions_from_two_hundred_users_all_get_one_reply() {
    let t = spawn_bot(|_, _| {}).await;
    let pool = questions();
    let mut sent: HashMap<u64, Instant> = HashMap::new();
    let mut seen: HashMap<u64, Duration> = HashMap::new();
    let started = Instant::now();
    // Send in bursts of 200 (one question from every user), then note replies as they come.
    for burst in 0..QUESTIONS / USERS as usize {
        for user in 0..USERS {
            let i = burst * USERS as usize + user as usize;
            let id = t
                .fake
                .send_message(ids::QA_CHANNEL, FIRST_USER + user, &pool[i % pool.len()]);
            sent.insert(id, Instant::now());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(600);
    while seen.len() < QUESTIONS && Instant::now() < deadline {
        for p in t.fake.posted() {
            if let Some(to) = p.reply_to() {
                if let Some(at) = sent.get(&to) {
                    seen.entry(to).or_insert_with(|| at.elapsed());
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let total = started.elapsed();
    let unanswered: Vec<&u64> = sent.keys().filter(|id| !seen.contains_key(id)).collect();
    assert!(
        unanswered.is_empty(),
        "{} of {QUESTIONS} questions got no reply",
        unanswered.len()
    );

    // Exactly one reply message starts the answer to each question (long answers continue
    // in messages that are not replies).
    let replies: Vec<u64> = t
        .fake
        .posted()
        .iter()
        .filter_map(|p| p.reply_to())
        .filter(|id| sent.contains_key(id))
        .collect();
    let distinct: HashSet<u64> = replies.iter().copied().collect();
    assert_eq!(distinct.len(), QUESTIONS);
    assert_eq!(replies.len(), QUESTIONS, "no question is answered twice");

    // Nothing lost: every question counted, every abstention in the queue.
    assert!(
        t.app.logger().wait_flushed(Duration::from_secs(60)).await,
        "the store caught up"
    );
    // Referral counters are not part of the group commit: each is written by a task of
    // its own and not waited for (`App::ask_pending`), so they may land a little after
    // the logger has flushed. Wait for them, boundedly.
    let counted_by = Instant::now() + Duration::from_secs(30);
    let mut stats = t.store().stats(None).await.unwrap();
    while (stats.questions as usize) < QUESTIONS && Instant::now() < counted_by {
        tokio::time::sleep(Duration::from_millis(100)).await;
        stats = t.store().stats(None).await.unwrap();
    }
    assert_eq!(stats.questions as usize, QUESTIONS, "{stats:?}");
    // Every question is answered, abstained on (and queued) or referred (not queued).
    assert_eq!(
        (stats.answered + stats.abstained + stats.referred) as usize,
        QUESTIONS,
        "{stats:?}"
    );
    let asks: u64 = t
        .store()
        .list_queue(None)
        .await
        .unwrap()
        .iter()
        .map(|i| i.count)
        .sum();
    assert_eq!(
        asks, stats.abstained,
        "every abstention is an ask in the queue"
    );

    let mut latencies: Vec<Duration> = seen.into_values().collect();
    latencies.sort();
    eprintln!(
        "load: {QUESTIONS} questions from {USERS} users in {:.1} s ({:.0}/s); answered {}, abstained {}; \
         latency dispatch→reply p50 {:?}, p90 {:?}, p99 {:?}, max {:?}",
        total.as_secs_f64(),
        QUESTIONS as f64 / total.as_secs_f64(),
        stats.answered,
        stats.abstained,
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.9),
        percentile(&latencies, 0.99),
        latencies.last().unwrap()
    );
}
