//! Operator commands (`pos-cloud admin …`), run with the database owner's URL. They go through
//! row-level security like the service does: each sets the tenant it acts for.

use tokio_postgres::Client;
use uuid::Uuid;

use crate::db;

/// A new venue's fixed facts.
#[derive(Debug, Clone)]
pub struct NewVenue {
    pub name: String,
    pub currency: String,
    pub time_zone: String,
    pub day_cutoff_hour: i32,
}

fn check_venue(v: &NewVenue) -> anyhow::Result<()> {
    anyhow::ensure!(!v.name.trim().is_empty(), "the venue needs a name");
    anyhow::ensure!(
        v.currency.len() == 3 && v.currency.bytes().all(|b| b.is_ascii_uppercase()),
        "currency must be an ISO 4217 code such as EUR"
    );
    jiff::tz::TimeZone::get(&v.time_zone).map_err(|_| anyhow::anyhow!("unknown time zone {:?}", v.time_zone))?;
    anyhow::ensure!((0..24).contains(&v.day_cutoff_hour), "the day cut-off hour is 0..23");
    Ok(())
}

/// Creates a tenant with its first venue. Returns (tenant, venue).
pub async fn create_tenant(client: &mut Client, name: &str, venue: &NewVenue) -> anyhow::Result<(Uuid, Uuid)> {
    anyhow::ensure!(!name.trim().is_empty(), "the tenant needs a name");
    check_venue(venue)?;
    let tenant = Uuid::now_v7();
    let tx = db::tenant_tx(client, tenant).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    tx.execute("INSERT INTO tenants (id, name) VALUES ($1, $2)", &[&tenant, &name.trim()]).await?;
    tx.commit().await?;
    let venue = create_venue(client, tenant, venue).await?;
    Ok((tenant, venue))
}

pub async fn create_venue(client: &mut Client, tenant: Uuid, v: &NewVenue) -> anyhow::Result<Uuid> {
    check_venue(v)?;
    let venue = Uuid::now_v7();
    let tx = db::tenant_tx(client, tenant).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let n = tx
        .execute(
            "INSERT INTO venues (tenant_id, id, name, currency, time_zone, day_cutoff_hour) \
             SELECT $1, $2, $3, $4, $5, $6 WHERE EXISTS (SELECT 1 FROM tenants WHERE id = $1)",
            &[&tenant, &venue, &v.name.trim(), &v.currency, &v.time_zone, &v.day_cutoff_hour],
        )
        .await?;
    anyhow::ensure!(n == 1, "no tenant {tenant}");
    tx.commit().await?;
    Ok(venue)
}

/// Letters and digits that cannot be mistaken for one another when read aloud or typed.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// Issues a one-time enrolment code for `venue`, valid for `hours`. Only its hash is stored.
pub async fn enrolment_code(client: &mut Client, tenant: Uuid, venue: Uuid, hours: i32) -> anyhow::Result<String> {
    anyhow::ensure!((1..=24 * 30).contains(&hours), "a code is valid for 1 hour to 30 days");
    let mut raw = [0u8; 15];
    getrandom::fill(&mut raw).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    // 15 characters of a 32-letter alphabet: 75 bits.
    let chars: String = raw.iter().map(|b| CODE_ALPHABET[usize::from(b % 32)] as char).collect();
    let code = format!("{}-{}-{}", &chars[0..5], &chars[5..10], &chars[10..15]);
    let tx = db::tenant_tx(client, tenant).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let n = tx
        .execute(
            "INSERT INTO enrolment_codes (tenant_id, code_hash, venue_id, expires_at) \
             SELECT $1, $2, $3, now() + $4::int * interval '1 hour' \
             WHERE EXISTS (SELECT 1 FROM venues WHERE tenant_id = $1 AND id = $3)",
            &[&tenant, &crate::devices::code_hash(&code), &venue, &hours],
        )
        .await?;
    anyhow::ensure!(n == 1, "tenant {tenant} has no venue {venue}");
    tx.commit().await?;
    Ok(code)
}

/// Revokes a device: its next token request is refused; a token it holds expires within 15 minutes.
pub async fn revoke_device(client: &mut Client, tenant: Uuid, device: Uuid) -> anyhow::Result<()> {
    let tx = db::tenant_tx(client, tenant).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    // The tenant is named as well as set: an admin connecting as a superuser bypasses row-level
    // security, and must not revoke another tenant's device by a mistyped argument.
    let n = tx
        .execute(
            "UPDATE devices SET revoked_at = coalesce(revoked_at, now()) WHERE tenant_id = $2 AND id = $1",
            &[&device, &tenant],
        )
        .await?;
    anyhow::ensure!(n == 1, "tenant {tenant} has no device {device}");
    tx.execute("DELETE FROM device_challenges WHERE tenant_id = $2 AND device_id = $1", &[&device, &tenant]).await?;
    tx.commit().await?;
    Ok(())
}

/// Creates the access-token key once (at migration); every service process reads the same one.
pub async fn ensure_token_key(client: &Client) -> anyhow::Result<()> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    client
        .execute(
            "INSERT INTO service_keys (name, value) VALUES ('access_token', $1) ON CONFLICT (name) DO NOTHING",
            &[&&key[..]],
        )
        .await?;
    Ok(())
}

pub async fn load_token_key(client: &Client) -> anyhow::Result<crate::token::TokenKey> {
    let row = client
        .query_opt("SELECT value FROM service_keys WHERE name = 'access_token'", &[])
        .await?
        .ok_or_else(|| anyhow::anyhow!("no access-token key: run `pos-cloud migrate` first"))?;
    let bytes: Vec<u8> = row.get(0);
    let key: [u8; 32] = bytes.try_into().map_err(|_| anyhow::anyhow!("the access-token key is damaged"))?;
    Ok(crate::token::TokenKey::new(key))
}
