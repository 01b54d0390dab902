-- Announcements, organisers' events and event reminders (SQLite flavour). Keep it in
-- step with migrations/postgres: the same tables and columns, only the types differ.

-- Messages organisers schedule for a Discord channel. A row is posted once: a bot
-- claims it (claimed_until is its lease), posts it, and marks it posted.
CREATE TABLE announcements (
    id            INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: organisers quote ids
    channel_id    TEXT NOT NULL,                     -- Discord snowflake
    text          TEXT NOT NULL,
    publish_at    TEXT NOT NULL,                     -- UTC
    status        TEXT NOT NULL DEFAULT 'scheduled'
                  CHECK (status IN ('scheduled', 'posted', 'cancelled', 'skipped', 'failed')),
    claimed_until TEXT,         -- lease of the bot posting it right now
    retry_after   TEXT,         -- after a failed post: not before this
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    created_by    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    posted_at     TEXT,
    late          BOOLEAN NOT NULL DEFAULT FALSE     -- posted with a "delayed" note
);
CREATE INDEX announcements_due ON announcements (status, publish_at);

-- Events added by organisers through the bot, on top of knowledge/events/.
CREATE TABLE events (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    title            TEXT NOT NULL,
    description      TEXT NOT NULL,
    start_at         TEXT NOT NULL,                  -- UTC
    end_at           TEXT NOT NULL,                  -- UTC
    venue            TEXT NOT NULL,
    address          TEXT,
    registration_url TEXT,
    organiser        TEXT,
    audience         TEXT,
    lang             TEXT NOT NULL CHECK (lang IN ('nb', 'en')),
    created_by       TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX events_start ON events (start_at);

-- One row per reminder of one event (file or database event) at one offset, so
-- each reminder is posted once however many bots run.
CREATE TABLE reminders_sent (
    event_key      TEXT NOT NULL,   -- the event's knowledge id: "event-12", "conference-follo-2017"
    offset_minutes INTEGER NOT NULL,
    starts_at      TEXT NOT NULL,   -- the start the reminder was for
    status         TEXT NOT NULL DEFAULT 'claimed' CHECK (status IN ('claimed', 'posted')),
    claimed_until  TEXT,
    posted_at      TEXT,
    PRIMARY KEY (event_key, offset_minutes)
);
