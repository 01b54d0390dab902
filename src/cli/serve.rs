//! `anbud serve`: run the Discord bot (and the web pages when `web.listen` is set).

use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use crate::app::App;
use crate::config::Settings;
use crate::discord;

#[derive(Debug, Args)]
pub struct ServeArgs {}

/// Read the token from `DISCORD_TOKEN`, open the application, and serve until Ctrl-C.
pub async fn run(settings: &Settings, _args: ServeArgs) -> anyhow::Result<ExitCode> {
    // The token first: a missing token is reported before anything is loaded.
    let token = discord::token_from_env()?;
    let app = App::open(settings).await?;
    // The web pages, when `web.listen` is set, on the same application and database.
    let _web = match settings.web.listen_addr() {
        Some(addr) => Some(crate::web::start(app.clone(), addr).await?),
        None => None,
    };
    discord::serve(app, token)
        .await
        .context("running the Discord bot")?;
    Ok(ExitCode::SUCCESS)
}
