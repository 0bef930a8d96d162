//! `bench sync_drain_10k_s`: a demo register sells 10,000 sales offline (with the refunds, voids
//! and shift events the demo traffic brings), then enrols with the real cloud service on loopback
//! (a throw-away PostgreSQL) and syncs until its outbox is empty. Prints the wall time of the drain.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use jiff::{SignedDuration, Timestamp};
use pos_app::demo::{Traffic, init_demo, run_traffic};
use pos_app::sync::{CloudSync, Enrolment};
use pos_app::{Clock, ManualClock, MemorySecretStore};
use pos_cloud::testing::TestCloud;

fn main() -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("pos-sync-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let result = run(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn run(dir: &std::path::Path) -> anyhow::Result<()> {
    let secrets = Arc::new(MemorySecretStore::default());
    let start: Timestamp = "2026-11-16T07:00:00Z".parse()?;
    let clock = Arc::new(ManualClock::new(start));
    let (mut reg, _) = init_demo(dir, secrets.as_ref(), clock.clone())?;
    run_traffic(&mut reg, &clock, Traffic { sales: 10_000, seed: 11, days: 5 }, |_| {})?;
    let records = reg.outbox_status()?.depth;

    // The owner enrols the register: PIN, then an authenticator code.
    let owner = reg.sign_in(1, "4711")?;
    let enrolment = reg.begin_totp_enrolment(&owner, owner.staff_id())?;
    let secret = data_encoding::BASE32_NOPAD.decode(enrolment.secret_base32.as_bytes())?;
    let code = |c: &ManualClock| pos_app::pos_auth::totp::code_at(&secret, c.now().as_second().unsigned_abs());
    reg.confirm_totp_enrolment(&owner, owner.staff_id(), &code(&clock))?;
    clock.advance(SignedDuration::from_secs(30));
    reg.elevate(&owner, "4711", &code(&clock))?;

    let cloud = TestCloud::start("bench_sync_drain");
    let tenant = cloud.create_tenant("Bench");
    let enrol_code = cloud.enrolment_code(tenant);
    let mut sync = CloudSync::new(secrets.clone());
    sync.enroll(&mut reg, &owner, &Enrolment { cloud_url: &cloud.url(), code: &enrol_code, ca_file: None })?;

    let started = Instant::now();
    for _ in 0..1000 {
        let round = sync.sync_once(&mut reg)?;
        if let Some(e) = round.error {
            anyhow::bail!("the sync failed on loopback: {e:?}");
        }
        if reg.outbox_status()?.depth == 0 {
            break;
        }
    }
    let elapsed = started.elapsed();
    anyhow::ensure!(reg.outbox_status()?.depth == 0, "the outbox did not drain");
    let orders: i64 = cloud.query_text(tenant.tenant, "SELECT count(*) FROM orders")[0].parse().context("a count")?;
    anyhow::ensure!(orders >= 10_000, "the cloud holds {orders} orders");
    eprintln!("{records} outbox records ({orders} orders) drained");
    let ms = elapsed.as_millis();
    println!("bench sync_drain_10k_s {}.{:02} s", ms / 1000, ms % 1000 / 10);
    Ok(())
}
