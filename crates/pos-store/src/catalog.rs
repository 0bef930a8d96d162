//! Catalog, tax and venue rows.

use std::collections::HashMap;

use pos_core::catalog::{Catalog, Category, CategoryId, ProductId, Sku, SkuId};
use pos_core::tax::{TaxClass, TaxClassId, TaxRate, TaxRateId};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;

use crate::error::StoreError;

/// The venue's settings as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenueRow {
    pub name: String,
    pub currency: String,
    pub time_zone: String,
    pub day_cutoff_hour: i64,
    pub prices_include_tax: bool,
    pub tax_rounding: String,
    pub cash_rounding: i64,
}

pub fn insert_venue(tx: &Transaction, v: &VenueRow) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO venue (id, name, currency, time_zone, day_cutoff_hour, prices_include_tax, tax_rounding, cash_rounding)
         VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![v.name, v.currency, v.time_zone, v.day_cutoff_hour, v.prices_include_tax, v.tax_rounding, v.cash_rounding],
    )?;
    Ok(())
}

pub fn load_venue(conn: &Connection) -> Result<Option<VenueRow>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT name, currency, time_zone, day_cutoff_hour, prices_include_tax, tax_rounding, cash_rounding FROM venue WHERE id = 1",
            [],
            |r| {
                Ok(VenueRow {
                    name: r.get(0)?,
                    currency: r.get(1)?,
                    time_zone: r.get(2)?,
                    day_cutoff_hour: r.get(3)?,
                    prices_include_tax: r.get(4)?,
                    tax_rounding: r.get(5)?,
                    cash_rounding: r.get(6)?,
                })
            },
        )
        .optional()?)
}

pub fn insert_device(tx: &Transaction, device_id: &str, name: &str, at: i64) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO device (id, device_id, name, created_at) VALUES (1, ?1, ?2, ?3)",
        params![device_id, name, at],
    )?;
    Ok(())
}

pub fn device_id(conn: &Connection) -> Result<Option<String>, StoreError> {
    Ok(conn.query_row("SELECT device_id FROM device WHERE id = 1", [], |r| r.get(0)).optional()?)
}

pub fn insert_tax_class(tx: &Transaction, name: &str) -> Result<TaxClassId, StoreError> {
    tx.execute("INSERT INTO tax_classes (name) VALUES (?1)", [name])?;
    Ok(TaxClassId(tx.last_insert_rowid()))
}

pub fn insert_tax_rate(
    tx: &Transaction,
    class: TaxClassId,
    code: &str,
    name: &str,
    rate_ppm: i64,
) -> Result<TaxRateId, StoreError> {
    tx.execute(
        "INSERT INTO tax_rates (class_id, code, name, rate_ppm) VALUES (?1, ?2, ?3, ?4)",
        params![class.0, code, name, rate_ppm],
    )?;
    Ok(TaxRateId(tx.last_insert_rowid()))
}

pub fn load_tax_classes(conn: &Connection) -> Result<Vec<TaxClass>, StoreError> {
    let mut classes: Vec<TaxClass> = Vec::new();
    let mut stmt = conn.prepare("SELECT id, name FROM tax_classes ORDER BY id")?;
    for row in stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))? {
        let (id, name) = row?;
        classes.push(TaxClass { id: TaxClassId(id), name, rates: Vec::new() });
    }
    let mut stmt =
        conn.prepare("SELECT id, class_id, code, name, rate_ppm FROM tax_rates WHERE retired_at IS NULL ORDER BY id")?;
    for row in stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, i64>(4)?,
        ))
    })? {
        let (id, class_id, code, name, rate_ppm) = row?;
        if let Some(c) = classes.iter_mut().find(|c| c.id.0 == class_id) {
            c.rates.push(TaxRate { id: TaxRateId(id), code, name, rate_ppm });
        }
    }
    Ok(classes)
}

/// A rate a class should apply, as [`set_tax_class`] takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateSpec<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub rate_ppm: i64,
}

/// What [`set_tax_class`] changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TaxClassChange {
    pub class: String,
    pub created: bool,
    /// Rates added: `(code, rate_ppm)`, including the new row of a changed percentage.
    pub added: Vec<(String, i64)>,
    /// Rates retired: `(code, rate_ppm)`.
    pub retired: Vec<(String, i64)>,
    /// Codes whose name alone changed (the row is kept).
    pub renamed: Vec<String>,
}

impl TaxClassChange {
    pub fn is_empty(&self) -> bool {
        !self.created && self.added.is_empty() && self.retired.is_empty() && self.renamed.is_empty()
    }
}

/// Makes class `name` apply exactly `rates` from now on. A missing class is created. A code whose
/// percentage changed, and a code no longer listed, is retired at `at` (microseconds), never
/// changed or deleted, so sales keep pointing at the rate they were sold at; a changed
/// percentage gets a new row. `rates` must be non-empty with distinct codes (the caller checks).
pub fn set_tax_class(tx: &Transaction, name: &str, rates: &[RateSpec], at: i64) -> Result<TaxClassChange, StoreError> {
    let mut change = TaxClassChange { class: name.to_owned(), ..TaxClassChange::default() };
    let class = match tx.query_row("SELECT id FROM tax_classes WHERE name = ?1", [name], |r| r.get(0)).optional()? {
        Some(id) => TaxClassId(id),
        None => {
            change.created = true;
            insert_tax_class(tx, name)?
        }
    };
    let mut current: Vec<(i64, String, String, i64)> = Vec::new();
    {
        let mut stmt =
            tx.prepare("SELECT id, code, name, rate_ppm FROM tax_rates WHERE class_id = ?1 AND retired_at IS NULL")?;
        for row in stmt.query_map([class.0], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))? {
            current.push(row?);
        }
    }
    let retire = |id: i64| tx.execute("UPDATE tax_rates SET retired_at = ?2 WHERE id = ?1", params![id, at]);
    for (id, code, old_name, ppm) in &current {
        match rates.iter().find(|r| r.code == code) {
            Some(r) if r.rate_ppm == *ppm => {
                if r.name != old_name {
                    tx.execute("UPDATE tax_rates SET name = ?2 WHERE id = ?1", params![id, r.name])?;
                    change.renamed.push(code.clone());
                }
            }
            _ => {
                retire(*id)?;
                change.retired.push((code.clone(), *ppm));
            }
        }
    }
    for r in rates {
        let kept = current.iter().any(|(_, code, _, ppm)| code == r.code && *ppm == r.rate_ppm);
        if !kept {
            insert_tax_rate(tx, class, r.code, r.name, r.rate_ppm)?;
            change.added.push((r.code.to_owned(), r.rate_ppm));
        }
    }
    Ok(change)
}

pub fn category_by_name(conn: &Connection, name: &str) -> Result<Option<CategoryId>, StoreError> {
    Ok(conn.query_row("SELECT id FROM categories WHERE name = ?1", [name], |r| r.get(0)).optional()?.map(CategoryId))
}

pub fn insert_category(tx: &Transaction, name: &str) -> Result<CategoryId, StoreError> {
    tx.execute("INSERT INTO categories (name) VALUES (?1)", [name])?;
    Ok(CategoryId(tx.last_insert_rowid()))
}

pub fn product_by_name(conn: &Connection, name: &str, category: CategoryId) -> Result<Option<ProductId>, StoreError> {
    Ok(conn
        .query_row("SELECT id FROM products WHERE name = ?1 AND category_id = ?2", params![name, category.0], |r| {
            r.get(0)
        })
        .optional()?
        .map(ProductId))
}

pub fn insert_product(
    tx: &Transaction,
    name: &str,
    category: CategoryId,
    tax_class: TaxClassId,
) -> Result<ProductId, StoreError> {
    tx.execute(
        "INSERT INTO products (name, category_id, tax_class_id) VALUES (?1, ?2, ?3)",
        params![name, category.0, tax_class.0],
    )?;
    Ok(ProductId(tx.last_insert_rowid()))
}

pub fn set_product_tax_class(tx: &Transaction, product: ProductId, tax_class: TaxClassId) -> Result<(), StoreError> {
    tx.execute("UPDATE products SET tax_class_id = ?2 WHERE id = ?1", params![product.0, tax_class.0])?;
    Ok(())
}

/// A SKU as written: new or replacing the one with the same code.
#[derive(Debug, Clone)]
pub struct SkuRow<'a> {
    pub code: &'a str,
    pub product: ProductId,
    pub variant: &'a str,
    pub price: i64,
    pub weighed: bool,
    pub barcodes: &'a [String],
}

/// Inserts or updates a SKU by code and replaces its barcodes. A barcode that another SKU still
/// holds moves to this one: the import has checked that its old owner is in the same file and gives
/// it up, whichever row comes first (two SKUs may even swap barcodes).
pub fn upsert_sku(tx: &Transaction, s: &SkuRow) -> Result<SkuId, StoreError> {
    let id: i64 = tx.query_row(
        "INSERT INTO skus (code, product_id, variant, price, weighed, active) VALUES (?1, ?2, ?3, ?4, ?5, 1)
         ON CONFLICT (code) DO UPDATE SET product_id = excluded.product_id, variant = excluded.variant,
             price = excluded.price, weighed = excluded.weighed, active = 1
         RETURNING id",
        params![s.code, s.product.0, s.variant, s.price, s.weighed],
        |r| r.get(0),
    )?;
    tx.execute("DELETE FROM barcodes WHERE sku_id = ?1", [id])?;
    let mut stmt = tx.prepare_cached(
        "INSERT INTO barcodes (code, sku_id) VALUES (?1, ?2) ON CONFLICT (code) DO UPDATE SET sku_id = excluded.sku_id",
    )?;
    for b in s.barcodes {
        stmt.execute(params![b, id])?;
    }
    Ok(SkuId(id))
}

/// Which SKU code a barcode belongs to, if any.
pub fn barcode_owner(conn: &Connection, barcode: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row("SELECT s.code FROM barcodes b JOIN skus s ON s.id = b.sku_id WHERE b.code = ?1", [barcode], |r| {
            r.get(0)
        })
        .optional()?)
}

/// Loads everything the register sells from: active SKUs with product, category and barcodes.
pub fn load_catalog(conn: &Connection) -> Result<Catalog, StoreError> {
    let mut categories = Vec::new();
    let mut stmt = conn.prepare("SELECT id, name FROM categories ORDER BY id")?;
    for row in stmt.query_map([], |r| Ok(Category { id: CategoryId(r.get(0)?), name: r.get(1)? }))? {
        categories.push(row?);
    }
    let count: i64 = conn.query_row("SELECT count(*) FROM skus WHERE active = 1", [], |r| r.get(0))?;
    let mut skus: Vec<Sku> = Vec::with_capacity(count as usize);
    let mut index: HashMap<i64, usize> = HashMap::with_capacity(count as usize);
    let mut stmt = conn.prepare(
        "SELECT s.id, s.code, s.product_id, p.name, s.variant, p.category_id, p.tax_class_id, s.price, s.weighed
         FROM skus s JOIN products p ON p.id = s.product_id WHERE s.active = 1 ORDER BY s.id",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        index.insert(id, skus.len());
        skus.push(Sku {
            id: SkuId(id),
            code: r.get(1)?,
            product_id: ProductId(r.get(2)?),
            product_name: r.get(3)?,
            variant_name: r.get(4)?,
            category_id: CategoryId(r.get(5)?),
            tax_class: TaxClassId(r.get(6)?),
            price: r.get(7)?,
            weighed: r.get(8)?,
            barcodes: Vec::new(),
        });
    }
    let mut stmt = conn.prepare("SELECT sku_id, code FROM barcodes")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let sku: i64 = r.get(0)?;
        if let Some(&i) = index.get(&sku) {
            skus[i].barcodes.push(r.get(1)?);
        }
    }
    Ok(Catalog::new(categories, skus))
}

/// A staff member as stored.
#[derive(Debug, Clone)]
pub struct StaffRow {
    pub id: i64,
    pub name: String,
    pub role: String,
    pub pin_hash: String,
    pub active: bool,
}

pub fn insert_staff(tx: &Transaction, name: &str, role: &str, pin_hash: &str) -> Result<i64, StoreError> {
    tx.execute(
        "INSERT INTO staff (name, role, pin_hash, active) VALUES (?1, ?2, ?3, 1)",
        params![name, role, pin_hash],
    )?;
    Ok(tx.last_insert_rowid())
}

pub fn list_staff(conn: &Connection) -> Result<Vec<StaffRow>, StoreError> {
    let mut stmt = conn.prepare("SELECT id, name, role, pin_hash, active FROM staff ORDER BY id")?;
    let rows = stmt.query_map([], |r| {
        Ok(StaffRow { id: r.get(0)?, name: r.get(1)?, role: r.get(2)?, pin_hash: r.get(3)?, active: r.get(4)? })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn sku_exists(conn: &Connection, code: &str) -> Result<bool, StoreError> {
    Ok(conn.query_row("SELECT 1 FROM skus WHERE code = ?1", [code], |_| Ok(())).optional()?.is_some())
}
