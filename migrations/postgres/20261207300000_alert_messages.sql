-- Where the advisers' alert about a queue item was posted (src/discord/delivery.rs), so
-- forgetting the asker (/forget-me) can redact the alert, which quotes their question.
-- (postgres flavour; keep it in step with migrations/sqlite.)
-- NULL: no alert was posted, or it was posted before this version.
ALTER TABLE queue_items ADD COLUMN alert_channel_id TEXT;
ALTER TABLE queue_items ADD COLUMN alert_message_id TEXT;
