//! `anbud serve`: run the Discord bot (and the web pages when `web.listen` is set).

use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use crate::app::App;
use crate::config::Settings;
use crate::discord;

#[derive(Debug, Args)]
pub struct ServeArgs {}

/// Read the token from `DISCORD_TOKEN`, open the application, and serve until SIGINT
/// (Ctrl-C) or SIGTERM; then stop taking questions and write what the database has not
/// taken yet, for at most `durability.shutdown_flush_ms`, naming in the log what could not
/// be written.
pub async fn run(settings: &Settings, _args: ServeArgs) -> anyhow::Result<ExitCode> {
    // The token first: a missing token is reported before anything is loaded.
    let token = discord::token_from_env()?;
    let app = App::open(settings).await?;
    // The web pages, when `web.listen` is set, on the same application and database.
    let _web = match settings.web.listen_addr() {
        Some(addr) => Some(crate::web::start(app.clone(), addr).await?),
        None => None,
    };
    let mut stop = StopSignal::listen().context("listening for SIGTERM")?;
    discord::serve(app, token, stop.received())
        .await
        .context("running the Discord bot")?;
    Ok(ExitCode::SUCCESS)
}

/// SIGINT (Ctrl-C) or SIGTERM, which systemd, Docker and Kubernetes send to stop a
/// service before they kill it.
struct StopSignal {
    terminate: tokio::signal::unix::Signal,
}

impl StopSignal {
    /// Starts listening now, so a signal that comes during start-up is not missed.
    fn listen() -> std::io::Result<StopSignal> {
        let terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        Ok(StopSignal { terminate })
    }

    /// The name of the first signal received.
    async fn received(&mut self) -> &'static str {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => "SIGINT",
            _ = self.terminate.recv() => "SIGTERM",
        }
    }
}
