//! Advisers' answers on their way to the askers: the outbox delivered one claimed reply at
//! a time, part by part, by any chat adapter.
//!
//! A reply longer than one message is posted as several parts. Each part posted is
//! recorded before the next, so a delivery that fails halfway goes on from the next part
//! when it is tried again, and the claim is renewed while the parts are posted, so a slow
//! Discord never lets a second bot post the same reply. (A part whose post succeeded but
//! whose record did not reach the database, because it went down at that moment, is
//! posted again: the one duplicate left, and only in an outage.)

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::store::{
    hold_claim, DeliveryFailure, Held, OutboxClaim, OutboxMessage, Source, Store, StoreError,
};

/// The future [`ReplySender::send_part`] returns.
pub type SendFuture<'a, E> = Pin<Box<dyn Future<Output = Result<(), E>> + Send + 'a>>;

/// Posts one part of a reply where its asker asked: the Discord adapter, or a fake in
/// tests. Implement it as `fn send_part<'a>(&'a self, …) -> SendFuture<'a, E> {
/// Box::pin(async move { … }) }`.
pub trait ReplySender: Sync {
    type Error: std::fmt::Display;

    /// The reply split into the messages to post, in order. The same reply must always
    /// give the same parts: the count of parts posted refers to them.
    fn parts(&self, message: &OutboxMessage) -> Vec<String>;

    /// Posts part `index` (from 0) of `message`.
    fn send_part<'a>(
        &'a self,
        message: &'a OutboxMessage,
        index: usize,
        part: &'a str,
    ) -> SendFuture<'a, Self::Error>;
}

/// What became of one claimed reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Every part is posted; the reply is marked delivered.
    Delivered,
    /// A part could not be posted; the store offers the reply again after a back-off
    /// (from that part on), or gave it up.
    Failed {
        error: String,
        outcome: DeliveryFailure,
    },
    /// Another sender holds the reply now (this one was too slow to renew its claim):
    /// this sender stopped, the other goes on from the parts recorded.
    Lost,
}

/// Why posting the parts stopped early.
enum Stopped {
    Failed(String),
    Lost,
    Store(StoreError),
}

/// Posts the parts of a claimed reply that are not posted yet, holding the claim for
/// `lease` at a time (renewed every third of it), and reports the end to the store.
pub async fn deliver_claimed<S: ReplySender>(
    store: &Store,
    claim: &OutboxClaim,
    lease: Duration,
    sender: &S,
) -> Result<Delivery, StoreError> {
    let message = &claim.message;
    let parts = sender.parts(message);
    let start = usize::try_from(message.parts_sent).unwrap_or(usize::MAX);
    let post = async {
        for (index, part) in parts.iter().enumerate().skip(start) {
            if let Err(e) = sender.send_part(message, index, part).await {
                return Err(Stopped::Failed(e.to_string()));
            }
            let posted = u32::try_from(index + 1).unwrap_or(u32::MAX);
            match store.record_parts_sent(claim, posted).await {
                Ok(true) => {}
                Ok(false) => return Err(Stopped::Lost),
                Err(e) => return Err(Stopped::Store(e)),
            }
        }
        Ok(())
    };
    let held = hold_claim(post, lease / 3, || store.renew_outbox_claim(claim, lease)).await;
    match held {
        Held::Done(Ok(())) => {
            store.mark_delivered(message.id).await?;
            Ok(Delivery::Delivered)
        }
        Held::Done(Err(Stopped::Failed(error))) => {
            let outcome = store.mark_failed(message.id, &error).await?;
            Ok(Delivery::Failed { error, outcome })
        }
        Held::Lost | Held::Done(Err(Stopped::Lost)) => Ok(Delivery::Lost),
        Held::Done(Err(Stopped::Store(e))) => Err(e),
    }
}

/// What one round of [`deliver_pending`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Round {
    pub delivered: usize,
    pub failed: usize,
    pub lost: usize,
}

/// Delivers the replies waiting for questions from `source`, one claimed reply at a
/// time, until none is left to claim. Several bots may run this at once.
pub async fn deliver_pending<S: ReplySender>(
    store: &Store,
    source: Source,
    lease: Duration,
    sender: &S,
) -> Result<Round, StoreError> {
    let mut round = Round::default();
    while let Some(claim) = store.claim_next_outbox(source, lease).await? {
        match deliver_claimed(store, &claim, lease, sender).await? {
            Delivery::Delivered => round.delivered += 1,
            Delivery::Failed { error, outcome } => {
                tracing::warn!(outbox = %claim.message.id, %error, ?outcome, "delivery failed");
                round.failed += 1;
            }
            Delivery::Lost => {
                tracing::warn!(outbox = %claim.message.id, "another bot took over a slow delivery");
                round.lost += 1;
            }
        }
    }
    Ok(round)
}
