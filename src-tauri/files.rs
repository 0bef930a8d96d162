//! Files the app writes for people (exports, PDFs): written whole or not at all.

use std::io::Write;
use std::path::Path;

use pos_app::{AppError, AppResult, ErrorCode};

/// Writes `bytes` to `dir/name` through a temporary file and a rename, so a full disk or a crash
/// never leaves half a file under the final name. Returns the path.
pub fn save(dir: &Path, name: &str, bytes: &[u8]) -> AppResult<String> {
    let io = |e: std::io::Error| {
        let code = match e.raw_os_error() {
            Some(28) => ErrorCode::DiskFull,
            Some(30) => ErrorCode::ReadOnly,
            _ => ErrorCode::Internal,
        };
        AppError::new(code, format!("{}: {e}", dir.display()))
    };
    if name.contains(['/', '\\']) || name.starts_with('.') {
        return Err(AppError::invalid(format!("{name:?} is not a file name")));
    }
    std::fs::create_dir_all(dir).map_err(io)?;
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.partial"));
    let mut f = std::fs::File::create(&tmp).map_err(io)?;
    f.write_all(bytes).and_then(|()| f.sync_all()).map_err(io)?;
    std::fs::rename(&tmp, &path).map_err(io)?;
    Ok(path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_whole_files_and_refuses_paths() {
        let dir = tempfile::tempdir().unwrap();
        let p = save(dir.path(), "a.csv", b"x,y\n").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"x,y\n");
        assert!(save(dir.path(), "../evil", b"").is_err());
        assert!(!dir.path().join(".a.csv.partial").exists());
    }
}
