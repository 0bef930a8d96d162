//! Key handling: the database key and PIN pepper live in the OS credential store, and are also
//! wrapped by a recovery secret that is shown once at initialisation.
//!
//! There is deliberately no file-based or built-in fallback: without a credential store the
//! register refuses to start and says how to fix it.

use std::fmt;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use data_encoding::BASE32_NOPAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

use crate::error::StoreError;

/// Service name under which the register's secrets are filed in the credential store.
pub const CREDENTIAL_SERVICE: &str = "pos-register";

/// Where secrets are kept. The production implementation is [`OsCredentialStore`].
pub trait SecretStore: Send + Sync {
    /// `Ok(None)` when there is no such entry; an error when the store itself cannot be reached.
    fn get(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>, StoreError>;
    fn put(&self, name: &str, secret: &[u8]) -> Result<(), StoreError>;
    fn delete(&self, name: &str) -> Result<(), StoreError>;
    /// A human name for messages, e.g. "the OS credential store (Secret Service)".
    fn describe(&self) -> &'static str;
}

const HOW_TO_FIX: &str = "The register keeps its database key only in the operating system's credential store. \
On Linux, run it inside a desktop session with GNOME Keyring or KWallet unlocked; on a headless machine start one with \
dbus-run-session -- sh -c 'echo -n PASSWORD | gnome-keyring-daemon --unlock --components=secrets; posctl ...'. \
On macOS the login Keychain and on Windows the Credential Manager are used";

fn unavailable(detail: impl fmt::Display) -> StoreError {
    StoreError::CredentialStoreUnavailable { detail: detail.to_string(), fix: HOW_TO_FIX }
}

/// The OS credential store through `keyring`: Secret Service on Linux, Keychain on macOS,
/// Credential Manager on Windows.
pub struct OsCredentialStore {
    _private: (),
}

impl OsCredentialStore {
    /// Connects to the platform's credential store, or explains why it cannot.
    pub fn connect() -> Result<OsCredentialStore, StoreError> {
        if let Err(e) = keyring::Entry::store_status() {
            return Err(unavailable(e));
        }
        Ok(OsCredentialStore { _private: () })
    }

    fn entry(name: &str) -> Result<keyring::Entry, StoreError> {
        keyring::Entry::new(CREDENTIAL_SERVICE, name).map_err(unavailable)
    }
}

impl SecretStore for OsCredentialStore {
    fn get(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>, StoreError> {
        match Self::entry(name)?.get_secret() {
            Ok(v) => Ok(Some(Zeroizing::new(v))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }

    fn put(&self, name: &str, secret: &[u8]) -> Result<(), StoreError> {
        Self::entry(name)?.set_secret(secret).map_err(unavailable)
    }

    fn delete(&self, name: &str) -> Result<(), StoreError> {
        match Self::entry(name)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }

    fn describe(&self) -> &'static str {
        "the OS credential store"
    }
}

/// Secrets in memory only: for tests that are not about the credential store.
#[cfg(feature = "test-support")]
#[derive(Default)]
pub struct MemorySecretStore {
    entries: std::sync::Mutex<std::collections::HashMap<String, Vec<u8>>>,
}

#[cfg(feature = "test-support")]
impl SecretStore for MemorySecretStore {
    fn get(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>, StoreError> {
        Ok(self.entries.lock().expect("lock").get(name).cloned().map(Zeroizing::new))
    }
    fn put(&self, name: &str, secret: &[u8]) -> Result<(), StoreError> {
        self.entries.lock().expect("lock").insert(name.to_owned(), secret.to_vec());
        Ok(())
    }
    fn delete(&self, name: &str) -> Result<(), StoreError> {
        self.entries.lock().expect("lock").remove(name);
        Ok(())
    }
    fn describe(&self) -> &'static str {
        "an in-memory test store"
    }
}

/// 32 random bytes. Zeroed on drop; never printed.
#[derive(Clone)]
pub struct Secret32(Zeroizing<[u8; 32]>);

impl Secret32 {
    pub fn random() -> Result<Secret32, StoreError> {
        let mut b = Zeroizing::new([0u8; 32]);
        getrandom::fill(&mut b[..]).map_err(|e| StoreError::Random(e.to_string()))?;
        Ok(Secret32(b))
    }

    pub fn from_slice(b: &[u8]) -> Option<Secret32> {
        let arr: [u8; 32] = b.try_into().ok()?;
        Some(Secret32(Zeroizing::new(arr)))
    }

    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for Secret32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret32(…)")
    }
}

/// The store's secrets: the SQLCipher key, the PIN pepper and the seed of the device's Ed25519
/// audit signing key.
#[derive(Debug, Clone)]
pub struct KeyMaterial {
    pub db_key: Secret32,
    pub pin_pepper: Secret32,
    pub audit_key: Secret32,
}

pub(crate) fn db_key_name(store_id: &str) -> String {
    format!("{store_id}/db-key")
}

pub(crate) fn pepper_name(store_id: &str) -> String {
    format!("{store_id}/pin-pepper")
}

pub(crate) fn audit_key_name(store_id: &str) -> String {
    format!("{store_id}/audit-key")
}

impl KeyMaterial {
    pub fn generate() -> Result<KeyMaterial, StoreError> {
        Ok(KeyMaterial { db_key: Secret32::random()?, pin_pepper: Secret32::random()?, audit_key: Secret32::random()? })
    }

    pub fn load(secrets: &dyn SecretStore, store_id: &str) -> Result<KeyMaterial, StoreError> {
        let get = |name: String| -> Result<Secret32, StoreError> {
            let v = secrets.get(&name)?.ok_or(StoreError::KeyMissing)?;
            Secret32::from_slice(&v).ok_or(StoreError::KeyMissing)
        };
        Ok(KeyMaterial {
            db_key: get(db_key_name(store_id))?,
            pin_pepper: get(pepper_name(store_id))?,
            audit_key: get(audit_key_name(store_id))?,
        })
    }

    pub fn save(&self, secrets: &dyn SecretStore, store_id: &str) -> Result<(), StoreError> {
        secrets.put(&db_key_name(store_id), self.db_key.expose())?;
        secrets.put(&pepper_name(store_id), self.pin_pepper.expose())?;
        secrets.put(&audit_key_name(store_id), self.audit_key.expose())?;
        Ok(())
    }

    /// The SQLCipher raw-key literal: `x'<64 hex>'`.
    pub(crate) fn sqlcipher_key(&self) -> Zeroizing<String> {
        Zeroizing::new(format!("\"x'{}'\"", hex::encode(self.db_key.expose())))
    }
}

/// A recovery secret: 160 random bits, shown once as 8 groups of 4 base32 characters.
pub struct RecoverySecret(Zeroizing<[u8; 20]>);

impl RecoverySecret {
    pub fn random() -> Result<RecoverySecret, StoreError> {
        let mut b = Zeroizing::new([0u8; 20]);
        getrandom::fill(&mut b[..]).map_err(|e| StoreError::Random(e.to_string()))?;
        Ok(RecoverySecret(b))
    }

    /// Parses what a person typed: case, spaces and dashes do not matter.
    pub fn parse(text: &str) -> Result<RecoverySecret, StoreError> {
        let mut clean: String = text.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
        clean.make_ascii_uppercase();
        let decoded = BASE32_NOPAD.decode(clean.as_bytes()).map_err(|_| StoreError::BadRecoverySecret);
        clean.zeroize();
        let mut decoded = decoded?;
        let arr: Result<[u8; 20], _> = decoded.as_slice().try_into();
        decoded.zeroize();
        Ok(RecoverySecret(Zeroizing::new(arr.map_err(|_| StoreError::BadRecoverySecret)?)))
    }

    /// The text to show the owner once, e.g. `ABCD-EFGH-…`.
    pub fn reveal(&self) -> Zeroizing<String> {
        let plain = Zeroizing::new(BASE32_NOPAD.encode(&self.0[..]));
        let groups: Vec<&str> = plain.as_bytes().chunks(4).map(|c| std::str::from_utf8(c).unwrap_or("")).collect();
        Zeroizing::new(groups.join("-"))
    }

    fn wrapping_key(&self, store_id: &str) -> Zeroizing<[u8; 32]> {
        // The secret is 160 random bits, so a fast derivation suffices; the store id separates stores.
        let mut h = Sha256::new();
        h.update(b"pos-register recovery v1\0");
        h.update(store_id.as_bytes());
        h.update([0]);
        h.update(&self.0[..]);
        Zeroizing::new(h.finalize().into())
    }

    pub fn wrap(&self, store_id: &str, keys: &KeyMaterial) -> Result<WrappedKeys, StoreError> {
        let cipher = ChaCha20Poly1305::new(Key::from_slice(&self.wrapping_key(store_id)[..]));
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).map_err(|e| StoreError::Random(e.to_string()))?;
        let mut plain = Zeroizing::new(Vec::with_capacity(96));
        plain.extend_from_slice(keys.db_key.expose());
        plain.extend_from_slice(keys.pin_pepper.expose());
        plain.extend_from_slice(keys.audit_key.expose());
        let ct = cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: &plain, aad: store_id.as_bytes() })
            .map_err(|_| StoreError::Random("encryption failed".into()))?;
        Ok(WrappedKeys {
            scheme: "sha256-chacha20poly1305-v1".into(),
            nonce: hex::encode(nonce),
            ciphertext: hex::encode(ct),
        })
    }

    pub fn unwrap(&self, store_id: &str, wrapped: &WrappedKeys) -> Result<KeyMaterial, StoreError> {
        let cipher = ChaCha20Poly1305::new(Key::from_slice(&self.wrapping_key(store_id)[..]));
        let nonce = hex::decode(&wrapped.nonce).map_err(|_| StoreError::BadRecoverySecret)?;
        let ct = hex::decode(&wrapped.ciphertext).map_err(|_| StoreError::BadRecoverySecret)?;
        if nonce.len() != 12 {
            return Err(StoreError::BadRecoverySecret);
        }
        let plain = Zeroizing::new(
            cipher
                .decrypt(Nonce::from_slice(&nonce), Payload { msg: &ct, aad: store_id.as_bytes() })
                .map_err(|_| StoreError::BadRecoverySecret)?,
        );
        if plain.len() != 96 {
            return Err(StoreError::BadRecoverySecret);
        }
        let part = |i: usize| Secret32::from_slice(&plain[i * 32..(i + 1) * 32]).ok_or(StoreError::BadRecoverySecret);
        Ok(KeyMaterial { db_key: part(0)?, pin_pepper: part(1)?, audit_key: part(2)? })
    }
}

/// The store's keys encrypted under the recovery secret; kept beside the database in `store.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WrappedKeys {
    pub scheme: String,
    pub nonce: String,
    pub ciphertext: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_round_trip_and_wrong_secret() {
        let keys = KeyMaterial::generate().unwrap();
        let rs = RecoverySecret::random().unwrap();
        let wrapped = rs.wrap("store-1", &keys).unwrap();
        let typed = rs.reveal().to_lowercase().replace('-', " ");
        let back = RecoverySecret::parse(&typed).unwrap().unwrap("store-1", &wrapped).unwrap();
        assert_eq!(back.db_key.expose(), keys.db_key.expose());
        assert_eq!(back.pin_pepper.expose(), keys.pin_pepper.expose());
        assert_eq!(back.audit_key.expose(), keys.audit_key.expose());
        let other = RecoverySecret::random().unwrap();
        assert!(matches!(other.unwrap("store-1", &wrapped), Err(StoreError::BadRecoverySecret)));
        assert!(matches!(rs.unwrap("store-2", &wrapped), Err(StoreError::BadRecoverySecret)));
        assert!(RecoverySecret::parse("too-short").is_err());
        assert_eq!(rs.reveal().len(), 8 * 4 + 7);
    }
}
