-- fleetline audit log, version 1: the tables of record and the hash chain.
-- Every table except schema_migrations is append-only (triggers below);
-- a state change is a new row, and current state is derived from the rows.
-- Times are UTC text, 'YYYY-MM-DDTHH:MM:SS.mmmZ', so they sort and read as is.

CREATE TABLE records (
	seq       INTEGER PRIMARY KEY, -- 1, 2, 3, ... without gaps, in commit order
	tbl       TEXT    NOT NULL,    -- the table holding the recorded row
	row_id    INTEGER NOT NULL,    -- its id
	prev_hash BLOB    NOT NULL,    -- hash of record seq-1 (32 zero bytes for seq 1)
	hash      BLOB    NOT NULL     -- SHA-256(prev_hash || canonical row bytes)
) STRICT;

CREATE TABLE stations (
	id         INTEGER PRIMARY KEY,
	name       TEXT NOT NULL UNIQUE,
	host       TEXT NOT NULL,
	created_at TEXT NOT NULL
) STRICT;

CREATE TABLE batches (
	id                INTEGER PRIMARY KEY,
	batch             TEXT    NOT NULL UNIQUE, -- the work order's ID
	product           TEXT    NOT NULL,
	lot               TEXT    NOT NULL,
	manifest_sha256   TEXT    NOT NULL,
	firmware_sha256   TEXT    NOT NULL,
	firmware_files    TEXT    NOT NULL,        -- JSON object: file -> SHA-256
	claim_cert_sha256 TEXT    NOT NULL,
	claim_cert_serial TEXT    NOT NULL,
	template_name     TEXT    NOT NULL,
	sn_template       TEXT    NOT NULL,
	seq_first         INTEGER NOT NULL,
	seq_last          INTEGER NOT NULL CHECK (seq_last >= seq_first),
	quantity          INTEGER NOT NULL CHECK (quantity >= 0),
	station_id        INTEGER NOT NULL REFERENCES stations(id),
	created_at        TEXT    NOT NULL
) STRICT;

CREATE TABLE units (
	id         INTEGER PRIMARY KEY,
	mac        TEXT NOT NULL UNIQUE,
	chip       TEXT NOT NULL,
	revision   TEXT NOT NULL,
	flash_id   TEXT NOT NULL,
	created_at TEXT NOT NULL
) STRICT;

-- One SN per unit for life; an SN is never issued twice.
CREATE TABLE sn_reservations (
	id          INTEGER PRIMARY KEY,
	batch_id    INTEGER NOT NULL REFERENCES batches(id),
	unit_id     INTEGER NOT NULL UNIQUE REFERENCES units(id),
	seq         INTEGER NOT NULL,
	sn          TEXT    NOT NULL UNIQUE,
	station_id  INTEGER NOT NULL REFERENCES stations(id),
	reserved_at TEXT    NOT NULL,
	UNIQUE (batch_id, seq)
) STRICT;

CREATE TABLE sn_events (
	id             INTEGER PRIMARY KEY,
	reservation_id INTEGER NOT NULL REFERENCES sn_reservations(id),
	state          TEXT    NOT NULL CHECK (state IN ('confirmed', 'voided')),
	reason         TEXT    NOT NULL,
	station_id     INTEGER NOT NULL REFERENCES stations(id),
	at             TEXT    NOT NULL
) STRICT;

CREATE TABLE attempts (
	id         INTEGER PRIMARY KEY,
	unit_id    INTEGER NOT NULL REFERENCES units(id),
	batch_id   INTEGER NOT NULL REFERENCES batches(id),
	station_id INTEGER NOT NULL REFERENCES stations(id),
	slot       TEXT    NOT NULL,
	operator   TEXT    NOT NULL,
	kind       TEXT    NOT NULL CHECK (kind IN ('normal', 'retest', 'rework')),
	chip       TEXT    NOT NULL,
	revision   TEXT    NOT NULL,
	flash_id   TEXT    NOT NULL,
	started_at TEXT    NOT NULL
) STRICT;

-- An attempt ends exactly once: passed, failed, or interrupted (closed on
-- the next start-up of its station).
CREATE TABLE attempt_ends (
	id          INTEGER PRIMARY KEY,
	attempt_id  INTEGER NOT NULL UNIQUE REFERENCES attempts(id),
	outcome     TEXT    NOT NULL CHECK (outcome IN ('pass', 'fail', 'interrupted')),
	reason_code TEXT    NOT NULL,
	reason_kind TEXT    NOT NULL,
	message     TEXT    NOT NULL,
	ended_at    TEXT    NOT NULL
) STRICT;

CREATE TABLE steps (
	id           INTEGER PRIMARY KEY,
	attempt_id   INTEGER NOT NULL REFERENCES attempts(id),
	name         TEXT    NOT NULL,
	started_at   TEXT    NOT NULL,
	ended_at     TEXT    NOT NULL,
	result       TEXT    NOT NULL,
	message      TEXT    NOT NULL,
	measurements TEXT    NOT NULL -- JSON array of {name, value, unit, low, high, passed}
) STRICT;

-- What the cloud issued; fingerprints only, never a private key.
CREATE TABLE provisioning (
	id                INTEGER PRIMARY KEY,
	attempt_id        INTEGER NOT NULL REFERENCES attempts(id),
	thing_name        TEXT    NOT NULL,
	device_cert_id    TEXT    NOT NULL,
	cert_sha256       TEXT    NOT NULL,
	pubkey_sha256     TEXT    NOT NULL,
	claim_cert_serial TEXT    NOT NULL,
	at                TEXT    NOT NULL
) STRICT;

-- Append-only: history is never updated or deleted.
CREATE TRIGGER records_no_update BEFORE UPDATE ON records
BEGIN SELECT RAISE(ABORT, 'audit log is append-only: UPDATE on records refused'); END;
CREATE TRIGGER records_no_delete BEFORE DELETE ON records
BEGIN SELECT RAISE(ABORT, 'audit log is append-only: DELETE on records refused'); END;
CREATE TRIGGER stations_no_update BEFORE UPDATE ON stations
BEGIN SELECT RAISE(ABORT, 'audit log is append-only: UPDATE on stations refused'); END;
CREATE TRIGGER stations_no_delete BEFORE DELETE ON stations
BEGIN SELECT RAISE(ABORT, 'audit log is append-only: DELETE on stations refused'); END;
CREATE TRIGGER batches_no_update BEFORE UPDATE ON batches
BEGIN SELECT RAISE(ABORT, 'audit log is append-only: UPDATE on batches refused'); END;
CREATE TRIGGER batches_no_delete BEFORE DELETE ON batches
BEGIN SELECT RAISE(ABORT, 'audit log is append-only: DELETE on batches refused'); END;
CREATE TRIGGER units_no_update BEFORE UPDATE ON units
BEGIN SELECT RAISE(ABORT, 'audit log is append-only: UPDATE on units refused'); END;
CREATE TRIGGER units_no_delete BEFORE DELETE ON units
BEGIN SELECT RAISE(ABORT, 'audit log is append-only: DELETE on units refused'); END;
CREATE TRIGGER sn_reservations_no_update BEFORE UPDATE ON sn_reservations
BEGIN SELECT RAISE(ABORT, 'audit log is append-only: UPDATE on sn_reservations refused'); END;
CREATE TRIGGER sn_reservations_no_delete BEFORE DELETE ON sn_reservations
BEGIN SELECT RAISE(ABORT, 'audit log is append-only: DELETE on sn_reservations refused'); END;
CREATE TRIGGER sn_events_no_update BEFORE UPDATE ON sn_events
BEGIN SELECT RAISE(ABORT, 'audit log is append-only: UPDATE on sn_events refused'); END;
CREATE TRIGGER sn_events_no_delete BEFORE DELETE ON sn_events
BEGIN SELECT RAISE(ABORT, 'audit log is append-only: DELETE on sn_events refused'); END;
CREATE TRIGGER attempts_no_update BEFORE UPDATE ON attempts
BEGIN SELECT RAISE(ABORT, 'audit log is append-only: UPDATE on attempts refused'); END;
CREATE TRIGGER attempts_no_delete BEFORE DELETE ON attempts
BEGIN SELECT RAISE(ABORT, 'audit log is append-only: DELETE on attempts refused'); END;
CREATE TRIGGER attempt_ends_no_update BEFORE UPDATE ON attempt_ends
BEGIN SELECT RAISE(ABORT, 'audit log is append-only: UPDATE on attempt_ends refused'); END;
CREATE TRIGGER attempt_ends_no_delete BEFORE DELETE ON attempt_ends
BEGIN SELECT RAISE(ABORT, 'audit log is append-only: DELETE on attempt_ends refused'); END;
CREATE TRIGGER steps_no_update BEFORE UPDATE ON steps
BEGIN SELECT RAISE(ABORT, 'audit log is append-only: UPDATE on steps refused'); END;
CREATE TRIGGER steps_no_delete BEFORE DELETE ON steps
BEGIN SELECT RAISE(ABORT, 'audit log is append-only: DELETE on steps refused'); END;
CREATE TRIGGER provisioning_no_update BEFORE UPDATE ON provisioning
BEGIN SELECT RAISE(ABORT, 'audit log is append-only: UPDATE on provisioning refused'); END;
CREATE TRIGGER provisioning_no_delete BEFORE DELETE ON provisioning
BEGIN SELECT RAISE(ABORT, 'audit log is append-only: DELETE on provisioning refused'); END;
