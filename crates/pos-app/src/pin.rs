//! Staff PINs: Argon2id (19 MiB, t=2, p=1) over HMAC-SHA256(pepper, PIN). The pepper lives in the
//! OS credential store, so a copied database alone does not allow offline guessing.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::error::{AppError, AppResult, ErrorCode};

fn argon2() -> Argon2<'static> {
    Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(19 * 1024, 2, 1, None).expect("valid Argon2 parameters"),
    )
}

fn peppered(pepper: &[u8; 32], pin: &str) -> Zeroizing<[u8; 32]> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(pepper).expect("HMAC takes any key length");
    mac.update(pin.as_bytes());
    Zeroizing::new(mac.finalize().into_bytes().into())
}

/// A PIN is 4 to 8 digits.
pub fn check_pin_format(pin: &str) -> AppResult<()> {
    if (4..=8).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(AppError::invalid("a PIN is 4 to 8 digits"))
    }
}

pub fn hash_pin(pepper: &[u8; 32], pin: &str) -> AppResult<String> {
    check_pin_format(pin)?;
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| AppError::new(ErrorCode::Internal, format!("random: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| AppError::new(ErrorCode::Internal, e.to_string()))?;
    let hash = argon2()
        .hash_password(&peppered(pepper, pin)[..], &salt)
        .map_err(|e| AppError::new(ErrorCode::Internal, e.to_string()))?;
    Ok(hash.to_string())
}

pub fn verify_pin(pepper: &[u8; 32], pin: &str, stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else { return false };
    argon2().verify_password(&peppered(pepper, pin)[..], &parsed).is_ok()
}
