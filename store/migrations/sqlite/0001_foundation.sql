-- Organisations, people, memberships, sessions, API tokens and the audit trail.
-- Times are Unix microseconds (UTC) in both dialects; 0 means "not set".
CREATE TABLE orgs (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL UNIQUE,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);

CREATE TABLE users (
	id            TEXT PRIMARY KEY,
	email         TEXT NOT NULL UNIQUE,
	name          TEXT NOT NULL,
	password_hash TEXT NOT NULL DEFAULT '',
	disabled      BOOLEAN NOT NULL DEFAULT FALSE,
	totp_secret   TEXT NOT NULL DEFAULT '',
	totp_enabled  BOOLEAN NOT NULL DEFAULT FALSE,
	locked_until  BIGINT NOT NULL DEFAULT 0,
	created_at    BIGINT NOT NULL,
	updated_at    BIGINT NOT NULL
);

CREATE TABLE memberships (
	id         TEXT PRIMARY KEY,
	org_id     TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	role       TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	UNIQUE (org_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

CREATE TABLE login_failures (
	user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	at      BIGINT NOT NULL
);
CREATE INDEX login_failures_user_at ON login_failures (user_id, at);

CREATE TABLE recovery_codes (
	user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	code_hash TEXT NOT NULL,
	used_at   BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE web_sessions (
	id_hash      TEXT PRIMARY KEY,
	user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	org_id       TEXT NOT NULL DEFAULT '',
	mfa_pending  BOOLEAN NOT NULL DEFAULT FALSE,
	created_at   BIGINT NOT NULL,
	last_seen_at BIGINT NOT NULL
);
CREATE INDEX web_sessions_user ON web_sessions (user_id);

CREATE TABLE api_tokens (
	id            TEXT PRIMARY KEY,
	membership_id TEXT NOT NULL REFERENCES memberships (id) ON DELETE CASCADE,
	name          TEXT NOT NULL,
	hash          TEXT NOT NULL UNIQUE,
	hint          TEXT NOT NULL,
	created_at    BIGINT NOT NULL,
	expires_at    BIGINT NOT NULL DEFAULT 0,
	revoked_at    BIGINT NOT NULL DEFAULT 0,
	last_used_at  BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX api_tokens_membership ON api_tokens (membership_id);

-- One row per chain; appends lock it so that sequence numbers and links stay
-- right with several servers on one database.
CREATE TABLE trail_heads (
	chain TEXT PRIMARY KEY,
	seq   BIGINT NOT NULL,
	hash  TEXT NOT NULL
);

CREATE TABLE trail_entries (
	chain       TEXT NOT NULL,
	seq         BIGINT NOT NULL,
	time        BIGINT NOT NULL,
	actor_type  TEXT NOT NULL,
	actor_id    TEXT NOT NULL,
	action      TEXT NOT NULL,
	entity_type TEXT NOT NULL,
	entity_id   TEXT NOT NULL,
	changes     TEXT NOT NULL,
	prev_hash   TEXT NOT NULL,
	hash        TEXT NOT NULL,
	PRIMARY KEY (chain, seq)
);
CREATE INDEX trail_entries_entity ON trail_entries (chain, entity_type, entity_id);
CREATE INDEX trail_entries_actor ON trail_entries (chain, actor_id);
CREATE INDEX trail_entries_time ON trail_entries (chain, time);

CREATE TABLE trail_checkpoints (
	chain     TEXT NOT NULL,
	seq       BIGINT NOT NULL,
	hash      TEXT NOT NULL,
	time      BIGINT NOT NULL,
	key_id    TEXT NOT NULL,
	signature TEXT NOT NULL,
	PRIMARY KEY (chain, seq, key_id)
);

-- Counters behind the short human references (AST-12, RSK-7, ...).
CREATE TABLE ref_counters (
	org_id TEXT NOT NULL,
	kind   TEXT NOT NULL,
	last   BIGINT NOT NULL,
	PRIMARY KEY (org_id, kind)
);
