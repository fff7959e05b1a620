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

/// Compares two secrets (or their digests) without leaking where they differ.
pub fn secrets_equal(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

#[cfg(test)]
mod tests {
    use super::*;

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
