-- One row per opsdeck run: who looked, from where, in which mode. Later
-- migrations add the audit trail, acks, alert history and verifications.
CREATE TABLE sessions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at  TEXT    NOT NULL,
    ended_at    TEXT,
    version     TEXT    NOT NULL,
    host        TEXT    NOT NULL,
    os_user     TEXT    NOT NULL,
    read_only   INTEGER NOT NULL CHECK (read_only IN (0, 1))
);
