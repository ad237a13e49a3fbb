//! Consistent-hash bucketing of units.

use std::hash::Hasher;

/// Number of buckets: weights are held as basis points, so one bucket is 0.01%.
pub const BUCKETS: u16 = 10_000;

/// Separates salt from unit in the hashed bytes; 0xFF never occurs in UTF-8, so no
/// two (salt, unit) pairs hash the same byte string.
const SEPARATOR: u8 = 0xFF;

/// Added before re-mixing when the range mapping rejects a value (see `bucket`).
const REJECT_STEP: u64 = 0x9E37_79B9_7F4A_7C15;

/// The murmur3 64-bit finaliser: gives FNV-1a's output full avalanche.
#[inline]
pub fn fmix64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    h ^= h >> 33;
    h = h.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    h ^= h >> 33;
    h
}

/// The 64-bit hash `fmix64(FNV-1a-64(salt ‖ 0xFF ‖ unit))` over UTF-8 bytes.
#[inline]
pub fn hash64(salt: &str, unit: &str) -> u64 {
    hash64_from(salt_state(salt), unit)
}

/// FNV-1a's state after `salt ‖ 0xFF`: computed once per route, so that each request
/// hashes only the unit's bytes.
pub fn salt_state(salt: &str) -> u64 {
    let mut fnv = fnv::FnvHasher::default();
    fnv.write(salt.as_bytes());
    fnv.write(&[SEPARATOR]);
    fnv.finish()
}

/// [`hash64`] continued from a [`salt_state`].
#[inline]
pub fn hash64_from(state: u64, unit: &str) -> u64 {
    let mut fnv = fnv::FnvHasher::with_key(state);
    fnv.write(unit.as_bytes());
    fmix64(fnv.finish())
}

/// [`bucket`] continued from a [`salt_state`].
#[inline]
pub fn bucket_from(state: u64, unit: &str) -> u16 {
    to_bucket(hash64_from(state, unit))
}

/// Maps a 64-bit hash to [0, 10000) without modulo bias (Lemire's multiply-shift with
/// rejection; a rejected value is re-mixed, which happens with probability ~5e-16).
#[inline]
pub fn to_bucket(mut h: u64) -> u16 {
    let n = u64::from(BUCKETS);
    // 2^64 mod n: products whose low half falls below it would over-represent a bucket.
    let threshold = n.wrapping_neg() % n;
    loop {
        let m = u128::from(h) * u128::from(n);
        if (m as u64) >= threshold {
            return (m >> 64) as u16;
        }
        h = fmix64(h.wrapping_add(REJECT_STEP));
    }
}

/// The unit's bucket under a route's salt, in [0, 10000).
#[inline]
pub fn bucket(salt: &str, unit: &str) -> u16 {
    to_bucket(hash64(salt, unit))
}
