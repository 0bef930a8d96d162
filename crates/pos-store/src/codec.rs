//! The crypto provider SQLCipher uses for its pages: AES-256-CBC, HMAC and PBKDF2 from the
//! RustCrypto crates, registered with `sqlcipher_register_provider` in place of the bundled
//! OpenSSL provider.
//!
//! Why: a sale's commit encrypts and authenticates about fourteen pages, and SQLCipher's OpenSSL
//! provider fetches the cipher and MAC implementations by name, allocates and frees their
//! contexts, and draws the IV from OpenSSL's locked random generator again for every page. In
//! `perf` samples of the sale benchmark that overhead was about as large as AES and SHA-256
//! themselves (docs/adr/0003-sqlcipher-settings.md). Here each call is the primitive alone: the
//! `aes` crate (AES-NI where the CPU has it, detected at run time) in CBC mode, `hmac` over `sha2`
//! (SHA-NI likewise), `pbkdf2`. The AES key schedules and the keyed HMAC states are wiped when
//! they are dropped (the crates' `zeroize` features), so no copy of a key outlives the call that
//! used it.
//!
//! What does not change: the file format. SQLCipher itself decides what each page holds (the
//! encrypted bytes, the IV, the HMAC over both and the page number) and derives the keys; a
//! provider only computes the primitives SQLCipher asks for, so a page written through either
//! provider is read by the other. `tests/codec_provider.rs` writes a store through each and reads
//! it through the other, both ways.
//!
//! Random bytes (each page's IV and the rest of its reserve, and new salts) come from the
//! operating system's generator (`getrandom`), drawn 4 KiB at a time per connection. They are
//! not secret: SQLCipher stores them in the clear beside the page. What CBC needs of an IV, that
//! nobody can predict it, holds because the draws come from the OS.
//!
//! Only what our stores use and SQLCipher 4 can ask for is offered: HMAC and PBKDF2 over SHA-256
//! or SHA-512. SHA-1 (SQLCipher 3's format) is refused with an error, never silently computed
//! with another hash.
//!
//! The `unsafe` here is confined to this module: it implements the C interface SQLCipher calls.
#![allow(unsafe_code)]

use std::ffi::{CStr, c_char, c_int, c_void};
use std::sync::{Mutex, OnceLock};

use aes::Aes256;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use hmac_wiping::{Hmac, Mac};
use rusqlite::ffi;
use sha2_wiping::{Sha256, Sha512};

/// SQLCipher's provider interface (`struct sqlcipher_provider` in SQLCipher 4's `sqlcipher.h`),
/// field for field.
#[repr(C)]
struct Provider {
    init: Option<unsafe extern "C" fn() -> c_int>,
    shutdown: Option<unsafe extern "C" fn()>,
    get_provider_name: unsafe extern "C" fn(*mut c_void) -> *const c_char,
    add_random: unsafe extern "C" fn(*mut c_void, *const c_void, c_int) -> c_int,
    random: unsafe extern "C" fn(*mut c_void, *mut c_void, c_int) -> c_int,
    hmac: unsafe extern "C" fn(
        *mut c_void,
        c_int,
        *const u8,
        c_int,
        *const u8,
        c_int,
        *const u8,
        c_int,
        *mut u8,
    ) -> c_int,
    kdf: unsafe extern "C" fn(*mut c_void, c_int, *const u8, c_int, *const u8, c_int, c_int, c_int, *mut u8) -> c_int,
    cipher: unsafe extern "C" fn(*mut c_void, c_int, *const u8, c_int, *const u8, *const u8, c_int, *mut u8) -> c_int,
    get_cipher: unsafe extern "C" fn(*mut c_void) -> *const c_char,
    get_key_sz: unsafe extern "C" fn(*mut c_void) -> c_int,
    get_iv_sz: unsafe extern "C" fn(*mut c_void) -> c_int,
    get_block_sz: unsafe extern "C" fn(*mut c_void) -> c_int,
    get_hmac_sz: unsafe extern "C" fn(*mut c_void, c_int) -> c_int,
    ctx_init: unsafe extern "C" fn(*mut *mut c_void) -> c_int,
    ctx_free: unsafe extern "C" fn(*mut *mut c_void) -> c_int,
    fips_status: unsafe extern "C" fn(*mut c_void) -> c_int,
    get_provider_version: unsafe extern "C" fn(*mut c_void) -> *const c_char,
    /// SQLCipher's list of registered providers; it writes this field itself.
    next: *mut Provider,
}

unsafe extern "C" {
    fn sqlcipher_register_provider(p: *mut Provider) -> c_int;
    fn sqlcipher_get_provider() -> *mut Provider;
    /// SQLCipher's allocator. A provider must come from it: SQLCipher frees every registered
    /// provider with `sqlcipher_free` when SQLite shuts down.
    fn sqlcipher_malloc(size: u64) -> *mut c_void;
}

/// The name `PRAGMA cipher_provider` reports for connections that use this provider.
pub const PROVIDER_NAME: &CStr = c"pos-rustcrypto";
const PROVIDER_VERSION: &CStr = c"RustCrypto aes, cbc, hmac, sha2, pbkdf2";
const CIPHER_NAME: &CStr = c"aes-256-cbc";

// SQLCipher's numbering of its hash algorithms (the same for HMAC and PBKDF2) and cipher modes.
const SHA1: c_int = 0;
const SHA256: c_int = 1;
const SHA512: c_int = 2;
const DECRYPT: c_int = 0;
const ENCRYPT: c_int = 1;

const KEY_SIZE: usize = 32;
const BLOCK_SIZE: usize = 16;

/// Random bytes drawn from the OS at a time, per connection.
const POOL_SIZE: usize = 4096;

/// A connection's provider context: random bytes drawn from the OS and not yet handed out.
struct RandomPool {
    bytes: [u8; POOL_SIZE],
    used: usize,
}

impl RandomPool {
    fn fill(&mut self, out: &mut [u8]) -> Result<(), getrandom::Error> {
        if out.len() > POOL_SIZE {
            return getrandom::fill(out);
        }
        if POOL_SIZE - self.used < out.len() {
            getrandom::fill(&mut self.bytes)?;
            self.used = 0;
        }
        out.copy_from_slice(&self.bytes[self.used..self.used + out.len()]);
        self.used += out.len();
        Ok(())
    }
}

/// Pointers SQLCipher keeps for good: our provider and the one it registered first (OpenSSL).
/// Only the test that switches between them reads them.
#[cfg_attr(not(feature = "test-support"), allow(dead_code))]
struct Registered {
    ours: *mut Provider,
    openssl: *mut Provider,
}
// SAFETY: both point to providers that are never written by us after registration; SQLCipher
// guards its list with its own mutex, and frees the providers only when it shuts down, which it
// does at process exit (its `atexit` and destructor handlers). The rule that keeps these
// pointers valid: nothing in this program calls `sqlite3_shutdown`. (After one, SQLCipher would
// register OpenSSL's provider again and `register` would not notice.)
unsafe impl Send for Registered {}
unsafe impl Sync for Registered {}

static REGISTERED: OnceLock<Result<Registered, c_int>> = OnceLock::new();

/// Makes this provider SQLCipher's default for every connection opened from now on. Idempotent;
/// on failure connections keep using the OpenSSL provider (slower, equally correct).
pub(crate) fn register() -> Result<(), c_int> {
    let r = REGISTERED.get_or_init(|| {
        // SAFETY: sqlite3_initialize sets up SQLCipher (its allocator, mutexes and the OpenSSL
        // provider) and may be called any number of times. The provider is allocated with
        // SQLCipher's allocator and written once before SQLCipher sees it; SQLCipher owns it
        // from then on and frees it at shutdown.
        unsafe {
            let rc = ffi::sqlite3_initialize();
            if rc != ffi::SQLITE_OK {
                return Err(rc);
            }
            let openssl = sqlcipher_get_provider();
            let ours = sqlcipher_malloc(std::mem::size_of::<Provider>() as u64).cast::<Provider>();
            if ours.is_null() {
                return Err(ffi::SQLITE_NOMEM);
            }
            ours.write(provider());
            let rc = sqlcipher_register_provider(ours);
            if rc != ffi::SQLITE_OK {
                return Err(rc);
            }
            Ok(Registered { ours, openssl })
        }
    });
    r.as_ref().map(|_| ()).map_err(|&rc| rc)
}

/// Which provider connections opened from now on use. Only for the test that checks the two
/// write the same format; the store always uses ours.
#[cfg(feature = "test-support")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    Ours,
    OpenSsl,
}

/// Makes `which` SQLCipher's default provider (see [`Which`]).
#[cfg(feature = "test-support")]
pub fn select_for_test(which: Which) {
    register().expect("registering the crypto provider");
    let r = REGISTERED.get().and_then(|r| r.as_ref().ok()).expect("registered");
    let p = match which {
        Which::Ours => r.ours,
        Which::OpenSsl => r.openssl,
    };
    assert!(!p.is_null(), "SQLCipher registered no OpenSSL provider");
    // SAFETY: both were registered before; registering again moves one to the head of the list.
    let rc = unsafe { sqlcipher_register_provider(p) };
    assert_eq!(rc, ffi::SQLITE_OK);
}

fn provider() -> Provider {
    Provider {
        init: None,
        shutdown: None,
        get_provider_name,
        add_random,
        random,
        hmac,
        kdf,
        cipher,
        get_cipher,
        get_key_sz,
        get_iv_sz,
        get_block_sz,
        get_hmac_sz,
        ctx_init,
        ctx_free,
        fips_status,
        get_provider_version,
        next: std::ptr::null_mut(),
    }
}

const OK: c_int = ffi::SQLITE_OK;
const ERROR: c_int = ffi::SQLITE_ERROR;

fn status(ok: bool) -> c_int {
    if ok { OK } else { ERROR }
}

/// A byte slice from SQLCipher's pointer and length; `None` for a null pointer with a non-zero
/// length or a negative length.
///
/// # Safety
/// A non-null `p` must point to `len` readable bytes that stay valid and unwritten for `'a`.
unsafe fn bytes<'a>(p: *const u8, len: c_int) -> Option<&'a [u8]> {
    let len = usize::try_from(len).ok()?;
    if len == 0 {
        return Some(&[]);
    }
    if p.is_null() {
        return None;
    }
    // SAFETY: the caller's promise.
    Some(unsafe { std::slice::from_raw_parts(p, len) })
}

unsafe extern "C" fn get_provider_name(_: *mut c_void) -> *const c_char {
    PROVIDER_NAME.as_ptr()
}

unsafe extern "C" fn get_provider_version(_: *mut c_void) -> *const c_char {
    PROVIDER_VERSION.as_ptr()
}

unsafe extern "C" fn get_cipher(_: *mut c_void) -> *const c_char {
    CIPHER_NAME.as_ptr()
}

unsafe extern "C" fn get_key_sz(_: *mut c_void) -> c_int {
    KEY_SIZE as c_int
}

unsafe extern "C" fn get_iv_sz(_: *mut c_void) -> c_int {
    BLOCK_SIZE as c_int
}

unsafe extern "C" fn get_block_sz(_: *mut c_void) -> c_int {
    BLOCK_SIZE as c_int
}

unsafe extern "C" fn get_hmac_sz(_: *mut c_void, algorithm: c_int) -> c_int {
    match algorithm {
        SHA256 => 32,
        SHA512 => 64,
        // SHA-1 is refused by `hmac`; SQLCipher then fails to open the store with an error.
        SHA1 => 20,
        _ => 0,
    }
}

unsafe extern "C" fn fips_status(_: *mut c_void) -> c_int {
    0
}

unsafe extern "C" fn ctx_init(ctx: *mut *mut c_void) -> c_int {
    if ctx.is_null() {
        return ERROR;
    }
    let pool = Box::new(Mutex::new(RandomPool { bytes: [0; POOL_SIZE], used: POOL_SIZE }));
    // SAFETY: SQLCipher passes the address of its context slot.
    unsafe { *ctx = Box::into_raw(pool).cast() };
    OK
}

unsafe extern "C" fn ctx_free(ctx: *mut *mut c_void) -> c_int {
    if ctx.is_null() {
        return OK;
    }
    // SAFETY: the slot holds what `ctx_init` put there, or null; it is freed once and cleared.
    unsafe {
        let p = (*ctx).cast::<Mutex<RandomPool>>();
        if !p.is_null() {
            drop(Box::from_raw(p));
            *ctx = std::ptr::null_mut();
        }
    }
    OK
}

unsafe extern "C" fn random(ctx: *mut c_void, buffer: *mut c_void, length: c_int) -> c_int {
    let Ok(len) = usize::try_from(length) else { return ERROR };
    if len == 0 {
        return OK;
    }
    if buffer.is_null() {
        return ERROR;
    }
    // SAFETY: SQLCipher passes a writable buffer of `length` bytes.
    let out = unsafe { std::slice::from_raw_parts_mut(buffer.cast::<u8>(), len) };
    let pool = ctx.cast::<Mutex<RandomPool>>().cast_const();
    let drawn = if pool.is_null() {
        getrandom::fill(out)
    } else {
        // SAFETY: a context from `ctx_init`, alive until `ctx_free`.
        let pool = unsafe { &*pool };
        pool.lock().unwrap_or_else(|e| e.into_inner()).fill(out)
    };
    status(drawn.is_ok())
}

/// `PRAGMA cipher_add_random` offers entropy to mix in. The OS generator needs none; the bytes
/// already drawn are dropped, so the next ones come fresh from the OS.
unsafe extern "C" fn add_random(ctx: *mut c_void, _buffer: *const c_void, _length: c_int) -> c_int {
    let pool = ctx.cast::<Mutex<RandomPool>>().cast_const();
    if !pool.is_null() {
        // SAFETY: a context from `ctx_init`, alive until `ctx_free`.
        unsafe { &*pool }.lock().unwrap_or_else(|e| e.into_inner()).used = POOL_SIZE;
    }
    OK
}

fn hmac_of<M: Mac + hmac_wiping::digest::KeyInit>(key: &[u8], parts: [&[u8]; 2], out: &mut [u8]) -> bool {
    let Ok(mut mac) = <M as hmac_wiping::digest::KeyInit>::new_from_slice(key) else { return false };
    mac.update(parts[0]);
    mac.update(parts[1]);
    let tag = mac.finalize().into_bytes();
    out.copy_from_slice(&tag);
    true
}

unsafe extern "C" fn hmac(
    _: *mut c_void,
    algorithm: c_int,
    key: *const u8,
    key_sz: c_int,
    input: *const u8,
    in_sz: c_int,
    input2: *const u8,
    in2_sz: c_int,
    out: *mut u8,
) -> c_int {
    if input.is_null() || out.is_null() {
        return ERROR;
    }
    // SAFETY: SQLCipher passes readable buffers of the sizes it gives (`input2` may be null), and
    // an output buffer of the algorithm's HMAC size.
    let (Some(key), Some(input), Some(input2)) =
        (unsafe { bytes(key, key_sz) }, unsafe { bytes(input, in_sz) }, unsafe { bytes(input2, in2_sz) })
    else {
        return ERROR;
    };
    let ok = match algorithm {
        SHA256 => hmac_of::<Hmac<Sha256>>(key, [input, input2], unsafe { std::slice::from_raw_parts_mut(out, 32) }),
        SHA512 => hmac_of::<Hmac<Sha512>>(key, [input, input2], unsafe { std::slice::from_raw_parts_mut(out, 64) }),
        _ => false,
    };
    status(ok)
}

unsafe extern "C" fn kdf(
    _: *mut c_void,
    algorithm: c_int,
    pass: *const u8,
    pass_sz: c_int,
    salt: *const u8,
    salt_sz: c_int,
    workfactor: c_int,
    key_sz: c_int,
    key: *mut u8,
) -> c_int {
    let (Ok(rounds), Ok(key_len)) = (u32::try_from(workfactor), usize::try_from(key_sz)) else { return ERROR };
    if rounds == 0 || key.is_null() {
        return ERROR;
    }
    // SAFETY: SQLCipher passes readable buffers of the sizes it gives and a writable key buffer of
    // `key_sz` bytes.
    let (Some(pass), Some(salt)) = (unsafe { bytes(pass, pass_sz) }, unsafe { bytes(salt, salt_sz) }) else {
        return ERROR;
    };
    let out = unsafe { std::slice::from_raw_parts_mut(key, key_len) };
    match algorithm {
        SHA256 => pbkdf2::pbkdf2_hmac::<Sha256>(pass, salt, rounds, out),
        SHA512 => pbkdf2::pbkdf2_hmac::<Sha512>(pass, salt, rounds, out),
        _ => return ERROR,
    }
    OK
}

unsafe extern "C" fn cipher(
    _: *mut c_void,
    mode: c_int,
    key: *const u8,
    key_sz: c_int,
    iv: *const u8,
    input: *const u8,
    in_sz: c_int,
    out: *mut u8,
) -> c_int {
    let Ok(len) = usize::try_from(in_sz) else { return ERROR };
    if key_sz as usize != KEY_SIZE || key.is_null() || iv.is_null() || input.is_null() || out.is_null() {
        return ERROR;
    }
    if len % BLOCK_SIZE != 0 {
        return ERROR;
    }
    // SAFETY: SQLCipher passes a key of `key_sz` bytes, an IV of one block, and input and output
    // buffers of `in_sz` bytes each. They may be the same buffer, so the input is first copied
    // to the output (`copy` allows overlap) and the work is done there, in place.
    let (key, iv, buf) = unsafe {
        std::ptr::copy(input, out, len);
        (&*key.cast::<[u8; KEY_SIZE]>(), &*iv.cast::<[u8; BLOCK_SIZE]>(), std::slice::from_raw_parts_mut(out, len))
    };
    let (blocks, rest) = cbc::cipher::Block::<Aes256>::slice_as_chunks_mut(buf);
    debug_assert!(rest.is_empty());
    match mode {
        ENCRYPT => cbc::Encryptor::<Aes256>::new(key.into(), iv.into()).encrypt_blocks(blocks),
        DECRYPT => cbc::Decryptor::<Aes256>::new(key.into(), iv.into()).decrypt_blocks(blocks),
        _ => return ERROR,
    }
    OK
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The primitives against published test vectors, through the C interface SQLCipher calls.
    #[test]
    fn primitives_match_published_vectors() {
        // NIST SP 800-38A F.2.5, CBC-AES256 encrypt, first two blocks.
        let key = hex::decode("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4").unwrap();
        let iv = hex::decode("000102030405060708090a0b0c0d0e0f").unwrap();
        let plain = hex::decode("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51").unwrap();
        let expected = "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d";
        let mut out = vec![0u8; 32];
        let rc = unsafe {
            cipher(std::ptr::null_mut(), ENCRYPT, key.as_ptr(), 32, iv.as_ptr(), plain.as_ptr(), 32, out.as_mut_ptr())
        };
        assert_eq!((rc, hex::encode(&out)), (OK, expected.to_owned()));
        // In place, back again.
        let rc = unsafe {
            cipher(std::ptr::null_mut(), DECRYPT, key.as_ptr(), 32, iv.as_ptr(), out.as_ptr(), 32, out.as_mut_ptr())
        };
        assert_eq!((rc, out.as_slice()), (OK, plain.as_slice()));

        // RFC 4231 test case 2 ("Jefe"), split over the two inputs as SQLCipher splits page and
        // page number.
        let mut tag = [0u8; 64];
        let rc = unsafe {
            hmac(
                std::ptr::null_mut(),
                SHA256,
                b"Jefe".as_ptr(),
                4,
                b"what do ya want ".as_ptr(),
                16,
                b"for nothing?".as_ptr(),
                12,
                tag.as_mut_ptr(),
            )
        };
        assert_eq!(rc, OK);
        assert_eq!(hex::encode(&tag[..32]), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        let rc = unsafe {
            hmac(
                std::ptr::null_mut(),
                SHA512,
                b"Jefe".as_ptr(),
                4,
                b"what do ya want for nothing?".as_ptr(),
                28,
                std::ptr::null(),
                0,
                tag.as_mut_ptr(),
            )
        };
        assert_eq!(rc, OK);
        assert_eq!(
            hex::encode(tag),
            "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
        );
        // SHA-1 is refused, not computed with another hash.
        let rc = unsafe {
            hmac(
                std::ptr::null_mut(),
                SHA1,
                b"Jefe".as_ptr(),
                4,
                b"x".as_ptr(),
                1,
                std::ptr::null(),
                0,
                tag.as_mut_ptr(),
            )
        };
        assert_eq!(rc, ERROR);

        // RFC 7914 section 11, PBKDF2-HMAC-SHA256, P = "passwd", S = "salt", c = 1, first 32 bytes.
        let mut derived = [0u8; 32];
        let rc = unsafe {
            kdf(std::ptr::null_mut(), SHA256, b"passwd".as_ptr(), 6, b"salt".as_ptr(), 4, 1, 32, derived.as_mut_ptr())
        };
        assert_eq!(rc, OK);
        assert_eq!(hex::encode(derived), "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc");
    }

    #[test]
    fn bad_arguments_are_errors() {
        let key = [7u8; 32];
        let iv = [0u8; 16];
        let data = [0u8; 20];
        let mut out = [0u8; 20];
        // Not a whole number of blocks; a short key.
        let rc = unsafe {
            cipher(std::ptr::null_mut(), ENCRYPT, key.as_ptr(), 32, iv.as_ptr(), data.as_ptr(), 20, out.as_mut_ptr())
        };
        assert_eq!(rc, ERROR);
        let rc = unsafe {
            cipher(std::ptr::null_mut(), ENCRYPT, key.as_ptr(), 16, iv.as_ptr(), data.as_ptr(), 16, out.as_mut_ptr())
        };
        assert_eq!(rc, ERROR);
        let rc = unsafe {
            cipher(std::ptr::null_mut(), 7, key.as_ptr(), 32, iv.as_ptr(), data.as_ptr(), 16, out.as_mut_ptr())
        };
        assert_eq!(rc, ERROR);
        let rc =
            unsafe { kdf(std::ptr::null_mut(), SHA1, b"p".as_ptr(), 1, b"s".as_ptr(), 1, 2, 32, out.as_mut_ptr()) };
        assert_eq!(rc, ERROR);
    }

    #[test]
    fn random_bytes_come_fresh_and_from_the_pool() {
        let mut ctx: *mut c_void = std::ptr::null_mut();
        assert_eq!(unsafe { ctx_init(&mut ctx) }, OK);
        let mut seen = std::collections::HashSet::new();
        // More than one pool's worth, in page-reserve-sized draws: no repeats.
        for _ in 0..200 {
            let mut iv = [0u8; 48];
            assert_eq!(unsafe { random(ctx, iv.as_mut_ptr().cast(), 48) }, OK);
            assert!(seen.insert(iv), "an IV repeated");
        }
        let mut big = vec![0u8; POOL_SIZE + 1];
        assert_eq!(unsafe { random(ctx, big.as_mut_ptr().cast(), big.len() as c_int) }, OK);
        assert!(big.iter().any(|&b| b != 0));
        assert_eq!(unsafe { random(ctx, std::ptr::null_mut(), 16) }, ERROR);
        assert_eq!(unsafe { ctx_free(&mut ctx) }, OK);
        assert!(ctx.is_null());
    }
}
