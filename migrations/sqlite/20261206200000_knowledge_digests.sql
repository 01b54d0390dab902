-- The weekly message to advisers listing what in the knowledge base became stale
-- (SQLite flavour; keep it in step with migrations/postgres). One row per week: the
-- bot that inserts it also schedules the message as an announcement in the same
-- transaction, so however many bots run, and across restarts, a week gets one message.
CREATE TABLE knowledge_digests (
    week            TEXT PRIMARY KEY,   -- ISO week in announcements.timezone: "2026-W49"
    created_at      TEXT NOT NULL,      -- UTC
    announcement_id INTEGER             -- the message, once scheduled
);
