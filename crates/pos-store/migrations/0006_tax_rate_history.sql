-- Tax rates change (a VAT rise, a class moved to another rate) and flow down from the cloud.
-- A rate row is never changed or deleted: sales refer to it by id. A changed percentage retires
-- the old row and adds a new one to the same class; a class sells with its unretired rates.
ALTER TABLE tax_rates ADD COLUMN retired_at INTEGER;

CREATE TRIGGER tax_rates_fixed BEFORE UPDATE OF id, class_id, code, rate_ppm ON tax_rates
BEGIN
    SELECT RAISE(ABORT, 'a tax rate is never changed: retire it and add another');
END;

CREATE TRIGGER tax_rates_retired_for_good BEFORE UPDATE OF retired_at ON tax_rates
WHEN OLD.retired_at IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'a retired tax rate stays retired');
END;

CREATE TRIGGER tax_rates_kept BEFORE DELETE ON tax_rates
BEGIN
    SELECT RAISE(ABORT, 'a tax rate is never deleted');
END;
