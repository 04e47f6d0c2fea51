-- Version 3: the device certificate's serial number, so a station can find
-- a certificate issued twice. Rows from before hold '' and their chain
-- hashes stay valid: added columns are hashed only when not empty (see
-- tableColumns in chain.go).
ALTER TABLE provisioning ADD COLUMN device_cert_serial TEXT NOT NULL DEFAULT '';
CREATE INDEX provisioning_cert_serial ON provisioning (device_cert_serial);
