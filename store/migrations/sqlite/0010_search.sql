-- Terminal output is indexed per chunk (a row per up to 64 KiB of its
-- text, kind 'o', with chunk_idx and the offset of the row's first event)
-- instead of per line; commands stay one row each (kind 'c'). The table is
-- contentless: the indexed text is not stored a second time (output is read
-- back from rec_chunks for a match's exact line and offset), only the
-- UNINDEXED columns are. text holds what a match shows when there is no
-- chunk to read: the command, or the line of a row indexed before this
-- migration (chunk_idx -1). detail=none keeps no word positions: queries
-- only ask for words, in any order, which halves the index.
CREATE TEMP TABLE rec_search_old AS SELECT session_id, org_id, kind, offset_s, body FROM rec_search;
DROP TABLE rec_search;
CREATE VIRTUAL TABLE rec_search USING fts5 (
	session_id UNINDEXED,
	org_id UNINDEXED,
	kind UNINDEXED,
	offset_s UNINDEXED,
	chunk_idx UNINDEXED,
	text UNINDEXED,
	body,
	content = '',
	contentless_delete = 1,
	contentless_unindexed = 1,
	detail = none
);
INSERT INTO rec_search (session_id, org_id, kind, offset_s, chunk_idx, text, body)
	SELECT session_id, org_id, kind, offset_s, -1, body, body FROM rec_search_old;
DROP TABLE rec_search_old;
