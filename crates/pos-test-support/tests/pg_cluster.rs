//! The throw-away PostgreSQL cluster: databases work, and nothing is left behind.
#![cfg(unix)]

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

use pos_test_support::PgCluster;

#[test]
fn creates_working_databases_and_cleans_up_on_drop() {
    let cluster = PgCluster::start().expect("start the cluster");
    let admin = cluster.admin_url();
    assert!(admin.starts_with("postgres://"), "{admin}");

    let first = cluster.create_database("pos_ts_first").unwrap();
    let second = cluster.create_database("pos_ts_second").unwrap();
    assert_ne!(first, second);
    for (url, name) in [(&first, "pos_ts_first"), (&second, "pos_ts_second")] {
        assert_eq!(cluster.psql(url, "select 1").unwrap().trim(), "1");
        assert_eq!(cluster.psql(url, "select current_database()").unwrap().trim(), name);
    }

    // Databases are separate, and creating one again starts it empty.
    cluster.psql(&first, "create table marker (id int); insert into marker values (7)").unwrap();
    assert!(cluster.psql(&second, "select * from marker").is_err());
    cluster.create_database("pos_ts_first").unwrap();
    assert!(cluster.psql(&first, "select * from marker").is_err());

    let dir = cluster.dir().map(PathBuf::from);
    drop(cluster);
    if let Some(dir) = dir {
        assert!(!dir.exists(), "{} is left behind", dir.display());
        // The server is gone too.
        let port = admin.rsplit(':').next().and_then(|rest| rest.split('/').next());
        let port: u16 = port.unwrap().parse().unwrap();
        assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
    }
}

#[test]
fn a_panicking_test_still_stops_its_cluster() {
    let mut dir = None;
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let cluster = PgCluster::start().expect("start the cluster");
        dir = cluster.dir().map(PathBuf::from);
        panic!("the test fails");
    }));
    assert!(outcome.is_err());
    if let Some(dir) = dir {
        assert!(!dir.exists(), "{} is left behind", dir.display());
    }
}

#[test]
fn shared_cluster_is_one_instance() {
    let first = PgCluster::shared();
    let second = PgCluster::shared();
    assert!(std::ptr::eq(first, second));
    assert_eq!(first.admin_url(), second.admin_url());
    let url = first.create_database("pos_ts_shared").unwrap();
    assert_eq!(first.psql(&url, "select 1").unwrap().trim(), "1");
}

#[test]
fn rejects_unsafe_database_names() {
    let error = PgCluster::shared().create_database("x\"; drop database postgres; --").unwrap_err();
    assert!(error.to_string().contains("invalid database name"), "{error}");
}
