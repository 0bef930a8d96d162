-- pos-cloud schema, version 2: owners' and managers' sign-in to the cloud service.
-- Migrations are append-only: never edit a released file.
--
-- `owners` and `owner_sessions` are tenant tables like every other: tenant_id, row-level security
-- enabled and forced, one policy keyed by app.tenant_id. Before sign-in the service knows only an
-- email (or a session token's hash); two SECURITY DEFINER functions owned by pos_lookup answer
-- "which tenant" and nothing more, as device_tenant() does for registers.

-- People who sign in to the cloud service: the tenant's owners and its managers.
CREATE TABLE owners (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL UNIQUE,
    -- Lower-cased by the service before it is stored or looked up; unique across the service.
    email text NOT NULL CHECK (length(email) BETWEEN 3 AND 254 AND position('@' IN email) > 1),
    role text NOT NULL CHECK (role IN ('owner', 'manager')),
    -- Argon2id, PHC string format (m=19456 KiB, t=2, p=1 when written).
    password_hash text NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    -- RFC 6238 secret (raw bytes, 160 bits when written).
    -- KNOWN LIMIT (version 2): the secret is stored in clear, readable by anyone who can read this
    -- table as the service or the database owner (a database dump or backup included). It cannot
    -- be hashed, since the service must compute codes from it. Next: per-tenant field encryption
    -- (the tenant's data key, wrapped by a key held outside the database), as planned for other
    -- sensitive fields; a migration will then encrypt existing secrets in place.
    totp_secret bytea CHECK (totp_secret IS NULL OR length(totp_secret) >= 16),
    -- The last accepted TOTP step: a code for this step or an earlier one is refused (no replay).
    totp_last_step bigint,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- Consecutive failed sign-ins since the last success or the last lock.
    failed_logins int NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
    locked_until timestamptz,
    PRIMARY KEY (tenant_id, id),
    -- MFA is mandatory for owners; optional for managers.
    CONSTRAINT owners_need_totp CHECK (role <> 'owner' OR totp_secret IS NOT NULL)
);
CREATE UNIQUE INDEX owners_email ON owners (email);

-- Signed-in sessions. The client holds a random token; only its SHA-256 is stored, so a copy of
-- this table signs nobody in. `id` names the session for listing and revoking; it is not the token.
CREATE TABLE owner_sessions (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL UNIQUE,
    token_hash bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    owner_id uuid NOT NULL,
    -- Whether the sign-in that opened this session passed a TOTP check.
    mfa boolean NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    ip text NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, owner_id) REFERENCES owners (tenant_id, id)
);
CREATE INDEX owner_sessions_active ON owner_sessions (tenant_id, owner_id) WHERE revoked_at IS NULL;

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['owners', 'owner_sessions']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = app_tenant()) WITH CHECK (tenant_id = app_tenant())', t);
    END LOOP;
END
$$;

-- Failed sign-ins per client address, for the per-IP limit (independent of the per-account one).
-- This table carries NO tenant data, which is why it has no tenant_id and no row-level security:
-- a row is an address (an IPv4 address, or an IPv6 /64 prefix), the start of its current window
-- and a count, written before the service knows (or whether there is) a tenant for the email
-- tried. Which emails or accounts were tried is deliberately not recorded here.
CREATE TABLE login_attempts_ip (
    ip text PRIMARY KEY CHECK (length(ip) BETWEEN 1 AND 64),
    window_start timestamptz NOT NULL,
    failures int NOT NULL CHECK (failures >= 0)
);
CREATE INDEX login_attempts_ip_window ON login_attempts_ip (window_start);

-- The service reads owners to sign them in and writes only the sign-in bookkeeping; owners are
-- created by the admin command (as the database owner), so pos_service has no INSERT on owners.
GRANT SELECT ON owners TO pos_service;
GRANT UPDATE (failed_logins, locked_until, totp_last_step) ON owners TO pos_service;
GRANT SELECT, INSERT ON owner_sessions TO pos_service;
GRANT UPDATE (last_seen_at, revoked_at) ON owner_sessions TO pos_service;
-- DELETE only to purge windows that ended long ago.
GRANT SELECT, INSERT, UPDATE, DELETE ON login_attempts_ip TO pos_service;

-- Pre-authentication lookups, as for devices: pos_lookup sees past row-level security only the
-- two columns each question needs.
GRANT SELECT (email, tenant_id) ON owners TO pos_lookup;
GRANT SELECT (token_hash, tenant_id) ON owner_sessions TO pos_lookup;
CREATE POLICY pre_auth_lookup ON owners FOR SELECT TO pos_lookup USING (true);
CREATE POLICY pre_auth_lookup ON owner_sessions FOR SELECT TO pos_lookup USING (true);

-- Which tenant an email (already lower-cased by the caller) signs in to.
CREATE FUNCTION owner_tenant(p_email text) RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT tenant_id FROM owners WHERE email = p_email
$$;

-- Which tenant a session token (by its SHA-256) belongs to.
CREATE FUNCTION owner_session_tenant(p_hash bytea) RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT tenant_id FROM owner_sessions WHERE token_hash = p_hash
$$;

ALTER FUNCTION owner_tenant(text) OWNER TO pos_lookup;
ALTER FUNCTION owner_session_tenant(bytea) OWNER TO pos_lookup;
REVOKE ALL ON FUNCTION owner_tenant(text), owner_session_tenant(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION owner_tenant(text), owner_session_tenant(bytea) TO pos_service;
