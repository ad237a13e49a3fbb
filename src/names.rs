//! Maps and sets keyed by name, kept as sorted lists: lookups by binary search, no
//! hashing. Built once per manifest (names mostly arrive sorted, from JSON objects).
//!
//! Why not a library map (measured 2026-12-02, BENCHMARKS.md "The workspace"): with
//! `BTreeMap<Box<str>, V>` behind the same API the npm package's Wasm grows by 4.8 KB
//! gzipped (88.8 KB, over the package's 88 KB goal), with `HashMap` by 4.3 KB. Per
//! resolve the sorted list ties with `BTreeMap` (418 against 395 instructions for an
//! assignment, the same time) and beats `HashMap` (57 ns an assignment, against 82).
//! A lookup alone is 1.4-2x faster in a `BTreeMap` (23 against 37 ns at 8 names): the
//! list does not win on both counts, and stays for the size.

/// A map from names to values, sorted by name.
#[derive(Debug, Clone)]
pub struct NameMap<V> {
    entries: Vec<(Box<str>, V)>,
}

impl<V> Default for NameMap<V> {
    fn default() -> Self {
        NameMap {
            entries: Vec::new(),
        }
    }
}

impl<V> NameMap<V> {
    /// An empty map with room for `n` names.
    pub fn with_capacity(n: usize) -> Self {
        NameMap {
            entries: Vec::with_capacity(n),
        }
    }

    #[inline]
    fn search(&self, name: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|(k, _)| (**k).cmp(name))
    }

    /// The value named `name`.
    #[inline]
    pub fn get(&self, name: &str) -> Option<&V> {
        let i = self.search(name).ok()?;
        self.entries.get(i).map(|(_, v)| v)
    }

    /// Whether `name` is in the map.
    pub fn contains_key(&self, name: &str) -> bool {
        self.search(name).is_ok()
    }

    /// Sets the value of `name`, returning the one it replaces.
    pub fn insert(&mut self, name: Box<str>, value: V) -> Option<V> {
        match self.search(&name) {
            Ok(i) => self
                .entries
                .get_mut(i)
                .map(|slot| std::mem::replace(&mut slot.1, value)),
            Err(i) => {
                // Names in order (the common case) append.
                self.entries.insert(i, (name, value));
                None
            }
        }
    }

    /// Removes `name`, returning its value.
    pub fn remove(&mut self, name: &str) -> Option<V> {
        let i = self.search(name).ok()?;
        Some(self.entries.remove(i).1)
    }

    /// The names, sorted.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _)| &**k)
    }

    /// The entries, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.entries.iter().map(|(k, v)| (&**k, v))
    }

    /// How many names.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// A set of names, sorted.
pub type NameSet = NameMap<()>;

impl NameMap<()> {
    /// Adds `name`; `false` when it was there already.
    pub fn add(&mut self, name: impl Into<Box<str>>) -> bool {
        self.insert(name.into(), ()).is_none()
    }

    /// Whether `name` is in the set.
    #[inline]
    pub fn contains(&self, name: &str) -> bool {
        self.contains_key(name)
    }
}

#[cfg(test)]
mod tests {
    use super::{NameMap, NameSet};
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    proptest! {
        /// Behaves as an ordered map under any sequence of inserts and removals.
        #[test]
        fn acts_as_an_ordered_map(ops in proptest::collection::vec(("[a-d]{0,2}", 0u8..10, any::<bool>()), 0..60)) {
            let mut ours: NameMap<u8> = NameMap::default();
            let mut model: BTreeMap<String, u8> = BTreeMap::new();
            for (name, value, remove) in ops {
                if remove {
                    prop_assert_eq!(ours.remove(&name), model.remove(&name));
                } else {
                    prop_assert_eq!(ours.insert(name.as_str().into(), value), model.insert(name.clone(), value));
                }
                prop_assert_eq!(ours.get(&name), model.get(&name));
            }
            let got: Vec<(&str, &u8)> = ours.iter().collect();
            let want: Vec<(&str, &u8)> = model.iter().map(|(k, v)| (k.as_str(), v)).collect();
            prop_assert_eq!(got, want);
            prop_assert_eq!(ours.len(), model.len());
        }
    }

    #[test]
    fn a_set_adds_once() {
        let mut s = NameSet::default();
        assert!(s.add("b"));
        assert!(s.add("a"));
        assert!(!s.add("b"));
        assert!(s.contains("a") && !s.contains("c"));
        assert_eq!(s.keys().collect::<Vec<_>>(), ["a", "b"]);
    }
}
