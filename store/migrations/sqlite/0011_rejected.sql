-- Ingest batches the server refused for good (malformed, or an item it can
-- never store). Each is kept with its error so nothing an agent sent is
-- silently lost, and its sequence number counts as consumed. body is the
-- zstd-compressed request body, empty when it was larger than the bound;
-- sha256 and size identify it then. seq is 0 when the body had none.
CREATE TABLE agent_rejected_batches (
	id          TEXT PRIMARY KEY,
	agent_id    TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
	seq         BIGINT NOT NULL,
	received_at BIGINT NOT NULL,
	error       TEXT NOT NULL,
	size        BIGINT NOT NULL,
	sha256      TEXT NOT NULL,
	body        BLOB NOT NULL
);
CREATE UNIQUE INDEX agent_rejected_batches_seq ON agent_rejected_batches (agent_id, seq) WHERE seq > 0;
CREATE INDEX agent_rejected_batches_agent ON agent_rejected_batches (agent_id, received_at);

ALTER TABLE agents ADD COLUMN rejected_batches BIGINT NOT NULL DEFAULT 0;
