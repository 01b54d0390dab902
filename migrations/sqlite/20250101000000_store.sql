-- The anbud store, SQLite flavour. Keep it in step with migrations/postgres:
-- the same tables and columns, only the types differ (timestamps are RFC 3339
-- text in UTC, which sorts in time order; dates are YYYY-MM-DD text).

-- Questions the bot could not answer, or whose answer an asker found unhelpful.
-- Asks that mean the same share one open item (same group_key), so one adviser
-- answer reaches every asker.
CREATE TABLE queue_items (
    id             INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: advisers quote ids
    group_key      TEXT NOT NULL,
    question       TEXT NOT NULL,                     -- the first remaining wording
    lang           TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'open'
                   CHECK (status IN ('open', 'answered', 'dismissed')),
    best_candidate TEXT,
    score          REAL NOT NULL,
    asked_at       TEXT NOT NULL,
    last_asked_at  TEXT NOT NULL,
    answer         TEXT,
    dismiss_reason TEXT,
    handled_by     TEXT,
    handled_at     TEXT
);
-- At most one open item per meaning: concurrent askers meet here.
CREATE UNIQUE INDEX queue_items_open_group ON queue_items (group_key) WHERE status = 'open';
CREATE INDEX queue_items_status ON queue_items (status, id);

-- Every single ask, with where it came from, so every asker can be told the answer.
CREATE TABLE asks (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id    INTEGER NOT NULL REFERENCES queue_items (id) ON DELETE CASCADE,
    question   TEXT NOT NULL,
    lang       TEXT NOT NULL,
    reason     TEXT NOT NULL CHECK (reason IN ('abstained', 'not_helpful')),
    entry_id   TEXT,            -- the entry found unhelpful
    comment    TEXT,            -- personal data: purged after the retention period
    source     TEXT NOT NULL CHECK (source IN ('terminal', 'discord')),
    guild_id   TEXT,
    channel_id TEXT,
    message_id TEXT,            -- personal data
    thread_id  TEXT,
    user_id    TEXT,            -- personal data
    asked_at   TEXT NOT NULL
);
CREATE INDEX asks_item ON asks (item_id);
CREATE INDEX asks_user ON asks (user_id);
CREATE INDEX asks_asked_at ON asks (asked_at);

-- Replies waiting to be delivered to askers (transactional outbox).
CREATE TABLE outbox (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id       INTEGER NOT NULL REFERENCES queue_items (id) ON DELETE CASCADE,
    ask_id        INTEGER REFERENCES asks (id) ON DELETE SET NULL,
    source        TEXT NOT NULL CHECK (source IN ('terminal', 'discord')),
    guild_id      TEXT,
    channel_id    TEXT,
    message_id    TEXT,
    thread_id     TEXT,
    user_id       TEXT,
    question      TEXT NOT NULL,
    text          TEXT NOT NULL,
    lang          TEXT NOT NULL,
    status        TEXT NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    claimed_until TEXT,         -- lease of the process sending it, or retry back-off
    created_at    TEXT NOT NULL,
    delivered_at  TEXT
);
CREATE INDEX outbox_pending ON outbox (status, id);
CREATE INDEX outbox_item ON outbox (item_id);
CREATE INDEX outbox_user ON outbox (user_id);

-- What askers said about answers they got.
CREATE TABLE feedback (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    entry_id   TEXT NOT NULL,
    lang       TEXT NOT NULL,
    helpful    BOOLEAN NOT NULL,
    comment    TEXT,            -- personal data
    question   TEXT NOT NULL,
    source     TEXT NOT NULL CHECK (source IN ('terminal', 'discord')),
    guild_id   TEXT,
    channel_id TEXT,
    message_id TEXT,            -- personal data
    thread_id  TEXT,
    user_id    TEXT,            -- personal data
    created_at TEXT NOT NULL
);
CREATE INDEX feedback_user ON feedback (user_id);
CREATE INDEX feedback_created_at ON feedback (created_at);

-- Anonymous daily counters for statistics: no user, no question text.
CREATE TABLE question_counts (
    day       TEXT NOT NULL,    -- Europe/Oslo calendar day
    lang      TEXT NOT NULL,
    answered  INTEGER NOT NULL DEFAULT 0,
    abstained INTEGER NOT NULL DEFAULT 0,
    helpful   INTEGER NOT NULL DEFAULT 0,
    unhelpful INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, lang)
);

CREATE TABLE answer_counts (
    day      TEXT NOT NULL,
    entry_id TEXT NOT NULL,
    lang     TEXT NOT NULL,
    source   TEXT NOT NULL,
    count    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, entry_id, lang, source)
);

-- Knowledge taught by advisers through the bot, on top of the knowledge files.
CREATE TABLE learned_entries (
    id          TEXT NOT NULL,
    lang        TEXT NOT NULL,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    questions   TEXT NOT NULL,  -- JSON array of strings
    keywords    TEXT NOT NULL,  -- JSON array of strings
    source_name TEXT NOT NULL,
    source_url  TEXT,
    reviewed    TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (id, lang)
);

-- Extra wordings of a question that an entry (learned or from the files) answers.
CREATE TABLE phrasings (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    entry_id   TEXT NOT NULL,
    lang       TEXT NOT NULL,
    question   TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (entry_id, lang, question)
);

-- One row; bumped by every change to learned knowledge, polled by running bots.
CREATE TABLE knowledge_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO knowledge_version (id, version) VALUES (1, 0);

-- Who did what, for advisers' accountability.
CREATE TABLE audit_log (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    at     TEXT NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT
);
