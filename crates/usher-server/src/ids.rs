//! Random ids and secrets from the operating system's CSPRNG, and constant-time comparison.

use aws_lc_rs::{digest, rand};
use subtle::ConstantTimeEq;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `len` random base62 characters (5.95 bits each), without modulo bias.
pub fn random_base62(len: usize) -> String {
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        rand::fill(&mut buf).expect("the operating system's random source failed");
        // 248 = 4 × 62: bytes at or above it would favour the first characters.
        for &b in buf.iter().filter(|&&b| b < 248) {
            if out.len() == len {
                break;
            }
            out.push(char::from(BASE62[usize::from(b % 62)]));
        }
    }
    out
}

/// A Clerk-style id: `prefix_` and 27 random base62 characters (160 bits).
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", random_base62(27))
}

/// SHA-256 of `data`, lowercase hex.
pub fn sha256_hex(data: &[u8]) -> String {
    digest::digest(&digest::SHA256, data).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest::digest(&digest::SHA256, data).as_ref());
    out
}

/// HMAC-SHA256 of `data` under `key`, lowercase hex. Codes are stored this way: a database dump
/// alone cannot be brute-forced back to six digits without the key (the instance secret key).
pub fn hmac_hex(key: &[u8], data: &[u8]) -> String {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key);
    aws_lc_rs::hmac::sign(&key, data).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// `len` base62 characters determined by `key` and `data` and distributed like
/// [`random_base62`]'s (HMAC-SHA256 in counter mode, with the same rejection of biased bytes).
pub fn keyed_base62(key: &[u8], data: &[u8], len: usize) -> String {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key);
    let mut out = String::with_capacity(len);
    for counter in 0u32.. {
        let mut ctx = aws_lc_rs::hmac::Context::with_key(&key);
        ctx.update(&counter.to_be_bytes());
        ctx.update(data);
        for &b in ctx.sign().as_ref().iter().filter(|&&b| b < 248) {
            if out.len() == len {
                return out;
            }
            out.push(char::from(BASE62[usize::from(b % 62)]));
        }
    }
    out
}

/// `len` uniformly random decimal digits (a one-time code).
pub fn random_digits(len: usize) -> String {
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 32];
    while out.len() < len {
        rand::fill(&mut buf).expect("the operating system's random source failed");
        // 250 = 25 × 10: larger bytes would favour low digits.
        for &b in buf.iter().filter(|&&b| b < 250) {
            if out.len() == len {
                break;
            }
            out.push(char::from(b'0' + b % 10));
        }
    }
    out
}

/// Compares two secrets (or their digests) without leaking where they differ.
pub fn secrets_equal(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_uniform_digits() {
        let mut counts = [0u32; 10];
        for _ in 0..20_000 {
            let code = random_digits(6);
            assert_eq!(code.len(), 6);
            for c in code.bytes() {
                counts[usize::from(c - b'0')] += 1;
            }
        }
        // 120,000 digits: each expected 12,000; chi-square with 9 degrees of freedom stays far
        // below 27.9 (p = 0.001) for a uniform source.
        let chi2: f64 = counts.iter().map(|&n| (f64::from(n) - 12_000.0).powi(2) / 12_000.0).sum();
        assert!(chi2 < 27.9, "digit counts {counts:?} (chi2 {chi2})");
    }

    #[test]
    fn ids_have_prefix_and_length_and_do_not_repeat() {
        let a = new_id("user");
        let b = new_id("user");
        assert!(a.starts_with("user_") && a.len() == 32, "{a}");
        assert_ne!(a, b);
        assert!(a[5..].bytes().all(|c| c.is_ascii_alphanumeric()));
    }

    #[test]
    fn digits_are_roughly_uniform() {
        let s = random_base62(62 * 2000);
        let mut counts = [0usize; 62];
        for c in s.bytes() {
            counts[BASE62.iter().position(|&x| x == c).unwrap()] += 1;
        }
        // Each symbol expects 2000; a biased generator (plain `% 62`) would skew the first 8.
        assert!(counts.iter().all(|&n| (1700..2300).contains(&n)), "{counts:?}");
    }

    #[test]
    fn secret_comparison() {
        assert!(secrets_equal(b"abc", b"abc"));
        assert!(!secrets_equal(b"abc", b"abd"));
        assert!(!secrets_equal(b"abc", b"abcd"));
    }
}
