//! Compact JWS encoding with keys parsed once (RSASSA-PKCS1-v1_5 and HMAC).

use std::sync::Arc;

use aws_lc_rs::{
    hmac,
    rand::SystemRandom,
    signature::{self, RsaEncoding, RsaKeyPair},
};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::Serialize;

/// Signature algorithms templates may use. Session tokens are always RS256.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// HMAC with SHA-256.
    HS256,
    /// HMAC with SHA-384.
    HS384,
    /// HMAC with SHA-512.
    HS512,
}

impl Algorithm {
    /// Parses a JOSE algorithm name.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "RS256" => Self::RS256,
            "RS384" => Self::RS384,
            "RS512" => Self::RS512,
            "HS256" => Self::HS256,
            "HS384" => Self::HS384,
            "HS512" => Self::HS512,
            _ => return None,
        })
    }

    /// The JOSE name.
    pub fn name(self) -> &'static str {
        match self {
            Self::RS256 => "RS256",
            Self::RS384 => "RS384",
            Self::RS512 => "RS512",
            Self::HS256 => "HS256",
            Self::HS384 => "HS384",
            Self::HS512 => "HS512",
        }
    }
}

/// A parsed signing key with its algorithm.
pub enum Signer {
    /// An RSA private key.
    Rsa { key: Arc<RsaKeyPair>, encoding: &'static dyn RsaEncoding, alg: Algorithm },
    /// An HMAC secret (boxed: it is much larger than the RSA variant's handle).
    Hmac { key: Box<hmac::Key>, alg: Algorithm },
}

/// Smallest HMAC secret accepted: RFC 7518 §3.2 wants a key at least as long as the hash.
pub const MIN_HMAC_SECRET: usize = 32;

impl Signer {
    /// RS256 with an instance key.
    pub fn rs256(key: Arc<RsaKeyPair>) -> Self {
        Self::Rsa { key, encoding: &signature::RSA_PKCS1_SHA256, alg: Algorithm::RS256 }
    }

    /// A template's own key: an HMAC secret, or an RSA private key in PEM (PKCS#8 or PKCS#1).
    pub fn custom(alg: Algorithm, material: &str) -> Result<Self, String> {
        let hmac_alg = match alg {
            Algorithm::HS256 => Some(hmac::HMAC_SHA256),
            Algorithm::HS384 => Some(hmac::HMAC_SHA384),
            Algorithm::HS512 => Some(hmac::HMAC_SHA512),
            _ => None,
        };
        if let Some(hmac_alg) = hmac_alg {
            if material.len() < MIN_HMAC_SECRET {
                return Err(format!("an {} signing key must be at least {MIN_HMAC_SECRET} bytes", alg.name()));
            }
            return Ok(Self::Hmac { key: Box::new(hmac::Key::new(hmac_alg, material.as_bytes())), alg });
        }
        let pem = pem::parse(material.trim()).map_err(|_| "the signing key is not a PEM private key".to_owned())?;
        let key = match pem.tag() {
            "PRIVATE KEY" => RsaKeyPair::from_pkcs8(pem.contents()),
            "RSA PRIVATE KEY" => RsaKeyPair::from_der(pem.contents()),
            _ => return Err("the signing key must be an RSA private key in PEM".into()),
        }
        .map_err(|e| format!("the RSA signing key is invalid: {e}"))?;
        if key.public_modulus_len() < 256 {
            return Err("RSA signing keys must have at least 2048 bits".into());
        }
        let encoding: &'static dyn RsaEncoding = match alg {
            Algorithm::RS384 => &signature::RSA_PKCS1_SHA384,
            Algorithm::RS512 => &signature::RSA_PKCS1_SHA512,
            _ => &signature::RSA_PKCS1_SHA256,
        };
        Ok(Self::Rsa { key: Arc::new(key), encoding, alg })
    }

    /// The algorithm this key signs with.
    pub fn alg(&self) -> Algorithm {
        match self {
            Self::Rsa { alg, .. } | Self::Hmac { alg, .. } => *alg,
        }
    }

    fn sign(&self, message: &[u8]) -> Vec<u8> {
        match self {
            Self::Rsa { key, encoding, .. } => {
                let mut sig = vec![0u8; key.public_modulus_len()];
                // PKCS#1 v1.5 signing cannot fail for a valid key and a buffer of the modulus size.
                key.sign(*encoding, &SystemRandom::new(), message, &mut sig).expect("RSA signing failed");
                sig
            }
            Self::Hmac { key, .. } => hmac::sign(key, message).as_ref().to_vec(),
        }
    }
}

/// base64url(JSON of `value`).
pub fn b64_json(value: &impl Serialize) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).expect("JSON values always serialise"))
}

/// `header.payload.signature` from an already-encoded header.
pub fn encode(header_b64: &str, claims: &impl Serialize, signer: &Signer) -> String {
    let mut token = String::with_capacity(header_b64.len() + 700);
    token.push_str(header_b64);
    token.push('.');
    token.push_str(&b64_json(claims));
    let signature = signer.sign(token.as_bytes());
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(signature));
    token
}
