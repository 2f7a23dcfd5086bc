-- Backup checks: every verify, restore test and "backup now" run on a backup
-- catalog, so the Backups tab shows when each backup was last proven good
-- (or not) across restarts. backup_id is '' for a check of the whole
-- catalog (restic check, pgbackrest verify).
CREATE TABLE backup_checks (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    catalog     TEXT    NOT NULL,
    backup_id   TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    at          TEXT    NOT NULL,
    ok          INTEGER NOT NULL,
    detail      TEXT    NOT NULL,
    duration_ms INTEGER NOT NULL
);

CREATE INDEX backup_checks_latest ON backup_checks (catalog, backup_id, kind, id);
