//! Owners' and managers' sign-in, against a real PostgreSQL (row-level security forced, the
//! service connected as `pos_service`) and the real router, driven request by request.
//!
//! The breached-password range API is a fake served on loopback by this test (the real one is
//! out of reach here): a real HTTP exchange, so what the service sends is what the fake sees.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use pos_cloud::breach;
use pos_cloud::db;
use pos_cloud::owner::{self, CreatedOwner, OwnerError};
use pos_cloud::state::{AppState, Config};
use pos_cloud::token::TokenKey;
use pos_test_support::PgCluster;
use serde_json::{Value, json};
use tokio_postgres::Client;
use tower::ServiceExt;
use uuid::Uuid;

const STRONG: &str = "Harbour-Kettle-58";
const OTHER_STRONG: &str = "Marble!Orchard-93";

struct Env {
    app: Router,
    admin: Client,
    tenant_a: Uuid,
    tenant_b: Uuid,
    config: Config,
    service_url: String,
}

fn config(api: Option<String>) -> Config {
    Config { breached_password_api: api, session_idle_seconds: 1800, ..Config::default() }
}

/// `postgres://pos_service:pw@HOST:PORT/DB` from the admin URL of the same database.
fn service_url(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).expect("a URL");
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let host_start = rest[..authority_end].rfind('@').map(|i| i + 1).unwrap_or(0);
    format!("postgres://pos_service:pw@{}", &rest[host_start..])
}

async fn add_tenant(admin: &Client, name: &str) -> Uuid {
    let tenant = Uuid::new_v4();
    // Row-level security is forced, so even the admin states the tenant first.
    admin.execute("SELECT set_config('app.tenant_id', $1, false)", &[&tenant.to_string()]).await.unwrap();
    admin.execute("INSERT INTO tenants (id, name) VALUES ($1, $2)", &[&tenant, &name]).await.unwrap();
    admin
        .execute(
            "INSERT INTO venues (tenant_id, id, name, currency, time_zone, day_cutoff_hour) \
             VALUES ($1, $2, 'Main', 'EUR', 'Europe/Berlin', 4)",
            &[&tenant, &Uuid::new_v4()],
        )
        .await
        .unwrap();
    admin.execute("SELECT set_config('app.tenant_id', '', false)", &[]).await.unwrap();
    tenant
}

async fn env(name: &str, config: Config) -> Env {
    let url = tokio::task::spawn_blocking({
        let name = name.to_owned();
        move || PgCluster::shared().create_database(&format!("owner_{name}"))
    })
    .await
    .unwrap()
    .unwrap();
    let mut admin = db::connect(&url).await.unwrap();
    db::migrate(&mut admin).await.unwrap();
    db::set_service_password(&admin, "pw").await.unwrap();
    let tenant_a = add_tenant(&admin, "Tenant A").await;
    let tenant_b = add_tenant(&admin, "Tenant B").await;
    let service_url = service_url(&url);
    let pool = db::pool(&service_url, 4).unwrap();
    let state = AppState { pool, tokens: Arc::new(TokenKey::new([9; 32])), config: Arc::new(config.clone()) };
    Env { app: pos_cloud::http::router(state), admin, tenant_a, tenant_b, config, service_url }
}

impl Env {
    async fn create(
        &mut self,
        tenant: Uuid,
        email: &str,
        password: &str,
        role: &str,
    ) -> Result<CreatedOwner, OwnerError> {
        owner::create_owner(&mut self.admin, tenant, email, password, role, &self.config).await
    }

    /// One request from `ip`, as the server would see it (it inserts the peer address).
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        ip: &str,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let body = match body {
            Some(v) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                Body::from(serde_json::to_vec(&v).unwrap())
            }
            None => Body::empty(),
        };
        let mut req = req.body(body).unwrap();
        let peer: SocketAddr = SocketAddr::new(ip.parse().unwrap(), 51_000);
        req.extensions_mut().insert(ConnectInfo(peer));
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    async fn login(&self, email: &str, password: &str, totp: Option<&str>, ip: &str) -> (StatusCode, Value) {
        let body = match totp {
            Some(code) => json!({ "email": email, "password": password, "totp": code }),
            None => json!({ "email": email, "password": password }),
        };
        self.call(Method::POST, "/v1/owner/login", None, Some(body), ip).await
    }

    /// Signs in and returns the session token (panics otherwise).
    async fn session(&self, email: &str, password: &str, totp: Option<&str>, ip: &str) -> String {
        let (status, body) = self.login(email, password, totp, ip).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["expires_idle_s"], json!(self.config.session_idle_seconds));
        body["session_token"].as_str().unwrap().to_owned()
    }

    async fn sessions(&self, token: &str) -> (StatusCode, Value) {
        self.call(Method::GET, "/v1/owner/sessions", Some(token), None, "198.51.100.1").await
    }

    async fn failed_logins(&self, email: &str) -> (i32, bool) {
        let row = self
            .admin
            .query_one(
                "SELECT failed_logins, coalesce(locked_until > now(), false) FROM owners WHERE email = $1",
                &[&email],
            )
            .await
            .unwrap();
        (row.get(0), row.get(1))
    }
}

fn totp_secret(created: &CreatedOwner) -> Vec<u8> {
    let uri = created.totp_uri.as_deref().expect("an owner gets a TOTP URI");
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    assert!(uri.contains("algorithm=SHA1&digits=6&period=30"), "{uri}");
    let secret = uri.split("secret=").nth(1).unwrap().split('&').next().unwrap();
    let secret = data_encoding::BASE32_NOPAD.decode(secret.as_bytes()).unwrap();
    assert_eq!(secret.len(), 20, "160-bit secret");
    secret
}

fn code_at(secret: &[u8], offset_steps: i64) -> String {
    let now = pos_cloud::http::now_unix() + offset_steps * 30;
    owner::totp_code(secret, u64::try_from(now).unwrap())
}

// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn weak_and_common_passwords_are_refused_at_creation() {
    let mut env = env("creation", config(None)).await;
    let t = env.tenant_a;
    for (pw, why) in [("Sh0rt!pw", "short"), ("Abcdefgh1!", "11 characters"), ("lowercaseonlypassword", "one class")] {
        let e = env.create(t, "ann@example.org", pw, "owner").await.unwrap_err();
        assert!(matches!(e, OwnerError::WeakPassword(_)), "{why}: {e:?}");
    }
    assert!(matches!(
        env.create(t, "ann@example.org", "LettersAndUPPERonly", "owner").await,
        Err(OwnerError::WeakPassword(_))
    ));
    // Well-known passwords that pass the length and class rules: the bundled list catches them.
    for pw in ["Password1234", "Qwertyuiop12", "Iloveyou1234", "Welcome12345", "P@ssw0rd1234", "Qwerty123456"] {
        let e = env.create(t, "ann@example.org", pw, "owner").await.unwrap_err();
        assert!(matches!(e, OwnerError::BreachedPassword), "{pw}: {e:?}");
        assert!(e.to_string().contains("breached or common"), "{e}");
    }
    assert!(matches!(env.create(t, "not-an-email", STRONG, "owner").await, Err(OwnerError::InvalidEmail)));
    assert!(matches!(env.create(t, "ann@example.org", STRONG, "cashier").await, Err(OwnerError::InvalidRole)));
    assert!(matches!(
        env.create(Uuid::new_v4(), "ann@example.org", STRONG, "owner").await,
        Err(OwnerError::UnknownTenant)
    ));

    let ann = env.create(t, "  Ann@Example.ORG ", STRONG, "owner").await.unwrap();
    assert_eq!(ann.email, "ann@example.org");
    totp_secret(&ann);
    let bob = env.create(t, "bob@example.org", OTHER_STRONG, "manager").await.unwrap();
    assert_eq!(bob.totp_uri, None, "TOTP is optional for managers");
    // Emails are unique across the whole service, whatever the case.
    assert!(matches!(
        env.create(env.tenant_b, "ANN@example.org", STRONG, "manager").await,
        Err(OwnerError::EmailTaken)
    ));

    let row = env
        .admin
        .query_one("SELECT password_hash, totp_secret IS NOT NULL FROM owners WHERE id = $1", &[&ann.id])
        .await
        .unwrap();
    let hash: String = row.get(0);
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
    assert!(row.get::<_, bool>(1));
    // The service role cannot create accounts, nor read them without a tenant.
    let service = db::connect(&env.service_url).await.unwrap();
    let e = service
        .execute(
            "INSERT INTO owners (tenant_id, id, email, role, password_hash) VALUES ($1, $2, 'x@y.org', 'manager', '$argon2id$x')",
            &[&t, &Uuid::new_v4()],
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE), "{e}");
    let n: i64 = service.query_one("SELECT count(*) FROM owners", &[]).await.unwrap().get(0);
    assert_eq!(n, 0, "row-level security hides every account without a tenant");
    let found: Option<Uuid> = service.query_one("SELECT owner_tenant('ann@example.org')", &[]).await.unwrap().get(0);
    assert_eq!(found, Some(t));
}

// ---------------------------------------------------------------------------------------------

/// A fake range API on loopback: answers `/range/{prefix}` with the listed suffixes plus padding
/// (count 0), and 503 under `/down/`. Records every request head it receives.
struct FakeRange {
    base: String,
    heads: Arc<Mutex<Vec<String>>>,
}

const PADDING: [&str; 4] = [
    "0000A7B3C1D9E2F4051627384950ABCDEF1:0",
    "1F2E3D4C5B6A79880706F5E4D3C2B1A0FFE:0",
    "5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5:0",
    "FEDCBA98765432100123456789ABCDEF012:0",
];

async fn fake_range(listed: Vec<String>) -> FakeRange {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let heads = Arc::new(Mutex::new(Vec::new()));
    let seen = heads.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            let (seen, listed) = (seen.clone(), listed.clone());
            tokio::spawn(async move {
                let head = read_head(&stream).await;
                seen.lock().unwrap().push(head.clone());
                let path = head.split(' ').nth(1).unwrap_or_default().to_owned();
                let response = if path.starts_with("/down/") {
                    "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned()
                } else if path.starts_with("/range/") {
                    let mut lines: Vec<String> = listed.clone();
                    lines.extend(PADDING.iter().map(|s| (*s).to_owned()));
                    let body = lines.join("\r\n");
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    )
                } else {
                    "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned()
                };
                write_all(&stream, response.as_bytes()).await;
            });
        }
    });
    FakeRange { base, heads }
}

async fn read_head(stream: &tokio::net::TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 16 * 1024 {
        if stream.readable().await.is_err() {
            break;
        }
        match stream.try_read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(_) => break,
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

async fn write_all(stream: &tokio::net::TcpStream, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        if stream.writable().await.is_err() {
            return;
        }
        match stream.try_write(bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(_) => return,
        }
    }
}

#[tokio::test]
async fn the_range_api_gets_five_hex_characters_and_a_listed_suffix_is_refused() {
    // A password no bundled list has, but "the corpus" does.
    let leaked = "Vellum-Turnip-4417";
    assert!(!breach::in_bundled_list(leaked));
    let hash = breach::sha1_hex(leaked);
    // An unlisted password's suffix appears with count 0 (padding must never count).
    let fine_hash = breach::sha1_hex(STRONG);
    let fake = fake_range(vec![format!("{}:2741", &hash[5..]), format!("{}:0", &fine_hash[5..])]).await;
    let mut env = env("range", config(Some(fake.base.clone()))).await;

    let e = env.create(env.tenant_a, "cleo@example.org", leaked, "manager").await.unwrap_err();
    assert!(matches!(e, OwnerError::BreachedPassword), "{e:?}");
    {
        let heads = fake.heads.lock().unwrap();
        assert_eq!(heads.len(), 1, "one range request per check");
        let head = &heads[0];
        let request_line = head.lines().next().unwrap();
        assert_eq!(request_line, format!("GET /range/{} HTTP/1.1", &hash[..5]));
        let prefix = request_line.split('/').nth(2).unwrap().split(' ').next().unwrap();
        assert_eq!(prefix.len(), 5);
        assert!(prefix.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_lowercase()), "{prefix}");
        assert!(head.lines().any(|l| l.eq_ignore_ascii_case("add-padding: true")), "{head}");
        // Nothing else about the password leaves the service.
        for secret in [&hash[5..], hash.as_str(), leaked] {
            assert!(!head.to_ascii_uppercase().contains(&secret.to_ascii_uppercase()), "{head}");
        }
    }
    assert_eq!(
        breach::check(leaked, Some(&fake.base)).await,
        breach::Verdict { breached: true, source: breach::Source::RangeApi }
    );
    assert_eq!(breach::times_breached(&fake.base, leaked).await.unwrap(), 2741);

    // Listed with count 0 only (padding): accepted.
    env.create(env.tenant_a, "cleo@example.org", STRONG, "manager").await.unwrap();
    // The bundled list still applies when the API answers.
    assert!(matches!(
        env.create(env.tenant_a, "dora@example.org", "Qwertyuiop12", "manager").await,
        Err(OwnerError::BreachedPassword)
    ));

    // An API answering 503 counts as unreachable: the bundled list decides alone.
    let down = format!("{}/down", fake.base);
    assert_eq!(
        breach::check(leaked, Some(&down)).await,
        breach::Verdict { breached: false, source: breach::Source::BundledList }
    );
    assert_eq!(
        breach::check("Password1234", Some(&down)).await,
        breach::Verdict { breached: true, source: breach::Source::BundledList }
    );
    assert!(fake.heads.lock().unwrap().iter().any(|h| h.starts_with("GET /down/range/")));
}

#[tokio::test]
async fn an_unreachable_range_api_falls_back_to_the_bundled_list() {
    // A port nothing listens on.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    for api in [
        format!("http://127.0.0.1:{closed}"),
        format!("https://127.0.0.1:{closed}"),
        // Plain HTTP off loopback is refused outright (no request is sent).
        "http://pwned.example.invalid".to_owned(),
        "gopher://127.0.0.1".to_owned(),
    ] {
        assert_eq!(
            breach::check("Password1234", Some(&api)).await,
            breach::Verdict { breached: true, source: breach::Source::BundledList },
            "{api}"
        );
        assert_eq!(
            breach::check(STRONG, Some(&api)).await,
            breach::Verdict { breached: false, source: breach::Source::BundledList },
            "{api}"
        );
    }
    // Well-known ones the length and class rules already refuse are on the list too.
    for pw in ["123456789012", "iloveyou1234", "qwertyuiop12", "password"] {
        assert!(breach::in_bundled_list(pw), "{pw}");
    }
    // A server that does not speak TLS behind an https:// URL: the handshake fails.
    let plain = fake_range(vec![]).await;
    let https = plain.base.replace("http://", "https://");
    assert_eq!(
        breach::check("Password1234", Some(&https)).await,
        breach::Verdict { breached: true, source: breach::Source::BundledList }
    );
    assert_eq!(
        breach::check(STRONG, Some(&https)).await,
        breach::Verdict { breached: false, source: breach::Source::BundledList }
    );
    let mut env = env("fallback", config(Some(format!("http://127.0.0.1:{closed}")))).await;
    for pw in ["Password1234", "Iloveyou1234!", "Qwertyuiop12"] {
        let e = env.create(env.tenant_a, "eve@example.org", pw, "manager").await.unwrap_err();
        assert!(matches!(e, OwnerError::BreachedPassword), "{pw}: {e:?}");
    }
    env.create(env.tenant_a, "eve@example.org", STRONG, "manager").await.unwrap();
}

// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn an_owner_signs_in_with_totp_and_a_code_is_never_accepted_twice() {
    let mut env = env("totp", config(None)).await;
    let ann = env.create(env.tenant_a, "ann@example.org", STRONG, "owner").await.unwrap();
    let secret = totp_secret(&ann);
    let ip = "203.0.113.10";

    // Right password, no code: told a code is needed (not counted as a failure).
    let (status, body) = env.login("ann@example.org", STRONG, None, ip).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("totp_required")), "{body}");
    // A wrong code counts.
    let valid: Vec<String> = (-1..=1).map(|o| code_at(&secret, o)).collect();
    let wrong = (0..10).map(|d| format!("{d}{d}{d}{d}{d}{d}")).find(|c| !valid.contains(c)).unwrap();
    let (status, _) = env.login("ann@example.org", STRONG, Some(&wrong), ip).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(env.failed_logins("ann@example.org").await, (1, false));

    let code = code_at(&secret, 0);
    let token = env.session("Ann@Example.org", STRONG, Some(&code), ip).await;
    assert_eq!(env.failed_logins("ann@example.org").await, (0, false), "success resets the count");
    let (status, body) = env.sessions(&token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let list = body["sessions"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!((list[0]["current"].as_bool(), list[0]["mfa"].as_bool()), (Some(true), Some(true)));
    assert_eq!(list[0]["ip"], json!(ip));

    // The same code again (a replay), even with the right password: refused, and counted.
    let (status, body) = env.login("ann@example.org", STRONG, Some(&code), ip).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(env.failed_logins("ann@example.org").await.0, 1);
    // A right code with a wrong password: refused.
    let next = code_at(&secret, 1);
    let (status, _) = env.login("ann@example.org", "Harbour-Kettle-59", Some(&next), ip).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // The next step's code (one step of drift) works once.
    env.session("ann@example.org", STRONG, Some(&next), ip).await;
    let (status, _) = env.login("ann@example.org", STRONG, Some(&next), ip).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let last: i64 =
        env.admin.query_one("SELECT totp_last_step FROM owners WHERE id = $1", &[&ann.id]).await.unwrap().get(0);
    assert!(last >= pos_cloud::http::now_unix() / 30, "the last accepted step is remembered");
}

#[tokio::test]
async fn a_manager_signs_in_without_totp_until_enrolled() {
    let mut env = env("manager_totp", config(None)).await;
    env.create(env.tenant_a, "kim@example.org", STRONG, "manager").await.unwrap();
    let token = env.session("kim@example.org", STRONG, None, "203.0.113.15").await;
    let (_, body) = env.sessions(&token).await;
    assert_eq!(body["sessions"][0]["mfa"], json!(false));

    // Enrolled by the admin: from now on a code is required.
    assert!(matches!(
        owner::enable_totp(&mut env.admin, env.tenant_b, "kim@example.org").await,
        Err(OwnerError::UnknownAccount)
    ));
    let uri = owner::enable_totp(&mut env.admin, env.tenant_a, "KIM@example.org").await.unwrap();
    let kim = CreatedOwner {
        id: Uuid::nil(),
        email: "kim@example.org".into(),
        role: owner::Role::Manager,
        totp_uri: Some(uri),
    };
    let secret = totp_secret(&kim);
    let (status, body) = env.login("kim@example.org", STRONG, None, "203.0.113.15").await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("totp_required")));
    let token = env.session("kim@example.org", STRONG, Some(&code_at(&secret, 0)), "203.0.113.15").await;
    let (_, body) = env.sessions(&token).await;
    let mfa: Vec<bool> = body["sessions"].as_array().unwrap().iter().map(|s| s["mfa"].as_bool().unwrap()).collect();
    assert_eq!(mfa.len(), 2);
    assert!(mfa.contains(&true) && mfa.contains(&false));
}

#[tokio::test]
async fn failures_count_per_account_and_lock_it_even_for_the_right_password() {
    let mut env = env("lockout", config(None)).await;
    env.create(env.tenant_a, "max@example.org", STRONG, "manager").await.unwrap();

    // Unknown email and wrong password: the very same answer.
    let (s1, unknown) = env.login("nobody@example.org", STRONG, None, "203.0.113.20").await;
    let (s2, wrong) = env.login("max@example.org", OTHER_STRONG, None, "203.0.113.20").await;
    assert_eq!((s1, s2), (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED));
    assert_eq!(unknown, wrong);
    for _ in 0..3 {
        env.login("max@example.org", OTHER_STRONG, None, "203.0.113.20").await;
    }
    assert_eq!(env.failed_logins("max@example.org").await, (4, false));
    // Success resets the per-account count.
    let token = env.session("max@example.org", STRONG, None, "203.0.113.20").await;
    assert_eq!(env.failed_logins("max@example.org").await, (0, false));
    let (_, body) = env.sessions(&token).await;
    assert_eq!(body["sessions"][0]["mfa"], json!(false));

    // Five failures from five addresses: the account locks (the per-IP limits are untouched).
    for i in 0..5 {
        let (status, _) = env.login("max@example.org", OTHER_STRONG, None, &format!("198.51.100.{}", 50 + i)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(env.failed_logins("max@example.org").await, (0, true));
    let (status, locked) = env.login("max@example.org", STRONG, None, "198.51.100.99").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "locked: even the right password is refused");
    assert_eq!(locked, wrong, "and the answer does not tell a locked account from a wrong password");
    // Attempts during the lock do not extend it; when it runs out, the right password works.
    env.admin.execute("UPDATE owners SET locked_until = now() - interval '1 second'", &[]).await.unwrap();
    env.session("max@example.org", STRONG, None, "198.51.100.99").await;
}

#[tokio::test]
async fn the_per_address_limit_is_independent_of_accounts() {
    let mut env = env("per_ip", config(None)).await;
    env.create(env.tenant_a, "ida@example.org", STRONG, "manager").await.unwrap();
    let attacker = "203.0.113.30";
    // Twenty failures, each on a different (unknown) email: no account is ever locked by them.
    for i in 0..owner::IP_MAX_FAILURES {
        let (status, _) = env.login(&format!("guess{i}@example.org"), STRONG, None, attacker).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let (status, body) = env.login("ida@example.org", STRONG, None, attacker).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["code"], json!("rate_limited"));
    // The same address in IPv6-mapped form is the same address.
    let (status, _) = env.login("ida@example.org", STRONG, None, "::ffff:203.0.113.30").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // Another address signs in to the same account; its own count was never touched.
    assert_eq!(env.failed_logins("ida@example.org").await, (0, false));
    env.session("ida@example.org", STRONG, None, "203.0.113.31").await;
    let failures: i32 =
        env.admin.query_one("SELECT failures FROM login_attempts_ip WHERE ip = $1", &[&attacker]).await.unwrap().get(0);
    assert_eq!(failures, owner::IP_MAX_FAILURES);
    // Concurrent attempts cannot slip past the limit together.
    let mut set = tokio::task::JoinSet::new();
    for i in 0..30 {
        let app = env.app.clone();
        set.spawn(async move {
            let body = json!({ "email": format!("rush{i}@example.org"), "password": STRONG });
            let mut req = Request::post("/v1/owner/login")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .unwrap();
            req.extensions_mut().insert(ConnectInfo(SocketAddr::new("203.0.113.32".parse().unwrap(), 40_000)));
            app.oneshot(req).await.unwrap().status()
        });
    }
    let statuses = set.join_all().await;
    let refused = statuses.iter().filter(|&&s| s == StatusCode::UNAUTHORIZED).count();
    let limited = statuses.iter().filter(|&&s| s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!((refused, limited), (20, 10), "{statuses:?}");

    // When the window has passed, the address may try again.
    env.admin.execute("UPDATE login_attempts_ip SET window_start = now() - interval '16 minutes'", &[]).await.unwrap();
    env.session("ida@example.org", STRONG, None, attacker).await;
}

/// Behind a load balancer every request comes from the balancer's address. With the balancer
/// trusted, the per-address limit counts each client named in `X-Forwarded-For`, so one attacker
/// does not lock every owner out; a client that is not the balancer cannot pick its own address.
#[tokio::test]
async fn behind_a_trusted_proxy_the_limit_counts_each_forwarded_client() {
    let lb: std::net::IpAddr = "10.0.0.5".parse().unwrap();
    let mut env = env("per_ip_proxy", Config { trusted_proxies: vec![lb], ..config(None) }).await;
    env.create(env.tenant_a, "ida@example.org", STRONG, "manager").await.unwrap();
    let login = |client: &'static str, from: &'static str, email: String| {
        let app = env.app.clone();
        async move {
            let body = json!({ "email": email, "password": STRONG });
            let mut req = Request::post("/v1/owner/login")
                .header(header::CONTENT_TYPE, "application/json")
                .header("x-forwarded-for", client)
                .body(Body::from(body.to_string()))
                .unwrap();
            req.extensions_mut().insert(ConnectInfo(SocketAddr::new(from.parse().unwrap(), 40_000)));
            app.oneshot(req).await.unwrap().status()
        }
    };
    for i in 0..owner::IP_MAX_FAILURES {
        assert_eq!(login("198.51.100.66", "10.0.0.5", format!("guess{i}@example.org")).await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(login("198.51.100.66", "10.0.0.5", "ida@example.org".into()).await, StatusCode::TOO_MANY_REQUESTS);
    // Another client through the same balancer signs in.
    assert_eq!(login("198.51.100.77", "10.0.0.5", "ida@example.org".into()).await, StatusCode::OK);
    let counted: Vec<String> = env
        .admin
        .query("SELECT ip FROM login_attempts_ip WHERE failures > 0 ORDER BY ip", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(counted, ["198.51.100.66"], "the balancer's own address was never counted");
    // Not through the balancer: the header is the sender's word and is ignored.
    for i in 0..owner::IP_MAX_FAILURES {
        assert_eq!(
            login("198.51.100.99", "203.0.113.50", format!("spoof{i}@example.org")).await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(login("198.51.100.99", "203.0.113.50", "x@example.org".into()).await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(login("198.51.100.99", "10.0.0.5", "ida@example.org".into()).await, StatusCode::OK);
}

/// "A code is needed" reveals that the password was right, so it counts against the address
/// like a failure; only a completed sign-in gives the attempt back.
#[tokio::test]
async fn a_code_is_needed_answer_counts_against_the_address() {
    let mut env = env("totp_counts", config(None)).await;
    let ann = env.create(env.tenant_a, "ann@example.org", STRONG, "owner").await.unwrap();
    let ip = "203.0.113.60";
    for _ in 0..owner::IP_MAX_FAILURES {
        let (status, body) = env.login("ann@example.org", STRONG, None, ip).await;
        assert_eq!(body["code"], json!("totp_required"), "{status} {body}");
    }
    let (status, _) = env.login("ann@example.org", STRONG, Some(&code_at(&totp_secret(&ann), 0)), ip).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(env.failed_logins("ann@example.org").await, (0, false), "the account itself was not failed");
}

// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn idle_sessions_expire_and_activity_keeps_them() {
    let mut env = env("idle", config(None)).await;
    env.create(env.tenant_a, "liz@example.org", STRONG, "manager").await.unwrap();
    let token = env.session("liz@example.org", STRONG, None, "203.0.113.40").await;
    let hash = owner::session_token_hash(&token);

    // 29 minutes idle (of 30): still valid, and the request counts as activity.
    env.admin
        .execute(
            "UPDATE owner_sessions SET last_seen_at = now() - interval '29 minutes' WHERE token_hash = $1",
            &[&hash],
        )
        .await
        .unwrap();
    assert_eq!(env.sessions(&token).await.0, StatusCode::OK);
    let fresh: bool = env
        .admin
        .query_one(
            "SELECT last_seen_at > now() - interval '1 minute' FROM owner_sessions WHERE token_hash = $1",
            &[&hash],
        )
        .await
        .unwrap()
        .get(0);
    assert!(fresh, "last_seen_at was updated");

    // 31 minutes idle: ended.
    env.admin
        .execute(
            "UPDATE owner_sessions SET last_seen_at = now() - interval '31 minutes' WHERE token_hash = $1",
            &[&hash],
        )
        .await
        .unwrap();
    let (status, body) = env.sessions(&token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");

    // However active, a session ends SESSION_MAX_SECONDS after sign-in.
    let token = env.session("liz@example.org", STRONG, None, "203.0.113.40").await;
    env.admin
        .execute(
            "UPDATE owner_sessions SET created_at = now() - interval '13 hours' WHERE token_hash = $1",
            &[&owner::session_token_hash(&token)],
        )
        .await
        .unwrap();
    assert_eq!(env.sessions(&token).await.0, StatusCode::UNAUTHORIZED);

    // No token, a made-up token, a device token: all refused.
    let (status, _) = env.call(Method::GET, "/v1/owner/sessions", None, None, "203.0.113.40").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(env.sessions("made-up").await.0, StatusCode::UNAUTHORIZED);
    let device = TokenKey::new([9; 32]).issue(&pos_cloud::token::DeviceClaims {
        tid: env.tenant_a,
        vid: Uuid::new_v4(),
        did: Uuid::new_v4(),
        exp: pos_cloud::http::now_unix() + 600,
    });
    assert_eq!(env.sessions(&device).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn sessions_are_listed_revoked_and_signed_out() {
    let mut env = env("revoke", config(None)).await;
    env.create(env.tenant_a, "ned@example.org", STRONG, "manager").await.unwrap();
    env.create(env.tenant_a, "ola@example.org", OTHER_STRONG, "manager").await.unwrap();
    let laptop = env.session("ned@example.org", STRONG, None, "203.0.113.50").await;
    let phone = env.session("ned@example.org", STRONG, None, "2001:db8:5:6::7").await;
    let colleague = env.session("ola@example.org", OTHER_STRONG, None, "203.0.113.51").await;

    let (status, body) = env.sessions(&laptop).await;
    assert_eq!(status, StatusCode::OK);
    let list = body["sessions"].as_array().unwrap().clone();
    assert_eq!(list.len(), 2, "only Ned's own sessions: {body}");
    let current: Vec<bool> = list.iter().map(|s| s["current"].as_bool().unwrap()).collect();
    assert_eq!(current.iter().filter(|&&c| c).count(), 1);
    assert!(list.iter().all(|s| !s.to_string().contains(&laptop) && !s.to_string().contains(&phone)), "no tokens");
    let phone_id = list.iter().find(|s| s["current"] == json!(false)).unwrap()["id"].as_str().unwrap().to_owned();
    assert!(list.iter().any(|s| s["ip"] == json!("2001:db8:5:6::/64")));

    // A colleague of the same tenant cannot revoke Ned's session.
    let revoke = |id: &str| json!({ "session_id": id });
    let (status, _) = env
        .call(Method::POST, "/v1/owner/sessions/revoke", Some(&colleague), Some(revoke(&phone_id)), "203.0.113.51")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(env.sessions(&phone).await.0, StatusCode::OK);

    // Ned revokes the phone from the laptop.
    let (status, body) = env
        .call(Method::POST, "/v1/owner/sessions/revoke", Some(&laptop), Some(revoke(&phone_id)), "203.0.113.50")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["revoked"], json!(phone_id));
    assert_eq!(env.sessions(&phone).await.0, StatusCode::UNAUTHORIZED);
    let (status, _) = env
        .call(Method::POST, "/v1/owner/sessions/revoke", Some(&laptop), Some(revoke(&phone_id)), "203.0.113.50")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "already revoked");
    let (status, _) = env
        .call(
            Method::POST,
            "/v1/owner/sessions/revoke",
            Some(&laptop),
            Some(revoke(&Uuid::new_v4().to_string())),
            "203.0.113.50",
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(env.sessions(&laptop).await.1["sessions"].as_array().unwrap().len(), 1);

    // Signing out ends the laptop's session, and only it.
    let (status, body) = env.call(Method::POST, "/v1/owner/logout", Some(&laptop), None, "203.0.113.50").await;
    assert_eq!((status, body), (StatusCode::OK, json!({ "signed_out": true })));
    assert_eq!(env.sessions(&laptop).await.0, StatusCode::UNAUTHORIZED);
    let (status, _) = env.call(Method::POST, "/v1/owner/logout", Some(&laptop), None, "203.0.113.50").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(env.sessions(&colleague).await.0, StatusCode::OK);

    // Stored: the hash of each token, never the token.
    let n: i64 = env
        .admin
        .query_one(
            "SELECT count(*) FROM owner_sessions WHERE position(convert_to($1, 'UTF8') IN token_hash) > 0",
            &[&laptop],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
}

#[tokio::test]
async fn a_session_of_one_tenant_never_reaches_another_tenants_sessions() {
    let mut env = env("tenants", config(None)).await;
    env.create(env.tenant_a, "amy@a.example", STRONG, "manager").await.unwrap();
    env.create(env.tenant_b, "ben@b.example", OTHER_STRONG, "manager").await.unwrap();
    let a = env.session("amy@a.example", STRONG, None, "203.0.113.60").await;
    let b = env.session("ben@b.example", OTHER_STRONG, None, "203.0.113.61").await;

    let (_, a_list) = env.sessions(&a).await;
    let (_, b_list) = env.sessions(&b).await;
    let b_id = b_list["sessions"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(a_list["sessions"].as_array().unwrap().len(), 1);
    assert!(!a_list.to_string().contains(&b_id), "{a_list}");
    assert!(!a_list.to_string().contains("203.0.113.61"));

    // A's session cannot revoke B's session by its id; B's session goes on working.
    let (status, _) = env
        .call(Method::POST, "/v1/owner/sessions/revoke", Some(&a), Some(json!({ "session_id": b_id })), "203.0.113.60")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(env.sessions(&b).await.0, StatusCode::OK);
    // A tenant id in the request changes nothing: the tenant comes from the session.
    let (status, body) = env
        .call(Method::GET, &format!("/v1/owner/sessions?tenant_id={}", env.tenant_b), Some(&a), None, "203.0.113.60")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!body.to_string().contains(&b_id));

    // Underneath, the service role sees one tenant's sessions at a time, and none without one.
    let service = db::connect(&env.service_url).await.unwrap();
    let n: i64 = service.query_one("SELECT count(*) FROM owner_sessions", &[]).await.unwrap().get(0);
    assert_eq!(n, 0);
    service.execute("SELECT set_config('app.tenant_id', $1, false)", &[&env.tenant_a.to_string()]).await.unwrap();
    let n: i64 = service.query_one("SELECT count(*) FROM owner_sessions", &[]).await.unwrap().get(0);
    assert_eq!(n, 1);
    let e = service
        .execute("UPDATE owner_sessions SET revoked_at = now() WHERE id = $1", &[&Uuid::parse_str(&b_id).unwrap()])
        .await
        .unwrap();
    assert_eq!(e, 0, "B's row is invisible to an update scoped to A");
    assert_eq!(env.sessions(&b).await.0, StatusCode::OK);
}

/// Tax classes change what every register charges: only an owner sets them, and a class a
/// register could not sell with is refused whole.
#[tokio::test]
async fn tax_classes_are_set_by_owners_only_and_checked() {
    let mut env = env("taxes", config(None)).await;
    let venue: Uuid =
        env.admin.query_one("SELECT id FROM venues WHERE tenant_id = $1", &[&env.tenant_a]).await.unwrap().get(0);
    let path = format!("/v1/venues/{venue}/taxes");
    let ann = env.create(env.tenant_a, "ann@example.org", STRONG, "owner").await.unwrap();
    let owner = env.session("ann@example.org", STRONG, Some(&code_at(&totp_secret(&ann), 0)), "203.0.113.40").await;
    env.create(env.tenant_a, "kim@example.org", STRONG, "manager").await.unwrap();
    let manager = env.session("kim@example.org", STRONG, None, "203.0.113.40").await;

    let good = json!([{ "name": "reduced", "rates": [{ "code": "B", "name": "VAT 5%", "rate_ppm": 50000 }] }]);
    let (status, body) = env.call(Method::PUT, &path, Some(&manager), Some(good.clone()), "203.0.113.40").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    for bad in [
        json!([{ "name": "reduced", "rates": [{ "code": "B", "name": "VAT", "rate_ppm": 1000001 }] }]),
        json!([{ "name": "reduced", "rates": [] }]),
        json!([{ "name": "reduced", "rates": [{ "code": "B", "name": "VAT", "rate_ppm": 1 }, { "code": "B", "name": "VAT", "rate_ppm": 2 }] }]),
        json!([good[0], { "name": "", "rates": [{ "code": "Z", "name": "Zero", "rate_ppm": 0 }] }]),
        json!([good[0], good[0]]),
        json!([{ "name": "reduced", "rates": [{ "code": "B", "name": "VAT", "rate_ppm": -5 }] }]),
    ] {
        let (status, body) = env.call(Method::PUT, &path, Some(&owner), Some(bad.clone()), "203.0.113.40").await;
        assert!(status.is_client_error(), "{bad}: {status} {body}");
        assert_eq!(stored_taxes(&env.admin).await, "", "{bad} changed nothing");
    }
    let (status, body) = env.call(Method::PUT, &path, Some(&owner), Some(good), "203.0.113.40").await;
    assert_eq!((status, body["changed"].as_u64()), (StatusCode::OK, Some(1)), "{body}");
    assert!(stored_taxes(&env.admin).await.contains("50000"));
}

/// The tax classes the admin connection sees (its tenant set), as one line.
async fn stored_taxes(admin: &Client) -> String {
    admin
        .query_one("SELECT coalesce(string_agg(name || rates::text, ';'), '') FROM tax_classes", &[])
        .await
        .unwrap()
        .get(0)
}
