-- ISMS scope (clause 4.3), context issues (4.1), interested parties (4.2),
-- ISMS roles (5.3), information security objectives (6.2) and suppliers
-- (A.5.19-5.23). Times are Unix microseconds; dates are 'YYYY-MM-DD' text
-- ('' = not set), which sorts and compares as dates.

-- Every saved version of the scope statement. A draft may change; an
-- approved version never does. "An approved scope exists" is
-- SELECT 1 FROM scope_versions WHERE org_id = ? AND status = 'approved'.
CREATE TABLE scope_versions (
	id          TEXT PRIMARY KEY,
	org_id      TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	version     INTEGER NOT NULL,
	status      TEXT NOT NULL,
	statement   TEXT NOT NULL DEFAULT '',
	units       TEXT NOT NULL DEFAULT '[]',
	locations   TEXT NOT NULL DEFAULT '[]',
	processes   TEXT NOT NULL DEFAULT '[]',
	systems     TEXT NOT NULL DEFAULT '[]',
	interfaces  TEXT NOT NULL DEFAULT '[]',
	exclusions  TEXT NOT NULL DEFAULT '[]',
	approved_at BIGINT NOT NULL DEFAULT 0,
	approved_by TEXT NOT NULL DEFAULT '',
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL,
	UNIQUE (org_id, version)
);
-- At most one draft per organisation.
CREATE UNIQUE INDEX scope_versions_one_draft ON scope_versions (org_id) WHERE status = 'draft';

CREATE TABLE context_issues (
	id          TEXT PRIMARY KEY,
	org_id      TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	ref         TEXT NOT NULL,
	title       TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	kind        TEXT NOT NULL,
	effect      TEXT NOT NULL DEFAULT '',
	status      TEXT NOT NULL,
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL,
	UNIQUE (org_id, ref)
);
CREATE INDEX context_issues_org ON context_issues (org_id, id);

CREATE TABLE interested_parties (
	id           TEXT PRIMARY KEY,
	org_id       TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	ref          TEXT NOT NULL,
	name         TEXT NOT NULL,
	requirements TEXT NOT NULL DEFAULT '[]',
	relevant     BOOLEAN NOT NULL DEFAULT TRUE,
	created_at   BIGINT NOT NULL,
	updated_at   BIGINT NOT NULL,
	UNIQUE (org_id, ref)
);
CREATE INDEX interested_parties_org ON interested_parties (org_id, id);

CREATE TABLE isms_roles (
	id               TEXT PRIMARY KEY,
	org_id           TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	title            TEXT NOT NULL,
	responsibilities TEXT NOT NULL DEFAULT '',
	holder           TEXT NOT NULL DEFAULT '',
	created_at       BIGINT NOT NULL,
	updated_at       BIGINT NOT NULL
);
CREATE INDEX isms_roles_org ON isms_roles (org_id, id);

CREATE TABLE isms_objectives (
	id            TEXT PRIMARY KEY,
	org_id        TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	ref           TEXT NOT NULL,
	title         TEXT NOT NULL,
	measure       TEXT NOT NULL DEFAULT '',
	target        TEXT NOT NULL DEFAULT '',
	owner         TEXT NOT NULL DEFAULT '',
	due_date      TEXT NOT NULL DEFAULT '',
	status        TEXT NOT NULL,
	current_value TEXT NOT NULL DEFAULT '',
	created_at    BIGINT NOT NULL,
	updated_at    BIGINT NOT NULL,
	UNIQUE (org_id, ref)
);
CREATE INDEX isms_objectives_org ON isms_objectives (org_id, id);

-- name_key is the lower-cased name: names are unique per organisation
-- whatever their letter case.
CREATE TABLE suppliers (
	id                        TEXT PRIMARY KEY,
	org_id                    TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	ref                       TEXT NOT NULL,
	name                      TEXT NOT NULL,
	name_key                  TEXT NOT NULL,
	services                  TEXT NOT NULL DEFAULT '',
	data_accessed             TEXT NOT NULL DEFAULT '',
	criticality               TEXT NOT NULL,
	contract_security_clauses TEXT NOT NULL DEFAULT '[]',
	owner                     TEXT NOT NULL DEFAULT '',
	last_review               TEXT NOT NULL DEFAULT '',
	next_review               TEXT NOT NULL DEFAULT '',
	created_at                BIGINT NOT NULL,
	updated_at                BIGINT NOT NULL,
	UNIQUE (org_id, ref),
	UNIQUE (org_id, name_key)
);
CREATE INDEX suppliers_org ON suppliers (org_id, id);
CREATE INDEX suppliers_next_review ON suppliers (org_id, next_review);
