-- Threads the bot opened on a question in thread mode (src/discord/handlers/message.rs):
-- the question and its asker, so a follow-up in the thread is read with the question
-- after a restart too. (postgres flavour; keep it in step with migrations/sqlite.)
-- The question is the asker's words: /forget-me deletes their rows (src/store/forget.rs).
CREATE TABLE bot_threads (
    thread_id  TEXT PRIMARY KEY,
    asker_id   TEXT NOT NULL,
    question   TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX bot_threads_asker ON bot_threads (asker_id);
