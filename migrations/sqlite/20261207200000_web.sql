-- The advisers' and organisers' web pages (SQLite flavour). Keep it in step with
-- migrations/postgres: the same tables and columns, only the types differ.

-- Signed-in people. The cookie holds a random token; only its SHA-256 is kept here, so
-- a copy of the database does not sign anyone in.
CREATE TABLE web_sessions (
    token_hash       TEXT PRIMARY KEY,
    person           TEXT NOT NULL,     -- the name shown and written to the audit log
    discord_user_id  TEXT,              -- NULL for a one-time-link (local) session
    adviser          BOOLEAN NOT NULL,
    organiser        BOOLEAN NOT NULL,
    csrf_token       TEXT NOT NULL,     -- the hidden field every form must send back
    access_token     TEXT,              -- Discord OAuth2, to check the roles again
    created_at       TEXT NOT NULL,
    last_seen_at     TEXT NOT NULL,
    expires_at       TEXT NOT NULL,
    roles_checked_at TEXT NOT NULL
);
CREATE INDEX web_sessions_expires ON web_sessions (expires_at);

-- Every source of an entry an adviser edited on the web page. learned_entries keeps the
-- first one (source_name, source_url); this row keeps them all, in order.
CREATE TABLE web_entry_sources (
    id      TEXT NOT NULL,
    lang    TEXT NOT NULL,
    sources TEXT NOT NULL,              -- JSON array of {"name", "url"}
    PRIMARY KEY (id, lang)
);
