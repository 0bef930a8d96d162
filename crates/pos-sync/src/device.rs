//! The enrolled device: its signing key, and a client that holds and renews its access token.

use ed25519_dalek::{Signer as _, SigningKey};
use pos_sync_protocol::api::{self, PullResponse, PushRequest, PushResponse, TokenRequest};
use zeroize::Zeroizing;

use crate::client::{AccessToken, CloudClient};
use crate::error::{ErrorKind, SyncError};

/// The Ed25519 key a device signs token challenges with. Its seed lives in the OS credential
/// store and in memory only; `Debug` shows the public half.
pub struct DeviceKey(SigningKey);

impl DeviceKey {
    /// A new random key (at enrolment).
    pub fn generate() -> Result<DeviceKey, SyncError> {
        let mut seed = Zeroizing::new([0u8; 32]);
        getrandom::fill(&mut seed[..])
            .map_err(|e| SyncError::new(ErrorKind::Config, format!("no randomness for the device key: {e}")))?;
        Ok(DeviceKey::from_seed(&seed))
    }

    pub fn from_seed(seed: &[u8; 32]) -> DeviceKey {
        DeviceKey(SigningKey::from_bytes(seed))
    }

    /// The 32-byte seed, to keep in the credential store.
    pub fn seed(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_bytes())
    }

    /// The public key, lowercase hex, as enrolment sends it.
    pub fn public_key_hex(&self) -> String {
        hex::encode(self.0.verifying_key().as_bytes())
    }

    /// The signature over [`api::token_message`], lowercase hex.
    pub fn sign_challenge(&self, device_id: &str, challenge: &str) -> String {
        hex::encode(self.0.sign(&api::token_message(device_id, challenge)).to_bytes())
    }
}

impl std::fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DeviceKey(public {})", self.public_key_hex())
    }
}

/// A client acting as one enrolled device. It gets an access token by signing a fresh challenge,
/// keeps it while it is fresh, and when the service refuses it (401) gets a new one and repeats the
/// call once.
#[derive(Debug)]
pub struct DeviceClient {
    client: CloudClient,
    device_id: String,
    key: DeviceKey,
    token: Option<AccessToken>,
}

impl DeviceClient {
    pub fn new(client: CloudClient, device_id: impl Into<String>, key: DeviceKey) -> DeviceClient {
        DeviceClient { client, device_id: device_id.into(), key, token: None }
    }

    pub fn client(&self) -> &CloudClient {
        &self.client
    }

    pub fn device_id(&self) -> &str {
        &self.device_id
    }

    /// A new access token: a fresh challenge, signed with the device key.
    pub fn fresh_token(&mut self) -> Result<AccessToken, SyncError> {
        self.token = None;
        let challenge = self.client.challenge(&self.device_id)?;
        let signature = self.key.sign_challenge(&self.device_id, &challenge.challenge);
        let token = self.client.token(&TokenRequest {
            device_id: self.device_id.clone(),
            challenge: challenge.challenge,
            signature,
        })?;
        self.token = Some(token.clone());
        Ok(token)
    }

    fn token(&mut self) -> Result<AccessToken, SyncError> {
        match &self.token {
            Some(t) if t.is_fresh() => Ok(t.clone()),
            _ => self.fresh_token(),
        }
    }

    /// Runs `call` with a token; on 401, once more with a new one.
    fn authorized<T>(
        &mut self,
        call: impl Fn(&CloudClient, &AccessToken) -> Result<T, SyncError>,
    ) -> Result<T, SyncError> {
        let token = self.token()?;
        match call(&self.client, &token) {
            Err(e) if e.kind == ErrorKind::Unauthorized => {
                let token = self.fresh_token()?;
                call(&self.client, &token)
            }
            other => other,
        }
    }

    /// `POST /v1/sync/push` as this device.
    pub fn push(&mut self, request: &PushRequest) -> Result<PushResponse, SyncError> {
        self.authorized(|c, t| c.push(t, request))
    }

    /// `GET /v1/sync/pull` as this device.
    pub fn pull(&mut self, cursor: i64) -> Result<PullResponse, SyncError> {
        self.authorized(|c, t| c.pull(t, cursor))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signature, Verifier, VerifyingKey};

    #[test]
    fn a_signed_challenge_verifies_with_the_public_key_only_for_its_device_and_challenge() {
        let key = DeviceKey::generate().unwrap();
        let again = DeviceKey::from_seed(&key.seed());
        assert_eq!(key.public_key_hex(), again.public_key_hex());
        let public: [u8; 32] = hex::decode(key.public_key_hex()).unwrap().try_into().unwrap();
        let public = VerifyingKey::from_bytes(&public).unwrap();
        let sig: [u8; 64] = hex::decode(key.sign_challenge("dev-1", "abcd")).unwrap().try_into().unwrap();
        let sig = Signature::from_bytes(&sig);
        assert!(public.verify(&api::token_message("dev-1", "abcd"), &sig).is_ok());
        assert!(public.verify(&api::token_message("dev-2", "abcd"), &sig).is_err());
        assert!(public.verify(&api::token_message("dev-1", "abce"), &sig).is_err());
        let shown = format!("{key:?}");
        assert!(shown.contains(&key.public_key_hex()));
        assert!(!shown.contains(&hex::encode(*key.seed())));
    }
}
