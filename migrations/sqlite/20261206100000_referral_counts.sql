-- Questions referred to a public service (knowledge/referrals/): anonymous daily
-- counters per referral and language, like answer_counts. No text, no user.
CREATE TABLE referral_counts (
    day         TEXT NOT NULL,    -- Europe/Oslo calendar day
    referral_id TEXT NOT NULL,
    lang        TEXT NOT NULL,
    count       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, referral_id, lang)
);
