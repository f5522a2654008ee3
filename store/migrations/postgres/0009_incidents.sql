-- The incident register (Annex A 5.24-5.28): incidents and their
-- timelines. Times are Unix microseconds (0 = not set). alerts, sessions,
-- hosts, assets and risks are JSON arrays of the linked records' ids.

CREATE TABLE incidents (
	id                    TEXT PRIMARY KEY,
	org_id                TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	ref                   TEXT NOT NULL,
	title                 TEXT NOT NULL,
	description           TEXT NOT NULL DEFAULT '',
	category              TEXT NOT NULL,
	severity              TEXT NOT NULL,
	status                TEXT NOT NULL,
	alerts                TEXT NOT NULL DEFAULT '[]',
	sessions              TEXT NOT NULL DEFAULT '[]',
	hosts                 TEXT NOT NULL DEFAULT '[]',
	assets                TEXT NOT NULL DEFAULT '[]',
	risks                 TEXT NOT NULL DEFAULT '[]',
	lessons_learned       TEXT NOT NULL DEFAULT '',
	personal_data_breach  BOOLEAN NOT NULL DEFAULT FALSE,
	breach_detected_at    BIGINT NOT NULL DEFAULT 0,
	authority_notified_at BIGINT NOT NULL DEFAULT 0,
	owner_id              TEXT NOT NULL DEFAULT '',
	reported_by           TEXT NOT NULL DEFAULT '',
	created_at            BIGINT NOT NULL,
	updated_at            BIGINT NOT NULL,
	closed_at             BIGINT NOT NULL DEFAULT 0,
	UNIQUE (org_id, ref)
);
CREATE INDEX incidents_org ON incidents (org_id, id);

-- who is the user id ('' for the system); who_name is their name when the
-- entry was written, so the timeline reads the same after they leave.
CREATE TABLE incident_timeline (
	id          TEXT PRIMARY KEY,
	org_id      TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	incident_id TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
	at          BIGINT NOT NULL,
	who         TEXT NOT NULL DEFAULT '',
	who_name    TEXT NOT NULL DEFAULT '',
	what        TEXT NOT NULL,
	created_at  BIGINT NOT NULL
);
CREATE INDEX incident_timeline_incident ON incident_timeline (incident_id, at, id);
