//! `anbud web [--listen ADDR]`: the advisers' and organisers' pages on this machine.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Args;

use crate::app::App;
use crate::config::Settings;
use crate::web;

#[derive(Debug, Args)]
pub struct WebArgs {
    /// The address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
}

/// Serve the pages and print a one-time sign-in link; run until Ctrl-C.
pub async fn run(settings: &Settings, args: WebArgs) -> anyhow::Result<ExitCode> {
    let app = App::open(settings).await?;
    let maintenance = app.spawn_maintenance();
    let running = web::start(app, args.listen).await?;
    {
        let mut out = std::io::stdout();
        writeln!(out, "login: {}", running.login_url())?;
        out.flush()?;
    }
    tokio::signal::ctrl_c().await?;
    maintenance.abort();
    Ok(ExitCode::SUCCESS)
}
