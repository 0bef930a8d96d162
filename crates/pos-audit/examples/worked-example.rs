//! Prints the worked example of docs/audit-chain.md: three entries sealed with a published test
//! seed. `cargo run -p pos-audit --example worked-example`. (Never use this seed for real.)

use pos_audit::{Ed25519Signer, Event, GENESIS, Position, Signer, seal};

fn main() {
    let seed = [0x42u8; 32];
    let signer = Ed25519Signer::from_seed(&seed);
    let device = "01936f0e-8f3a-7c2e-9d41-3b5c7a2e9f10";
    let events = [
        ("2026-11-21T08:00:05.000000Z", Event::new("sign_in", "ok").actor(3, "Jonas Weber")),
        (
            "2026-11-21T08:02:41.250000Z",
            Event::new("sale", "ok")
                .actor(3, "Jonas Weber")
                .subject("order", "01936f10-2b44-7a6e-8c1d-5e2f9a7b3c01")
                .subject("receipt", 1)
                .amount(740, "EUR")
                .detail("lines", 2)
                .detail("tenders", "cash"),
        ),
        (
            "2026-11-21T08:05:12.000000Z",
            Event::new("refund", "ok")
                .actor(3, "Jonas Weber")
                .approver(2, "Mia Keller")
                .subject("order", "01936f10-2b44-7a6e-8c1d-5e2f9a7b3c01")
                .subject("receipt", 2)
                .amount(350, "EUR")
                .reason("Kaffee kalt — \"cold\"")
                .detail("approval_reason", "customer_return"),
        ),
    ];
    let mut prev = GENESIS.to_owned();
    let mut entries = Vec::new();
    for (i, (at, ev)) in events.iter().enumerate() {
        let e = seal(ev, &Position { device, seq: i as u64 + 1, at, offset: "+01:00", prev: &prev }, &signer)
            .expect("canonical");
        prev = e.hash.clone();
        entries.push(e);
    }
    let export = serde_json::json!({
        "format": "pos-audit-chain/1",
        "device": device,
        "public_key": hex::encode(signer.public_key()),
        "example_seed": hex::encode(seed),
        "entries": entries,
    });
    println!("{}", serde_json::to_string_pretty(&export).expect("json"));
}
