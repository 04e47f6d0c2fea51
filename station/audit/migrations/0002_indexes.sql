-- Version 2: indexes for the queries QA and supervisors run, and a view of
-- each reservation's current state.
CREATE INDEX sn_events_reservation ON sn_events (reservation_id, id);
CREATE INDEX attempts_unit ON attempts (unit_id, id);
CREATE INDEX attempts_batch ON attempts (batch_id, id);
CREATE INDEX attempts_station ON attempts (station_id, id);
CREATE INDEX steps_attempt ON steps (attempt_id, id);
CREATE INDEX provisioning_attempt ON provisioning (attempt_id, id);
CREATE INDEX provisioning_pubkey ON provisioning (pubkey_sha256);

-- The latest event decides; no event means still reserved.
CREATE VIEW sn_state AS
SELECT r.id AS reservation_id, r.batch_id, r.unit_id, r.seq, r.sn,
       COALESCE((SELECT e.state FROM sn_events e WHERE e.reservation_id = r.id ORDER BY e.id DESC LIMIT 1), 'reserved') AS state,
       COALESCE((SELECT e.reason FROM sn_events e WHERE e.reservation_id = r.id AND e.state = 'voided' ORDER BY e.id DESC LIMIT 1), '') AS void_reason
FROM sn_reservations r;
