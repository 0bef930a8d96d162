//! A thin VFS over the platform's default one that hands each commit's WAL writes to the
//! operating system in one `pwrite` instead of two per page.
//!
//! SQLite writes a WAL commit as a 24-byte frame header and a page, one system call each, and then
//! syncs. A three-line sale writes about fifteen pages: thirty system calls before the sync. On
//! the test VM, without SQLite, twenty such frames written one call each and synced took a p99 of
//! about 650 µs, and about 400 µs written in one call; in the sale benchmark the commit's p50
//! fell by about 50 µs (docs/adr/0003-sqlcipher-settings.md). Only the WAL file is wrapped; the
//! database file, the shared-memory index and temporary files keep the default VFS's own methods.
//!
//! What this changes, and why it is safe:
//!
//! - Writes to the WAL are held in memory while each continues or overwrites what is held, and go
//!   to the file (one write) before anything that depends on them: a sync, a read of the held
//!   range, a write elsewhere, a truncate, a size query, or closing the file. Past 64 KiB they go
//!   straight away, so a large transaction spilling pages holds at most that much.
//! - SQLite counts a WAL commit as durable only when its sync returns, and makes new frames
//!   visible to other connections only after that sync. A sync here first writes everything held,
//!   so what is on disk at that moment is exactly what plain SQLite would have written. A crash
//!   before the sync loses frames that plain SQLite could also have lost (the operating system
//!   had not been told to keep them): the commit had not returned.
//! - That argument needs every commit to sync, that is `synchronous = FULL` (or `EXTRA`) on every
//!   connection opened with this VFS. `open_connection` sets it and checks it before returning.
//! - If the write of what is held fails (a full disk), the call that triggered it returns the
//!   error, as the first write would have without this layer, and what was held stays held: it is
//!   never dropped while SQLite believes it written. Writes made afterwards at the same offsets
//!   (SQLite rewriting the frames of a transaction after a rollback) replace it.
//!
//! The `unsafe` here is confined to this module: it implements the C interface that SQLite calls.
#![allow(unsafe_code)]

use std::ffi::{CStr, c_char, c_int, c_void};
use std::sync::OnceLock;

use rusqlite::ffi;

/// The name connections pass to `sqlite3_open_v2` to use this VFS.
pub(crate) const VFS_NAME: &CStr = c"pos-walbuf";

/// Held WAL bytes are written out once they reach this size, which is also the most written in
/// one call: a three-line sale's commit (about 35 KiB) fits; the Unix VFS refuses writes of
/// 128 KiB or more.
const FLUSH_AT: usize = 64 << 10;

/// Our part of an open WAL file. SQLite allocates `szOsFile` bytes per file: this struct first,
/// then (at `INNER_OFFSET`) the default VFS's own file object, which does the real I/O.
#[repr(C)]
struct WalFile {
    /// Must be first: SQLite reads `pMethods` through a `*mut sqlite3_file`.
    base: ffi::sqlite3_file,
    inner: *mut ffi::sqlite3_file,
    /// Bytes not yet written, destined for the file at `held_at..held_at + held.len()`.
    held: Vec<u8>,
    held_at: i64,
}

const INNER_OFFSET: usize = std::mem::size_of::<WalFile>().next_multiple_of(16);

/// The default VFS we wrap. (Ours is leaked on purpose: SQLite keeps a pointer to it for good.)
struct Inner(*mut ffi::sqlite3_vfs);

// SAFETY: the default VFS is a static object inside SQLite, only read after registration.
unsafe impl Send for Inner {}
unsafe impl Sync for Inner {}

static VFS: OnceLock<Result<Inner, c_int>> = OnceLock::new();

/// Registers the VFS once per process (not as the default) and returns its name, or the SQLite
/// error code if there is no default VFS to wrap or registration failed.
pub(crate) fn register() -> Result<&'static CStr, c_int> {
    let vfs = VFS.get_or_init(|| {
        // SAFETY: sqlite3_vfs_find initialises SQLite and returns a pointer to a static VFS (or
        // null). We copy it, so its methods that we do not override keep working with our copy;
        // `pAppData` is copied too, as the default VFS's methods read their own data from it.
        unsafe {
            let inner = ffi::sqlite3_vfs_find(std::ptr::null());
            if inner.is_null() {
                return Err(ffi::SQLITE_ERROR);
            }
            let mut ours: ffi::sqlite3_vfs = std::ptr::read(inner);
            ours.szOsFile = c_int::try_from(INNER_OFFSET).map_err(|_| ffi::SQLITE_ERROR)? + (*inner).szOsFile;
            ours.zName = VFS_NAME.as_ptr();
            ours.pNext = std::ptr::null_mut();
            ours.xOpen = Some(open);
            let ours = Box::into_raw(Box::new(ours));
            let rc = ffi::sqlite3_vfs_register(ours, 0);
            if rc != ffi::SQLITE_OK {
                drop(Box::from_raw(ours));
                return Err(rc);
            }
            Ok(Inner(inner))
        }
    });
    vfs.as_ref().map(|_| VFS_NAME).map_err(|rc| *rc)
}

fn inner_vfs() -> *mut ffi::sqlite3_vfs {
    match VFS.get() {
        Some(Ok(v)) => v.0,
        // `open` is only reachable through a registered VFS.
        _ => unreachable!("pos-walbuf used before registration"),
    }
}

/// Version 1 of the interface: SQLite maps shared memory and pages (versions 2 and 3) only
/// through the database file, never through the WAL.
static WAL_METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 1,
    xClose: Some(close),
    xRead: Some(read),
    xWrite: Some(write),
    xTruncate: Some(truncate),
    xSync: Some(sync),
    xFileSize: Some(file_size),
    xLock: Some(lock),
    xUnlock: Some(unlock),
    xCheckReservedLock: Some(check_reserved_lock),
    xFileControl: Some(file_control),
    xSectorSize: Some(sector_size),
    xDeviceCharacteristics: Some(device_characteristics),
    xShmMap: None,
    xShmLock: None,
    xShmBarrier: None,
    xShmUnmap: None,
    xFetch: None,
    xUnfetch: None,
};

unsafe extern "C" fn open(
    _vfs: *mut ffi::sqlite3_vfs,
    name: *const c_char,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    let inner_vfs = inner_vfs();
    // SAFETY: SQLite hands us `szOsFile` writable bytes at `file`, which is at least the default
    // VFS's own size; every non-WAL file is opened by the default VFS in place, as if we were not
    // here. A WAL file gets our header and the default VFS's object after it.
    unsafe {
        let Some(inner_open) = (*inner_vfs).xOpen else { return ffi::SQLITE_ERROR };
        if flags & ffi::SQLITE_OPEN_WAL == 0 {
            return inner_open(inner_vfs, name, file, flags, out_flags);
        }
        let inner = file.cast::<u8>().add(INNER_OFFSET).cast::<ffi::sqlite3_file>();
        (*inner).pMethods = std::ptr::null();
        let rc = inner_open(inner_vfs, name, inner, flags, out_flags);
        if rc != ffi::SQLITE_OK {
            if let Some(m) = (*inner).pMethods.as_ref()
                && let Some(close) = m.xClose
            {
                close(inner);
            }
            (*file).pMethods = std::ptr::null();
            return rc;
        }
        std::ptr::write(
            file.cast::<WalFile>(),
            WalFile { base: ffi::sqlite3_file { pMethods: &WAL_METHODS }, inner, held: Vec::new(), held_at: 0 },
        );
        ffi::SQLITE_OK
    }
}

/// The WAL file behind a `sqlite3_file` that our `open` initialised.
///
/// SAFETY: `file` must be a file opened by `open` with the WAL flag and not yet closed; SQLite
/// never calls one file's methods from two threads at once.
unsafe fn wal<'a>(file: *mut ffi::sqlite3_file) -> &'a mut WalFile {
    unsafe { &mut *file.cast::<WalFile>() }
}

/// The default VFS's methods for the wrapped file.
///
/// SAFETY: as for [`wal`].
unsafe fn methods<'a>(w: &WalFile) -> &'a ffi::sqlite3_io_methods {
    unsafe { &*(*w.inner).pMethods }
}

impl WalFile {
    /// Writes out what is held. On failure it all stays held and the error is returned.
    fn flush(&mut self) -> c_int {
        // The Unix VFS takes at most 128 KiB per write, so larger runs go in pieces.
        let mut at = self.held_at;
        for piece in self.held.chunks(FLUSH_AT) {
            // SAFETY: `inner` is open; a piece is at most FLUSH_AT bytes, far below c_int::MAX.
            let rc = unsafe {
                let Some(write) = methods(self).xWrite else { return ffi::SQLITE_IOERR_WRITE };
                write(self.inner, piece.as_ptr().cast(), piece.len() as c_int, at)
            };
            if rc != ffi::SQLITE_OK {
                return rc;
            }
            at += piece.len() as i64;
        }
        self.held.clear();
        ffi::SQLITE_OK
    }

    fn held_end(&self) -> i64 {
        self.held_at + self.held.len() as i64
    }

    /// Whether `len` bytes at `at` overlap what is held.
    fn overlaps(&self, at: i64, len: i64) -> bool {
        !self.held.is_empty() && at < self.held_end() && at + len > self.held_at
    }

    fn hold(&mut self, bytes: &[u8], at: i64) -> c_int {
        if !self.held.is_empty() && (at < self.held_at || at > self.held_end()) {
            let rc = self.flush();
            if rc != ffi::SQLITE_OK {
                return rc;
            }
        }
        if self.held.is_empty() {
            self.held_at = at;
        }
        let from = (at - self.held_at) as usize;
        if from + bytes.len() <= self.held.len() {
            self.held[from..from + bytes.len()].copy_from_slice(bytes);
        } else {
            self.held.truncate(from);
            if self.held.try_reserve(bytes.len()).is_err() {
                return ffi::SQLITE_NOMEM;
            }
            self.held.extend_from_slice(bytes);
        }
        if self.held.len() >= FLUSH_AT {
            return self.flush();
        }
        ffi::SQLITE_OK
    }
}

unsafe extern "C" fn close(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: SQLite calls xClose once, last; the WalFile is read out and dropped here. (If the
    // last write fails here, what was held is lost with the file: frames no commit has synced.)
    unsafe {
        let mut w = std::ptr::read(file.cast::<WalFile>());
        (*file).pMethods = std::ptr::null();
        let flushed = w.flush();
        let closed = methods(&w).xClose.map_or(ffi::SQLITE_OK, |close| close(w.inner));
        if flushed != ffi::SQLITE_OK { flushed } else { closed }
    }
}

unsafe extern "C" fn read(file: *mut ffi::sqlite3_file, buf: *mut c_void, amt: c_int, at: i64) -> c_int {
    // SAFETY: see `wal`.
    unsafe {
        let w = wal(file);
        if w.overlaps(at, i64::from(amt)) {
            let rc = w.flush();
            if rc != ffi::SQLITE_OK {
                return rc;
            }
        }
        methods(w).xRead.map_or(ffi::SQLITE_IOERR_READ, |read| read(w.inner, buf, amt, at))
    }
}

unsafe extern "C" fn write(file: *mut ffi::sqlite3_file, buf: *const c_void, amt: c_int, at: i64) -> c_int {
    // SAFETY: see `wal`; SQLite passes `amt` readable bytes at `buf`.
    unsafe {
        let w = wal(file);
        let bytes = std::slice::from_raw_parts(buf.cast::<u8>(), usize::try_from(amt).unwrap_or(0));
        w.hold(bytes, at)
    }
}

unsafe extern "C" fn truncate(file: *mut ffi::sqlite3_file, size: i64) -> c_int {
    // SAFETY: see `wal`.
    unsafe {
        let w = wal(file);
        let rc = w.flush();
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        methods(w).xTruncate.map_or(ffi::SQLITE_IOERR_TRUNCATE, |t| t(w.inner, size))
    }
}

unsafe extern "C" fn sync(file: *mut ffi::sqlite3_file, flags: c_int) -> c_int {
    // SAFETY: see `wal`.
    unsafe {
        let w = wal(file);
        let rc = w.flush();
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        methods(w).xSync.map_or(ffi::SQLITE_IOERR_FSYNC, |s| s(w.inner, flags))
    }
}

unsafe extern "C" fn file_size(file: *mut ffi::sqlite3_file, size: *mut i64) -> c_int {
    // SAFETY: see `wal`.
    unsafe {
        let w = wal(file);
        let rc = w.flush();
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        methods(w).xFileSize.map_or(ffi::SQLITE_IOERR_FSTAT, |f| f(w.inner, size))
    }
}

// The rest pass straight through: none of them reads or writes the file's bytes.

unsafe extern "C" fn lock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    // SAFETY: see `wal`.
    unsafe {
        let w = wal(file);
        methods(w).xLock.map_or(ffi::SQLITE_OK, |f| f(w.inner, level))
    }
}

unsafe extern "C" fn unlock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    // SAFETY: see `wal`.
    unsafe {
        let w = wal(file);
        methods(w).xUnlock.map_or(ffi::SQLITE_OK, |f| f(w.inner, level))
    }
}

unsafe extern "C" fn check_reserved_lock(file: *mut ffi::sqlite3_file, out: *mut c_int) -> c_int {
    // SAFETY: see `wal`.
    unsafe {
        let w = wal(file);
        methods(w).xCheckReservedLock.map_or(ffi::SQLITE_OK, |f| f(w.inner, out))
    }
}

unsafe extern "C" fn file_control(file: *mut ffi::sqlite3_file, op: c_int, arg: *mut c_void) -> c_int {
    // SAFETY: see `wal`.
    unsafe {
        let w = wal(file);
        methods(w).xFileControl.map_or(ffi::SQLITE_NOTFOUND, |f| f(w.inner, op, arg))
    }
}

unsafe extern "C" fn sector_size(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: see `wal`.
    unsafe {
        let w = wal(file);
        methods(w).xSectorSize.map_or(4096, |f| f(w.inner))
    }
}

unsafe extern "C" fn device_characteristics(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: see `wal`.
    unsafe {
        let w = wal(file);
        methods(w).xDeviceCharacteristics.map_or(0, |f| f(w.inner))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::{Connection, OpenFlags};

    /// Large commits (split into pieces), transactions that spill pages to the WAL before they
    /// commit or roll back, and the WAL read back by a second connection and recovered, as after a
    /// crash, through the default VFS.
    #[test]
    fn a_database_written_through_it_reads_back_whole_through_the_default_vfs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE;
        let vfs = register().expect("registered");
        let mut w = Connection::open_with_flags_and_vfs(&path, flags, vfs).unwrap();
        w.execute_batch(
            "PRAGMA page_size = 2048; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
             PRAGMA wal_autocheckpoint = 0; PRAGMA cache_size = 20;
             CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB NOT NULL);",
        )
        .unwrap();
        let blob = |i: i64, len: usize| (0..len).map(|j| (i as usize * 31 + j) as u8).collect::<Vec<u8>>();
        let mut expected = 0i64;
        // One commit of about 1 MB: far more than the 64 KiB written per call, and spilling.
        let tx = w.transaction().unwrap();
        for i in 0..400 {
            tx.execute("INSERT INTO t (id, body) VALUES (?1, ?2)", (i, blob(i, 2500))).unwrap();
            expected += 1;
        }
        tx.commit().unwrap();
        // Small commits, each one write and one sync.
        for i in 400..450 {
            w.execute("INSERT INTO t (id, body) VALUES (?1, ?2)", (i, blob(i, 300))).unwrap();
            expected += 1;
        }
        // A spilled transaction that is rolled back leaves nothing behind.
        let tx = w.transaction().unwrap();
        for i in 1000..1400 {
            tx.execute("INSERT INTO t (id, body) VALUES (?1, ?2)", (i, blob(i, 2500))).unwrap();
        }
        tx.rollback().unwrap();
        // Rewriting pages already in this transaction's frames.
        let tx = w.transaction().unwrap();
        for round in 0..3 {
            tx.execute("UPDATE t SET body = ?1 WHERE id < 40", [blob(round, 2000)]).unwrap();
        }
        tx.commit().unwrap();
        // A second connection reads what was committed, from the WAL.
        let r = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        let n: i64 = r.query_row("SELECT count(*) FROM t", [], |x| x.get(0)).unwrap();
        assert_eq!(n, expected);
        drop(r);
        // As after a crash: copy the database and its WAL (not the shared-memory index) while the
        // writer is open, and open the copy through the default VFS, which rebuilds the index
        // from the WAL's frames and checksums.
        let copy = tempfile::tempdir().unwrap();
        for name in ["t.db", "t.db-wal"] {
            std::fs::copy(dir.path().join(name), copy.path().join(name)).unwrap();
        }
        drop(w);
        let c = Connection::open(copy.path().join("t.db")).unwrap();
        let ok: String = c.query_row("PRAGMA integrity_check", [], |x| x.get(0)).unwrap();
        assert_eq!(ok, "ok");
        let n: i64 = c.query_row("SELECT count(*) FROM t", [], |x| x.get(0)).unwrap();
        assert_eq!(n, expected);
        let first: Vec<u8> = c.query_row("SELECT body FROM t WHERE id = 5", [], |x| x.get(0)).unwrap();
        assert_eq!(first, blob(2, 2000));
        let last: Vec<u8> = c.query_row("SELECT body FROM t WHERE id = 449", [], |x| x.get(0)).unwrap();
        assert_eq!(last, blob(449, 300));
    }

    #[test]
    fn writes_that_continue_or_overwrite_are_held_in_one_run() {
        let mut w = WalFile {
            base: ffi::sqlite3_file { pMethods: std::ptr::null() },
            inner: std::ptr::null_mut(),
            held: Vec::new(),
            held_at: 0,
        };
        assert_eq!(w.hold(b"header..", 32), ffi::SQLITE_OK);
        assert_eq!(w.hold(b"page", 40), ffi::SQLITE_OK);
        assert_eq!(w.hold(b"PA", 40), ffi::SQLITE_OK);
        assert_eq!(w.hold(b"GE!!", 42), ffi::SQLITE_OK);
        assert_eq!((w.held_at, w.held.as_slice()), (32, b"header..PAGE!!".as_slice()));
        assert!(w.overlaps(45, 1) && w.overlaps(0, 33) && !w.overlaps(46, 10) && !w.overlaps(0, 32));
        w.held.clear();
    }
}
