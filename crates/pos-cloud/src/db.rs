//! PostgreSQL: the pool, migrations, and the one way to touch tenant data — a transaction whose
//! `app.tenant_id` is set from the authenticated identity, so row-level security scopes it.

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::{Client, NoTls, Transaction};
use uuid::Uuid;

use crate::error::ApiError;

/// Migrations in order; each runs once, recorded in `schema_migrations`.
const MIGRATIONS: &[(i32, &str)] = &[
    (1, include_str!("../migrations/0001_tenancy_sync.sql")),
    (2, include_str!("../migrations/0002_owners.sql")),
    (3, include_str!("../migrations/0003_taxes.sql")),
];

/// A connection pool for `url` with at most `size` connections.
pub fn pool(url: &str, size: usize) -> anyhow::Result<Pool> {
    let config: tokio_postgres::Config = url.parse()?;
    let manager = Manager::from_config(config, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
    Ok(Pool::builder(manager).max_size(size).build()?)
}

/// Connects once (for admin commands and migrations).
pub async fn connect(url: &str) -> anyhow::Result<Client> {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
    tokio::spawn(async move {
        // The connection ends when the client is dropped; an error here is a lost connection,
        // which the next query reports.
        let _ = connection.await;
    });
    Ok(client)
}

/// Applies the migrations not yet applied, each in its own transaction. Returns the schema version.
/// Run with a role that may create tables and roles (the database owner); the service itself
/// connects as `pos_service`.
pub async fn migrate(client: &mut Client) -> anyhow::Result<i32> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
        )
        .await?;
    // One migrator at a time per database, whichever process runs it: a session-level advisory
    // lock, held across the migrations' own transactions.
    const MIGRATION_LOCK: i64 = 0x504f_534d_4947;
    client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK]).await?;
    let result = apply_pending(client).await;
    client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK]).await?;
    result
}

async fn apply_pending(client: &mut Client) -> anyhow::Result<i32> {
    let current: i32 = client.query_one("SELECT coalesce(max(version), 0) FROM schema_migrations", &[]).await?.get(0);
    let mut version = current;
    for (v, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        let tx = client.transaction().await?;
        tx.batch_execute(sql).await.map_err(|e| anyhow::anyhow!("migration {v}: {}", describe(&e)))?;
        tx.execute("INSERT INTO schema_migrations (version) VALUES ($1)", &[v]).await?;
        tx.commit().await?;
        version = *v;
    }
    Ok(version)
}

/// Sets the login password of the service role (admin only; the password never enters a file).
pub async fn set_service_password(client: &Client, password: &str) -> anyhow::Result<()> {
    // Role passwords cannot be bound as parameters; quote it as a literal.
    let literal = format!("'{}'", password.replace('\'', "''"));
    let sql = format!("ALTER ROLE pos_service LOGIN PASSWORD {literal}");
    // Roles belong to the whole cluster: another database's migrator may be updating the same
    // role at this moment, which PostgreSQL answers with "tuple concurrently updated". Retry.
    let mut attempt = 0;
    loop {
        match client.batch_execute(&sql).await {
            Ok(()) => return Ok(()),
            Err(e) if attempt < 10 && e.as_db_error().is_some_and(|d| d.message().contains("concurrently")) => {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(20 * attempt)).await;
            }
            Err(e) => return Err(anyhow::anyhow!("setting the service password: {}", describe(&e))),
        }
    }
}

/// Starts a transaction scoped to `tenant`: every statement in it sees and writes only that
/// tenant's rows. The setting is local to the transaction, so a pooled connection never carries
/// one tenant's scope into another request.
pub async fn tenant_tx(client: &mut Client, tenant: Uuid) -> Result<Transaction<'_>, ApiError> {
    let tx = client.transaction().await?;
    tx.execute("SELECT set_config('app.tenant_id', $1, true)", &[&tenant.to_string()]).await?;
    Ok(tx)
}

/// The message of a database error, with PostgreSQL's detail when it has one.
pub fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}{}", db.message(), db.detail().map(|d| format!(" ({d})")).unwrap_or_default()),
        None => e.to_string(),
    }
}
