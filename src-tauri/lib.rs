//! The desktop register's shell. The Tauri window arrives with the desktop-app issue; until then
//! this binary opens the store through the façade — exactly as the window will — and reports whether
//! the register is ready to sell. It holds no rules of its own.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use pos_app::{OsCredentialStore, Register, SystemClock};

/// Opens the register in the data directory given by `--data-dir DIR` or `POS_DATA_DIR`.
pub fn run() -> ExitCode {
    let dir = data_dir();
    let Some(dir) = dir else {
        eprintln!(
            "usage: pos-register --data-dir DIR   (or set POS_DATA_DIR); create a store with `posctl init --demo`"
        );
        return ExitCode::from(2);
    };
    let opened = OsCredentialStore::connect()
        .map_err(pos_app::AppError::from)
        .and_then(|secrets| Register::open(&dir, &secrets, Arc::new(SystemClock)));
    match opened {
        Ok(reg) => {
            let shift = reg.current_shift().ok().flatten();
            println!(
                "{}: ready to sell; {} items; shift {}",
                reg.venue_name(),
                reg.catalog().len(),
                shift.map_or_else(|| "closed".to_owned(), |s| format!("open since {}", s.opened_at))
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error[{}]: {}", e.code.as_str(), e.message);
            ExitCode::FAILURE
        }
    }
}

fn data_dir() -> Option<PathBuf> {
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--data-dir" {
            return args.next().map(PathBuf::from);
        }
    }
    std::env::var_os("POS_DATA_DIR").map(PathBuf::from)
}
