//! Device access tokens: short-lived, bound to one device, verified without a database round trip.
//!
//! Format: `v1.<claims as base64url JSON>.<HMAC-SHA256 of "v1.<claims>" as hex>`. The key lives in
//! the database (`service_keys`), so every service process verifies every other's tokens.
//! A token is not renewable by itself: a new one needs a fresh signature by the device key.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceClaims {
    /// Tenant.
    pub tid: Uuid,
    /// Venue.
    pub vid: Uuid,
    /// Device.
    pub did: Uuid,
    /// Expiry, Unix seconds.
    pub exp: i64,
}

pub struct TokenKey([u8; 32]);

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(..)")
    }
}

impl TokenKey {
    pub fn new(bytes: [u8; 32]) -> TokenKey {
        TokenKey(bytes)
    }

    fn mac(&self, data: &str) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(data.as_bytes());
        mac
    }

    pub fn issue(&self, claims: &DeviceClaims) -> String {
        let body = data_encoding::BASE64URL_NOPAD.encode(&serde_json::to_vec(claims).expect("claims serialise"));
        let signed = format!("v1.{body}");
        let tag = hex::encode(self.mac(&signed).finalize().into_bytes());
        format!("{signed}.{tag}")
    }

    /// The claims of a genuine, unexpired token; `now` is Unix seconds.
    pub fn verify(&self, token: &str, now: i64) -> ApiResult<DeviceClaims> {
        let bad = || ApiError::unauthorized("the access token is not valid");
        let (signed, tag) = token.rsplit_once('.').ok_or_else(bad)?;
        let body = signed.strip_prefix("v1.").ok_or_else(bad)?;
        let tag = hex::decode(tag).map_err(|_| bad())?;
        self.mac(signed).verify_slice(&tag).map_err(|_| bad())?;
        let bytes = data_encoding::BASE64URL_NOPAD.decode(body.as_bytes()).map_err(|_| bad())?;
        let claims: DeviceClaims = serde_json::from_slice(&bytes).map_err(|_| bad())?;
        if claims.exp <= now {
            return Err(ApiError::unauthorized("the access token has expired; sign a new challenge"));
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> DeviceClaims {
        DeviceClaims { tid: Uuid::nil(), vid: Uuid::nil(), did: Uuid::from_u128(7), exp }
    }

    #[test]
    fn a_token_verifies_until_it_expires_and_not_under_another_key() {
        let key = TokenKey::new([1; 32]);
        let t = key.issue(&claims(1000));
        assert_eq!(key.verify(&t, 999).unwrap(), claims(1000));
        assert!(key.verify(&t, 1000).is_err());
        assert!(TokenKey::new([2; 32]).verify(&t, 10).is_err());
    }

    #[test]
    fn an_edited_token_is_refused() {
        let key = TokenKey::new([1; 32]);
        let t = key.issue(&claims(1000));
        let other = key.issue(&DeviceClaims { did: Uuid::from_u128(8), ..claims(1000) });
        // Claims of one token with the tag of another.
        let (body, _) = t.rsplit_once('.').unwrap();
        let (_, tag) = other.rsplit_once('.').unwrap();
        assert!(key.verify(&format!("{body}.{tag}"), 10).is_err());
        assert!(key.verify("v1.e30.00", 10).is_err());
        assert!(key.verify("", 10).is_err());
    }
}
