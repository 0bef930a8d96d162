-- Cloud sync, the register's side: where this register stands with the cloud, the outbox records
-- the cloud refused, and the cloud's id for staff members it manages.

-- One row once the register is enrolled; none before. Instants are microseconds since the epoch.
-- `audit_held_through` is the highest audit entry the cloud holds (as it last said); the device's
-- signing key is not here: it lives only in the OS credential store.
CREATE TABLE sync_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    cloud_url TEXT NOT NULL,
    -- An extra trusted CA certificate (PEM file) for a self-hosted service, if any.
    ca_file TEXT,
    device_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    venue_id TEXT NOT NULL,
    venue_name TEXT NOT NULL,
    enrolled_at INTEGER NOT NULL,
    pull_cursor INTEGER NOT NULL DEFAULT 0 CHECK (pull_cursor >= 0),
    audit_held_through INTEGER NOT NULL DEFAULT 0 CHECK (audit_held_through >= 0),
    -- The cloud's last word on a pushed run of audit entries that did not continue its copy.
    audit_fault TEXT,
    last_push_at INTEGER,
    last_pull_at INTEGER,
    last_attempt_at INTEGER,
    last_success_at INTEGER,
    last_error TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
    next_attempt_at INTEGER,
    revoked INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1))
);

-- Outbox records the cloud rejected: kept (never acknowledged, so never purged), left out of later
-- pushes, and shown to a manager.
CREATE TABLE sync_quarantine (
    seq INTEGER PRIMARY KEY REFERENCES outbox (seq),
    op_id TEXT NOT NULL,
    code TEXT NOT NULL,
    message TEXT NOT NULL,
    at INTEGER NOT NULL
);

-- Staff members that the cloud manages carry its id; upserts from a pull match on it.
ALTER TABLE staff ADD COLUMN cloud_id TEXT;
CREATE UNIQUE INDEX staff_cloud_id ON staff (cloud_id) WHERE cloud_id IS NOT NULL;
