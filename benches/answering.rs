//! Speed of answering and of building the index, on the bundled knowledge base and on
//! synthetic ones (`anbud::synth`, seed 1) of 1,000, 10,000 and 50,000 entry ids (each id
//! is two entries: Bokmål and English).
//!
//!     cargo bench --bench answering                 # everything (about 8 minutes on 2 cores)
//!     cargo bench --bench answering -- answer/      # one group (criterion's filter)
//!     cargo bench --bench answering -- latency      # only the per-question latency report
//!     cargo bench --bench answering -- startup      # only the in-process start-up report
//!
//! Groups:
//! - `answer/{bundled,10k,50k}`: one question in process: cleaning, language detection,
//!   analysis, search, confidence, and the reply rendered with `render_text`. Questions
//!   rotate through the evaluation set (bundled) or the synthetic question set.
//! - `index_build/{1k,10k,50k}`: `Answerer::new` (analysis and indexing of every entry);
//!   50k only with `ANBUD_BENCH_FULL=1` (ten builds take minutes).
//! - `concurrent/10k`: 64 tokio tasks share one `Arc<Answerer>` and answer 16 questions
//!   each on a 2-thread runtime; criterion reports answers per second.
//! - `latency`: not criterion: times each of 2,000 questions one by one and prints the
//!   median, p90, p99 and maximum (criterion gives medians and spread, not tail latency),
//!   and on the synthetic bases how many replies are right (the expected id answered, or
//!   an abstention on an out-of-scope question). With `ANBUD_BENCH_REPLIES=FILE` it also
//!   writes each reply (base, question, id answered or `-`, confidence) to FILE, so that
//!   two builds' answers can be compared line by line. `ANBUD_BENCH_BASES=10k,50k` limits
//!   it to those bases (all three by default).
//! - `startup`: not criterion: `App::open` in process (read the folder, open and migrate a
//!   fresh SQLite file, merge learned knowledge, build the index), bundled and 10k.

use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use anbud::answer::{render_text, Answerer};
use anbud::config::AnswerSettings;
use anbud::knowledge::{self, KnowledgeBase};
use anbud::synth::{self, SynthOptions};
use criterion::{BenchmarkId, Criterion, Throughput};

const SEED: u64 = 1;
const QUESTIONS: usize = 2000;

fn bundled() -> &'static KnowledgeBase {
    static KB: OnceLock<KnowledgeBase> = OnceLock::new();
    KB.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge");
        knowledge::load_dir(&dir)
            .expect("the bundled knowledge base loads")
            .0
    })
}

/// The labelled questions of the train and dev splits (`tests/quality/`; the test split
/// is left to the quality test).
fn bundled_questions() -> Vec<String> {
    let mut questions = Vec::new();
    for file in ["train.tsv", "dev.tsv"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/quality")
            .join(file);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        questions.extend(
            text.lines()
                .skip(1)
                .filter_map(|l| l.split('\t').nth(4))
                .map(str::to_string),
        );
    }
    questions
}

fn synthetic(entries: usize) -> synth::Synthetic {
    synth::generate(
        bundled(),
        SynthOptions {
            entries,
            seed: SEED,
            questions: QUESTIONS,
        },
    )
    .expect("generate")
}

/// An answerer and its questions, built once per size for the whole run.
struct Case {
    answerer: Arc<Answerer>,
    questions: Vec<String>,
    /// Per question of a synthetic base, the id it should get (`None`: out of scope).
    expected: Option<Vec<Option<String>>>,
}

fn case(name: &str) -> &'static Case {
    static BUNDLED: OnceLock<Case> = OnceLock::new();
    static K10: OnceLock<Case> = OnceLock::new();
    static K50: OnceLock<Case> = OnceLock::new();
    let (cell, entries) = match name {
        "bundled" => (&BUNDLED, 0),
        "10k" => (&K10, 10_000),
        "50k" => (&K50, 50_000),
        other => panic!("unknown case {other}"),
    };
    cell.get_or_init(|| {
        let (kb, questions, expected) = if entries == 0 {
            (bundled().clone(), bundled_questions(), None)
        } else {
            let s = synthetic(entries);
            let expected = s.questions.iter().map(|q| q.expected.clone()).collect();
            (
                s.kb,
                s.questions.into_iter().map(|q| q.text).collect(),
                Some(expected),
            )
        };
        let started = Instant::now();
        let answerer = Answerer::new(kb, AnswerSettings::default()).expect("index builds");
        eprintln!("[{name}: index built in {:.2?}]", started.elapsed());
        Case {
            answerer: Arc::new(answerer),
            questions,
            expected,
        }
    })
}

/// Answer one question and render the reply, as the terminal chat does.
fn answer_and_render(answerer: &Answerer, question: &str) -> usize {
    let reply = answerer.answer(question).expect("search works");
    render_text(&reply, !reply.answered()).len()
}

/// Whether a benchmark id passes the command line filter (a substring, like criterion's
/// for plain words), so that filtered-out cases are not even built.
fn selected(filter: Option<&str>, id: &str) -> bool {
    filter.is_none_or(|f| id.contains(f))
}

fn bench_answer(c: &mut Criterion, filter: Option<&str>) {
    let mut group = c.benchmark_group("answer");
    for name in ["bundled", "10k", "50k"] {
        if !selected(filter, &format!("answer/{name}")) {
            continue;
        }
        let case = case(name);
        if name != "bundled" {
            group
                .sample_size(30)
                .measurement_time(Duration::from_secs(5));
        }
        let mut i = 0usize;
        group.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| {
                i = (i + 1) % case.questions.len();
                answer_and_render(&case.answerer, std::hint::black_box(&case.questions[i]))
            })
        });
    }
    group.finish();
}

fn bench_index_build(c: &mut Criterion, filter: Option<&str>) {
    let mut group = c.benchmark_group("index_build");
    group.sample_size(10).warm_up_time(Duration::from_millis(1));
    // Ten builds of 50,000 entries take several minutes on two cores: only on request. The
    // latency report prints the time of one 50k build in any case.
    let full = std::env::var_os("ANBUD_BENCH_FULL").is_some();
    for (name, entries) in [("1k", 1_000usize), ("10k", 10_000), ("50k", 50_000)] {
        if !selected(filter, &format!("index_build/{name}")) || (entries == 50_000 && !full) {
            continue;
        }
        let kb = synthetic(entries).kb;
        group.measurement_time(Duration::from_secs(match entries {
            1_000 => 5,
            10_000 => 20,
            _ => 60,
        }));
        group.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter_batched(
                || kb.clone(),
                |kb| Answerer::new(kb, AnswerSettings::default()).expect("index builds"),
                criterion::BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

/// Tasks asking at once, and questions each of them asks per iteration.
const TASKS: usize = 64;
const PER_TASK: usize = 16;

fn bench_concurrent(c: &mut Criterion, filter: Option<&str>) {
    if !selected(filter, "concurrent/10k") {
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("concurrent");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements((TASKS * PER_TASK) as u64));
    let case = case("10k");
    let questions = Arc::new(case.questions.clone());
    group.bench_function(BenchmarkId::from_parameter("10k"), |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let started = Instant::now();
                for _ in 0..iters {
                    let tasks: Vec<_> = (0..TASKS)
                        .map(|t| {
                            let answerer = Arc::clone(&case.answerer);
                            let questions = Arc::clone(&questions);
                            // A plain task, as `App::ask` answers inside its async handler.
                            tokio::spawn(async move {
                                let mut n = 0;
                                for k in 0..PER_TASK {
                                    let q = &questions[(t * PER_TASK + k) % questions.len()];
                                    n += answer_and_render(&answerer, q);
                                }
                                n
                            })
                        })
                        .collect();
                    for task in tasks {
                        std::hint::black_box(task.await.expect("task"));
                    }
                }
                started.elapsed()
            })
        })
    });
    group.finish();
}

/// Time every question on its own and print the distribution.
fn latency_report() {
    println!("\nPer-question latency ({QUESTIONS} questions, answer + render_text, one thread):");
    println!(
        "{:<10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>12}",
        "base", "median", "p90", "p99", "max", "answered", "right"
    );
    let mut dump = std::env::var_os("ANBUD_BENCH_REPLIES").map(|path| {
        std::io::BufWriter::new(std::fs::File::create(path).expect("the replies file"))
    });
    let bases = std::env::var("ANBUD_BENCH_BASES").ok();
    for name in ["bundled", "10k", "50k"] {
        if bases
            .as_deref()
            .is_some_and(|b| !b.split(',').any(|b| b == name))
        {
            continue;
        }
        let case = case(name);
        // One warm-up pass over a few questions, then the timed pass.
        for q in case.questions.iter().take(50) {
            answer_and_render(&case.answerer, q);
        }
        let mut times: Vec<Duration> = Vec::with_capacity(QUESTIONS);
        let mut answered = 0;
        let mut right = 0;
        for k in 0..QUESTIONS {
            let at = k % case.questions.len();
            let q = &case.questions[at];
            let started = Instant::now();
            let reply = case.answerer.answer(q).expect("search works");
            std::hint::black_box(render_text(&reply, !reply.answered()));
            times.push(started.elapsed());
            answered += usize::from(reply.answered());
            if let Some(expected) = &case.expected {
                right += usize::from(reply.id() == expected[at].as_deref());
            }
            if let Some(dump) = dump.as_mut() {
                use std::io::Write;
                writeln!(
                    dump,
                    "{name}\t{q}\t{}\t{:.4}",
                    reply.id().unwrap_or("-"),
                    reply.score
                )
                .expect("writing the replies file");
            }
        }
        times.sort();
        let at = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
        let right = match &case.expected {
            Some(_) => format!("{right} of {QUESTIONS}"),
            None => "-".to_string(),
        };
        println!(
            "{name:<10} {:>10.3?} {:>10.3?} {:>10.3?} {:>10.3?} {:>9.0}% {right:>12}",
            at(0.5),
            at(0.9),
            at(0.99),
            times[times.len() - 1],
            100.0 * answered as f64 / QUESTIONS as f64
        );
    }
}

/// Time `App::open` from a knowledge folder and a fresh SQLite database, three times.
fn startup_report() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    println!("\nStart-up in process (App::open: load the folder, open SQLite, build the index):");
    let generated = tempfile::tempdir().expect("a temporary folder");
    let k10 = generated.path().join("kb10k");
    synth::write_dir(&synthetic(10_000), &k10).expect("write the 10k knowledge base");
    for (name, dir) in [
        (
            "bundled",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge"),
        ),
        ("10k", k10),
    ] {
        let mut times = Vec::new();
        for run in 0..3 {
            let mut settings = anbud::config::Settings::defaults();
            settings.knowledge.dir = dir.clone();
            settings.database.url = format!(
                "sqlite://{}",
                generated
                    .path()
                    .join(format!("{name}-{run}.sqlite"))
                    .display()
            );
            let started = Instant::now();
            let app = runtime
                .block_on(anbud::app::App::open(&settings))
                .expect("App::open");
            times.push(started.elapsed());
            drop(app);
        }
        times.sort();
        println!("{name:<10} median {:>10.3?}  (runs: {times:.3?})", times[1]);
    }
}

fn main() {
    // The heap as the `anbud` program has it (see `anbud::heap`), so that the figures
    // are the program's.
    anbud::heap::restart_with_huge_pages();
    // Criterion's filter is the first argument that is not an option; the latency report
    // runs when there is none or when it matches.
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let mut criterion = Criterion::default().configure_from_args();
    let filter = filter.as_deref();
    if selected(filter, "startup") {
        startup_report();
    }
    if selected(filter, "latency") {
        latency_report();
    }
    bench_answer(&mut criterion, filter);
    bench_index_build(&mut criterion, filter);
    bench_concurrent(&mut criterion, filter);
    criterion.final_summary();
}
