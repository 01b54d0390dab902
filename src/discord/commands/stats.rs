//! `/stats`: questions asked, share answered, open queue, top entries (advisers).

use crate::adviser::AdviserError;
use crate::discord::context::{is_adviser, texts, Context, Data, Error};
use crate::discord::format::escape_markdown;
use crate::discord::reply::say_private;

pub fn commands() -> Vec<poise::Command<Data, Error>> {
    vec![stats()]
}

/// Questions asked, share answered, top entries, open queue.
#[poise::command(
    slash_command,
    check = "is_adviser",
    default_member_permissions = "MANAGE_MESSAGES"
)]
pub async fn stats(ctx: Context<'_>) -> Result<(), Error> {
    // Acknowledged before any database work: Discord allows three seconds.
    ctx.defer_ephemeral().await?;
    let t = texts(ctx);
    let store = ctx.data().app.store().ok_or(AdviserError::NoDatabase)?;
    let s = store.stats(None).await?;
    let mut text = t.stats.fill(&[
        ("questions", &s.questions),
        ("answered", &s.answered),
        ("share", &format!("{:.0}", s.share_answered * 100.0)),
        ("abstained", &s.abstained),
        ("open", &s.open_queue),
        ("unhelpful", &s.unhelpful),
    ]);
    if !s.top_entries.is_empty() {
        text.push_str(&format!("\n{}:", t.most_used));
        for (id, n) in &s.top_entries {
            text.push_str(&format!("\n`{n:>5}` {}", escape_markdown(id)));
        }
    }
    say_private(ctx, text).await
}
