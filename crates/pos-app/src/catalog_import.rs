//! Catalog import: every row is checked before anything is written, every problem is reported with
//! its line number, and the import then commits as one transaction — all rows or none.

use std::collections::{HashMap, HashSet};

use pos_core::catalog::{CategoryId, ProductId, barcode_is_valid};
use pos_core::money::{Currency, Money};
use pos_core::tax::TaxClassId;
use pos_store::Transaction;
use pos_store::catalog::{self as repo, SkuRow};

use crate::error::{AppError, AppResult};
use crate::views::ImportSummary;

/// One catalog row as read from a file, with the line it came from.
#[derive(Debug, Clone, Default)]
pub struct CatalogRow {
    pub line: usize,
    pub sku: String,
    pub product: String,
    pub variant: String,
    pub category: String,
    /// Decimal, e.g. `3.20`, in the venue's price basis.
    pub price: String,
    pub tax_class: String,
    pub barcodes: Vec<String>,
    pub weighed: bool,
    /// Set when the row could not even be read (wrong number of fields, bad encoding…).
    pub unreadable: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct ValidRow {
    sku: String,
    product: String,
    variant: String,
    category: String,
    price: i64,
    tax_class: String,
    barcodes: Vec<String>,
    weighed: bool,
}

fn text(field: &str, value: &str, max: usize, required: bool) -> Result<String, String> {
    let v = value.trim();
    if required && v.is_empty() {
        return Err(format!("{field} is empty"));
    }
    if v.chars().count() > max {
        return Err(format!("{field} is longer than {max} characters"));
    }
    if v.chars().any(char::is_control) {
        return Err(format!("{field} contains control characters"));
    }
    Ok(v.to_owned())
}

/// Checks all rows; on any problem returns one error listing every bad row by line number.
pub(crate) fn validate(
    rows: &[CatalogRow],
    tax_classes: &[String],
    currency: Currency,
    conn: Option<&pos_store::Connection>,
) -> AppResult<Vec<ValidRow>> {
    let mut problems: Vec<String> = Vec::new();
    let mut out = Vec::with_capacity(rows.len());
    let mut seen_sku: HashMap<String, usize> = HashMap::new();
    let mut seen_barcode: HashMap<String, (usize, String)> = HashMap::new();
    for r in rows {
        if let Some(why) = &r.unreadable {
            problems.push(format!("line {}: {why}", r.line));
            continue;
        }
        let mut errs: Vec<String> = Vec::new();
        let sku = text("sku", &r.sku, 64, true).map_err(|e| errs.push(e)).unwrap_or_default();
        let product = text("product", &r.product, 120, true).map_err(|e| errs.push(e)).unwrap_or_default();
        let variant = text("variant", &r.variant, 60, false).map_err(|e| errs.push(e)).unwrap_or_default();
        let category = text("category", &r.category, 60, true).map_err(|e| errs.push(e)).unwrap_or_default();
        let price = match Money::parse(&r.price, currency) {
            Ok(m) if m.minor() >= 0 => m.minor(),
            Ok(_) => {
                errs.push("price is negative".into());
                0
            }
            Err(_) => {
                errs.push(format!("price {:?} is not an amount in {currency}", r.price));
                0
            }
        };
        let tax_class = r.tax_class.trim().to_owned();
        if !tax_classes.contains(&tax_class) {
            errs.push(format!("unknown tax class {:?} (known: {})", r.tax_class, tax_classes.join(", ")));
        }
        if !sku.is_empty()
            && let Some(first) = seen_sku.insert(sku.clone(), r.line)
        {
            errs.push(format!("sku {sku:?} already appears on line {first}"));
        }
        let mut barcodes = Vec::new();
        for b in &r.barcodes {
            let b = b.trim();
            if b.is_empty() {
                continue;
            }
            if !barcode_is_valid(b) {
                errs.push(format!("barcode {b:?} is not a valid EAN/UPC or in-store code"));
                continue;
            }
            if let Some((first, other)) = seen_barcode.get(b)
                && *other != sku
            {
                errs.push(format!("barcode {b:?} is also given to sku {other:?} on line {first}"));
                continue;
            }
            seen_barcode.insert(b.to_owned(), (r.line, sku.clone()));
            if let Some(conn) = conn {
                match repo::barcode_owner(conn, b) {
                    Ok(Some(owner)) if owner != sku && !rows.iter().any(|o| o.sku.trim() == owner) => {
                        errs.push(format!("barcode {b:?} already belongs to sku {owner:?}"));
                        continue;
                    }
                    Ok(_) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            barcodes.push(b.to_owned());
        }
        if errs.is_empty() {
            out.push(ValidRow { sku, product, variant, category, price, tax_class, barcodes, weighed: r.weighed });
        } else {
            problems.push(format!("line {}: {}", r.line, errs.join("; ")));
        }
    }
    if !problems.is_empty() {
        let shown = problems.len();
        return Err(AppError::invalid(format!(
            "catalog not imported, nothing was changed; {shown} bad row(s):\n{}",
            problems.join("\n")
        )));
    }
    Ok(out)
}

/// Writes validated rows inside the caller's transaction.
pub(crate) fn write(tx: &Transaction, rows: &[ValidRow]) -> AppResult<ImportSummary> {
    let classes: HashMap<String, TaxClassId> =
        repo::load_tax_classes(tx)?.into_iter().map(|c| (c.name, c.id)).collect();
    let mut categories: HashMap<String, CategoryId> = HashMap::new();
    let mut products: HashMap<(String, CategoryId), ProductId> = HashMap::new();
    let mut touched_products: HashSet<ProductId> = HashSet::new();
    let mut summary = ImportSummary {
        rows: rows.len(),
        skus_created: 0,
        skus_updated: 0,
        products_created: 0,
        categories_created: 0,
    };
    for r in rows {
        let class = classes[&r.tax_class];
        let category = match categories.get(&r.category) {
            Some(c) => *c,
            None => {
                let c = match repo::category_by_name(tx, &r.category)? {
                    Some(c) => c,
                    None => {
                        summary.categories_created += 1;
                        repo::insert_category(tx, &r.category)?
                    }
                };
                categories.insert(r.category.clone(), c);
                c
            }
        };
        let key = (r.product.clone(), category);
        let product = match products.get(&key) {
            Some(p) => *p,
            None => {
                let p = match repo::product_by_name(tx, &r.product, category)? {
                    Some(p) => p,
                    None => {
                        summary.products_created += 1;
                        repo::insert_product(tx, &r.product, category, class)?
                    }
                };
                products.insert(key, p);
                p
            }
        };
        if touched_products.insert(product) {
            repo::set_product_tax_class(tx, product, class)?;
        }
        if repo::sku_exists(tx, &r.sku)? {
            summary.skus_updated += 1;
        } else {
            summary.skus_created += 1;
        }
        repo::upsert_sku(
            tx,
            &SkuRow {
                code: &r.sku,
                product,
                variant: &r.variant,
                price: r.price,
                weighed: r.weighed,
                barcodes: &r.barcodes,
            },
        )?;
    }
    Ok(summary)
}

const CATALOG_HEADER: [&str; 8] =
    ["sku", "product", "variant", "category", "price", "tax_class", "barcodes", "weighed"];

/// Reads a catalog CSV (`name` names it in errors). Rows that cannot be read become rows with a problem, so that the import
/// reports every bad line at once and imports nothing.
pub fn read_catalog_csv(input: impl std::io::Read, name: &str) -> Result<Vec<CatalogRow>, AppError> {
    let mut rdr = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(input);
    let headers = rdr.headers().map_err(|e| AppError::invalid(format!("line 1: {e}")))?.clone();
    let idx = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let missing: Vec<&str> = CATALOG_HEADER[..6].iter().copied().filter(|h| idx(h).is_none()).collect();
    if !missing.is_empty() {
        return Err(AppError::invalid(format!(
            "line 1: the header lacks {}; expected columns: {}",
            missing.join(", "),
            CATALOG_HEADER.join(",")
        )));
    }
    let mut rows = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let fallback_line = i + 2;
        match rec {
            Err(e) => {
                let line = e.position().map_or(fallback_line, |p| p.line() as usize);
                rows.push(CatalogRow { line, unreadable: Some(e.to_string()), ..CatalogRow::default() });
            }
            Ok(r) => {
                let line = r.position().map_or(fallback_line, |p| p.line() as usize);
                if r.len() != headers.len() {
                    rows.push(CatalogRow {
                        line,
                        unreadable: Some(format!("{} fields, the header has {}", r.len(), headers.len())),
                        ..CatalogRow::default()
                    });
                    continue;
                }
                let get = |name: &str| idx(name).and_then(|i| r.get(i)).unwrap_or("").to_owned();
                let weighed = match get("weighed").to_ascii_lowercase().as_str() {
                    "" | "0" | "false" | "no" => Ok(false),
                    "1" | "true" | "yes" => Ok(true),
                    other => Err(format!("weighed must be yes or no, got {other:?}")),
                };
                rows.push(CatalogRow {
                    line,
                    sku: get("sku"),
                    product: get("product"),
                    variant: get("variant"),
                    category: get("category"),
                    price: get("price"),
                    tax_class: get("tax_class"),
                    barcodes: get("barcodes")
                        .split('|')
                        .map(str::trim)
                        .filter(|b| !b.is_empty())
                        .map(String::from)
                        .collect(),
                    weighed: *weighed.as_ref().unwrap_or(&false),
                    unreadable: weighed.err(),
                });
            }
        }
    }
    if rows.is_empty() {
        return Err(AppError::invalid(format!("{name} has no rows")));
    }
    Ok(rows)
}
