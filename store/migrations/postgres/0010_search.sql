-- Terminal output is indexed per chunk (a row per up to 64 KiB of its
-- text, kind 'o', with chunk_idx and the offset of the row's first event)
-- instead of per line; commands stay one row each (kind 'c'). The indexed
-- text is not stored: tsv is computed on insert from text with punctuation
-- turned into spaces (so "deploy" finds "./deploy.sh", as with SQLite's
-- FTS5), without positions. text holds what a match shows when there is no
-- chunk to read: the command, or the line of a row indexed before this
-- migration (chunk_idx -1).
ALTER TABLE rec_search ADD COLUMN chunk_idx INTEGER NOT NULL DEFAULT -1;
ALTER TABLE rec_search RENAME COLUMN body TO text;
ALTER TABLE rec_search DROP COLUMN tsv;
ALTER TABLE rec_search ADD COLUMN tsv tsvector;
UPDATE rec_search SET tsv = strip(to_tsvector('simple', lower(regexp_replace(text, '[^[:alnum:]]+', ' ', 'g'))));
ALTER TABLE rec_search ALTER COLUMN tsv SET NOT NULL;
CREATE INDEX rec_search_tsv ON rec_search USING GIN (tsv);
