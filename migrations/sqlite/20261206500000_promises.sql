-- Issue 18 (SQLite flavour; keep it in step with migrations/postgres): questions grouped
-- by privacy, where taught text came from (so forgetting an asker finds it), and claims
-- of outbox replies and announcements that remember the parts already posted.

-- A question asked in a direct message or a private /ask never shares an item with one
-- asked in a channel: the adviser's answer to a private question is not posted publicly.
ALTER TABLE queue_items ADD COLUMN is_private BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE queue_items SET is_private = TRUE
 WHERE EXISTS (SELECT 1 FROM asks a WHERE a.item_id = queue_items.id
                 AND a.source = 'discord'
                 AND (a.guild_id IS NULL OR (a.channel_id IS NULL AND a.thread_id IS NULL)))
   AND NOT EXISTS (SELECT 1 FROM asks a WHERE a.item_id = queue_items.id
                     AND NOT (a.source = 'discord'
                              AND (a.guild_id IS NULL
                                   OR (a.channel_id IS NULL AND a.thread_id IS NULL))));
DROP INDEX queue_items_open_group;
-- Keys used to be the sorted words; now they keep word order. Open items are keyed again
-- from their wording when the store connects (Store::connect looks for this mark).
UPDATE queue_items SET group_key = 'legacy:' || group_key WHERE status = 'open';
CREATE UNIQUE INDEX queue_items_open_group
    ON queue_items (group_key, is_private) WHERE status = 'open';

-- The queue item an entry's title and questions, or a phrasing, were taught from.
ALTER TABLE learned_entries ADD COLUMN from_item INTEGER;
UPDATE learned_entries SET from_item = CAST(SUBSTR(id, 9) AS INTEGER)
 WHERE id GLOB 'learned-[0-9]*' AND SUBSTR(id, 9) NOT GLOB '*[^0-9]*';
ALTER TABLE phrasings ADD COLUMN from_item INTEGER;

-- A reply or an announcement is claimed by one sender at a time (claim_token), whose
-- lease is renewed while it posts; the parts already posted are never posted again.
ALTER TABLE outbox ADD COLUMN claim_token TEXT;
ALTER TABLE outbox ADD COLUMN parts_sent INTEGER NOT NULL DEFAULT 0;
ALTER TABLE announcements ADD COLUMN claim_token TEXT;
ALTER TABLE announcements ADD COLUMN parts_posted INTEGER NOT NULL DEFAULT 0;
