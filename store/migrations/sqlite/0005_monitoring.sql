-- User-activity monitoring: enrolled agents (hosts), their settings, and
-- what they send: recorded sessions (hash-chained, zstd-compressed chunks),
-- commands, events, and a full-text index over commands and output.
-- Times are Unix microseconds (UTC); 0 means "not set".
CREATE TABLE agent_enrollment_tokens (
	id         TEXT PRIMARY KEY,
	org_id     TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	hash       TEXT NOT NULL UNIQUE,
	labels     TEXT NOT NULL DEFAULT '{}',
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	used_at    BIGINT NOT NULL DEFAULT 0,
	agent_id   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX agent_enrollment_tokens_org ON agent_enrollment_tokens (org_id);

CREATE TABLE agents (
	id             TEXT PRIMARY KEY,
	org_id         TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	public_key     TEXT NOT NULL,
	hostname       TEXT NOT NULL,
	os             TEXT NOT NULL DEFAULT '',
	agent_version  TEXT NOT NULL DEFAULT '',
	labels         TEXT NOT NULL DEFAULT '{}',
	enrolled_at    BIGINT NOT NULL,
	last_heartbeat BIGINT NOT NULL DEFAULT 0,
	revoked_at     BIGINT NOT NULL DEFAULT 0,
	last_seq       BIGINT NOT NULL DEFAULT 0,
	seq_gaps       BIGINT NOT NULL DEFAULT 0,
	problems       BIGINT NOT NULL DEFAULT 0,
	spool_bytes    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX agents_org ON agents (org_id, id);

-- One row per applied batch: a resent batch is recognised and not applied again.
CREATE TABLE agent_batches (
	agent_id    TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
	seq         BIGINT NOT NULL,
	received_at BIGINT NOT NULL,
	PRIMARY KEY (agent_id, seq)
);

CREATE TABLE monitoring_settings (
	org_id     TEXT PRIMARY KEY REFERENCES orgs (id) ON DELETE CASCADE,
	settings   TEXT NOT NULL,
	updated_at BIGINT NOT NULL
);

CREATE TABLE rec_sessions (
	id             TEXT PRIMARY KEY,
	org_id         TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	agent_id       TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
	host           TEXT NOT NULL,
	login_user     TEXT NOT NULL,
	uid            INTEGER NOT NULL DEFAULT 0,
	tty            TEXT NOT NULL DEFAULT '',
	source_ip      TEXT NOT NULL DEFAULT '',
	started_at     BIGINT NOT NULL,
	ended_at       BIGINT NOT NULL DEFAULT 0,
	width          INTEGER NOT NULL,
	height         INTEGER NOT NULL,
	command        TEXT NOT NULL DEFAULT '',
	shell          TEXT NOT NULL DEFAULT '',
	input_recorded BOOLEAN NOT NULL DEFAULT FALSE,
	exit_code      INTEGER,
	chunks         INTEGER NOT NULL DEFAULT 0,
	chunks_expected INTEGER NOT NULL DEFAULT -1,
	last_index     INTEGER NOT NULL DEFAULT -1,
	last_hash      TEXT NOT NULL DEFAULT '',
	last_time      DOUBLE PRECISION NOT NULL DEFAULT 0,
	final_hash     TEXT NOT NULL DEFAULT '',
	legal_hold     BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX rec_sessions_org_started ON rec_sessions (org_id, started_at);
CREATE INDEX rec_sessions_org_ended ON rec_sessions (org_id, ended_at);

CREATE TABLE rec_chunks (
	session_id TEXT NOT NULL REFERENCES rec_sessions (id) ON DELETE CASCADE,
	idx        INTEGER NOT NULL,
	data       BLOB NOT NULL,
	size       BIGINT NOT NULL,
	hash       TEXT NOT NULL,
	redacted   BOOLEAN NOT NULL DEFAULT FALSE,
	start_time DOUBLE PRECISION NOT NULL DEFAULT 0,
	PRIMARY KEY (session_id, idx)
);

CREATE TABLE rec_commands (
	id         TEXT PRIMARY KEY,
	session_id TEXT NOT NULL REFERENCES rec_sessions (id) ON DELETE CASCADE,
	command    TEXT NOT NULL,
	cwd        TEXT NOT NULL DEFAULT '',
	started_at BIGINT NOT NULL DEFAULT 0,
	ended_at   BIGINT NOT NULL DEFAULT 0,
	exit_code  INTEGER,
	offset_s   DOUBLE PRECISION NOT NULL DEFAULT 0
);
CREATE INDEX rec_commands_session ON rec_commands (session_id, offset_s);

CREATE TABLE monitor_events (
	id          TEXT PRIMARY KEY,
	org_id      TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	agent_id    TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
	type        TEXT NOT NULL,
	time        BIGINT NOT NULL,
	host        TEXT NOT NULL DEFAULT '',
	user_name   TEXT NOT NULL DEFAULT '',
	source_ip   TEXT NOT NULL DEFAULT '',
	target_user TEXT NOT NULL DEFAULT '',
	command     TEXT NOT NULL DEFAULT '',
	tty         TEXT NOT NULL DEFAULT '',
	cwd         TEXT NOT NULL DEFAULT '',
	method      TEXT NOT NULL DEFAULT '',
	success     BOOLEAN,
	grp         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX monitor_events_org_time ON monitor_events (org_id, time);

-- Full-text index over commands (kind 'c') and ANSI-stripped output lines
-- (kind 'o'), each with its offset in seconds into the recording.
CREATE VIRTUAL TABLE rec_search USING fts5 (
	session_id UNINDEXED,
	org_id UNINDEXED,
	kind UNINDEXED,
	offset_s UNINDEXED,
	body
);
