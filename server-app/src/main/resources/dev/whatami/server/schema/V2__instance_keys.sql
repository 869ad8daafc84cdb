-- whatami report store, schema version 2: reports bound to the instance that sent them.
-- The SHA-256 of the instance key an instance first reported with (never the key); a bound instance's reports are
-- kept only with that key. NULL: not bound (agents that send no key).
ALTER TABLE whatami_reports ADD COLUMN key_sha256 bytea;
