-- The audit trail: one row per attempted action, written before anything
-- runs and completed after. Append-only: rows cannot be deleted, and once
-- finished (or for any column but the finish ones) cannot be changed.
CREATE TABLE audit (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at      TEXT    NOT NULL,
    session_id      INTEGER REFERENCES sessions (id),
    os_user         TEXT    NOT NULL,
    sudo_user       TEXT,
    ssh_origin      TEXT,
    tty             TEXT,
    host            TEXT    NOT NULL,
    action          TEXT    NOT NULL,
    target_kind     TEXT    NOT NULL,
    target_id       TEXT    NOT NULL,
    target_name     TEXT    NOT NULL,
    preview         TEXT    NOT NULL,
    preconditions   TEXT    NOT NULL,
    guard           TEXT    NOT NULL,
    override        INTEGER NOT NULL DEFAULT 0 CHECK (override IN (0, 1)),
    reason          TEXT,
    finished_at     TEXT,
    ending          TEXT,
    duration_ms     INTEGER,
    output_excerpt  TEXT
);

CREATE INDEX audit_started_at ON audit (started_at);

CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit rows cannot be deleted');
END;

CREATE TRIGGER audit_finish_once BEFORE UPDATE ON audit
WHEN OLD.finished_at IS NOT NULL
    OR NEW.id IS NOT OLD.id
    OR NEW.started_at IS NOT OLD.started_at
    OR NEW.session_id IS NOT OLD.session_id
    OR NEW.os_user IS NOT OLD.os_user
    OR NEW.sudo_user IS NOT OLD.sudo_user
    OR NEW.ssh_origin IS NOT OLD.ssh_origin
    OR NEW.tty IS NOT OLD.tty
    OR NEW.host IS NOT OLD.host
    OR NEW.action IS NOT OLD.action
    OR NEW.target_kind IS NOT OLD.target_kind
    OR NEW.target_id IS NOT OLD.target_id
    OR NEW.target_name IS NOT OLD.target_name
    OR NEW.preview IS NOT OLD.preview
    OR NEW.preconditions IS NOT OLD.preconditions
    OR NEW.guard IS NOT OLD.guard
    OR NEW.override IS NOT OLD.override
    OR NEW.reason IS NOT OLD.reason
BEGIN
    SELECT RAISE(ABORT, 'audit rows are append-only: only an unfinished row may be finished, once');
END;
