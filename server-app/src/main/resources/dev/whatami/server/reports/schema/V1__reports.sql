-- whatami report store, schema version 1: the latest report of each instance.
-- Written only by whatami-server (JdbcReportStore); every column but body is derived from body by the server's rules
-- (Fleet.role, Fleet.rank), kept here so the fleet page is one indexed query.
CREATE TABLE whatami_reports (
    instance_id text COLLATE "C" PRIMARY KEY,
    run_id      text,
    revision    bigint      NOT NULL,
    started_at  timestamptz,
    received_at timestamptz NOT NULL,
    provider    text        NOT NULL,
    role        text        NOT NULL,
    state       text        NOT NULL,
    rank        smallint    NOT NULL,
    kept_seq    bigint      NOT NULL,
    bytes       integer     NOT NULL,
    body        bytea       NOT NULL
);
-- the order reports were kept in: the least recently kept are forgotten first when a limit is reached
CREATE SEQUENCE whatami_reports_kept_seq;
-- the fleet page: failures first, newest first within, then by id
CREATE INDEX whatami_reports_page ON whatami_reports (rank, received_at DESC, instance_id);
CREATE INDEX whatami_reports_kept ON whatami_reports (kept_seq);
-- how many instances and bytes are kept, updated in the transaction that changes them; its row lock orders the
-- writers of all servers, so the limits hold across servers
CREATE TABLE whatami_totals (
    id        smallint PRIMARY KEY CHECK (id = 1),
    instances bigint NOT NULL,
    bytes     bigint NOT NULL
);
INSERT INTO whatami_totals VALUES (1, 0, 0);
