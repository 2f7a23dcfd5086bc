-- Alert history: one row per state change of an alert in the queue, so an
-- alert's timeline survives restarts and `opsdeck alerts --since` can export
-- an incident. Acks: who acknowledged what, and when the ack cleared itself.
CREATE TABLE alert_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT    NOT NULL,
    fingerprint TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    severity    TEXT    NOT NULL,
    from_state  TEXT,
    to_state    TEXT    NOT NULL,
    labels      TEXT    NOT NULL,
    summary     TEXT
);

CREATE INDEX alert_events_at ON alert_events (at);
CREATE INDEX alert_events_fingerprint ON alert_events (fingerprint, at);

CREATE TABLE acks (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    fingerprint TEXT    NOT NULL,
    who         TEXT    NOT NULL,
    at          TEXT    NOT NULL,
    comment     TEXT    NOT NULL,
    cleared_at  TEXT,
    cleared_why TEXT
);

CREATE INDEX acks_open ON acks (fingerprint) WHERE cleared_at IS NULL;
