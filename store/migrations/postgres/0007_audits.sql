-- Audits (clause 9.2), findings and corrective actions (10.2), management
-- review (9.3), the certification cycle and external auditors' access.
-- Times are Unix microseconds (0 = not set); dates are 'YYYY-MM-DD' text.

-- The internal audit programme of the current cycle; areas is a JSON array
-- of vigil.ProgrammeArea.
CREATE TABLE audit_programmes (
	org_id                   TEXT PRIMARY KEY REFERENCES orgs (id) ON DELETE CASCADE,
	cycle_start              TEXT NOT NULL DEFAULT '',
	objectives               TEXT NOT NULL DEFAULT '[]',
	areas                    TEXT NOT NULL DEFAULT '[]',
	default_frequency_months INTEGER NOT NULL DEFAULT 12,
	updated_at               BIGINT NOT NULL
);

CREATE TABLE changes (
	id          TEXT PRIMARY KEY,
	org_id      TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	ref         TEXT NOT NULL,
	title       TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	changed_on  TEXT NOT NULL,
	reason      TEXT NOT NULL DEFAULT '',
	significant BOOLEAN NOT NULL DEFAULT FALSE,
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL,
	UNIQUE (org_id, ref)
);

-- scope, auditors and body_auditors are JSON.
CREATE TABLE audits (
	id                    TEXT PRIMARY KEY,
	org_id                TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	ref                   TEXT NOT NULL,
	type                  TEXT NOT NULL,
	title                 TEXT NOT NULL,
	criteria              TEXT NOT NULL DEFAULT '',
	scope                 TEXT NOT NULL,
	planned_start         TEXT NOT NULL,
	planned_end           TEXT NOT NULL,
	actual_start          TEXT NOT NULL DEFAULT '',
	actual_end            TEXT NOT NULL DEFAULT '',
	lead_auditor          TEXT NOT NULL DEFAULT '',
	auditors              TEXT NOT NULL DEFAULT '[]',
	certification_body    TEXT NOT NULL DEFAULT '',
	body_auditors         TEXT NOT NULL DEFAULT '[]',
	impartiality_override TEXT NOT NULL DEFAULT '',
	change_id             TEXT NOT NULL DEFAULT '',
	report_issued_at      BIGINT NOT NULL DEFAULT 0,
	report_sha256         TEXT NOT NULL DEFAULT '',
	created_at            BIGINT NOT NULL,
	updated_at            BIGINT NOT NULL,
	UNIQUE (org_id, ref)
);
CREATE INDEX audits_org_start ON audits (org_id, planned_start);

CREATE TABLE audit_checklist (
	id         TEXT PRIMARY KEY,
	org_id     TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	audit_id   TEXT NOT NULL REFERENCES audits (id) ON DELETE CASCADE,
	position   INTEGER NOT NULL,
	ref        TEXT NOT NULL,
	kind       TEXT NOT NULL,
	title      TEXT NOT NULL,
	prompt     TEXT NOT NULL,
	result     TEXT NOT NULL DEFAULT '',
	notes      TEXT NOT NULL DEFAULT '',
	evidence   TEXT NOT NULL DEFAULT '[]',
	finding_id TEXT NOT NULL DEFAULT '',
	updated_at BIGINT NOT NULL
);
CREATE INDEX audit_checklist_audit ON audit_checklist (audit_id, position);

CREATE TABLE findings (
	id                TEXT PRIMARY KEY,
	org_id            TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	ref               TEXT NOT NULL,
	audit_id          TEXT NOT NULL REFERENCES audits (id),
	checklist_item_id TEXT NOT NULL DEFAULT '',
	requirement       TEXT NOT NULL,
	kind              TEXT NOT NULL,
	description       TEXT NOT NULL DEFAULT '',
	status            TEXT NOT NULL,
	deadline          TEXT NOT NULL DEFAULT '',
	created_at        BIGINT NOT NULL,
	closed_at         BIGINT NOT NULL DEFAULT 0,
	updated_at        BIGINT NOT NULL,
	UNIQUE (org_id, ref)
);
CREATE INDEX findings_audit ON findings (org_id, audit_id);

CREATE TABLE corrective_actions (
	id                 TEXT PRIMARY KEY,
	org_id             TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	ref                TEXT NOT NULL,
	finding_id         TEXT NOT NULL REFERENCES findings (id),
	correction         TEXT NOT NULL DEFAULT '',
	root_cause         TEXT NOT NULL DEFAULT '',
	action             TEXT NOT NULL,
	owner_id           TEXT NOT NULL,
	due_date           TEXT NOT NULL,
	status             TEXT NOT NULL,
	verified_by        TEXT NOT NULL DEFAULT '',
	verified_at        BIGINT NOT NULL DEFAULT 0,
	verification_notes TEXT NOT NULL DEFAULT '',
	created_at         BIGINT NOT NULL,
	updated_at         BIGINT NOT NULL,
	UNIQUE (org_id, ref)
);
CREATE INDEX corrective_actions_finding ON corrective_actions (org_id, finding_id);

-- An issued report never changes: its PDF and the snapshot it was drawn
-- from are kept as records; the SHA-256 of the PDF is also in the trail.
CREATE TABLE audit_reports (
	audit_id  TEXT PRIMARY KEY REFERENCES audits (id),
	org_id    TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	snapshot  TEXT NOT NULL,
	pdf       BYTEA NOT NULL,
	sha256    TEXT NOT NULL,
	issued_at BIGINT NOT NULL,
	issued_by TEXT NOT NULL
);

-- attendees, inputs, decisions, changes and actions are JSON; inputs are
-- filled at sign-off.
CREATE TABLE management_reviews (
	id            TEXT PRIMARY KEY,
	org_id        TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	ref           TEXT NOT NULL,
	title         TEXT NOT NULL,
	meeting_date  TEXT NOT NULL,
	attendees     TEXT NOT NULL DEFAULT '[]',
	inputs        TEXT NOT NULL DEFAULT '',
	decisions     TEXT NOT NULL DEFAULT '[]',
	changes       TEXT NOT NULL DEFAULT '[]',
	actions       TEXT NOT NULL DEFAULT '[]',
	notes         TEXT NOT NULL DEFAULT '',
	status        TEXT NOT NULL,
	signed_off_by TEXT NOT NULL DEFAULT '',
	signed_off_at BIGINT NOT NULL DEFAULT 0,
	created_at    BIGINT NOT NULL,
	updated_at    BIGINT NOT NULL,
	UNIQUE (org_id, ref)
);

CREATE TABLE certifications (
	org_id                       TEXT PRIMARY KEY REFERENCES orgs (id) ON DELETE CASCADE,
	certification_body           TEXT NOT NULL DEFAULT '',
	certificate_number           TEXT NOT NULL DEFAULT '',
	scope                        TEXT NOT NULL DEFAULT '',
	stage1_date                  TEXT NOT NULL DEFAULT '',
	stage1_outcome               TEXT NOT NULL DEFAULT '',
	stage2_date                  TEXT NOT NULL DEFAULT '',
	stage2_outcome               TEXT NOT NULL DEFAULT '',
	issue_date                   TEXT NOT NULL DEFAULT '',
	surveillance_interval_months INTEGER NOT NULL DEFAULT 12,
	updated_at                   BIGINT NOT NULL
);

CREATE TABLE audit_guests (
	id          TEXT PRIMARY KEY,
	org_id      TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	audit_id    TEXT NOT NULL REFERENCES audits (id),
	user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	valid_from  BIGINT NOT NULL,
	valid_until BIGINT NOT NULL,
	revoked_at  BIGINT NOT NULL DEFAULT 0,
	created_at  BIGINT NOT NULL
);
CREATE INDEX audit_guests_user ON audit_guests (org_id, user_id);

-- Per-user calendar feed tokens (the secret is in the feed URL, so only
-- its hash is kept).
CREATE TABLE calendar_feeds (
	org_id     TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	token_hash TEXT NOT NULL UNIQUE,
	created_at BIGINT NOT NULL,
	PRIMARY KEY (org_id, user_id)
);

-- Reminders already sent, so each goes out once per day and subject.
CREATE TABLE reminders_sent (
	org_id    TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	kind      TEXT NOT NULL,
	entity_id TEXT NOT NULL,
	day       TEXT NOT NULL,
	PRIMARY KEY (org_id, kind, entity_id, day)
);
