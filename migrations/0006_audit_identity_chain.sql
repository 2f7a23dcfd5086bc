-- The audit trail, hardened.
--
-- Identity: the environment's USER, SUDO_USER and SSH_CONNECTION are only
-- what the operator's shell claims; the columns that held them are renamed
-- to say so. Beside them, what the kernel says: the real uid and its name,
-- the login uid (who logged in, kept across su and sudo) and the SSH peer
-- read from the session's own sshd ancestor.
--
-- Processes: the supervisor that runs an action, by pid and start time
-- (/proc/<pid>/stat field 22), so a later attempt on the same target can
-- tell a live run from a recycled pid.
--
-- Tamper evidence: every write to the trail appends an event to
-- audit_chain whose hash covers the previous event's hash and the row's
-- fields, as an append-only log does; `opsdeck audit --verify` recomputes it.

DROP TRIGGER audit_finish_once;

ALTER TABLE audit RENAME COLUMN os_user TO claimed_user;
ALTER TABLE audit RENAME COLUMN sudo_user TO claimed_sudo_user;
ALTER TABLE audit RENAME COLUMN ssh_origin TO claimed_ssh_origin;
ALTER TABLE audit ADD COLUMN real_uid INTEGER;
ALTER TABLE audit ADD COLUMN real_user TEXT;
ALTER TABLE audit ADD COLUMN login_uid INTEGER;
ALTER TABLE audit ADD COLUMN login_user TEXT;
ALTER TABLE audit ADD COLUMN ssh_peer TEXT;
ALTER TABLE audit ADD COLUMN run_pid INTEGER;
ALTER TABLE audit ADD COLUMN run_pid_start INTEGER;

CREATE INDEX audit_unfinished_target ON audit (target_id) WHERE finished_at IS NULL;

CREATE TRIGGER audit_append_only BEFORE UPDATE ON audit
WHEN OLD.finished_at IS NOT NULL
    OR NEW.id IS NOT OLD.id
    OR NEW.started_at IS NOT OLD.started_at
    OR NEW.session_id IS NOT OLD.session_id
    OR NEW.claimed_user IS NOT OLD.claimed_user
    OR NEW.claimed_sudo_user IS NOT OLD.claimed_sudo_user
    OR NEW.claimed_ssh_origin IS NOT OLD.claimed_ssh_origin
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
    OR NEW.real_uid IS NOT OLD.real_uid
    OR NEW.real_user IS NOT OLD.real_user
    OR NEW.login_uid IS NOT OLD.login_uid
    OR NEW.login_user IS NOT OLD.login_user
    OR NEW.ssh_peer IS NOT OLD.ssh_peer
    OR (OLD.run_pid IS NOT NULL AND NEW.run_pid IS NOT OLD.run_pid)
    OR (OLD.run_pid_start IS NOT NULL AND NEW.run_pid_start IS NOT OLD.run_pid_start)
BEGIN
    SELECT RAISE(ABORT, 'audit rows are append-only: only an unfinished row may be finished, once');
END;

CREATE TABLE audit_chain (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    audit_id  INTEGER NOT NULL,
    event     TEXT    NOT NULL CHECK (event IN ('begin', 'process', 'finish')),
    prev_hash TEXT    NOT NULL,
    hash      TEXT    NOT NULL
);

CREATE INDEX audit_chain_row ON audit_chain (audit_id);

CREATE TRIGGER audit_chain_no_update BEFORE UPDATE ON audit_chain
BEGIN
    SELECT RAISE(ABORT, 'the audit chain is append-only');
END;

CREATE TRIGGER audit_chain_no_delete BEFORE DELETE ON audit_chain
BEGIN
    SELECT RAISE(ABORT, 'the audit chain is append-only');
END;

-- Rows written before the chain existed: up to this id, unchained. The
-- chain's first hash is seeded with it, so changing it breaks the chain.
CREATE TABLE audit_chain_origin (legacy_max_id INTEGER NOT NULL);
INSERT INTO audit_chain_origin (legacy_max_id) SELECT COALESCE(MAX(id), 0) FROM audit;

CREATE TRIGGER audit_chain_origin_fixed BEFORE UPDATE ON audit_chain_origin
BEGIN
    SELECT RAISE(ABORT, 'the audit chain origin is fixed');
END;

CREATE TRIGGER audit_chain_origin_no_delete BEFORE DELETE ON audit_chain_origin
BEGIN
    SELECT RAISE(ABORT, 'the audit chain origin is fixed');
END;

CREATE TRIGGER audit_chain_origin_once BEFORE INSERT ON audit_chain_origin
BEGIN
    SELECT RAISE(ABORT, 'the audit chain origin is fixed');
END;
