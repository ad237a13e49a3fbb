//! Numbers: JSON number text read as the engine reads it, and formatting identical to
//! JavaScript's `Number.prototype.toString()`.

use serde_json::Value;
use std::fmt::Write as _;

/// Largest integer up to which every integer is exactly representable as an f64.
const MAX_SAFE: u64 = 1 << 53;

/// Parses a string written in JSON's number grammar (no spaces, no `+`, no `inf`).
pub fn parse_number(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let mut i = 0;
    if b.first() == Some(&b'-') {
        i += 1;
    }
    let int_start = i;
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    let int_len = i - int_start;
    if int_len == 0 || (int_len > 1 && b.get(int_start) == Some(&b'0')) {
        return None;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    // The JSON parser's own conversion (the one that reads manifests), so one float
    // parser serves the engine; a number that overflows is refused there.
    match serde_json::from_str::<Value>(s) {
        Ok(Value::Number(n)) => n.as_f64().filter(|x| x.is_finite()),
        _ => None,
    }
}

/// A small stack buffer that numbers are formatted into (no heap allocation).
pub(crate) struct NumBuf {
    buf: [u8; 40],
    len: usize,
}

impl NumBuf {
    pub(crate) fn new() -> Self {
        NumBuf {
            buf: [0; 40],
            len: 0,
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        self.buf
            .get(..self.len)
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or("")
    }

    fn push_byte(&mut self, b: u8) {
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }

    fn push_bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.push_byte(b);
        }
    }

    fn push_zeros(&mut self, n: usize) {
        for _ in 0..n {
            self.push_byte(b'0');
        }
    }
}

impl std::fmt::Write for NumBuf {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let slot = self.buf.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        slot.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Appends a JSON number formatted exactly as JavaScript's `Number.prototype.toString`
/// does (via f64): `1.0` -> `1`, `1e21` -> `1e+21`, `1e-7` -> `1e-7`; integers
/// beyond 2^53 are first rounded to f64, as JavaScript would have parsed them.
pub fn write_number(n: &serde_json::Number, out: &mut String) {
    let mut buf = NumBuf::new();
    format_number(n, &mut buf);
    out.push_str(buf.as_str());
}

/// Appends `x` formatted exactly as JavaScript's `Number.prototype.toString` does
/// (`NaN`, `Infinity` and `-Infinity` included; `-0` prints as `0`).
pub fn write_f64(x: f64, out: &mut String) {
    let mut buf = NumBuf::new();
    format_f64(x, &mut buf);
    out.push_str(buf.as_str());
}

pub(crate) fn format_number(n: &serde_json::Number, buf: &mut NumBuf) {
    if let Some(u) = n.as_u64() {
        if u <= MAX_SAFE {
            let _ = write!(buf, "{u}");
        } else {
            format_f64(u as f64, buf);
        }
    } else if let Some(i) = n.as_i64() {
        if i.unsigned_abs() <= MAX_SAFE {
            let _ = write!(buf, "{i}");
        } else {
            format_f64(i as f64, buf);
        }
    } else if let Some(f) = n.as_f64() {
        format_f64(f, buf);
    }
}

/// Formats JSON number text as [`format_number`] formats the number it parses to;
/// `false` when it is not finite JSON number text.
pub(crate) fn format_text(text: &str, buf: &mut NumBuf) -> bool {
    // Small canonical integers (exact in an f64) print as they are written.
    let digits = text.strip_prefix('-').unwrap_or(text);
    let plain = !digits.is_empty()
        && digits.len() <= 15
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (!digits.starts_with('0') || text == "0");
    if plain {
        buf.push_bytes(text.as_bytes());
        return true;
    }
    match crate::value::number::parse_number(text) {
        Some(x) => {
            format_f64(x, buf);
            true
        }
        None => false,
    }
}

pub(crate) fn format_f64(x: f64, buf: &mut NumBuf) {
    if x.is_nan() {
        buf.push_bytes(b"NaN");
        return;
    }
    if x == 0.0 {
        buf.push_byte(b'0');
        return;
    }
    if x < 0.0 {
        buf.push_byte(b'-');
    }
    let x = x.abs();
    if x.is_infinite() {
        buf.push_bytes(b"Infinity");
        return;
    }
    // zmij (serde_json's own float formatter) gives the shortest digits that round-trip,
    // the closest to the value where two are shortest (as ECMAScript requires), written
    // either as a decimal ("123.456", "0.001") or in exponent form ("1.2345e-7").
    let mut digits_buf = zmij::Buffer::new();
    let text = digits_buf.format_finite(x);
    let (mantissa, exp) = text.split_once('e').unwrap_or((text, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mut digits = [0u8; 40];
    let mut k = 0;
    for b in int_part.bytes().chain(frac_part.bytes()) {
        if let Some(slot) = digits.get_mut(k) {
            *slot = b;
            k += 1;
        }
    }
    // Position of the decimal point relative to the first digit, then normalise to
    // 0.d1d2...dk x 10^n with d1 != 0 and dk != 0.
    let mut n = i32::try_from(int_part.len()).unwrap_or(0) + exp;
    let all = digits.get(..k).unwrap_or(&[]);
    let lead = all.iter().take_while(|&&d| d == b'0').count();
    n -= i32::try_from(lead).unwrap_or(0);
    let rest = all.get(lead..).unwrap_or(&[]);
    let trail = rest.iter().rev().take_while(|&&d| d == b'0').count();
    let digits = rest.get(..rest.len() - trail).unwrap_or(&[]);
    write_js(digits, n, buf);
}

/// ECMAScript Number::toString(10) layout of the value 0.d1d2...dk × 10^n.
fn write_js(digits: &[u8], n: i32, buf: &mut NumBuf) {
    let k = i32::try_from(digits.len()).unwrap_or(0);
    if k <= n && n <= 21 {
        buf.push_bytes(digits);
        buf.push_zeros(usize::try_from(n - k).unwrap_or(0));
    } else if 0 < n && n <= 21 {
        let split = usize::try_from(n).unwrap_or(0);
        let (int, frac) = digits.split_at_checked(split).unwrap_or((digits, &[]));
        buf.push_bytes(int);
        buf.push_byte(b'.');
        buf.push_bytes(frac);
    } else if -6 < n && n <= 0 {
        buf.push_bytes(b"0.");
        buf.push_zeros(usize::try_from(-n).unwrap_or(0));
        buf.push_bytes(digits);
    } else {
        let (first, rest) = digits.split_first().unwrap_or((&b'0', &[]));
        buf.push_byte(*first);
        if !rest.is_empty() {
            buf.push_byte(b'.');
            buf.push_bytes(rest);
        }
        let e = n - 1;
        buf.push_byte(b'e');
        buf.push_byte(if e < 0 { b'-' } else { b'+' });
        let _ = write!(buf, "{}", e.unsigned_abs());
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_parse_by_json_grammar() {
        assert_eq!(parse_number("42"), Some(42.0));
        assert_eq!(parse_number("-1.5e3"), Some(-1500.0));
        for bad in [
            "", "+1", " 1", "1 ", "01", "1.", ".5", "inf", "NaN", "1e", "0x10", "1e400",
        ] {
            assert_eq!(parse_number(bad), None, "{bad:?}");
        }
    }

    use super::*;

    fn js(x: f64) -> String {
        let mut s = String::new();
        write_f64(x, &mut s);
        s
    }

    fn num(text: &str) -> String {
        let n: serde_json::Number = serde_json::from_str(text).unwrap();
        let mut s = String::new();
        write_number(&n, &mut s);
        s
    }

    #[test]
    fn integers_and_zero() {
        assert_eq!(js(0.0), "0");
        assert_eq!(js(-0.0), "0");
        assert_eq!(js(1.0), "1");
        assert_eq!(js(-1.0), "-1");
        assert_eq!(js(100.0), "100");
        assert_eq!(js(123456789.0), "123456789");
        assert_eq!(js(9007199254740993.0), "9007199254740992");
    }

    #[test]
    fn fractions() {
        assert_eq!(js(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(js(0.5), "0.5");
        assert_eq!(js(-1.5), "-1.5");
        assert_eq!(js(123.456), "123.456");
        assert_eq!(js(0.000001), "0.000001");
        assert_eq!(js(0.0000001), "1e-7");
        assert_eq!(js(0.00000123), "0.00000123");
        assert_eq!(js(0.000000123), "1.23e-7");
        assert_eq!(js(1.0 / 3.0), "0.3333333333333333");
        assert_eq!(js(123e-20), "1.23e-18");
    }

    #[test]
    fn large_and_exponents() {
        assert_eq!(js(1e20), "100000000000000000000");
        assert_eq!(js(1e21), "1e+21");
        assert_eq!(js(1.5e21), "1.5e+21");
        assert_eq!(js(123456789012345678901.0), "123456789012345680000");
        assert_eq!(js(5e-324), "5e-324");
        assert_eq!(js(-5e-324), "-5e-324");
        assert_eq!(js(1.7976931348623157e308), "1.7976931348623157e+308");
        assert_eq!(js(-1.7976931348623157e308), "-1.7976931348623157e+308");
        assert_eq!(js(2f64.powi(70)), "1.1805916207174113e+21");
        assert_eq!(js(1e100), "1e+100");
    }

    #[test]
    fn specials() {
        assert_eq!(js(f64::NAN), "NaN");
        assert_eq!(js(f64::INFINITY), "Infinity");
        assert_eq!(js(f64::NEG_INFINITY), "-Infinity");
    }

    #[test]
    fn json_numbers() {
        assert_eq!(num("1.0"), "1");
        assert_eq!(num("-0.0"), "0");
        assert_eq!(num("42"), "42");
        assert_eq!(num("-42"), "-42");
        assert_eq!(num("1e21"), "1e+21");
        assert_eq!(num("1E-7"), "1e-7");
        // (serde_json without its `float_roundtrip` feature parses
        // "123456789012345678901" one ulp off, so that case is checked from an f64.)
        let n = serde_json::Number::from_f64(123456789012345678901.0).unwrap();
        let mut s = String::new();
        write_number(&n, &mut s);
        assert_eq!(s, "123456789012345680000");
        assert_eq!(num("9007199254740993"), "9007199254740992");
        assert_eq!(num("9007199254740992"), "9007199254740992");
        assert_eq!(num("-9007199254740993"), "-9007199254740992");
        assert_eq!(num("18446744073709551615"), "18446744073709552000");
        assert_eq!(num("-9223372036854775808"), "-9223372036854776000");
        assert_eq!(num("0.1"), "0.1");
    }

    #[test]
    fn number_from_u64_above_2_53() {
        let n = serde_json::Number::from((1u64 << 53) + 1);
        let mut s = String::new();
        write_number(&n, &mut s);
        assert_eq!(s, "9007199254740992");
    }
}
