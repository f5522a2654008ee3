-- Policies (versioned documents with approval and acknowledgements),
-- training campaigns with their assignments, and evidence files.
-- Dates are TEXT YYYY-MM-DD ('' = not set), so they sort and compare as
-- text; times are Unix microseconds (UTC), 0 = not set.

-- Uploaded bytes, content-addressed per organisation: identical uploads
-- share one row, and every server replica reads the same bytes.
CREATE TABLE file_blobs (
	org_id     TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	sha256     TEXT NOT NULL,
	size       BIGINT NOT NULL,
	data       BLOB NOT NULL,
	created_at BIGINT NOT NULL,
	PRIMARY KEY (org_id, sha256)
);

-- A policy row is its working revision; current_version is the approved
-- version in force (0 = none yet).
CREATE TABLE policies (
	id              TEXT PRIMARY KEY,
	org_id          TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	ref             TEXT NOT NULL,
	title           TEXT NOT NULL,
	kind            TEXT NOT NULL,
	owner_id        TEXT NOT NULL DEFAULT '',
	approver_id     TEXT NOT NULL DEFAULT '',
	author_id       TEXT NOT NULL DEFAULT '',
	status          TEXT NOT NULL,
	version         INTEGER NOT NULL,
	body            TEXT NOT NULL,
	file_sha256     TEXT NOT NULL DEFAULT '',
	file_name       TEXT NOT NULL DEFAULT '',
	file_type       TEXT NOT NULL DEFAULT '',
	file_size       BIGINT NOT NULL DEFAULT 0,
	approved_at     BIGINT NOT NULL DEFAULT 0,
	approved_by     TEXT NOT NULL DEFAULT '',
	next_review     TEXT NOT NULL DEFAULT '',
	current_version INTEGER NOT NULL DEFAULT 0,
	created_at      BIGINT NOT NULL,
	updated_at      BIGINT NOT NULL,
	UNIQUE (org_id, ref)
);
CREATE INDEX policies_org_kind ON policies (org_id, kind);

-- Every approved version, kept readable.
CREATE TABLE policy_versions (
	org_id      TEXT NOT NULL,
	policy_id   TEXT NOT NULL REFERENCES policies (id) ON DELETE CASCADE,
	version     INTEGER NOT NULL,
	title       TEXT NOT NULL,
	kind        TEXT NOT NULL,
	body        TEXT NOT NULL,
	file_sha256 TEXT NOT NULL DEFAULT '',
	file_name   TEXT NOT NULL DEFAULT '',
	file_type   TEXT NOT NULL DEFAULT '',
	file_size   BIGINT NOT NULL DEFAULT 0,
	owner_id    TEXT NOT NULL DEFAULT '',
	author_id   TEXT NOT NULL DEFAULT '',
	approved_by TEXT NOT NULL DEFAULT '',
	approved_at BIGINT NOT NULL,
	next_review TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (policy_id, version)
);

CREATE TABLE policy_acknowledgements (
	org_id          TEXT NOT NULL,
	policy_id       TEXT NOT NULL REFERENCES policies (id) ON DELETE CASCADE,
	version         INTEGER NOT NULL,
	user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	acknowledged_at BIGINT NOT NULL,
	PRIMARY KEY (policy_id, version, user_id)
);
CREATE INDEX policy_acknowledgements_user ON policy_acknowledgements (org_id, user_id);

-- audience_roles is a comma-separated list of roles.
CREATE TABLE training_campaigns (
	id             TEXT PRIMARY KEY,
	org_id         TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	ref            TEXT NOT NULL,
	title          TEXT NOT NULL,
	description    TEXT NOT NULL DEFAULT '',
	audience_roles TEXT NOT NULL DEFAULT '',
	due_date       TEXT NOT NULL,
	recurrence     TEXT NOT NULL,
	round          INTEGER NOT NULL,
	created_at     BIGINT NOT NULL,
	updated_at     BIGINT NOT NULL,
	UNIQUE (org_id, ref)
);

CREATE TABLE training_audience (
	campaign_id TEXT NOT NULL REFERENCES training_campaigns (id) ON DELETE CASCADE,
	user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	PRIMARY KEY (campaign_id, user_id)
);

CREATE TABLE training_assignments (
	id           TEXT PRIMARY KEY,
	org_id       TEXT NOT NULL,
	campaign_id  TEXT NOT NULL REFERENCES training_campaigns (id) ON DELETE CASCADE,
	round        INTEGER NOT NULL,
	user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	due_date     TEXT NOT NULL,
	completed_at BIGINT NOT NULL DEFAULT 0,
	completed_by TEXT NOT NULL DEFAULT '',
	evidence_id  TEXT NOT NULL DEFAULT '',
	note         TEXT NOT NULL DEFAULT '',
	created_at   BIGINT NOT NULL,
	updated_at   BIGINT NOT NULL,
	UNIQUE (campaign_id, round, user_id)
);
CREATE INDEX training_assignments_user ON training_assignments (org_id, user_id);

CREATE TABLE evidence (
	id            TEXT PRIMARY KEY,
	org_id        TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	ref           TEXT NOT NULL,
	title         TEXT NOT NULL,
	description   TEXT NOT NULL DEFAULT '',
	collector_id  TEXT NOT NULL DEFAULT '',
	observed_from TEXT NOT NULL DEFAULT '',
	observed_to   TEXT NOT NULL DEFAULT '',
	valid_until   TEXT NOT NULL DEFAULT '',
	sha256        TEXT NOT NULL,
	size          BIGINT NOT NULL,
	content_type  TEXT NOT NULL,
	filename      TEXT NOT NULL DEFAULT '',
	created_at    BIGINT NOT NULL,
	updated_at    BIGINT NOT NULL,
	UNIQUE (org_id, ref),
	FOREIGN KEY (org_id, sha256) REFERENCES file_blobs (org_id, sha256)
);

-- kind is 'requirement' (target: a clause or control ref such as 8.15),
-- 'risk' (a risk id) or 'policy' (a policy id).
CREATE TABLE evidence_links (
	org_id      TEXT NOT NULL,
	evidence_id TEXT NOT NULL REFERENCES evidence (id) ON DELETE CASCADE,
	kind        TEXT NOT NULL,
	target      TEXT NOT NULL,
	PRIMARY KEY (evidence_id, kind, target)
);
CREATE INDEX evidence_links_target ON evidence_links (org_id, kind, target);
