//! The instance's RSA signing keys: generation, the in-memory ring, the JWKS, rotation.
//!
//! Keys live in the store so every node signs with the same key. Each node keeps the parsed
//! keys in memory (minting then costs one RSA signature) and reloads the ring periodically to
//! pick up rotations made by `usher rotate-key`. A rotated key is published at once but signs
//! only from its activation time, so verifiers see it in the JWKS before they see its tokens;
//! the retired key stays published until every token it signed has expired, plus a margin for
//! JWKS caches. Private keys are stored sealed under the secret key ([`crate::seal`]); keys
//! written by earlier versions in the clear are sealed on the next start.

use std::{
    collections::HashMap,
    sync::{
        Arc, RwLock,
        atomic::{AtomicI64, Ordering},
    },
};

use aws_lc_rs::{
    encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der},
    rsa::KeySize,
    signature::{KeyPair as _, RsaKeyPair},
};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::json;
use usher_types::{Jwk, Jwks};

use super::jwt::{self, Signer};
use crate::{
    ids,
    seal::Sealer,
    store::{SigningKeyRecord, Store, StoreError, StoreResult},
};

/// The [`Sealer`] purpose of private signing keys.
pub const SEAL_PURPOSE: &str = "signing keys";

/// Token categories (header `cat`), defined once with the claims the SDK reads.
pub use usher_types::token::{CATEGORY_SESSION, CATEGORY_TEMPLATE};

/// How long past its last token a retired key stays published: SDK leeway (5 s) plus the
/// longest JWKS cache we expect (1 h), rounded up.
pub const RETIRED_KEY_MARGIN_MS: i64 = 3_660_000;

/// A parsed instance key.
pub struct SigningKey {
    /// Key id (`kid`).
    pub kid: String,
    signer: Signer,
    jwk: Jwk,
    activates_at: i64,
    /// Longest token lifetime signed so far, seconds (mirrors the store).
    max_lifetime: AtomicI64,
    session_header: String,
    template_header: String,
}

impl SigningKey {
    fn parse(record: &SigningKeyRecord, sealer: &Sealer) -> StoreResult<Self> {
        let der = if Sealer::is_sealed(&record.private_der) {
            sealer.open(&record.private_der).ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "signing key {} cannot be opened: it was sealed under another secret key",
                    record.kid
                ))
            })?
        } else {
            record.private_der.clone()
        };
        let pair = RsaKeyPair::from_pkcs8(&der)
            .map_err(|e| StoreError::Corrupt(format!("signing key {}: {e}", record.kid)))?;
        let public = pair.public_key();
        let jwk = Jwk {
            kid: record.kid.clone(),
            alg: "RS256".into(),
            use_: "sig".into(),
            kty: "RSA".into(),
            n: URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
            e: URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
        };
        let header = |cat: &str| jwt::b64_json(&json!({"alg": "RS256", "cat": cat, "kid": record.kid, "typ": "JWT"}));
        Ok(Self {
            kid: record.kid.clone(),
            session_header: header(CATEGORY_SESSION),
            template_header: header(CATEGORY_TEMPLATE),
            signer: Signer::rs256(Arc::new(pair)),
            jwk,
            activates_at: record.activates_at,
            max_lifetime: AtomicI64::new(record.max_lifetime),
        })
    }

    /// When this key started (or starts) signing, ms since the epoch.
    pub fn activates_at(&self) -> i64 {
        self.activates_at
    }

    /// The RS256 signer.
    pub fn signer(&self) -> &Signer {
        &self.signer
    }

    /// The encoded JOSE header for session tokens or template tokens.
    pub fn header(&self, template: bool) -> &str {
        if template { &self.template_header } else { &self.session_header }
    }

    /// The public key in SPKI PEM, the form `CLERK_JWT_KEY` takes.
    pub fn public_pem(&self) -> String {
        let Signer::Rsa { key, .. } = &self.signer else { unreachable!("instance keys are RSA") };
        let der: PublicKeyX509Der<'_> = key.public_key().as_der().expect("an RSA public key always encodes");
        pem::encode(&pem::Pem::new("PUBLIC KEY", der.as_ref().to_vec()))
    }

    /// Records that this key signs tokens living `seconds`, so that a rotation keeps the key
    /// published long enough. Touches the store only when a longer lifetime is first seen.
    pub async fn note_lifetime(&self, store: &dyn Store, seconds: i64) -> StoreResult<()> {
        if seconds > self.max_lifetime.load(Ordering::Relaxed) {
            store.record_key_lifetime(&self.kid, seconds).await?;
            self.max_lifetime.fetch_max(seconds, Ordering::Relaxed);
        }
        Ok(())
    }
}

struct Ring {
    signer: Arc<SigningKey>,
    by_kid: HashMap<String, Arc<SigningKey>>,
    jwks: Arc<Jwks>,
}

/// The keys of this instance, as this node currently knows them.
pub struct KeyRing {
    ring: RwLock<Arc<Ring>>,
    sealer: Arc<Sealer>,
}

/// A new RSA-2048 (e = 65537) key that signs from `activates_at`, sealed for storage.
pub fn generate_key(now: i64, activates_at: i64, sealer: &Sealer) -> SigningKeyRecord {
    let pair = aws_lc_rs::rsa::KeyPair::generate(KeySize::Rsa2048).expect("RSA key generation failed");
    let der: Pkcs8V1Der<'_> = pair.as_der().expect("an RSA key pair always encodes");
    SigningKeyRecord {
        kid: ids::new_id("ins"),
        private_der: sealer.seal(der.as_ref()),
        created_at: now,
        activates_at,
        retired_at: None,
        publish_until: None,
        max_lifetime: 60,
    }
}

impl KeyRing {
    /// Loads the ring, creating the instance's first key if there is none and sealing keys
    /// stored in the clear by earlier versions.
    pub async fn load(store: &dyn Store, now: i64, sealer: Sealer) -> StoreResult<Self> {
        let sealer = Arc::new(sealer);
        let records = store.signing_keys().await?;
        if records.is_empty() {
            let s = sealer.clone();
            let record = tokio::task::spawn_blocking(move || generate_key(now, now, &s))
                .await
                .map_err(|e| StoreError::Corrupt(format!("key generation: {e}")))?;
            store.insert_first_signing_key(&record).await?;
        }
        for record in records.iter().filter(|r| !Sealer::is_sealed(&r.private_der)) {
            store.seal_signing_key(&record.kid, &sealer.seal(&record.private_der)).await?;
        }
        let ring = Self::build(store, now, &HashMap::new(), &sealer).await?;
        Ok(Self { ring: RwLock::new(Arc::new(ring)), sealer })
    }

    /// Re-reads the keys from the store (after a rotation, or when retired keys age out).
    pub async fn reload(&self, store: &dyn Store, now: i64) -> StoreResult<()> {
        let known = self.current().by_kid.clone();
        let ring = Self::build(store, now, &known, &self.sealer).await?;
        *self.ring.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(ring);
        Ok(())
    }

    /// Adds a new key that signs from `now + activate_in_ms` and retires the current one (the
    /// ring picks it up on its next reload).
    pub async fn rotate(&self, store: &dyn Store, now: i64, activate_in_ms: i64) -> StoreResult<SigningKeyRecord> {
        let record = self.generate(now, activate_in_ms).await?;
        self.publish(store, &record).await?;
        Ok(record)
    }

    /// A new key that starts signing `activate_in_ms` from `now`, not yet stored.
    pub async fn generate(&self, now: i64, activate_in_ms: i64) -> StoreResult<SigningKeyRecord> {
        let sealer = self.sealer.clone();
        tokio::task::spawn_blocking(move || generate_key(now, now + activate_in_ms, &sealer))
            .await
            .map_err(|e| StoreError::Corrupt(format!("key generation: {e}")))
    }

    /// Stores a [`Self::generate`]d key as the next one, retiring the older keys.
    pub async fn publish(&self, store: &dyn Store, record: &SigningKeyRecord) -> StoreResult<()> {
        store.rotate_signing_key(record, RETIRED_KEY_MARGIN_MS).await
    }

    async fn build(
        store: &dyn Store,
        now: i64,
        known: &HashMap<String, Arc<SigningKey>>,
        sealer: &Sealer,
    ) -> StoreResult<Ring> {
        let records = store.signing_keys().await?;
        let mut by_kid = HashMap::new();
        let mut signer: Option<Arc<SigningKey>> = None;
        // Records come newest first; the newest activated key signs.
        for record in records.iter().filter(|r| r.publish_until.is_none_or(|until| until > now)) {
            let key = match known.get(&record.kid) {
                Some(k) => {
                    k.max_lifetime.fetch_max(record.max_lifetime, Ordering::Relaxed);
                    k.clone()
                }
                None => Arc::new(SigningKey::parse(record, sealer)?),
            };
            if signer.is_none() && key.activates_at <= now {
                signer = Some(key.clone());
            }
            by_kid.insert(key.kid.clone(), key);
        }
        // With clocks apart, a just-rotated key may not be active anywhere yet: fall back to the
        // oldest published key rather than fail.
        let signer = match signer {
            Some(s) => s,
            None => records
                .iter()
                .rev()
                .find_map(|r| by_kid.get(&r.kid).cloned())
                .ok_or_else(|| StoreError::Corrupt("no signing key is published".into()))?,
        };
        let mut keys: Vec<Jwk> = by_kid.values().map(|k| k.jwk.clone()).collect();
        keys.sort_by(|a, b| a.kid.cmp(&b.kid));
        Ok(Ring { signer, by_kid, jwks: Arc::new(Jwks { keys }) })
    }

    fn current(&self) -> Arc<Ring> {
        self.ring.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The key that signs now.
    pub fn signer(&self) -> Arc<SigningKey> {
        self.current().signer.clone()
    }

    /// The public keys of every key whose tokens may still be valid.
    pub fn jwks(&self) -> Arc<Jwks> {
        self.current().jwks.clone()
    }
}
