CREATE TABLE api_keys (
	seq SERIAL NOT NULL,
	id VARCHAR(64) NOT NULL,
	name VARCHAR(128) NOT NULL,
	secret_hash VARCHAR(64) NOT NULL,
	hint VARCHAR(16) NOT NULL,
	role VARCHAR(16) NOT NULL,
	rpm INTEGER,
	tpm BIGINT,
	created_at BIGINT NOT NULL,
	created_by VARCHAR(128),
	revoked_at BIGINT,
	PRIMARY KEY (seq)
);

CREATE UNIQUE INDEX ix_api_keys_id ON api_keys (id);

CREATE INDEX ix_api_keys_name ON api_keys (name);

CREATE UNIQUE INDEX ix_api_keys_secret_hash ON api_keys (secret_hash);

CREATE TABLE checkpoints (
	seq SERIAL NOT NULL,
	id VARCHAR(64) NOT NULL,
	job_id VARCHAR(64) NOT NULL,
	step INTEGER NOT NULL,
	created_at BIGINT NOT NULL,
	metrics JSON NOT NULL,
	path TEXT NOT NULL,
	PRIMARY KEY (seq),
	UNIQUE (id)
);

CREATE INDEX ix_checkpoints_job_id ON checkpoints (job_id);

CREATE TABLE degradation_changes (
	seq SERIAL NOT NULL,
	mode VARCHAR(32) NOT NULL,
	reason TEXT NOT NULL,
	actor VARCHAR(128) NOT NULL,
	changed_at FLOAT NOT NULL,
	PRIMARY KEY (seq)
);

CREATE TABLE files (
	seq SERIAL NOT NULL,
	id VARCHAR(64) NOT NULL,
	filename VARCHAR(512) NOT NULL,
	purpose VARCHAR(32) NOT NULL,
	bytes BIGINT NOT NULL,
	created_at BIGINT NOT NULL,
	path TEXT NOT NULL,
	status VARCHAR(32) NOT NULL,
	format VARCHAR(32),
	examples INTEGER,
	tokens BIGINT,
	owner VARCHAR(128),
	PRIMARY KEY (seq)
);

CREATE UNIQUE INDEX ix_files_id ON files (id);

CREATE TABLE job_events (
	seq SERIAL NOT NULL,
	id VARCHAR(64) NOT NULL,
	job_id VARCHAR(64) NOT NULL,
	created_at BIGINT NOT NULL,
	level VARCHAR(16) NOT NULL,
	type VARCHAR(16) NOT NULL,
	message TEXT NOT NULL,
	data JSON,
	PRIMARY KEY (seq),
	UNIQUE (id)
);

CREATE INDEX ix_job_events_job_id ON job_events (job_id);

CREATE TABLE jobs (
	seq SERIAL NOT NULL,
	id VARCHAR(64) NOT NULL,
	status VARCHAR(32) NOT NULL,
	model VARCHAR(512) NOT NULL,
	training_file VARCHAR(64) NOT NULL,
	validation_file VARCHAR(64),
	suffix VARCHAR(64),
	seed BIGINT NOT NULL,
	hyperparameters JSON NOT NULL,
	created_at BIGINT NOT NULL,
	started_at BIGINT,
	finished_at BIGINT,
	estimated_finish BIGINT,
	fine_tuned_model VARCHAR(512),
	trained_tokens BIGINT,
	error JSON,
	result JSON,
	worker_id VARCHAR(128),
	heartbeat_at FLOAT,
	attempts INTEGER NOT NULL,
	owner VARCHAR(128),
	PRIMARY KEY (seq)
);

CREATE UNIQUE INDEX ix_jobs_id ON jobs (id);

CREATE INDEX ix_jobs_status ON jobs (status);
