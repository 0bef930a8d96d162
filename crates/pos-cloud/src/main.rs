//! `pos-cloud`: migrate the database, serve the API, and operator commands.

use std::io::Read;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use pos_cloud::admin::{self, NewVenue};
use pos_cloud::state::{AppState, Config};
use pos_cloud::{db, http};
use uuid::Uuid;

#[derive(Parser)]
#[command(name = "pos-cloud", version, about = "The point-of-sale cloud service")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Applies pending migrations (with the database owner's URL) and creates the service key.
    Migrate {
        #[arg(long, env = "POS_CLOUD_ADMIN_URL")]
        database_url: String,
        /// Reads a login password for the `pos_service` role from standard input and sets it.
        #[arg(long)]
        service_password_stdin: bool,
    },
    /// Serves the API. Plain HTTP without a certificate (registers accept that only on loopback).
    Serve {
        /// Connects as `pos_service`, e.g. postgres://pos_service:PASSWORD@db/pos.
        #[arg(long, env = "POS_CLOUD_DATABASE_URL")]
        database_url: String,
        #[arg(long, default_value = "127.0.0.1:8443")]
        listen: SocketAddr,
        /// PEM certificate chain; with --tls-key, serves HTTPS.
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<String>,
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<String>,
        #[arg(long, default_value_t = 16)]
        pool_size: usize,
        /// Base URL of a k-anonymity breached-password API (`{base}/range/{prefix}`).
        #[arg(long, env = "POS_CLOUD_BREACHED_PASSWORD_API")]
        breached_password_api: Option<String>,
        /// Address of a load balancer or proxy whose `X-Forwarded-For` names the client, for the
        /// per-address sign-in limit (repeat, or separate with commas).
        #[arg(long = "trusted-proxy", env = "POS_CLOUD_TRUSTED_PROXIES", value_delimiter = ',')]
        trusted_proxies: Vec<std::net::IpAddr>,
    },
    /// Operator commands.
    Admin {
        #[arg(long, env = "POS_CLOUD_ADMIN_URL")]
        database_url: String,
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Creates a tenant with its first venue.
    CreateTenant {
        #[arg(long)]
        name: String,
        #[command(flatten)]
        venue: VenueArgs,
    },
    /// Adds a venue to a tenant.
    CreateVenue {
        #[arg(long)]
        tenant: Uuid,
        #[command(flatten)]
        venue: VenueArgs,
    },
    /// Creates an owner or manager; the password is read from standard input.
    CreateOwner {
        #[arg(long)]
        tenant: Uuid,
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "owner", value_parser = ["owner", "manager"])]
        role: String,
    },
    /// Issues a one-time enrolment code for a register of a venue.
    EnrolmentCode {
        #[arg(long)]
        tenant: Uuid,
        #[arg(long)]
        venue: Uuid,
        #[arg(long, default_value_t = 72)]
        hours: i32,
    },
    /// Revokes a register: its next token request is refused.
    RevokeDevice {
        #[arg(long)]
        tenant: Uuid,
        #[arg(long)]
        device: Uuid,
    },
}

#[derive(clap::Args)]
struct VenueArgs {
    #[arg(long = "venue")]
    venue_name: String,
    #[arg(long, default_value = "EUR")]
    currency: String,
    #[arg(long, default_value = "Europe/Berlin")]
    time_zone: String,
    #[arg(long, default_value_t = 4)]
    day_cutoff_hour: i32,
}

impl VenueArgs {
    fn venue(&self) -> NewVenue {
        NewVenue {
            name: self.venue_name.clone(),
            currency: self.currency.clone(),
            time_zone: self.time_zone.clone(),
            day_cutoff_hour: self.day_cutoff_hour,
        }
    }
}

fn stdin_line(what: &str) -> anyhow::Result<String> {
    let mut s = String::new();
    std::io::stdin().read_to_string(&mut s).with_context(|| format!("reading the {what} from standard input"))?;
    let s = s.trim_end_matches(['\r', '\n']).to_owned();
    anyhow::ensure!(!s.is_empty(), "no {what} on standard input");
    Ok(s)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Migrate { database_url, service_password_stdin } => {
            let mut client = db::connect(&database_url).await?;
            let version = db::migrate(&mut client).await?;
            admin::ensure_token_key(&client).await?;
            if service_password_stdin {
                db::set_service_password(&client, &stdin_line("password")?).await?;
            }
            println!("{}", serde_json::json!({ "schema_version": version }));
        }
        Command::Serve {
            database_url,
            listen,
            tls_cert,
            tls_key,
            pool_size,
            breached_password_api,
            trusted_proxies,
        } => {
            let pool = db::pool(&database_url, pool_size)?;
            let client = pool.get().await.context("connecting to PostgreSQL")?;
            let tokens = Arc::new(admin::load_token_key(&client).await?);
            drop(client);
            let config = Config { breached_password_api, trusted_proxies, ..Config::default() };
            let state = AppState { pool, tokens, config: Arc::new(config) };
            http::serve(state, listen, tls_cert.zip(tls_key)).await?;
        }
        Command::Admin { database_url, command } => {
            let mut client = db::connect(&database_url).await?;
            let out = match command {
                AdminCommand::CreateTenant { name, venue } => {
                    let (tenant, venue) = admin::create_tenant(&mut client, &name, &venue.venue()).await?;
                    serde_json::json!({ "tenant": tenant, "venue": venue })
                }
                AdminCommand::CreateVenue { tenant, venue } => {
                    let venue = admin::create_venue(&mut client, tenant, &venue.venue()).await?;
                    serde_json::json!({ "tenant": tenant, "venue": venue })
                }
                AdminCommand::CreateOwner { tenant, email, role } => {
                    let password = stdin_line("password")?;
                    let created = pos_cloud::owner::create_owner(
                        &mut client,
                        tenant,
                        &email,
                        &password,
                        &role,
                        &Config::default(),
                    )
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                    serde_json::json!({
                        "owner": created.id,
                        "email": created.email,
                        "role": role,
                        "totp_uri": created.totp_uri,
                    })
                }
                AdminCommand::EnrolmentCode { tenant, venue, hours } => {
                    let code = admin::enrolment_code(&mut client, tenant, venue, hours).await?;
                    serde_json::json!({ "code": code, "valid_hours": hours })
                }
                AdminCommand::RevokeDevice { tenant, device } => {
                    admin::revoke_device(&mut client, tenant, device).await?;
                    serde_json::json!({ "revoked": device })
                }
            };
            println!("{out}");
        }
    }
    Ok(())
}
