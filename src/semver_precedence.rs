//! SemVer 2.0.0 versions, read and ordered by precedence (build metadata ignored), in a
//! few hundred bytes of Wasm: the npm package's size budget is why this is not the
//! `semver` crate, against which the tests check it.

use core::cmp::Ordering;

/// A version borrowed from its text: the numeric core and the pre-release part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SemVer<'a> {
    core: [u64; 3],
    pre: &'a str,
}

/// A version held by a compiled manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedSemVer {
    core: [u64; 3],
    pre: Box<str>,
}

fn is_numeric(id: &str) -> bool {
    id.bytes().all(|b| b.is_ascii_digit())
}

/// The end of the digits from `i` and their value: no leading zero (other than "0"
/// itself), at most `u64::MAX`.
fn number(b: &[u8], mut i: usize) -> Option<(usize, u64)> {
    let start = i;
    let mut n: u64 = 0;
    while let Some(d) = b.get(i).filter(|d| d.is_ascii_digit()) {
        n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
        i += 1;
    }
    let leading_zero = i - start > 1 && b.get(start) == Some(&b'0');
    (i > start && !leading_zero).then_some((i, n))
}

/// The end of dot-separated identifiers from `i`, none empty; `strict` refuses numeric
/// ones with a leading zero (pre-release, unlike build metadata).
fn identifiers(b: &[u8], mut i: usize, strict: bool) -> Option<usize> {
    loop {
        let start = i;
        while b
            .get(i)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'-')
        {
            i += 1;
        }
        let id = b.get(start..i)?;
        let numeric = id.iter().all(u8::is_ascii_digit);
        if id.is_empty() || (strict && numeric && id.len() > 1 && id.first() == Some(&b'0')) {
            return None;
        }
        if b.get(i) != Some(&b'.') {
            return Some(i);
        }
        i += 1;
    }
}

impl<'a> SemVer<'a> {
    /// Reads `MAJOR.MINOR.PATCH[-PRE][+BUILD]`; `None` when it is not SemVer 2.0.0.
    pub fn parse(s: &'a str) -> Option<Self> {
        let b = s.as_bytes();
        let mut core = [0u64; 3];
        let mut i = 0;
        for (k, slot) in core.iter_mut().enumerate() {
            (i, *slot) = number(b, i)?;
            if k < 2 {
                if b.get(i) != Some(&b'.') {
                    return None;
                }
                i += 1;
            }
        }
        let mut pre = "";
        if b.get(i) == Some(&b'-') {
            let start = i + 1;
            i = identifiers(b, start, true)?;
            pre = s.get(start..i)?;
        }
        if b.get(i) == Some(&b'+') {
            i = identifiers(b, i + 1, false)?;
        }
        (i == b.len()).then_some(SemVer { core, pre })
    }

    /// An owned copy, for a compiled manifest.
    pub fn owned(self) -> OwnedSemVer {
        OwnedSemVer {
            core: self.core,
            pre: self.pre.into(),
        }
    }

    /// SemVer precedence: the core numerically, then a version without pre-release
    /// above one with, then pre-release identifiers one by one (numeric ones
    /// numerically and below alphanumeric ones, which compare as ASCII), then the
    /// longer list above its prefix.
    pub fn cmp_precedence(&self, other: &SemVer<'_>) -> Ordering {
        self.core
            .cmp(&other.core)
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => {
                    let mut a = self.pre.split('.');
                    let mut b = other.pre.split('.');
                    loop {
                        match (a.next(), b.next()) {
                            (None, None) => return Ordering::Equal,
                            (None, Some(_)) => return Ordering::Less,
                            (Some(_), None) => return Ordering::Greater,
                            (Some(x), Some(y)) => {
                                let order = match (is_numeric(x), is_numeric(y)) {
                                    // No leading zeros: the longer number is larger.
                                    (true, true) => x.len().cmp(&y.len()).then(x.cmp(y)),
                                    (true, false) => Ordering::Less,
                                    (false, true) => Ordering::Greater,
                                    (false, false) => x.cmp(y),
                                };
                                if order != Ordering::Equal {
                                    return order;
                                }
                            }
                        }
                    }
                }
            })
    }
}

impl OwnedSemVer {
    /// The version borrowed.
    pub fn as_semver(&self) -> SemVer<'_> {
        SemVer {
            core: self.core,
            pre: &self.pre,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SemVer;
    use proptest::prelude::*;

    fn crate_parse(s: &str) -> Option<semver::Version> {
        semver::Version::parse(s).ok()
    }

    #[test]
    fn spec_examples_in_order() {
        let order = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.1",
            "1.1.0",
            "2.0.0",
            "10.0.0",
        ];
        for pair in order.windows(2) {
            let a = SemVer::parse(pair[0]).unwrap();
            let b = SemVer::parse(pair[1]).unwrap();
            assert_eq!(a.cmp_precedence(&b), std::cmp::Ordering::Less, "{pair:?}");
        }
        let a = SemVer::parse("1.0.0+build.1").unwrap();
        let b = SemVer::parse("1.0.0+other").unwrap();
        assert_eq!(a.cmp_precedence(&b), std::cmp::Ordering::Equal);
    }

    #[test]
    fn refuses_what_the_spec_refuses() {
        for s in [
            "",
            "1",
            "1.0",
            "1.0.0.0",
            "01.0.0",
            "1.00.0",
            "1.0.0-",
            "1.0.0+",
            "1.0.0-01",
            "1.0.0-a..b",
            "1.0.0+a+b",
            "1.0.0-a_b",
            " 1.0.0",
            "18446744073709551616.0.0",
        ] {
            assert_eq!(SemVer::parse(s), None, "{s:?}");
            assert_eq!(crate_parse(s), None, "{s:?}");
        }
        assert!(SemVer::parse("1.0.0+001").is_some());
        assert!(SemVer::parse("1.0.0-x-y-z.--").is_some());
    }

    fn version_text() -> impl Strategy<Value = String> {
        prop_oneof![
            "(0|[1-9][0-9]{0,2}|0[0-9])\\.(0|[1-9][0-9]?)\\.(0|[0-9]{1,2})(-[0-9A-Za-z.-]{0,8})?(\\+[0-9A-Za-z.-]{0,6})?",
            "[0-9.+a-z-]{0,12}",
        ]
    }

    proptest! {
        /// Reads exactly what the `semver` crate reads, and orders as it orders.
        #[test]
        fn agrees_with_the_semver_crate(a in version_text(), b in version_text()) {
            let (ours_a, ours_b) = (SemVer::parse(&a), SemVer::parse(&b));
            let (theirs_a, theirs_b) = (crate_parse(&a), crate_parse(&b));
            prop_assert_eq!(ours_a.is_some(), theirs_a.is_some(), "{:?}", a);
            prop_assert_eq!(ours_b.is_some(), theirs_b.is_some(), "{:?}", b);
            if let (Some(x), Some(y), Some(p), Some(q)) = (ours_a, ours_b, theirs_a, theirs_b) {
                prop_assert_eq!(x.cmp_precedence(&y), p.cmp_precedence(&q), "{:?} vs {:?}", a, b);
                let owned = x.owned();
                prop_assert_eq!(owned.as_semver(), x);
            }
        }
    }
}
