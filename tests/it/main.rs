//! The single integration-test binary. Every integration test is a module here, so the crate
//! and its dependencies are linked once.
//!
//! Logs stay quiet unless `TEST_LOG` or `RUST_LOG` is set (for example
//! `RUST_LOG=serenity=debug,it=debug cargo test --test it`).

mod announce;
mod cli;
mod discord;
mod durable;
mod export;
mod fake_discord;
mod faults;
mod flow;
mod index_on_disk;
mod knowledge_base;
mod limits;
mod load;
mod multiprocess;
mod quality;
mod robustness;
mod security;
mod slow_discord;
mod store;
mod support;
mod tenders;
mod terminal_output;
mod users_markdown;
mod web;

/// Log to the test output when `TEST_LOG` or `RUST_LOG` is set (`RUST_LOG` is the filter;
/// `TEST_LOG` alone means `info`). Safe to call from every test.
pub(crate) fn init_test_logging() {
    let filter = match (std::env::var("RUST_LOG"), std::env::var("TEST_LOG")) {
        (Ok(filter), _) => filter,
        (Err(_), Ok(_)) => "info".to_owned(),
        _ => return,
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_test_writer()
        .try_init();
}

/// The `anbud` binary run from the crate's folder (the bundled knowledge base) on the
/// database `url`, with logs off.
pub(crate) fn anbud_on(url: &str) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_anbud"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("RUST_LOG")
        .args(["--database", url]);
    cmd
}
