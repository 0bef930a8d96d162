//! Catalog import: all rows or none; every bad row reported by its line number.

use pos_app::demo::ean13;
use pos_app::pos_core::money::{Currency, Quantity};
use pos_app::{CatalogRow, ErrorCode, ItemRef};

use crate::support::*;

fn row(line: usize, sku: &str, product: &str, price: &str, tax_class: &str, barcodes: &[&str]) -> CatalogRow {
    CatalogRow {
        line,
        sku: sku.into(),
        product: product.into(),
        variant: String::new(),
        category: "Seasonal".into(),
        price: price.into(),
        tax_class: tax_class.into(),
        barcodes: barcodes.iter().map(|b| b.to_string()).collect(),
        weighed: false,
        unreadable: None,
    }
}

#[test]
fn a_file_with_bad_rows_is_refused_whole_and_every_bad_line_is_named() {
    let (mut f, office) = demo_with_back_office();
    let m = manager(&mut f.reg);
    let size = f.reg.catalog().len();
    let good_barcode = ean13(555_000_000_001);
    let rows = vec![
        row(2, "NEW-01", "Pumpkin Spice Latte", "4.50", "standard", &[&good_barcode]),
        row(3, "NEW-02", "Gold Leaf Cake", "9.90", "luxury", &[]),
        row(4, "NEW-03", "Apple Pie", "1,20", "reduced", &[]),
        row(5, "NEW-04", "Imported Biscuits", "3.00", "reduced", &["4006381333932"]),
        row(6, "NEW-05", "Chestnut Cake", "3.80", "reduced", &[]),
        row(7, "NEW-05", "Chestnut Cake again", "3.90", "reduced", &[]),
        CatalogRow {
            line: 8,
            unreadable: Some("wrong number of fields (3, expected 9)".into()),
            ..CatalogRow::default()
        },
        row(9, "HOT-00-0", "Espresso", "9.99", "standard", &[]),
    ];
    let msg = refused(&mut f.reg, &office, ErrorCode::InvalidInput, |r| r.import_catalog(&m, &rows));
    for bad in [3, 4, 5, 7, 8] {
        assert!(msg.contains(&format!("line {bad}:")), "line {bad} is not reported in: {msg}");
    }
    for good in [2, 6, 9] {
        assert!(!msg.contains(&format!("line {good}:")), "good line {good} is reported in: {msg}");
    }
    assert!(msg.contains("5 bad row(s)"), "{msg}");
    assert!(msg.contains("luxury") && msg.contains("1,20") && msg.contains("4006381333932"), "{msg}");
    assert!(msg.contains("wrong number of fields"), "{msg}");

    // Not even the good rows were imported, on disk either.
    let check = |reg: &pos_app::Register| {
        assert_eq!(reg.catalog().len(), size);
        assert!(reg.catalog().by_code("NEW-01").is_none());
        assert!(reg.catalog().by_code("NEW-05").is_none());
        assert!(reg.search("pumpkin", 5).is_empty());
        expect_err(reg.lookup_barcode(&good_barcode), ErrorCode::NotFound);
        assert_eq!(reg.catalog().by_code("HOT-00-0").expect("espresso").price, 220);
    };
    check(&f.reg);
    let f = f.reopen();
    check(&f.reg);
}

#[test]
fn an_import_creates_and_updates_skus_that_sell_at_once() {
    let mut f = demo();
    let s = cashier(&mut f.reg);
    let m = manager(&mut f.reg);
    f.reg.open_shift(&s, eur(0)).expect("shift");
    let size = f.reg.catalog().len();
    // An espresso rung up before the import keeps the price it was rung up at.
    let before = ring_up(&mut f.reg, &s, &[("HOT-00-0", 1)]);

    let bc = ean13(555_000_000_002);
    let espresso_barcodes = f.reg.catalog().by_code("HOT-00-0").expect("espresso").barcodes.clone();
    let mut weighed = row(4, "NEW-TEA", "Loose Hojicha", "72.00", "reduced", &[]);
    weighed.weighed = true;
    weighed.variant = "per kg".into();
    let rows = vec![
        row(2, "NEW-01", "Pumpkin Spice Latte", "4.50", "standard", &[&bc]),
        CatalogRow {
            variant: "small".into(),
            category: "Hot drinks".into(),
            barcodes: espresso_barcodes,
            ..row(3, "HOT-00-0", "Espresso", "2.40", "standard", &[])
        },
        weighed,
    ];
    let summary = f.reg.import_catalog(&m, &rows).expect("import");
    assert_eq!((summary.rows, summary.skus_created, summary.skus_updated), (3, 2, 1));
    // The espresso stays the same product in the same category; the tea is a second new product.
    assert_eq!((summary.products_created, summary.categories_created), (2, 1));
    assert_eq!(f.reg.catalog().len(), size + 2);
    let v = f.reg.lookup_barcode(&bc).expect("new barcode");
    assert_eq!(
        (v.sku.as_str(), v.name.as_str(), v.category.as_str(), v.price),
        ("NEW-01", "Pumpkin Spice Latte", "Seasonal", eur(450))
    );

    let r = f.reg.pay(&s, &before, &[cash(220, Currency::EUR)]).expect("pay the old price");
    assert_eq!(r.order.total, eur(220));
    let order = f.reg.open_order(&s).expect("order");
    f.reg.add_item(&s, &order, ItemRef::Barcode(&bc), qty(1)).expect("scan new item");
    f.reg.add_item(&s, &order, ItemRef::Code("HOT-00-0"), qty(1)).expect("espresso");
    f.reg.add_item(&s, &order, ItemRef::Code("NEW-TEA"), Quantity::from_milli(100)).expect("weighed");
    let v = f.reg.order_view(&order).expect("view");
    assert_eq!(v.total, eur(450 + 240 + 720));
    f.reg.pay(&s, &order, &[card(1410, Currency::EUR)]).expect("pay");

    let f = f.reopen();
    assert_eq!(f.reg.catalog().len(), size + 2);
    let espresso = f.reg.catalog().by_code("HOT-00-0").expect("espresso");
    assert_eq!((espresso.price, espresso.display_name()), (240, "Espresso small".to_owned()));
    assert_eq!(f.reg.search("espresso small", 5).len(), 1);
}

#[test]
fn barcodes_stay_unique() {
    let (mut f, office) = demo_with_back_office();
    let m = manager(&mut f.reg);
    let espresso = f.reg.catalog().by_code("HOT-00-0").expect("espresso").barcodes[0].clone();
    // A barcode that belongs to an SKU not in the file.
    let rows = vec![row(2, "NEW-01", "Pumpkin Spice Latte", "4.50", "standard", &[&espresso])];
    let msg = refused(&mut f.reg, &office, ErrorCode::InvalidInput, |r| r.import_catalog(&m, &rows));
    assert!(msg.contains("line 2:") && msg.contains("HOT-00-0"), "{msg}");
    // The same barcode for two SKUs of one file.
    let bc = ean13(555_000_000_003);
    let rows =
        vec![row(2, "NEW-01", "A", "1.00", "standard", &[&bc]), row(3, "NEW-02", "B", "1.00", "standard", &[&bc])];
    let msg = refused(&mut f.reg, &office, ErrorCode::InvalidInput, |r| r.import_catalog(&m, &rows));
    assert!(msg.contains("line 3:") && msg.contains("line 2"), "{msg}");
}

#[test]
fn barcodes_can_move_between_skus_of_one_file() {
    let mut f = demo();
    let m = manager(&mut f.reg);
    let code_of = |reg: &pos_app::Register, sku: &str| reg.catalog().by_code(sku).expect("sku").barcodes[0].clone();
    let espresso = code_of(&f.reg, "HOT-00-0");
    let doppio = code_of(&f.reg, "HOT-01-0");
    // The two small espresso drinks swap their barcodes, and a new SKU takes a fresh one.
    let rows = vec![
        row(2, "HOT-00-0", "Espresso", "2.20", "standard", &[&doppio]),
        row(3, "HOT-01-0", "Doppio", "2.90", "standard", &[&espresso]),
    ];
    f.reg.import_catalog(&m, &rows).expect("swap barcodes");
    assert_eq!(f.reg.lookup_barcode(&espresso).expect("scan").sku, "HOT-01-0");
    assert_eq!(f.reg.lookup_barcode(&doppio).expect("scan").sku, "HOT-00-0");
    // A new SKU listed before the old owner that gives the barcode up.
    let rows = vec![
        row(2, "NEW-01", "Ristretto", "2.10", "standard", &[&espresso]),
        row(3, "HOT-01-0", "Doppio", "2.90", "standard", &[]),
    ];
    f.reg.import_catalog(&m, &rows).expect("move a barcode to a new SKU");
    assert_eq!(f.reg.lookup_barcode(&espresso).expect("scan").sku, "NEW-01");
    assert!(f.reg.catalog().by_code("HOT-01-0").expect("doppio").barcodes.is_empty());
}
