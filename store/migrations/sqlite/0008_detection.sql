-- Detection and response: rules over monitoring events, the alerts they
-- raise and their deliveries to channels, response actions sent to agents,
-- and locked accounts. Times are Unix microseconds.

CREATE TABLE rules (
	id          TEXT PRIMARY KEY,
	org_id      TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	ref         TEXT NOT NULL,
	name        TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	expression  TEXT NOT NULL,
	severity    TEXT NOT NULL,
	controls    TEXT NOT NULL DEFAULT '[]',
	enabled     BOOLEAN NOT NULL,
	actions     TEXT NOT NULL DEFAULT '["alert"]',
	threshold   TEXT NOT NULL DEFAULT '',
	throttle_us BIGINT NOT NULL DEFAULT 0,
	builtin     TEXT NOT NULL DEFAULT '',
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL,
	UNIQUE (org_id, ref)
);
CREATE INDEX rules_org ON rules (org_id, id);

-- One row per organisation: bumped on every rule change, so servers know
-- when to recompile.
CREATE TABLE rule_versions (
	org_id  TEXT PRIMARY KEY REFERENCES orgs (id) ON DELETE CASCADE,
	version BIGINT NOT NULL
);

-- event is the vigil.RuleEvent that raised the alert (JSON).
CREATE TABLE alerts (
	id              TEXT PRIMARY KEY,
	org_id          TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	ref             TEXT NOT NULL,
	rule_id         TEXT NOT NULL,
	rule_name       TEXT NOT NULL,
	severity        TEXT NOT NULL,
	status          TEXT NOT NULL,
	group_key       TEXT NOT NULL DEFAULT '',
	event           TEXT NOT NULL,
	event_id        TEXT NOT NULL DEFAULT '',
	session_id      TEXT NOT NULL DEFAULT '',
	offset_s        DOUBLE PRECISION NOT NULL DEFAULT 0,
	host_id         TEXT NOT NULL DEFAULT '',
	host            TEXT NOT NULL DEFAULT '',
	login_user      TEXT NOT NULL DEFAULT '',
	controls        TEXT NOT NULL DEFAULT '[]',
	occurrences     INTEGER NOT NULL DEFAULT 1,
	note            TEXT NOT NULL DEFAULT '',
	acknowledged_by TEXT NOT NULL DEFAULT '',
	acknowledged_at BIGINT NOT NULL DEFAULT 0,
	closed_by       TEXT NOT NULL DEFAULT '',
	closed_at       BIGINT NOT NULL DEFAULT 0,
	created_at      BIGINT NOT NULL,
	last_seen_at    BIGINT NOT NULL,
	UNIQUE (org_id, ref)
);
CREATE INDEX alerts_org_created ON alerts (org_id, created_at);
CREATE INDEX alerts_dedup ON alerts (org_id, rule_id, group_key, last_seen_at);
CREATE INDEX alerts_user ON alerts (org_id, login_user, created_at);

CREATE TABLE alert_deliveries (
	alert_id    TEXT NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
	channel_id  TEXT NOT NULL,
	channel     TEXT NOT NULL,
	status      TEXT NOT NULL,
	status_code INTEGER NOT NULL DEFAULT 0,
	attempts    INTEGER NOT NULL DEFAULT 0,
	error       TEXT NOT NULL DEFAULT '',
	at          BIGINT NOT NULL
);
CREATE INDEX alert_deliveries_alert ON alert_deliveries (alert_id, at);

CREATE TABLE channels (
	id           TEXT PRIMARY KEY,
	org_id       TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	name         TEXT NOT NULL,
	type         TEXT NOT NULL,
	url          TEXT NOT NULL DEFAULT '',
	secret       TEXT NOT NULL DEFAULT '',
	min_severity TEXT NOT NULL,
	recipients   TEXT NOT NULL DEFAULT '[]',
	address      TEXT NOT NULL DEFAULT '',
	protocol     TEXT NOT NULL DEFAULT '',
	enabled      BOOLEAN NOT NULL,
	created_at   BIGINT NOT NULL,
	updated_at   BIGINT NOT NULL
);
CREATE INDEX channels_org ON channels (org_id, id);

-- Response actions for agents (kill a session, lock or unlock an account);
-- delivered by long polling, completed when the agent reports back.
CREATE TABLE response_actions (
	id           TEXT PRIMARY KEY,
	org_id       TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	agent_id     TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
	kind         TEXT NOT NULL,
	session_id   TEXT NOT NULL DEFAULT '',
	login_user   TEXT NOT NULL DEFAULT '',
	reason       TEXT NOT NULL,
	alert_id     TEXT NOT NULL DEFAULT '',
	requested_by TEXT NOT NULL DEFAULT '',
	status       TEXT NOT NULL,
	error        TEXT NOT NULL DEFAULT '',
	created_at   BIGINT NOT NULL,
	delivered_at BIGINT NOT NULL DEFAULT 0,
	done_at      BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX response_actions_agent ON response_actions (agent_id, status, created_at);

-- Accounts locked on a host by a response action.
CREATE TABLE user_locks (
	org_id     TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	agent_id   TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
	login_user TEXT NOT NULL,
	reason     TEXT NOT NULL,
	locked_by  TEXT NOT NULL DEFAULT '',
	locked_at  BIGINT NOT NULL,
	PRIMARY KEY (agent_id, login_user)
);

-- Keys rules have seen (first_seen), such as a user's first login to a host.
CREATE TABLE first_seen (
	org_id  TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	seen    TEXT NOT NULL,
	at      BIGINT NOT NULL,
	PRIMARY KEY (org_id, seen)
);
