//! SQL rows read as arrays of values: decoding them through serde (`to_array`) would
//! link a deserializer per row type into the Wasm.

use worker::{SqlCursor, SqlStorageValue as V};

/// Every row of a cursor.
pub fn all(c: SqlCursor) -> worker::Result<Vec<Vec<V>>> {
    c.raw().collect()
}

/// Column `i` as text (empty when it is not text).
pub fn text(row: &[V], i: usize) -> String {
    match row.get(i) {
        Some(V::String(s)) => s.clone(),
        _ => String::new(),
    }
}

/// Column `i` as an integer (0 when NULL or not a number).
pub fn int(row: &[V], i: usize) -> i64 {
    match row.get(i) {
        Some(V::Integer(n)) => *n,
        Some(V::Float(x)) => *x as i64,
        Some(V::Boolean(b)) => i64::from(*b),
        _ => 0,
    }
}

/// Column `i` as a count (negative or missing: 0).
pub fn count(row: &[V], i: usize) -> u64 {
    u64::try_from(int(row, i)).unwrap_or(0)
}

/// Column `i` as a float (NULL: `None`).
pub fn real(row: &[V], i: usize) -> Option<f64> {
    match row.get(i) {
        Some(V::Float(x)) => Some(*x),
        Some(V::Integer(n)) => Some(*n as f64),
        _ => None,
    }
}
