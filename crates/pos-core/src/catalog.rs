//! The catalog as the register sells from it: categories, products, their variants (SKUs), barcodes
//! and prices, with an in-memory index for barcode lookup and type-ahead search.

use std::collections::HashMap;

use serde::Serialize;

use crate::tax::TaxClassId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct CategoryId(pub i64);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ProductId(pub i64);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct SkuId(pub i64);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    pub id: CategoryId,
    pub name: String,
}

/// A sellable variant of a product ("Latte, large"), with its own code, price and barcodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sku {
    pub id: SkuId,
    /// The merchant's SKU code, unique in the venue.
    pub code: String,
    pub product_id: ProductId,
    pub product_name: String,
    /// Empty for a product with a single variant.
    pub variant_name: String,
    pub category_id: CategoryId,
    pub tax_class: TaxClassId,
    /// Price per unit (or per kg for weighed goods) in minor units, in the venue's price basis.
    pub price: i64,
    /// Sold by weight: quantities may have thousandths.
    pub weighed: bool,
    pub barcodes: Vec<String>,
}

impl Sku {
    /// The name a cashier and a receipt show: product and variant.
    pub fn display_name(&self) -> String {
        if self.variant_name.is_empty() {
            self.product_name.clone()
        } else {
            format!("{} {}", self.product_name, self.variant_name)
        }
    }
}

/// Checks a barcode: 8, 12, 13 or 14 digits (EAN-8, UPC-A, EAN-13, GTIN-14) with a valid check digit,
/// or an in-store code of 4 to 32 printable ASCII characters.
pub fn barcode_is_valid(code: &str) -> bool {
    let b = code.as_bytes();
    if b.iter().all(u8::is_ascii_digit) && matches!(b.len(), 8 | 12 | 13 | 14) {
        let digits: Vec<u32> = b.iter().map(|d| (d - b'0') as u32).collect();
        let (body, check) = digits.split_at(digits.len() - 1);
        let sum: u32 = body.iter().rev().enumerate().map(|(i, d)| if i % 2 == 0 { d * 3 } else { *d }).sum();
        return (10 - sum % 10) % 10 == check[0];
    }
    (4..=32).contains(&b.len()) && b.iter().all(|c| c.is_ascii_graphic())
}

/// Lower-cases and strips common Latin accents so "creme" finds "Crème brûlée".
pub fn fold_for_search(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars().flat_map(char::to_lowercase) {
        let folded = match ch {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
            'ç' => 'c',
            'è' | 'é' | 'ê' | 'ë' => 'e',
            'ì' | 'í' | 'î' | 'ï' | 'ı' => 'i',
            'ñ' => 'n',
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' => 'o',
            'ù' | 'ú' | 'û' | 'ü' => 'u',
            'ý' | 'ÿ' => 'y',
            'ş' => 's',
            'ğ' => 'g',
            'ß' => {
                out.push_str("ss");
                continue;
            }
            c => c,
        };
        out.push(folded);
    }
    out
}

/// The catalog loaded for selling. Barcode and code lookups are hash lookups; search scans one
/// folded text buffer, which stays well under a millisecond for 100,000 SKUs.
#[derive(Debug, Default)]
pub struct Catalog {
    categories: Vec<Category>,
    skus: Vec<Sku>,
    by_id: HashMap<SkuId, u32>,
    by_code: HashMap<String, u32>,
    by_barcode: HashMap<String, u32>,
    /// Folded display names, each followed by '\n', and where each starts.
    search_text: String,
    search_starts: Vec<u32>,
    /// Every word start in `search_text` as (offset, SKU index), sorted by the text from there:
    /// the SKUs with a word starting with a fragment are one binary search away.
    word_starts: Vec<(u32, u32)>,
}

impl Catalog {
    pub fn new(categories: Vec<Category>, skus: Vec<Sku>) -> Catalog {
        let mut by_id = HashMap::with_capacity(skus.len());
        let mut by_code = HashMap::with_capacity(skus.len());
        let mut by_barcode = HashMap::with_capacity(skus.len());
        let mut search_text = String::with_capacity(skus.len() * 24);
        let mut search_starts = Vec::with_capacity(skus.len());
        for (i, s) in skus.iter().enumerate() {
            let i = i as u32;
            by_id.insert(s.id, i);
            by_code.insert(s.code.clone(), i);
            for b in &s.barcodes {
                by_barcode.insert(b.clone(), i);
            }
            search_starts.push(search_text.len() as u32);
            search_text.push_str(&fold_for_search(&s.product_name));
            if !s.variant_name.is_empty() {
                search_text.push(' ');
                search_text.push_str(&fold_for_search(&s.variant_name));
            }
            search_text.push('\n');
        }
        let hay = search_text.as_bytes();
        let mut word_starts: Vec<(u32, u32)> = Vec::with_capacity(skus.len() * 4);
        for (i, &start) in search_starts.iter().enumerate() {
            let mut at = start as usize;
            word_starts.push((start, i as u32));
            while hay[at] != b'\n' {
                if hay[at] == b' ' && hay[at + 1] != b' ' && hay[at + 1] != b'\n' {
                    word_starts.push((at as u32 + 1, i as u32));
                }
                at += 1;
            }
        }
        word_starts.sort_unstable_by(|a, b| hay[a.0 as usize..].cmp(&hay[b.0 as usize..]));
        Catalog { categories, skus, by_id, by_code, by_barcode, search_text, search_starts, word_starts }
    }

    pub fn len(&self) -> usize {
        self.skus.len()
    }

    pub fn is_empty(&self) -> bool {
        self.skus.is_empty()
    }

    pub fn categories(&self) -> &[Category] {
        &self.categories
    }

    pub fn category(&self, id: CategoryId) -> Option<&Category> {
        self.categories.iter().find(|c| c.id == id)
    }

    pub fn skus(&self) -> &[Sku] {
        &self.skus
    }

    pub fn sku(&self, id: SkuId) -> Option<&Sku> {
        self.by_id.get(&id).map(|&i| &self.skus[i as usize])
    }

    pub fn by_code(&self, code: &str) -> Option<&Sku> {
        self.by_code.get(code).map(|&i| &self.skus[i as usize])
    }

    pub fn by_barcode(&self, barcode: &str) -> Option<&Sku> {
        self.by_barcode.get(barcode).map(|&i| &self.skus[i as usize])
    }

    /// SKUs whose name contains `fragment` (case- and accent-insensitive), at most `limit`: first
    /// those with a word starting with it, then those that contain it elsewhere, each group in
    /// catalog order. (When more than `limit` words start with it, the alphabetically first win.)
    pub fn search(&self, fragment: &str, limit: usize) -> Vec<&Sku> {
        let needle = fold_for_search(fragment.trim());
        if needle.is_empty() || needle.contains('\n') || limit == 0 {
            return Vec::new();
        }
        let hay = self.search_text.as_bytes();
        let n = needle.as_bytes();
        let mut found: Vec<u32> = Vec::with_capacity(limit);
        let first = self.word_starts.partition_point(|e| &hay[e.0 as usize..] < n);
        for &(at, idx) in &self.word_starts[first..] {
            if !hay[at as usize..].starts_with(n) || found.len() >= limit {
                break;
            }
            if !found.contains(&idx) {
                found.push(idx);
            }
        }
        // Among the word-start matches, the catalog's own order (small before large) reads best.
        found.sort_unstable();
        if found.len() < limit {
            // Fewer word-start matches than asked for: look inside words too.
            let text = self.search_text.as_str();
            let mut from = 0;
            while found.len() < limit
                && let Some(pos) = text[from..].find(needle.as_str())
            {
                let at = from + pos;
                let idx = self.search_starts.partition_point(|&st| st as usize <= at) - 1;
                if !found.contains(&(idx as u32)) {
                    found.push(idx as u32);
                }
                // Continue after this SKU's name so each SKU is listed once.
                from = self.search_starts.get(idx + 1).map_or(text.len(), |&st| st as usize);
            }
        }
        found.into_iter().map(|i| &self.skus[i as usize]).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sku(id: i64, name: &str, variant: &str, barcode: &str) -> Sku {
        Sku {
            id: SkuId(id),
            code: format!("S{id}"),
            product_id: ProductId(id),
            product_name: name.into(),
            variant_name: variant.into(),
            category_id: CategoryId(1),
            tax_class: TaxClassId(1),
            price: 100,
            weighed: false,
            barcodes: vec![barcode.into()],
        }
    }

    #[test]
    fn barcodes() {
        assert!(barcode_is_valid("4006381333931"));
        assert!(!barcode_is_valid("4006381333932"));
        assert!(barcode_is_valid("96385074"));
        assert!(barcode_is_valid("CAFE-01"));
        assert!(!barcode_is_valid("ab"));
        assert!(!barcode_is_valid("has space"));
    }

    #[test]
    fn search_ranks_word_starts_first_and_folds_accents() {
        let c = Catalog::new(
            vec![],
            vec![
                sku(1, "Crème brûlée", "", "1001"),
                sku(2, "Ice cream", "", "1002"),
                sku(3, "Cream cheese bagel", "", "1003"),
                sku(4, "Latte", "large", "1004"),
            ],
        );
        let names = |q: &str| c.search(q, 10).iter().map(|s| s.id.0).collect::<Vec<_>>();
        assert_eq!(names("cre"), vec![1, 2, 3]);
        assert_eq!(names("CREME"), vec![1]);
        assert_eq!(names("ream"), vec![2, 3]);
        assert_eq!(names("large"), vec![4]);
        assert_eq!(names(""), Vec::<i64>::new());
        assert_eq!(c.search("cre", 1).len(), 1);
        assert_eq!(c.by_barcode("1004").unwrap().display_name(), "Latte large");
        assert!(c.by_barcode("9999").is_none());
    }
}
