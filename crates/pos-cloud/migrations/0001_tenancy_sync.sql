-- pos-cloud schema, version 1: tenancy, devices, exactly-once sync, the audit chain, catalog, staff
-- and settings. Migrations are append-only: never edit a released file.
--
-- Every tenant table carries tenant_id, and row-level security is enabled AND forced on it with
-- one policy: rows are visible and writable only when tenant_id equals the transaction's
-- `app.tenant_id` setting (set with set_config(..., true) at the start of each request's
-- transaction, from the authenticated token only). Without the setting, nothing is visible.
-- The service connects as `pos_service`, which has no BYPASSRLS and cannot own tables.
-- Amounts are integer minor units; quantities thousandths.

CREATE FUNCTION app_tenant() RETURNS uuid LANGUAGE sql STABLE AS $$
    SELECT nullif(current_setting('app.tenant_id', true), '')::uuid
$$;

CREATE TABLE tenants (
    id uuid PRIMARY KEY,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE venues (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL UNIQUE,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    time_zone text NOT NULL,
    day_cutoff_hour int NOT NULL CHECK (day_cutoff_hour BETWEEN 0 AND 23),
    prices_include_tax boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);

-- A register. `id` is the register's own device id (the one its audit chain names).
CREATE TABLE devices (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL UNIQUE,
    venue_id uuid NOT NULL,
    name text NOT NULL,
    public_key bytea NOT NULL CHECK (length(public_key) = 32),
    audit_public_key bytea NOT NULL CHECK (length(audit_public_key) = 32),
    enrolled_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    last_seen_at timestamptz,
    -- The audit chain as verified so far: entries 1..=audit_held_through, the last one's hash.
    audit_held_through bigint NOT NULL DEFAULT 0,
    audit_last_hash text NOT NULL DEFAULT '0000000000000000000000000000000000000000000000000000000000000000',
    -- Set when a pushed run of entries did not continue the chain.
    audit_fault jsonb,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, venue_id) REFERENCES venues (tenant_id, id)
);

-- One-time enrolment codes, stored as SHA-256 only.
CREATE TABLE enrolment_codes (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    code_hash bytea PRIMARY KEY CHECK (length(code_hash) = 32),
    venue_id uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    used_by uuid,
    FOREIGN KEY (tenant_id, venue_id) REFERENCES venues (tenant_id, id)
);

-- Single-use challenges a device signs to get an access token.
CREATE TABLE device_challenges (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    challenge bytea PRIMARY KEY CHECK (length(challenge) = 32),
    device_id uuid NOT NULL,
    expires_at timestamptz NOT NULL,
    FOREIGN KEY (tenant_id, device_id) REFERENCES devices (tenant_id, id)
);

-- Exactly once: each (device, op_id) is claimed here in the same transaction as its effects.
-- A retry finds the claim and gets "duplicate"; another payload under the same id is refused.
CREATE TABLE sync_ops (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    device_id uuid NOT NULL,
    op_id uuid NOT NULL,
    seq bigint NOT NULL CHECK (seq >= 1),
    kind text NOT NULL,
    payload_hash bytea NOT NULL CHECK (length(payload_hash) = 32),
    payload jsonb NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, device_id, op_id),
    UNIQUE (tenant_id, device_id, seq),
    FOREIGN KEY (tenant_id, device_id) REFERENCES devices (tenant_id, id)
);

-- Records the service refused as invalid: kept for the owner to see, never applied.
CREATE TABLE rejected_ops (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id uuid NOT NULL,
    op_id text NOT NULL,
    seq bigint NOT NULL,
    code text NOT NULL,
    message text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE orders (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    venue_id uuid NOT NULL,
    device_id uuid NOT NULL,
    order_id uuid NOT NULL,
    receipt_no bigint NOT NULL,
    shift_id text NOT NULL,
    business_day date NOT NULL,
    staff_id bigint NOT NULL,
    opened_at timestamptz NOT NULL,
    paid_at timestamptz NOT NULL,
    currency text NOT NULL,
    subtotal bigint NOT NULL,
    discount_total bigint NOT NULL,
    tax_total bigint NOT NULL,
    total bigint NOT NULL,
    rounding bigint NOT NULL,
    change_due bigint NOT NULL,
    voided_at timestamptz,
    PRIMARY KEY (tenant_id, order_id),
    FOREIGN KEY (tenant_id, device_id) REFERENCES devices (tenant_id, id)
);
CREATE INDEX orders_venue_day ON orders (tenant_id, venue_id, business_day);

CREATE TABLE order_lines (
    tenant_id uuid NOT NULL,
    order_id uuid NOT NULL,
    line_no int NOT NULL,
    sku_code text NOT NULL,
    name text NOT NULL,
    product_id bigint NOT NULL,
    product text NOT NULL,
    category text NOT NULL,
    qty_milli bigint NOT NULL,
    list_price bigint NOT NULL,
    unit_price bigint NOT NULL,
    extended bigint NOT NULL,
    line_discount bigint NOT NULL,
    order_discount bigint NOT NULL,
    amount bigint NOT NULL,
    -- The line's tax, all rates together (the item mix takes it out of tax-inclusive amounts).
    tax bigint NOT NULL,
    PRIMARY KEY (tenant_id, order_id, line_no),
    FOREIGN KEY (tenant_id, order_id) REFERENCES orders (tenant_id, order_id)
);

CREATE TABLE order_taxes (
    tenant_id uuid NOT NULL,
    order_id uuid NOT NULL,
    code text NOT NULL,
    rate_ppm bigint NOT NULL,
    base bigint NOT NULL,
    tax bigint NOT NULL,
    PRIMARY KEY (tenant_id, order_id, code, rate_ppm),
    FOREIGN KEY (tenant_id, order_id) REFERENCES orders (tenant_id, order_id)
);

CREATE TABLE payments (
    tenant_id uuid NOT NULL,
    order_id uuid NOT NULL,
    seq int NOT NULL,
    kind text NOT NULL,
    amount bigint NOT NULL,
    tendered bigint NOT NULL,
    change bigint NOT NULL,
    card_last4 text,
    card_scheme text,
    card_auth_code text,
    card_terminal_ref text,
    PRIMARY KEY (tenant_id, order_id, seq),
    FOREIGN KEY (tenant_id, order_id) REFERENCES orders (tenant_id, order_id)
);

CREATE TABLE refunds (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    venue_id uuid NOT NULL,
    device_id uuid NOT NULL,
    refund_id uuid NOT NULL,
    order_id uuid NOT NULL,
    receipt_no bigint NOT NULL,
    shift_id text NOT NULL,
    business_day date NOT NULL,
    staff_id bigint NOT NULL,
    at timestamptz NOT NULL,
    reason text NOT NULL,
    amount bigint NOT NULL,
    tax_total bigint NOT NULL,
    rounding bigint NOT NULL,
    total bigint NOT NULL,
    PRIMARY KEY (tenant_id, refund_id),
    FOREIGN KEY (tenant_id, device_id) REFERENCES devices (tenant_id, id)
);
CREATE INDEX refunds_venue_day ON refunds (tenant_id, venue_id, business_day);

CREATE TABLE refund_lines (
    tenant_id uuid NOT NULL,
    refund_id uuid NOT NULL,
    line_no int NOT NULL,
    qty_milli bigint NOT NULL,
    amount bigint NOT NULL,
    tax bigint NOT NULL,
    PRIMARY KEY (tenant_id, refund_id, line_no),
    FOREIGN KEY (tenant_id, refund_id) REFERENCES refunds (tenant_id, refund_id)
);

CREATE TABLE refund_taxes (
    tenant_id uuid NOT NULL,
    refund_id uuid NOT NULL,
    code text NOT NULL,
    rate_ppm bigint NOT NULL,
    base bigint NOT NULL,
    tax bigint NOT NULL,
    PRIMARY KEY (tenant_id, refund_id, code, rate_ppm),
    FOREIGN KEY (tenant_id, refund_id) REFERENCES refunds (tenant_id, refund_id)
);

CREATE TABLE refund_payouts (
    tenant_id uuid NOT NULL,
    refund_id uuid NOT NULL,
    payment_seq int NOT NULL,
    kind text NOT NULL,
    amount bigint NOT NULL,
    PRIMARY KEY (tenant_id, refund_id, payment_seq, kind),
    FOREIGN KEY (tenant_id, refund_id) REFERENCES refunds (tenant_id, refund_id)
);

-- Orders voided before payment (they never became sales); counted as voids in reports.
CREATE TABLE unpaid_voids (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    venue_id uuid NOT NULL,
    order_id uuid NOT NULL,
    business_day date NOT NULL,
    at timestamptz NOT NULL,
    total bigint NOT NULL,
    PRIMARY KEY (tenant_id, order_id)
);

-- Shift events (opened, cash moved, closed) as they arrived, for cash reconciliation.
CREATE TABLE shift_events (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    venue_id uuid NOT NULL,
    device_id uuid NOT NULL,
    op_id uuid NOT NULL,
    shift_id text NOT NULL,
    kind text NOT NULL,
    at timestamptz NOT NULL,
    amount bigint NOT NULL,
    detail jsonb NOT NULL,
    PRIMARY KEY (tenant_id, op_id),
    FOREIGN KEY (tenant_id, device_id) REFERENCES devices (tenant_id, id)
);

-- The devices' audit chains, append-only (privileges and a trigger).
CREATE TABLE audit_entries (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    device_id uuid NOT NULL,
    seq bigint NOT NULL CHECK (seq >= 1),
    body text NOT NULL,
    hash text NOT NULL CHECK (length(hash) = 64),
    signature text NOT NULL CHECK (length(signature) = 128),
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, device_id, seq),
    FOREIGN KEY (tenant_id, device_id) REFERENCES devices (tenant_id, id)
);

CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_entries
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- Server-authoritative data flowing down to registers. `version` comes from one sequence, so a
-- register's cursor is the highest version it has applied.
CREATE SEQUENCE catalog_version;

CREATE TABLE catalog_items (
    tenant_id uuid NOT NULL,
    venue_id uuid NOT NULL,
    sku text NOT NULL CHECK (length(sku) BETWEEN 1 AND 64),
    product text NOT NULL,
    variant text NOT NULL DEFAULT '',
    category text NOT NULL,
    price text NOT NULL,
    tax_class text NOT NULL,
    barcodes text[] NOT NULL DEFAULT '{}',
    weighed boolean NOT NULL DEFAULT false,
    active boolean NOT NULL DEFAULT true,
    version bigint NOT NULL DEFAULT nextval('catalog_version'),
    PRIMARY KEY (tenant_id, venue_id, sku),
    FOREIGN KEY (tenant_id, venue_id) REFERENCES venues (tenant_id, id)
);
CREATE INDEX catalog_items_version ON catalog_items (tenant_id, venue_id, version);

CREATE TABLE staff (
    tenant_id uuid NOT NULL,
    venue_id uuid NOT NULL,
    id uuid NOT NULL,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    role text NOT NULL,
    permissions bigint NOT NULL CHECK (permissions >= 0),
    max_discount_bp int NOT NULL CHECK (max_discount_bp BETWEEN 0 AND 10000),
    totp_required boolean NOT NULL DEFAULT false,
    active boolean NOT NULL DEFAULT true,
    pin_hash text,
    version bigint NOT NULL DEFAULT nextval('catalog_version'),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, venue_id) REFERENCES venues (tenant_id, id)
);

CREATE TABLE settings (
    tenant_id uuid NOT NULL,
    venue_id uuid NOT NULL,
    name text NOT NULL,
    value jsonb NOT NULL,
    version bigint NOT NULL DEFAULT nextval('catalog_version'),
    PRIMARY KEY (tenant_id, venue_id, name),
    FOREIGN KEY (tenant_id, venue_id) REFERENCES venues (tenant_id, id)
);

-- Row-level security on every tenant table, forced, one policy keyed by app.tenant_id.
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['tenants', 'venues', 'devices', 'enrolment_codes', 'device_challenges',
        'sync_ops', 'rejected_ops', 'orders', 'order_lines', 'order_taxes', 'payments', 'refunds',
        'refund_lines', 'refund_taxes', 'refund_payouts', 'unpaid_voids', 'shift_events', 'audit_entries',
        'catalog_items', 'staff', 'settings']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        IF t = 'tenants' THEN
            EXECUTE 'CREATE POLICY tenant_isolation ON tenants USING (id = app_tenant()) WITH CHECK (id = app_tenant())';
        ELSE
            EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = app_tenant()) WITH CHECK (tenant_id = app_tenant())', t);
        END IF;
    END LOOP;
END
$$;

-- Secrets of the service itself (the access-token key), shared by every service process.
CREATE TABLE service_keys (
    name text PRIMARY KEY,
    value bytea NOT NULL
);

-- Roles (cluster-wide, so created only when missing). `pos_service` is what the service logs in
-- as: no BYPASSRLS, not an owner, no UPDATE or DELETE on the append-only tables. `pos_lookup`
-- cannot log in; it owns the two pre-authentication lookups below and may read only the columns
-- they need past row-level security, through its own SELECT-only policies.
-- Another database of the same cluster may be creating them at the same moment: a duplicate is fine.
DO $$
BEGIN
    BEGIN
        CREATE ROLE pos_service NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
    BEGIN
        CREATE ROLE pos_lookup NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
END
$$;

GRANT USAGE ON SCHEMA public TO pos_service, pos_lookup;
GRANT SELECT ON tenants, venues TO pos_service;
GRANT SELECT, INSERT, UPDATE ON devices, enrolment_codes, catalog_items, staff, settings TO pos_service;
GRANT SELECT, INSERT, DELETE ON device_challenges TO pos_service;
GRANT SELECT, INSERT ON sync_ops, rejected_ops, orders, order_lines, order_taxes, payments, refunds,
    refund_lines, refund_taxes, refund_payouts, unpaid_voids, shift_events, audit_entries TO pos_service;
GRANT UPDATE (voided_at) ON orders TO pos_service;
GRANT SELECT ON service_keys TO pos_service;
GRANT USAGE ON SEQUENCE catalog_version TO pos_service;
REVOKE ALL ON FUNCTION app_tenant() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_tenant() TO pos_service, pos_lookup;

GRANT SELECT (id, tenant_id) ON devices TO pos_lookup;
GRANT SELECT (code_hash, tenant_id) ON enrolment_codes TO pos_lookup;
CREATE POLICY pre_auth_lookup ON devices FOR SELECT TO pos_lookup USING (true);
CREATE POLICY pre_auth_lookup ON enrolment_codes FOR SELECT TO pos_lookup USING (true);

-- Before a request is authenticated, the service knows only a device id or an enrolment code.
-- These two functions answer exactly the question the next step needs (which tenant), nothing
-- more. They run as pos_lookup, whose only view past row-level security is those two columns.
CREATE FUNCTION device_tenant(p_device uuid) RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT tenant_id FROM devices WHERE id = p_device
$$;

CREATE FUNCTION enrolment_code_tenant(p_code_hash bytea) RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT tenant_id FROM enrolment_codes WHERE code_hash = p_code_hash
$$;

ALTER FUNCTION device_tenant(uuid) OWNER TO pos_lookup;
ALTER FUNCTION enrolment_code_tenant(bytea) OWNER TO pos_lookup;
REVOKE ALL ON FUNCTION device_tenant(uuid), enrolment_code_tenant(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION device_tenant(uuid), enrolment_code_tenant(bytea) TO pos_service;
