//! Work that is not a reply to an event: advisers' answers on their way to askers (the
//! outbox), and alerts to the advisers' channel about new queue items.

use std::sync::Arc;
use std::time::Duration;

use poise::serenity_prelude as serenity;
use serenity::{ChannelId, Http, MessageId, UserId};

use super::format::{escape_markdown, quote_block, split_message, MESSAGE_LIMIT};
use super::reply::cause_chain;
use super::send::{self, Outgoing};
use super::texts::Texts;
use crate::app::App;
use crate::delivery::{deliver_pending, ReplySender, SendFuture};
use crate::knowledge::Lang;
use crate::store::{AlertMessage, Logged, Origin, OutboxMessage, Source};

/// Where an answer to `origin` is posted: the thread if there is one, else the channel,
/// replying to the question when it is in that same channel.
pub fn delivery_target(origin: &Origin) -> Option<(ChannelId, Option<MessageId>)> {
    let id = |s: &Option<String>| {
        s.as_deref()
            .and_then(|s| s.parse::<u64>().ok())
            .filter(|n| *n != 0)
    };
    let channel = id(&origin.channel_id);
    let target = id(&origin.thread_id).or(channel)?;
    let reply_to = if Some(target) == channel {
        id(&origin.message_id).map(MessageId::new)
    } else {
        None
    };
    Some((ChannelId::new(target), reply_to))
}

/// The text of an adviser's answer as the asker receives it.
pub fn outbox_text(message: &OutboxMessage) -> String {
    let lang = message.lang;
    format!(
        "**{}**\n{}\n\n{}",
        Texts::get(lang).adviser_answered,
        quote_block(&message.question, 300),
        message.text.trim()
    )
}

/// Advisers' answers posted through the bot's HTTP client, one message (part) at a time,
/// for [`crate::delivery`]: in the asker's thread or channel (the first part replying to
/// the question), else, when the channel is gone or there is none, by direct message.
pub struct DiscordReplies {
    http: Arc<Http>,
}

impl ReplySender for DiscordReplies {
    type Error = String;

    fn parts(&self, message: &OutboxMessage) -> Vec<String> {
        split_message(&outbox_text(message), MESSAGE_LIMIT)
    }

    fn send_part<'a>(
        &'a self,
        message: &'a OutboxMessage,
        index: usize,
        part: &'a str,
    ) -> SendFuture<'a, String> {
        Box::pin(async move {
            deliver_part(&self.http, message, index, part)
                .await
                .map_err(|e| cause_chain(&e))
        })
    }
}

/// Posts part `index` of a reply (at most one message long).
async fn deliver_part(
    http: &Http,
    message: &OutboxMessage,
    index: usize,
    part: &str,
) -> Result<(), serenity::Error> {
    let user = message
        .origin
        .user_id
        .as_deref()
        .and_then(|u| u.parse::<u64>().ok())
        .filter(|n| *n != 0)
        .map(UserId::new);
    if let Some((channel, reply_to)) = delivery_target(&message.origin) {
        let reply_to = reply_to.filter(|_| index == 0);
        // The asker is notified (hours may have passed): by the reply, else a mention.
        let notify = user.filter(|_| index == 0);
        let outgoing = Outgoing::text(part).notifying(notify);
        let first = send::post(http, channel, outgoing.clone().replying_to(reply_to)).await;
        let error = match first {
            Ok(_) => return Ok(()),
            // The question was deleted: answer in the channel without the reference.
            Err(e) if reply_to.is_some() && send::status(&e) == Some(400) => {
                match send::post(http, channel, outgoing).await {
                    Ok(_) => return Ok(()),
                    Err(e) => e,
                }
            }
            Err(e) => e,
        };
        if !send::is_gone(&error) || user.is_none() {
            return Err(error);
        }
        tracing::info!(outbox = %message.id, "the channel is gone; answering by direct message");
    }
    match user {
        Some(user) => send::post_dm(http, user, Outgoing::text(part))
            .await
            .map(|_| ()),
        None => Err(serenity::Error::Other(
            "the answer has neither a channel nor a user to go to",
        )),
    }
}

/// Every `every`, deliver the Discord replies in the outbox, one claimed reply at a time
/// (see [`crate::delivery`]): the claim is held for `claims.lease_ms` and renewed while
/// the reply's parts are posted, so a slow Discord never lets another bot post it again.
pub async fn outbox_loop(app: App, http: Arc<Http>, every: Duration) {
    let replies = DiscordReplies { http };
    let lease = app.settings.claims.lease();
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let Some(store) = app.store() else { continue };
        if let Err(e) = deliver_pending(&store, Source::Discord, lease, &replies).await {
            tracing::warn!(error = %e, "could not deliver the outbox");
        }
    }
}

/// Post a new queue item to `discord.adviser_channel`, if one is configured: the question
/// (escaped), how often it was asked, the closest topic.
pub async fn alert_advisers(http: &Http, app: &App, logged: Logged) {
    let Some(channel) = app.settings.discord.adviser_channel else {
        return;
    };
    let Some(store) = app.store() else { return };
    let item = match store.get_item(logged.item_id).await {
        Ok(item) => item,
        Err(e) => {
            tracing::warn!(item = %logged.item_id, error = %e, "could not read a new queue item");
            return;
        }
    };
    let closest = item
        .best_candidate
        .as_deref()
        .map(|id| {
            let title = app
                .answerer()
                .knowledge()
                .entry(id, Lang::Nb)
                .map(|e| e.title.clone())
                .unwrap_or_default();
            format!("{} (`{id}`, {:.2})", escape_markdown(&title), item.score)
        })
        .unwrap_or_else(|| "–".to_string());
    // The advisers' channel is Norwegian.
    let t = Texts::get(Lang::Nb);
    let why = if item.reason.not_helpful > 0 {
        &t.alert_not_helpful
    } else {
        &t.alert_abstained
    };
    let text = t.adviser_alert.fill(&[
        ("item", &item.id),
        ("why", &why),
        ("count", &item.count),
        ("lang", &item.lang),
        ("question", &quote_block(&item.question, 1000)),
        ("closest", &closest),
        ("number", &item.id.0),
    ]);
    let posted = match send::post(http, ChannelId::new(channel), Outgoing::text(text)).await {
        Ok(posted) => posted,
        Err(e) => {
            tracing::warn!(item = %item.id, error = %e, "could not alert advisers");
            return;
        }
    };
    // Kept so that forgetting the asker can redact the alert, which quotes the question
    // (the first message holds it: the quote is shorter than one message).
    if let Some(message) = posted.first() {
        let (channel_id, message_id) = (channel.to_string(), message.id.to_string());
        let recorded = store
            .set_alert_message(item.id, &item.question, &channel_id, &message_id)
            .await;
        match recorded {
            Ok(true) => {}
            // The asker was forgotten while the alert was on its way: that forget could
            // not see the alert, so it is redacted here.
            Ok(false) => {
                tracing::info!(item = %item.id, "the asker was forgotten while the alert was posted; redacting it");
                let alert = AlertMessage {
                    item_id: item.id,
                    channel_id,
                    message_id,
                };
                redact_alerts(http, &[alert]).await;
            }
            Err(e) => {
                tracing::warn!(item = %item.id, error = %e, "could not record the advisers' alert")
            }
        }
    }
}

/// Replaces the advisers' alerts that quote a forgotten user's question with a note that
/// it was deleted. An alert that cannot be edited (deleted meanwhile) is logged and
/// skipped.
pub async fn redact_alerts(http: &Http, alerts: &[AlertMessage]) {
    // The advisers' channel is Norwegian.
    let t = Texts::get(Lang::Nb);
    for alert in alerts {
        let ids = (alert.channel_id.parse(), alert.message_id.parse());
        let (Ok(channel), Ok(message)) = ids else {
            tracing::warn!(item = %alert.item_id, "an advisers' alert with an unreadable id");
            continue;
        };
        let edit = serenity::EditMessage::new()
            .content(t.forgotten_alert.as_str())
            .allowed_mentions(send::no_mentions());
        let edited = ChannelId::new(channel)
            .edit_message(http, MessageId::new(message), edit)
            .await;
        if let Err(e) = edited {
            tracing::warn!(item = %alert.item_id, error = %e, "could not redact an advisers' alert");
        }
    }
}

/// Alert advisers about queue items created when buffered questions reached the
/// database after an outage.
pub async fn flushed_alerts(app: App, http: Arc<Http>) {
    let mut events = app.logger().flushed_events();
    while let Some(logged) = events.recv().await {
        if logged.is_new {
            alert_advisers(&http, &app, logged).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(channel: Option<&str>, thread: Option<&str>, message: Option<&str>) -> Origin {
        Origin {
            source: Source::Discord,
            guild_id: Some("1".into()),
            channel_id: channel.map(Into::into),
            message_id: message.map(Into::into),
            thread_id: thread.map(Into::into),
            user_id: Some("9".into()),
        }
    }

    #[test]
    fn answers_go_to_the_thread_or_reply_in_the_channel() {
        assert_eq!(
            delivery_target(&origin(Some("10"), None, Some("20"))),
            Some((ChannelId::new(10), Some(MessageId::new(20))))
        );
        // Thread opened on the question: post in the thread, the question is in the parent.
        assert_eq!(
            delivery_target(&origin(Some("10"), Some("20"), Some("20"))),
            Some((ChannelId::new(20), None))
        );
        // A follow-up inside the thread: reply to it there.
        assert_eq!(
            delivery_target(&origin(Some("20"), Some("20"), Some("30"))),
            Some((ChannelId::new(20), Some(MessageId::new(30))))
        );
        assert_eq!(
            delivery_target(&origin(None, None, None)),
            None,
            "a DM answer"
        );
        assert_eq!(delivery_target(&origin(Some("x"), None, None)), None);
    }
}
