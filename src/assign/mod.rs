//! Assignment, as `docs/assignment.md` specifies it so that any implementation can
//! reproduce it bit for bit (change neither without the other): consistent-hash
//! bucketing of units ([`hash`]), the layout of weighted splits ([`split`]), and a
//! label's route with its rules, default salt and forced units ([`route`]).

mod hash;
mod route;
mod split;

pub use hash::{bucket, bucket_from, fmix64, hash64, hash64_from, salt_state, to_bucket, BUCKETS};
pub use route::{
    default_salt, forced_unit_hash, Assignment, Matcher, Route, RouteAt, Rule, Target, DEFAULT_RULE,
};
pub use split::{format_bp, parse_weight, SplitError, SplitLayout};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_parse_exactly() {
        assert_eq!(parse_weight("90"), Ok(9000));
        assert_eq!(parse_weight("33.33"), Ok(3333));
        assert_eq!(parse_weight("33.34"), Ok(3334));
        assert_eq!(parse_weight("0.5"), Ok(50));
        assert_eq!(parse_weight("100.00"), Ok(10000));
        assert_eq!(parse_weight("0"), Ok(0));
        assert!(parse_weight("33.333").unwrap_err().contains("two decimals"));
        assert!(parse_weight("1e1").is_err());
        assert!(parse_weight("-1").is_err());
        assert!(parse_weight("100.01").unwrap_err().contains("over 100"));
    }

    #[test]
    fn percent_formatting_round_trips() {
        for bp in [0u32, 1, 10, 50, 99, 100, 3333, 9500, 10000] {
            assert_eq!(parse_weight(&format_bp(bp)), Ok(bp as u16), "{bp}");
        }
        assert_eq!(format_bp(9500), "95");
        assert_eq!(format_bp(3350), "33.5");
    }

    #[test]
    fn split_layout_tiles_the_range() {
        let s = SplitLayout::new(&[(1, 8000), (2, 1000), (3, 1000)]).unwrap();
        assert_eq!(
            s.ranges(),
            &[(1, 0, 8000), (2, 9000, 10000), (3, 8000, 9000)]
        );
        assert_eq!(s.pick(0), 1);
        assert_eq!(s.pick(7999), 1);
        assert_eq!(s.pick(8000), 3);
        assert_eq!(s.pick(9999), 2);
        assert_eq!(
            SplitLayout::new(&[(1, 9000), (2, 500)]),
            Err(SplitError::BadSum(9500))
        );
        assert_eq!(
            SplitError::BadSum(9500).to_string(),
            "weights sum to 95, expected 100"
        );
        assert_eq!(SplitLayout::new(&[]), Err(SplitError::Empty));
    }

    #[test]
    fn zero_weight_versions_get_nothing() {
        let s = SplitLayout::new(&[(1, 10000), (2, 0)]).unwrap();
        assert!((0..BUCKETS).all(|b| s.pick(b) == 1));
    }

    #[test]
    fn precomputed_salt_state_gives_the_same_bucket() {
        for (salt, unit) in [
            ("support/production", "user-1"),
            ("", "x"),
            ("s\u{e9}", "日本"),
        ] {
            assert_eq!(bucket_from(salt_state(salt), unit), bucket(salt, unit));
        }
    }

    #[test]
    fn bucket_mapping_is_in_range_and_exact_at_edges() {
        // 0 lands in the rejected low band (2^64 mod 10000 = 1616) and is re-mixed.
        assert!(to_bucket(0) < BUCKETS);
        assert_eq!(to_bucket(u64::MAX / 2), 4999);
        assert_eq!(to_bucket(u64::MAX), 9999);
        assert!(bucket("s", "u") < BUCKETS);
    }
}
