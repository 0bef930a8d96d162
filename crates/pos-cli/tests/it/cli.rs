//! posctl's commands and their stable JSON and CSV output.

use crate::support::*;

#[test]
fn demo_store_reports_exports_and_catalog_import() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    let init = init_demo(&dir);
    assert_eq!(init["venue"], "Café Lindenblatt");
    assert!(init["catalog_skus"].as_u64().unwrap() >= 250, "{init}");
    assert_eq!(init["staff"].as_array().unwrap().len(), 4);
    assert_eq!(init["recovery_secret"].as_str().unwrap().len(), 39);

    // Proof of encryption: no SQLite header and no catalog text in the file.
    let db = std::fs::read(dir.join("register.db")).unwrap();
    assert_ne!(&db[..16], b"SQLite format 3\0");
    for name in ["Cappuccino", "Croissant", "Lindenblatt", "Ethiopia"] {
        assert!(!db.windows(name.len()).any(|w| w == name.as_bytes()), "{name} readable in the database file");
    }

    let sales = json(&dir, &["demo-sales", "--count", "300", "--days", "2", "--seed", "11"]);
    assert_eq!(sales["sales"], 300);
    let first_day = sales["first_day"].as_str().unwrap().to_owned();

    // Reports need someone allowed to see them; a cashier is refused, and the refusal is audited.
    let (code, _) = error(&run(&dir, &["report", "z"]));
    assert_eq!(code, "not_signed_in");
    let (code, _) = error(&run_as(&dir, CASHIER, &["report", "z"], ""));
    assert_eq!(code, "permission_denied");
    let (code, _) = error(&run_in(&dir, &["--staff", MANAGER.0, "report", "z"], "0000\n"));
    assert_eq!(code, "wrong_pin", "a PIN typed wrong is refused");
    let z = json_as(&dir, MANAGER, &["report", "z", "--format", "json"]);
    assert_eq!(z["report"], "z");
    let cash = &z["cash"];
    assert!(cash["counted"].is_string() && cash["variance"].is_string(), "{z}");
    for field in ["gross", "discounts", "refunds", "net", "tax_total", "total_collected", "average_ticket"] {
        assert!(z["summary"][field].is_string(), "summary.{field} missing: {z}");
    }

    let daily = json_as(&dir, MANAGER, &["report", "daily", "--date", &first_day, "--format", "json"]);
    assert_eq!(daily["business_day"], first_day.as_str());
    let csv = run_as(&dir, MANAGER, &["report", "daily", "--date", &first_day, "--format", "csv"], "");
    let csv = String::from_utf8(csv.stdout).unwrap();
    assert!(csv.starts_with("section,item,value\n"), "{csv}");
    assert!(csv.lines().all(|l| l.split(',').count() >= 3), "{csv}");

    for kind in ["item-mix", "payments"] {
        let v = json_as(&dir, MANAGER, &["report", kind, "--date", &first_day, "--format", "json"]);
        assert!(v.is_object(), "{kind}: {v}");
    }
    // Exports are back office: PIN and a current authenticator code, never one without the other.
    let (code, _) = error(&run_as(&dir, OWNER, &["report", "tax", "--date", &first_day], "123456\n"));
    assert_eq!(code, "totp_not_enrolled");
    let mut auth = enrol_owner(&dir);
    let (code, _) = error(&run_as(&dir, OWNER, &["report", "tax", "--date", &first_day], "000000\n"));
    assert_eq!(code, "wrong_totp");
    let tax = json_elevated(&dir, &mut auth, &["report", "tax", "--date", &first_day, "--format", "json"]);
    assert!(tax.is_object(), "{tax}");
    let text = String::from_utf8(run_as(&dir, MANAGER, &["report", "z", "--format", "text"], "").stdout).unwrap();
    assert!(text.contains("Z REPORT") && text.contains("Expected in drawer"), "{text}");

    let export = json_elevated(&dir, &mut auth, &["export", "sales", "--from", &first_day, "--to", "2100-01-01"]);
    let paid = export.as_array().unwrap().iter().filter(|o| o["receipt_no"].is_number()).count();
    assert!(paid >= 300, "export has {paid} receipts");

    // A catalog file with bad rows changes nothing and names every bad line.
    let before = json(&dir, &["doctor"])["catalog_skus"].as_u64().unwrap();
    let file = tmp.path().join("catalog.csv");
    std::fs::write(
        &file,
        "sku,product,variant,category,price,tax_class,barcodes,weighed\n\
         NEW-1,Good Thing,,Pantry,2.50,reduced,,no\n\
         NEW-2,Bad Price,,Pantry,2,50,reduced,,no\n\
         NEW-3,Bad Tax,,Pantry,1.00,luxury,,no\n\
         NEW-4,Bad Barcode,,Pantry,1.00,reduced,4006381333932,no\n",
    )
    .unwrap();
    let (code, _) = error(&run_as(&dir, CASHIER, &["catalog", "import", file.to_str().unwrap()], ""));
    assert_eq!(code, "permission_denied");
    let out = run_as(&dir, MANAGER, &["catalog", "import", file.to_str().unwrap()], "");
    let (code, message) = error(&out);
    assert_eq!(code, "invalid_input");
    for line in ["line 3", "line 4", "line 5"] {
        assert!(message.contains(line), "{line} not reported: {message}");
    }
    assert!(!message.contains("line 2"), "{message}");
    assert_eq!(json(&dir, &["doctor"])["catalog_skus"].as_u64().unwrap(), before);

    std::fs::write(
        &file,
        "sku,product,variant,category,price,tax_class,barcodes,weighed\n\
         NEW-1,Good Thing,,Pantry,2.50,reduced,4006381333931,no\n",
    )
    .unwrap();
    let summary = json_as(&dir, MANAGER, &["catalog", "import", file.to_str().unwrap()]);
    assert_eq!(summary["skus_created"], 1);
    assert_eq!(json(&dir, &["doctor"])["catalog_skus"].as_u64().unwrap(), before + 1);

    // Everything above is in the signed chain, and the chain verifies.
    let verify = json(&dir, &["audit", "verify"]);
    assert_eq!(verify["ok"], true, "{verify}");
    let export = json_elevated(&dir, &mut auth, &["audit", "export", "--format", "json"]);
    let actions: Vec<String> = export["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| serde_json::from_str::<serde_json::Value>(e["body"].as_str().unwrap()).unwrap()["action"].to_string())
        .collect();
    for action in
        ["store_created", "sale", "permission_denied", "pin_failed", "totp_enrolled", "export", "catalog_imported"]
    {
        let quoted = format!("\"{action}\"");
        assert!(actions.contains(&quoted), "no {action} entry in the chain");
    }
}

#[test]
fn bad_arguments_and_missing_stores_are_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("nothing-here");
    require_secret_service();
    let (code, message) = error(&run(&dir, &["doctor"]));
    assert_eq!(code, "not_initialised");
    assert!(message.contains("posctl --data-dir"), "{message}");

    // A file that is not our database.
    let other = tmp.path().join("other");
    init_demo(&other);
    std::fs::write(other.join("register.db"), vec![0x5a; 8192]).unwrap();
    let _ = std::fs::remove_file(other.join("register.db-wal"));
    let (code, _) = error(&run(&other, &["doctor"]));
    assert_eq!(code, "wrong_key");

    let fresh = tmp.path().join("fresh");
    init_demo(&fresh);
    let (code, _) = error(&run(&fresh, &["init", "--demo"]));
    assert_eq!(code, "already_initialised");
    let (code, message) =
        error(&run_as(&fresh, MANAGER, &["report", "item-mix", "--date", "2026-02-01", "--to", "2026-01-01"], ""));
    assert_eq!(code, "invalid_input", "{message}");
}
