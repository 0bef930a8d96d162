//! A real service for tests: a fresh database on the throw-away PostgreSQL cluster, migrated,
//! served on a loopback port by its own runtime, with the service connecting as `pos_service`
//! exactly as in production.

use std::net::SocketAddr;
use std::sync::Arc;

use pos_test_support::PgCluster;
use tokio_postgres::Client;
use uuid::Uuid;

use crate::admin::{self, NewVenue};
use crate::state::{AppState, Config};
use crate::{db, http};

const SERVICE_PASSWORD: &str = "service-test-password";

#[derive(Debug)]
pub struct TestCloud {
    pub addr: SocketAddr,
    /// The database owner's URL (for admin calls and direct SQL checks).
    pub admin_url: String,
    /// The URL the service itself uses (role `pos_service`).
    pub service_url: String,
    runtime: tokio::runtime::Runtime,
}

/// A tenant with one venue, as the admin commands create it.
#[derive(Debug, Clone, Copy)]
pub struct TestTenant {
    pub tenant: Uuid,
    pub venue: Uuid,
}

fn with_credentials(url: &str, user: &str, password: &str) -> String {
    // postgres://postgres@host:port/db → postgres://user:password@host:port/db
    let rest = url.split_once('@').map_or(url, |(_, r)| r);
    format!("postgres://{user}:{password}@{rest}")
}

impl TestCloud {
    /// Starts a service on a new database named `name` (unique per test).
    pub fn start(name: &str) -> TestCloud {
        TestCloud::start_with(name, Config::default())
    }

    pub fn start_with(name: &str, config: Config) -> TestCloud {
        let admin_url = PgCluster::shared().create_database(name).expect("create the test database");
        let service_url = with_credentials(&admin_url, "pos_service", SERVICE_PASSWORD);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        // Roles are shared by the cluster's databases: tests running side by side would update
        // the same role row at once, which PostgreSQL refuses ("tuple concurrently updated").
        static ROLES: std::sync::Mutex<()> = std::sync::Mutex::new(());
        {
            let _one_at_a_time = ROLES.lock().unwrap_or_else(|e| e.into_inner());
            runtime.block_on(async {
                let mut client = db::connect(&admin_url).await.expect("connect as admin");
                db::migrate(&mut client).await.expect("migrate");
                db::set_service_password(&client, SERVICE_PASSWORD).await.expect("service password");
            });
        }
        let addr = runtime.block_on(async {
            let client = db::connect(&admin_url).await.expect("connect as admin");
            admin::ensure_token_key(&client).await.expect("token key");
            let pool = db::pool(&service_url, 8).expect("pool");
            let tokens = Arc::new(admin::load_token_key(&client).await.expect("load the token key"));
            let state = AppState { pool, tokens, config: Arc::new(config) };
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let addr = listener.local_addr().expect("local address");
            tokio::spawn(async move {
                let app = http::router(state);
                let _ = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await;
            });
            addr
        });
        TestCloud { addr, admin_url, service_url, runtime }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Runs a future on the service's runtime (for admin calls from synchronous tests).
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.runtime.block_on(f)
    }

    pub fn admin(&self) -> Client {
        self.block_on(db::connect(&self.admin_url)).expect("connect as admin")
    }

    pub fn service_client(&self) -> Client {
        self.block_on(db::connect(&self.service_url)).expect("connect as pos_service")
    }

    pub fn create_tenant(&self, name: &str) -> TestTenant {
        let venue = NewVenue {
            name: format!("{name} café"),
            currency: "EUR".into(),
            time_zone: "Europe/Berlin".into(),
            day_cutoff_hour: 4,
        };
        let mut client = self.admin();
        let (tenant, venue) = self.block_on(admin::create_tenant(&mut client, name, &venue)).expect("create tenant");
        TestTenant { tenant, venue }
    }

    pub fn enrolment_code(&self, t: TestTenant) -> String {
        let mut client = self.admin();
        self.block_on(admin::enrolment_code(&mut client, t.tenant, t.venue, 24)).expect("enrolment code")
    }

    pub fn revoke(&self, t: TestTenant, device: Uuid) {
        let mut client = self.admin();
        self.block_on(admin::revoke_device(&mut client, t.tenant, device)).expect("revoke");
    }

    /// Runs `sql` as the service role inside `tenant`'s scope and returns the first column of
    /// each row as text (for checks such as counts and sums). Not as the admin: a superuser
    /// bypasses row-level security, so its counts would include every tenant's rows.
    pub fn query_text(&self, tenant: Uuid, sql: &str) -> Vec<String> {
        let mut client = self.service_client();
        self.block_on(async {
            let tx = db::tenant_tx(&mut client, tenant).await.expect("tenant transaction");
            let rows = tx.query(&format!("SELECT ({sql})::text"), &[]).await.expect("query");
            rows.iter().map(|r| r.get::<_, Option<String>>(0).unwrap_or_default()).collect()
        })
    }
}

/// A register as the service sees it: enrolled with a code, holding a token signed for with its
/// device key. For benchmarks and other crates' tests that need a device without a register.
#[derive(Debug)]
pub struct TestDevice {
    pub id: Uuid,
    pub token: String,
    base: String,
}

impl TestCloud {
    pub fn enroll_device(&self, t: TestTenant, seed: [u8; 32]) -> TestDevice {
        use ed25519_dalek::Signer;
        use pos_sync_protocol::api;
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        let id = Uuid::now_v7();
        let agent = ureq::agent();
        let base = self.url();
        let enrolled: api::EnrollResponse = agent
            .post(&format!("{base}/v1/devices/enroll"))
            .send_json(api::EnrollRequest {
                code: self.enrolment_code(t),
                device_id: id.to_string(),
                device_name: "Bench till".into(),
                device_public_key: hex::encode(key.verifying_key().to_bytes()),
                audit_public_key: hex::encode(key.verifying_key().to_bytes()),
            })
            .and_then(|mut r| r.body_mut().read_json())
            .expect("enrol");
        let challenge: api::ChallengeResponse = agent
            .post(&format!("{base}/v1/devices/challenge"))
            .send_json(api::ChallengeRequest { device_id: enrolled.device_id.clone() })
            .and_then(|mut r| r.body_mut().read_json())
            .expect("challenge");
        let signature = key.sign(&api::token_message(&enrolled.device_id, &challenge.challenge));
        let token: api::TokenResponse = agent
            .post(&format!("{base}/v1/devices/token"))
            .send_json(api::TokenRequest {
                device_id: enrolled.device_id,
                challenge: challenge.challenge,
                signature: hex::encode(signature.to_bytes()),
            })
            .and_then(|mut r| r.body_mut().read_json())
            .expect("token");
        TestDevice { id, token: token.access_token, base }
    }
}

impl TestDevice {
    pub fn push(&self, req: &pos_sync_protocol::api::PushRequest) -> pos_sync_protocol::api::PushResponse {
        ureq::agent()
            .post(&format!("{}/v1/sync/push", self.base))
            .header("Authorization", &format!("Bearer {}", self.token))
            .send_json(req)
            .and_then(|mut r| r.body_mut().read_json())
            .expect("push")
    }
}

impl TestCloud {
    /// Creates an owner of `t` and signs in with password and a fresh TOTP code: a session token.
    pub fn owner_session(&self, t: TestTenant, email: &str) -> String {
        let password = "Correct-Horse-Battery-42";
        let mut admin = self.admin();
        let created = self
            .block_on(crate::owner::create_owner(&mut admin, t.tenant, email, password, "owner", &Config::default()))
            .expect("create the owner");
        let uri = created.totp_uri.expect("owners enrol TOTP");
        let secret = uri.split("secret=").nth(1).and_then(|s| s.split('&').next()).expect("a secret in the URI");
        let secret = data_encoding::BASE32_NOPAD.decode(secret.as_bytes()).expect("base32");
        let code = crate::owner::totp_code(&secret, crate::http::now_unix().unsigned_abs());
        let body: serde_json::Value = ureq::agent()
            .post(&format!("{}/v1/owner/login", self.url()))
            .send_json(serde_json::json!({ "email": email, "password": password, "totp": code }))
            .and_then(|mut r| r.body_mut().read_json())
            .expect("sign in");
        body["session_token"].as_str().expect("a session token").to_owned()
    }

    /// `GET path` with a bearer token; the answer as text, with its content type.
    pub fn get_text(&self, path: &str, token: &str) -> (String, String) {
        let mut resp = ureq::agent()
            .get(&format!("{}{path}", self.url()))
            .header("Authorization", &format!("Bearer {token}"))
            .call()
            .expect("an answer");
        let kind = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        (kind, resp.body_mut().read_to_string().expect("a text answer"))
    }

    /// `GET path` with a bearer token; the JSON answer.
    pub fn get_json(&self, path: &str, token: &str) -> serde_json::Value {
        ureq::agent()
            .get(&format!("{}{path}", self.url()))
            .header("Authorization", &format!("Bearer {token}"))
            .call()
            .and_then(|mut r| r.body_mut().read_json())
            .expect("a JSON answer")
    }
}

/// An operation as a register's outbox would push it: the encoded JSON, its SHA-256, and a fresh
/// operation id.
pub fn push_record(seq: i64, op: &pos_sync_protocol::Operation) -> pos_sync_protocol::api::PushRecord {
    use sha2::{Digest, Sha256};
    let payload = String::from_utf8(op.encode()).expect("operations encode to UTF-8 JSON");
    pos_sync_protocol::api::PushRecord {
        seq,
        op_id: Uuid::now_v7().to_string(),
        kind: op.kind().into(),
        payload_hash: hex::encode(Sha256::digest(payload.as_bytes())),
        payload,
    }
}
