//! The sync client against the real cloud service (`pos_cloud::testing::TestCloud`: the service on
//! a throw-away PostgreSQL), over plain HTTP on loopback and over TLS with a CA of the test's own.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use pos_cloud::testing::TestCloud;
use pos_sync::api::{EnrollRequest, PushRequest};
use pos_sync::{CloudClient, DeviceClient, DeviceKey, ErrorKind};

fn enroll_request(code: &str, key: &DeviceKey) -> (String, EnrollRequest) {
    let device = uuid_v4();
    let audit = DeviceKey::generate().unwrap();
    let request = EnrollRequest {
        code: code.to_owned(),
        device_id: device.clone(),
        device_name: "Till 1".into(),
        device_public_key: key.public_key_hex(),
        audit_public_key: audit.public_key_hex(),
    };
    (device, request)
}

/// A random UUID (version 4), without a UUID crate.
fn uuid_v4() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).unwrap();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

#[test]
fn enrol_get_a_token_push_and_pull_and_every_refusal_is_classified() {
    let cloud = TestCloud::start("sync_client");
    let tenant = cloud.create_tenant("client");
    let code = cloud.enrolment_code(tenant);
    let client = CloudClient::new(&cloud.url(), None).unwrap();
    client.health().unwrap();

    let key = DeviceKey::generate().unwrap();
    let (device, request) = enroll_request("WRONG-WRONG-WRONG", &key);
    let e = client.enroll(&request).unwrap_err();
    assert_eq!((e.kind, e.status, e.code.as_deref()), (ErrorKind::Forbidden, Some(403), Some("forbidden")), "{e}");

    let enrolled = client.enroll(&EnrollRequest { code: code.to_lowercase(), ..request.clone() }).unwrap();
    assert_eq!(enrolled.device_id, device);
    assert_eq!(enrolled.tenant_id, tenant.tenant.to_string());
    assert_eq!(enrolled.venue_name, "client café");
    // The same device again, with a fresh code: already enrolled, and no use retrying.
    let again = client.enroll(&EnrollRequest { code: cloud.enrolment_code(tenant), ..request.clone() }).unwrap_err();
    assert_eq!((again.kind, again.code.as_deref()), (ErrorKind::Rejected, Some("already_enrolled")), "{again}");
    assert!(!again.is_retryable());
    // A used code: refused.
    let (_, other) = enroll_request(&code, &DeviceKey::generate().unwrap());
    assert_eq!(client.enroll(&other).unwrap_err().kind, ErrorKind::Forbidden);

    // A token signed by another key is refused (401); the device's own works.
    let impostor = DeviceKey::generate().unwrap();
    let mut wrong = DeviceClient::new(CloudClient::new(&cloud.url(), None).unwrap(), device.clone(), impostor);
    let e = wrong.pull(0).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unauthorized, "{e}");
    assert!(e.is_retryable());

    let mut dev = DeviceClient::new(client, device.clone(), DeviceKey::from_seed(&key.seed()));
    let pulled = dev.pull(0).unwrap();
    assert_eq!(pulled.venue.map(|v| v.name), Some("client café".into()));
    let pushed = dev.push(&PushRequest::default()).unwrap();
    assert!(pushed.results.is_empty());
    assert_eq!(pushed.audit.held_through, 0);

    // A bad request as a whole is the caller's bug: rejected, not retried.
    let bad = pos_sync::api::PushRecord {
        seq: 1,
        op_id: uuid_v4(),
        kind: "sale_recorded".into(),
        payload: "{}".into(),
        payload_hash: "00".into(),
    };
    let e = dev.push(&PushRequest { records: vec![bad; 501], audit: vec![] }).unwrap_err();
    assert_eq!((e.kind, e.status), (ErrorKind::Rejected, Some(413)), "{e}");

    // Revoked: once the token it holds is refused or expires, a new one is refused with 403.
    cloud.revoke(tenant, device.parse().unwrap());
    let e = dev.fresh_token().unwrap_err();
    assert_eq!(e.kind, ErrorKind::Revoked, "{e}");
    assert!(!e.is_retryable());
}

#[test]
fn an_unreachable_service_is_worth_retrying() {
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let client = CloudClient::new(&format!("http://127.0.0.1:{port}"), None).unwrap();
    let e = client.health().unwrap_err();
    assert_eq!(e.kind, ErrorKind::Retryable, "{e}");
    assert!(e.message.contains("not reachable"), "{e}");
    let e = client.challenge("x").unwrap_err();
    assert!(e.is_retryable(), "{e}");
}

/// Makes a CA and a server certificate for localhost and 127.0.0.1 with the openssl tool.
fn make_certificates(dir: &Path) -> bool {
    let run =
        |args: &[&str]| Command::new("openssl").args(args).current_dir(dir).output().is_ok_and(|o| o.status.success());
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    let ca: Vec<&str> = ["req", "-x509"]
        .into_iter()
        .chain(ec)
        .chain(["-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=pos test CA"])
        .collect();
    let csr: Vec<&str> = ["req"]
        .into_iter()
        .chain(ec)
        .chain(["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"])
        .collect();
    run(&ca)
        && run(&csr)
        && run(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ])
}

/// Serves the cloud's API over TLS on a free loopback port, on a thread of its own.
fn serve_tls(cloud: &TestCloud, cert: &Path, key: &Path) -> SocketAddr {
    let addr: SocketAddr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let state = cloud.block_on(async {
        let admin = pos_cloud::db::connect(&cloud.admin_url).await.unwrap();
        pos_cloud::state::AppState {
            pool: pos_cloud::db::pool(&cloud.service_url, 2).unwrap(),
            tokens: Arc::new(pos_cloud::admin::load_token_key(&admin).await.unwrap()),
            config: Arc::new(pos_cloud::state::Config::default()),
        }
    });
    let tls = Some((cert.display().to_string(), key.display().to_string()));
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let _ = rt.block_on(pos_cloud::http::serve(state, addr, tls));
    });
    for _ in 0..100 {
        if std::net::TcpStream::connect(addr).is_ok() {
            return addr;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the TLS service did not start on {addr}");
}

#[test]
fn tls_with_an_extra_ca_and_without_it() {
    let tmp = tempfile::tempdir().unwrap();
    if !make_certificates(tmp.path()) {
        eprintln!("skipped: the openssl tool could not make test certificates");
        return;
    }
    let cloud = TestCloud::start("sync_tls");
    let tenant = cloud.create_tenant("tls");
    let addr = serve_tls(&cloud, &tmp.path().join("server.pem"), &tmp.path().join("server.key"));
    let url = format!("https://localhost:{}", addr.port());

    // Only the webpki roots: the test CA is unknown.
    let e = CloudClient::new(&url, None).unwrap().health().unwrap_err();
    assert_eq!(e.kind, ErrorKind::Retryable, "{e}");
    assert!(e.message.to_lowercase().contains("certificate"), "{e}");

    // With the CA file: enrol and pull over TLS.
    let ca = tmp.path().join("ca.pem");
    let client = CloudClient::new(&url, Some(&ca)).unwrap();
    client.health().unwrap();
    let key = DeviceKey::generate().unwrap();
    let (device, request) = enroll_request(&cloud.enrolment_code(tenant), &key);
    client.enroll(&request).unwrap();
    let mut dev = DeviceClient::new(client, device, key);
    assert_eq!(dev.pull(0).unwrap().venue.map(|v| v.name), Some("tls café".into()));

    // The certificate names 127.0.0.1 too.
    let by_ip = CloudClient::new(&format!("https://127.0.0.1:{}", addr.port()), Some(&ca)).unwrap();
    by_ip.health().unwrap();
}
