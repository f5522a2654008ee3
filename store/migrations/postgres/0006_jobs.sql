-- When each periodic job last ran, so that with several servers on one
-- database a job runs once per interval, not once per server.
CREATE TABLE job_runs (
	name     TEXT PRIMARY KEY,
	last_run BIGINT NOT NULL
);
