-- Notices from Doffin, watches and the alerts sent for them (SQLite flavour; keep it in
-- step with migrations/postgres). See src/tenders/ and docs/tenders.md.

-- One row per procedure: a republished or changed notice replaces the row of its
-- procedure when it is at least as new (issued_at), so the newest version wins.
CREATE TABLE tenders (
    procedure_key  TEXT PRIMARY KEY,   -- buyer's organisation number | folded title
    doffin_id      TEXT NOT NULL UNIQUE,
    title          TEXT NOT NULL,
    description    TEXT NOT NULL,
    buyers         TEXT NOT NULL,      -- one name per line
    kind           TEXT NOT NULL,      -- planned | dialogue | open
    notice_type    TEXT NOT NULL,      -- Doffin's `type`
    status         TEXT,
    published      TEXT,               -- date
    issued_at      TEXT,               -- UTC
    deadline       TEXT,               -- UTC
    cpv            TEXT NOT NULL,      -- codes separated by spaces
    regions        TEXT NOT NULL,      -- NUTS codes separated by spaces
    value_amount   REAL,
    value_currency TEXT,
    first_seen_at  TEXT NOT NULL,      -- when a sync first stored the procedure
    updated_at     TEXT NOT NULL
);
CREATE INDEX tenders_published ON tenders (published, issued_at);

-- The sync's progress and its lease: one row. A bot syncs only when it takes the lease
-- (lease_until passed) and the last success is older than tenders.sync_minutes, so
-- several bots on one database sync once between them.
CREATE TABLE tender_sync (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    newest_published TEXT,             -- the newest publication date stored
    last_success_at  TEXT,
    lease_until      TEXT,
    lease_token      TEXT
);
INSERT INTO tender_sync (id) VALUES (1);

CREATE TABLE tender_watches (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id        TEXT NOT NULL,      -- Discord user id (or a name from the command line)
    query          TEXT,
    cpv            TEXT,
    region         TEXT,
    kind           TEXT,
    created_at     TEXT NOT NULL,
    last_digest_at TEXT                -- at most one digest an hour
);
CREATE INDEX tender_watches_user ON tender_watches (user_id);

-- A notice alerted to a watch's subscriber: claimed by one bot at a time (the lease
-- claimed_until, as the outbox's), then marked sent; a bot that died holding it lets
-- another send it once the lease has run out. The primary key keeps one row per pair.
CREATE TABLE tender_alerts (
    watch_id      INTEGER NOT NULL REFERENCES tender_watches (id) ON DELETE CASCADE,
    procedure_key TEXT NOT NULL,
    claimed_until TEXT NOT NULL,
    claim_token   TEXT NOT NULL,
    sent_at       TEXT,               -- set once the message is posted
    PRIMARY KEY (watch_id, procedure_key)
);
