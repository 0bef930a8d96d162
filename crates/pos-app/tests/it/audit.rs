//! The audit chain: every action lands in it, receipts carry its short hash, the triggers refuse
//! changes, and tampering by someone who holds the database key is caught by `verify_audit` with
//! the right sequence number and fault.

use pos_app::demo::sign_in_as;
use pos_app::pos_audit::{self, FaultKind};
use pos_app::pos_core::refund::RefundRequest;
use pos_app::{OrderRef, SecretStore};

use crate::support::*;

/// A demo store with a day of activity: a sale, a refund, a void, a paid-out, sign-ins.
fn busy_store() -> Fixture {
    let mut fx = demo();
    let manager = sign_in_as(&mut fx.reg, "Mia Keller").unwrap();
    let cashier = sign_in_as(&mut fx.reg, "Jonas Weber").unwrap();
    fx.reg.open_shift(&cashier, eur(15_000)).unwrap();
    for _ in 0..3 {
        sell_cash(&mut fx.reg, &cashier, &[("HOT-00-0", 2), ("BAK-00", 1)]);
    }
    let sale = sell_card(&mut fx.reg, &cashier, &[("HOT-03-0", 1)]);
    fx.reg.refund(&manager, &OrderRef::Receipt(sale.receipt_no), &RefundRequest::Whole, "customer_return").unwrap();
    let _ = fx.reg.sign_in(4, "0000");
    fx.reg.no_sale(&manager, "change").unwrap();
    fx
}

fn raw(fx: &Fixture) -> rusqlite::Connection {
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fx.path().join("store.json")).unwrap()).unwrap();
    let id = meta["store_id"].as_str().unwrap();
    let key = fx.secrets.get(&format!("{id}/db-key")).unwrap().unwrap();
    let conn = rusqlite::Connection::open(fx.path().join("register.db")).unwrap();
    conn.execute_batch(&format!(
        "PRAGMA key = \"x'{}'\"; PRAGMA cipher_hmac_algorithm = HMAC_SHA256; PRAGMA cipher_page_size = 2048;",
        hex::encode(&key[..])
    ))
    .unwrap();
    conn
}

fn reopen_and_verify(fx: Fixture) -> (Fixture, pos_app::views::AuditVerifyView) {
    let fx = fx.reopen();
    let v = fx.reg.verify_audit().unwrap();
    (fx, v)
}

#[test]
fn every_action_is_chained_signed_and_matched_by_its_receipt() {
    let mut fx = demo();
    let cashier = sign_in_as(&mut fx.reg, "Jonas Weber").unwrap();
    fx.reg.open_shift(&cashier, eur(15_000)).unwrap();
    let sale = sell_cash(&mut fx.reg, &cashier, &[("HOT-00-0", 1)]);
    assert_eq!(sale.audit_hash.len(), pos_audit::SHORT_HASH_LEN);
    let v = fx.reg.verify_audit().unwrap();
    assert!(v.ok, "{v:?}");

    let conn = raw(&fx);
    let rows: Vec<(i64, String, String)> = conn
        .prepare("SELECT seq, body, hash FROM audit_log ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let actions: Vec<String> = rows
        .iter()
        .map(|(_, b, _)| serde_json::from_str::<serde_json::Value>(b).unwrap()["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(actions, ["store_created", "sign_in", "shift_opened", "sale"]);
    let (_, body, hash) = rows.last().unwrap();
    assert!(hash.starts_with(&sale.audit_hash), "the receipt's short hash names its entry");
    let body: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(body["subject"]["receipt"], sale.receipt_no);
    assert_eq!(body["amount"], sale.order.total.minor());
    assert_eq!(body["actor"]["name"], "Jonas Weber");
    assert_eq!(body["offset"], "+02:00", "venue offset in summer");
    assert!(body["at"].as_str().unwrap().ends_with('Z'));
    let stored: Option<String> =
        conn.query_row("SELECT audit_hash FROM orders WHERE uuid = ?1", [&sale.order_id], |r| r.get(0)).unwrap();
    assert_eq!(stored.as_deref(), Some(sale.audit_hash.as_str()));

    // The chain is append-only in the database itself.
    for sql in ["UPDATE audit_log SET body = 'x' WHERE seq = 1", "DELETE FROM audit_log WHERE seq = 4"] {
        let err = conn.execute(sql, []).unwrap_err().to_string();
        assert!(err.contains("append-only"), "{sql}: {err}");
    }
    let err = conn
        .execute(
            "INSERT INTO audit_log (seq, body, hash, signature) VALUES (9, 'x', ?1, ?2)",
            ["0".repeat(64), "0".repeat(128)],
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("in sequence"), "{err}");
}

/// Runs `attack` on the raw database (triggers dropped first, as an attacker with the key
/// would) and expects `verify_audit` to name `seq` and `kind`.
fn tampered(attack: impl FnOnce(&rusqlite::Connection, i64) -> i64, kind: FaultKind) {
    let fx = busy_store();
    let before = fx.reg.verify_audit().unwrap();
    assert!(before.ok, "{before:?}");
    let last = before.last_seq.unwrap() as i64;
    let seq = {
        let conn = raw(&fx);
        conn.execute_batch(
            "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete; DROP TRIGGER audit_log_in_order;",
        )
        .unwrap();
        attack(&conn, last)
    };
    let (_fx, v) = reopen_and_verify(fx);
    let f = v.fault.unwrap_or_else(|| panic!("{kind:?} not caught"));
    assert_eq!((f.seq as i64, f.kind), (seq, kind), "{f:?}");
    assert!(!v.ok);
}

#[test]
fn an_edited_entry_is_caught() {
    tampered(
        |c, _| {
            // Lower the amount of the refund entry, keeping everything else.
            let (seq, body): (i64, String) = c
                .query_row("SELECT seq, body FROM audit_log WHERE body LIKE '%\"action\":\"refund\"%'", [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .unwrap();
            let edited = body.replacen("\"amount\":", "\"amount\":1", 1);
            c.execute("UPDATE audit_log SET body = ?2 WHERE seq = ?1", rusqlite::params![seq, edited]).unwrap();
            seq
        },
        FaultKind::HashMismatch,
    );
}

#[test]
fn an_edited_entry_with_a_recomputed_hash_fails_its_signature() {
    tampered(
        |c, _| {
            let seq = 5;
            let body: String = c.query_row("SELECT body FROM audit_log WHERE seq = 5", [], |r| r.get(0)).unwrap();
            let edited = body.replacen("\"outcome\":\"ok\"", "\"outcome\":\"OK\"", 1);
            assert_ne!(edited, body);
            let hash = pos_audit::sha256_hex(edited.as_bytes());
            c.execute("UPDATE audit_log SET body = ?2, hash = ?3 WHERE seq = ?1", rusqlite::params![seq, edited, hash])
                .unwrap();
            seq
        },
        FaultKind::BadSignature,
    );
}

#[test]
fn a_deleted_entry_is_caught_as_a_gap() {
    tampered(
        |c, _| {
            c.execute("DELETE FROM audit_log WHERE seq = 6", []).unwrap();
            6
        },
        FaultKind::Gap,
    );
}

#[test]
fn reordered_entries_are_caught() {
    tampered(
        |c, _| {
            // Swap the contents of entries 7 and 8; the row numbers stay.
            let row = |s: i64| -> (String, String, String) {
                c.query_row("SELECT body, hash, signature FROM audit_log WHERE seq = ?1", [s], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .unwrap()
            };
            let (a, b) = (row(7), row(8));
            let put = |s: i64, v: &(String, String, String)| {
                c.execute(
                    "UPDATE audit_log SET body = ?2, hash = ?3, signature = ?4 WHERE seq = ?1",
                    rusqlite::params![s, v.0, v.1, v.2],
                )
                .unwrap();
            };
            put(7, &b);
            put(8, &a);
            7
        },
        FaultKind::Reordering,
    );
}

#[test]
fn an_inserted_entry_is_caught_even_when_it_is_chained_and_hashed() {
    tampered(
        |c, last| {
            // Make room at 4 by renumbering, then insert a well-formed entry signed with a key
            // the attacker made up (they do not have the device key from the credential store).
            for s in (4..=last).rev() {
                c.execute("UPDATE audit_log SET seq = seq + 1 WHERE seq = ?1", [s]).unwrap();
            }
            let prev: String = c.query_row("SELECT hash FROM audit_log WHERE seq = 3", [], |r| r.get(0)).unwrap();
            let body3: serde_json::Value = serde_json::from_str(
                &c.query_row::<String, _, _>("SELECT body FROM audit_log WHERE seq = 3", [], |r| r.get(0)).unwrap(),
            )
            .unwrap();
            let forger = pos_audit::Ed25519Signer::from_seed(&[42; 32]);
            let e = pos_audit::seal(
                &pos_audit::Event::new("paid_out", "ok").actor(3, "Jonas Weber").amount(10_000, "EUR"),
                &pos_audit::Position {
                    device: body3["device"].as_str().unwrap(),
                    seq: 4,
                    at: body3["at"].as_str().unwrap(),
                    offset: "+02:00",
                    prev: &prev,
                },
                &forger,
            )
            .unwrap();
            c.execute(
                "INSERT INTO audit_log (seq, body, hash, signature) VALUES (4, ?1, ?2, ?3)",
                rusqlite::params![e.body, e.hash, e.signature],
            )
            .unwrap();
            4
        },
        FaultKind::BadSignature,
    );
}

#[test]
fn the_worked_example_in_the_docs_verifies_with_independent_tools() {
    use ed25519_dalek::{Signature, Verifier, VerifyingKey};
    use sha2::Digest;
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/audit-chain.md")).unwrap();
    let start = doc.find("```json example-export").expect("the example block") + "```json example-export".len();
    let end = start + doc[start..].find("```").unwrap();
    let export: serde_json::Value = serde_json::from_str(&doc[start..end]).expect("the example is JSON");
    let pk: [u8; 32] = hex::decode(export["public_key"].as_str().unwrap()).unwrap().try_into().unwrap();
    let key = VerifyingKey::from_bytes(&pk).unwrap();
    let mut prev = "0".repeat(64);
    let entries = export["entries"].as_array().unwrap();
    assert!(entries.len() >= 3);
    for (i, e) in entries.iter().enumerate() {
        let body = e["body"].as_str().unwrap();
        let hash = hex::encode(sha2::Sha256::digest(body.as_bytes()));
        assert_eq!(e["hash"], hash.as_str(), "entry {i}: hash");
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["prev"], prev.as_str(), "entry {i}: chain");
        assert_eq!(v["seq"], e["seq"], "entry {i}: seq");
        let sig: [u8; 64] = hex::decode(e["signature"].as_str().unwrap()).unwrap().try_into().unwrap();
        key.verify(body.as_bytes(), &Signature::from_bytes(&sig)).expect("signature");
        prev = hash;
    }
    // And the doc's example is exactly what the register's code produces from the documented seed.
    let seed: [u8; 32] = hex::decode(export["example_seed"].as_str().unwrap()).unwrap().try_into().unwrap();
    let signer = pos_audit::Ed25519Signer::from_seed(&seed);
    use pos_audit::Signer;
    assert_eq!(hex::encode(signer.public_key()), export["public_key"].as_str().unwrap());
    let stored: Vec<pos_audit::Entry> = serde_json::from_value(export["entries"].clone()).unwrap();
    let v = pos_audit::verify(&stored, &pos_audit::Anchor::genesis(), export["device"].as_str().unwrap(), &pk, None, 1);
    assert_eq!(v.fault, None);
}
