-- Tax classes flow down to registers with the catalog: one row per class of a venue, its rates
-- kept whole as JSON (`[{"code","name","rate_ppm"}]`), versioned from the same sequence as the
-- catalog so one pull cursor covers both.
CREATE TABLE tax_classes (
    tenant_id uuid NOT NULL,
    venue_id uuid NOT NULL,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 60),
    rates jsonb NOT NULL CHECK (jsonb_typeof(rates) = 'array' AND jsonb_array_length(rates) BETWEEN 1 AND 4),
    version bigint NOT NULL DEFAULT nextval('catalog_version'),
    PRIMARY KEY (tenant_id, venue_id, name),
    FOREIGN KEY (tenant_id, venue_id) REFERENCES venues (tenant_id, id)
);
CREATE INDEX tax_classes_version ON tax_classes (tenant_id, venue_id, version);

ALTER TABLE tax_classes ENABLE ROW LEVEL SECURITY;
ALTER TABLE tax_classes FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tax_classes USING (tenant_id = app_tenant()) WITH CHECK (tenant_id = app_tenant());

GRANT SELECT, INSERT, UPDATE ON tax_classes TO pos_service;
