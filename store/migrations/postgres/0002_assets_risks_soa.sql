-- Assets, the risk method and register (with treatment actions and formal
-- acceptances), organisation-defined controls and the Statement of
-- Applicability with its approved versions.
-- Times are Unix microseconds (UTC), 0 = not set; dates are TEXT YYYY-MM-DD
-- ('' = not set); a person is a user id ('' = nobody); a level or score of 0
-- means "not assessed".

CREATE TABLE assets (
	id              TEXT PRIMARY KEY,
	org_id          TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	ref             TEXT NOT NULL,
	name            TEXT NOT NULL,
	-- name_key is the lower-cased name: names are unique per organisation
	-- whatever their letter case.
	name_key        TEXT NOT NULL,
	type            TEXT NOT NULL,
	owner_id        TEXT NOT NULL DEFAULT '',
	classification  TEXT NOT NULL DEFAULT '',
	confidentiality INTEGER NOT NULL DEFAULT 0,
	integrity       INTEGER NOT NULL DEFAULT 0,
	availability    INTEGER NOT NULL DEFAULT 0,
	location        TEXT NOT NULL DEFAULT '',
	description     TEXT NOT NULL DEFAULT '',
	created_at      BIGINT NOT NULL,
	updated_at      BIGINT NOT NULL,
	UNIQUE (org_id, ref),
	UNIQUE (org_id, name_key)
);
CREATE INDEX assets_org_id ON assets (org_id, id);
CREATE INDEX assets_org_owner ON assets (org_id, owner_id);

-- One row per organisation that set its method; without one the default
-- method (vigil.DefaultRiskMethod) applies. Scales are JSON arrays of
-- labels, lowest level first.
CREATE TABLE risk_methods (
	org_id               TEXT PRIMARY KEY REFERENCES orgs (id) ON DELETE CASCADE,
	likelihood_scale     TEXT NOT NULL,
	impact_scale         TEXT NOT NULL,
	acceptance_threshold INTEGER NOT NULL,
	updated_at           BIGINT NOT NULL,
	updated_by           TEXT NOT NULL DEFAULT ''
);

-- Scores are stored as computed (likelihood × impact) so that lists, heat
-- maps and readiness need no arithmetic in SQL. The accepted_* columns hold
-- the acceptance in force (cleared when the residual score or the owner
-- changes); risk_acceptances keeps every acceptance ever given.
CREATE TABLE risks (
	id                  TEXT PRIMARY KEY,
	org_id              TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	ref                 TEXT NOT NULL,
	title               TEXT NOT NULL,
	description         TEXT NOT NULL DEFAULT '',
	threat              TEXT NOT NULL DEFAULT '',
	vulnerability       TEXT NOT NULL DEFAULT '',
	owner_id            TEXT NOT NULL DEFAULT '',
	likelihood          INTEGER NOT NULL DEFAULT 0,
	impact              INTEGER NOT NULL DEFAULT 0,
	inherent_score      INTEGER NOT NULL DEFAULT 0,
	treatment           TEXT NOT NULL DEFAULT '',
	residual_likelihood INTEGER NOT NULL DEFAULT 0,
	residual_impact     INTEGER NOT NULL DEFAULT 0,
	residual_score      INTEGER NOT NULL DEFAULT 0,
	status              TEXT NOT NULL DEFAULT 'open',
	next_review         TEXT NOT NULL DEFAULT '',
	accepted_by         TEXT NOT NULL DEFAULT '',
	accepted_at         BIGINT NOT NULL DEFAULT 0,
	accepted_score      INTEGER NOT NULL DEFAULT 0,
	accepted_comment    TEXT NOT NULL DEFAULT '',
	created_at          BIGINT NOT NULL,
	updated_at          BIGINT NOT NULL,
	UNIQUE (org_id, ref)
);
CREATE INDEX risks_org_id ON risks (org_id, id);
CREATE INDEX risks_org_owner ON risks (org_id, owner_id);
CREATE INDEX risks_org_residual ON risks (org_id, residual_score);

CREATE TABLE risk_assets (
	risk_id  TEXT NOT NULL REFERENCES risks (id) ON DELETE CASCADE,
	asset_id TEXT NOT NULL REFERENCES assets (id),
	org_id   TEXT NOT NULL,
	PRIMARY KEY (risk_id, asset_id)
);
-- The primary key serves the cascade from risks; the indexes serve a
-- page's links (org_id, risk_id) and the risks of an asset (org_id,
-- asset_id).
CREATE INDEX risk_assets_org_risk ON risk_assets (org_id, risk_id);
CREATE INDEX risk_assets_asset ON risk_assets (org_id, asset_id);

-- control_ref is an Annex A ref ("8.5") or an own control's ref ("CTL-2").
CREATE TABLE risk_controls (
	risk_id     TEXT NOT NULL REFERENCES risks (id) ON DELETE CASCADE,
	control_ref TEXT NOT NULL,
	org_id      TEXT NOT NULL,
	PRIMARY KEY (risk_id, control_ref)
);
CREATE INDEX risk_controls_org_risk ON risk_controls (org_id, risk_id);
-- Covering: the SoA reads every link of an organisation by control.
CREATE INDEX risk_controls_ref ON risk_controls (org_id, control_ref, risk_id);

CREATE TABLE risk_acceptances (
	id             TEXT PRIMARY KEY,
	org_id         TEXT NOT NULL,
	risk_id        TEXT NOT NULL REFERENCES risks (id) ON DELETE CASCADE,
	accepted_by    TEXT NOT NULL,
	accepted_at    BIGINT NOT NULL,
	residual_score INTEGER NOT NULL,
	comment        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX risk_acceptances_risk ON risk_acceptances (risk_id, accepted_at);

CREATE TABLE risk_actions (
	id         TEXT PRIMARY KEY,
	org_id     TEXT NOT NULL,
	risk_id    TEXT NOT NULL REFERENCES risks (id) ON DELETE CASCADE,
	title      TEXT NOT NULL,
	owner_id   TEXT NOT NULL DEFAULT '',
	due_date   TEXT NOT NULL DEFAULT '',
	status     TEXT NOT NULL DEFAULT 'planned',
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);
CREATE INDEX risk_actions_risk ON risk_actions (risk_id, id);
CREATE INDEX risk_actions_org_due ON risk_actions (org_id, status, due_date);

-- Controls an organisation defines beside Annex A (CTL-n).
CREATE TABLE org_controls (
	id          TEXT PRIMARY KEY,
	org_id      TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	ref         TEXT NOT NULL,
	title       TEXT NOT NULL,
	title_key   TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	owner_id    TEXT NOT NULL DEFAULT '',
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL,
	UNIQUE (org_id, ref),
	UNIQUE (org_id, title_key)
);
CREATE INDEX org_controls_org_id ON org_controls (org_id, id);

-- The organisation's decision per Annex A control; a control without a row
-- is undecided and not started. applicable is NULL while undecided.
CREATE TABLE soa_entries (
	org_id        TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	ref           TEXT NOT NULL,
	applicable    BOOLEAN,
	justification TEXT NOT NULL DEFAULT '',
	status        TEXT NOT NULL DEFAULT 'not_started',
	owner_id      TEXT NOT NULL DEFAULT '',
	updated_at    BIGINT NOT NULL,
	PRIMARY KEY (org_id, ref)
);

-- Approved, frozen SoAs: snapshot is the JSON array of the 93 rows as they
-- stood (vigil.SoARow).
CREATE TABLE soa_versions (
	org_id      TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	version     INTEGER NOT NULL,
	approved_at BIGINT NOT NULL,
	approved_by TEXT NOT NULL DEFAULT '',
	snapshot    TEXT NOT NULL,
	PRIMARY KEY (org_id, version)
);
