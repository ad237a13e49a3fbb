//! A size-class heap for the npm package's Wasm: constant-time allocation from one free
//! list per power-of-two class, in about 1 KB of code where Rust's default Wasm
//! allocator (dlmalloc) takes about 9 KB.
//!
//! Blocks are never split or merged: a freed block waits on its class's list for the
//! next request of that class. That wastes up to half of each block, and memory once
//! taken for a class stays with it, which suits this workload: a manifest compiled now
//! and then, and resolves that allocate and free the same few sizes over and over.
//! Wasm memory cannot shrink, so no allocator would give memory back anyway.

use core::ptr::{self, null_mut};

/// The smallest block, which is also the alignment every block has.
const MIN_BLOCK: usize = 16;
/// Classes 0.. hold blocks of `MIN_BLOCK << class` bytes.
const CLASSES: usize = usize::BITS as usize - MIN_BLOCK.trailing_zeros() as usize;
/// The least memory taken from the system at once.
const CHUNK: usize = 64 * 1024;

/// Where the heap's memory comes from.
pub trait Memory {
    /// Adds at least `bytes` bytes of memory; returns the new region's start and length.
    fn grow(&mut self, bytes: usize) -> Option<(*mut u8, usize)>;
}

/// The size classes' free lists and the region new blocks are carved from.
pub struct Heap<M> {
    /// Each class's first free block; a free block's first word links to the next.
    free: [*mut u8; CLASSES],
    next: *mut u8,
    end: *mut u8,
    memory: M,
}

/// The class of a block that holds `size` bytes aligned to `align`, and its length.
fn class_of(size: usize, align: usize) -> Option<(usize, usize)> {
    let block = size.max(align).max(MIN_BLOCK).checked_next_power_of_two()?;
    let class = (block.trailing_zeros() - MIN_BLOCK.trailing_zeros()) as usize;
    (class < CLASSES).then_some((class, block))
}

impl<M: Memory> Heap<M> {
    /// An empty heap that takes its memory from `memory`.
    pub const fn new(memory: M) -> Self {
        Heap {
            free: [null_mut(); CLASSES],
            next: null_mut(),
            end: null_mut(),
            memory,
        }
    }

    /// A block for `size` bytes aligned to `align` (a power of two), or null.
    ///
    /// # Safety
    /// Blocks on the free lists must be ones this heap handed out and that were freed.
    pub unsafe fn alloc(&mut self, size: usize, align: usize) -> *mut u8 {
        let Some((class, block)) = class_of(size, align) else {
            return null_mut();
        };
        if align <= MIN_BLOCK {
            if let Some(head) = self.free.get_mut(class) {
                if !head.is_null() {
                    let taken = *head;
                    // SAFETY: a free block is at least MIN_BLOCK bytes, aligned, and
                    // holds its successor's address in its first word.
                    *head = unsafe { ptr::read(taken.cast::<*mut u8>()) };
                    return taken;
                }
            }
        }
        self.carve(block, align.max(MIN_BLOCK))
    }

    /// A new block of `block` bytes aligned to `align` from the end of the region.
    fn carve(&mut self, block: usize, align: usize) -> *mut u8 {
        let fits = |next: *mut u8, end: *mut u8| {
            let pad = next.align_offset(align);
            (end.addr().saturating_sub(next.addr()) >= pad.saturating_add(block))
                .then(|| next.wrapping_add(pad))
        };
        let start = match fits(self.next, self.end) {
            Some(start) => start,
            None => {
                let want = block.saturating_add(align).max(CHUNK);
                let Some((region, len)) = self.memory.grow(want) else {
                    return null_mut();
                };
                if region != self.end {
                    // Not contiguous with what is left: the rest of the old region is
                    // abandoned (it never happens with Wasm memory, which only grows
                    // at its end).
                    self.next = region;
                }
                self.end = region.wrapping_add(len);
                match fits(self.next, self.end) {
                    Some(start) => start,
                    None => return null_mut(),
                }
            }
        };
        self.next = start.wrapping_add(block);
        start
    }

    /// Returns a block to its class's free list.
    ///
    /// # Safety
    /// `block` came from this heap's `alloc` or `realloc` with this `size` and `align`,
    /// and is not used again.
    pub unsafe fn free(&mut self, block: *mut u8, size: usize, align: usize) {
        if let Some(head) = class_of(size, align).and_then(|(class, _)| self.free.get_mut(class)) {
            // SAFETY: the block is at least MIN_BLOCK bytes, aligned, and now unused.
            unsafe { ptr::write(block.cast::<*mut u8>(), *head) };
            *head = block;
        }
    }

    /// Resizes a block, keeping its first `min(size, new_size)` bytes; null if out of
    /// memory (the old block is then untouched).
    ///
    /// # Safety
    /// As for [`Heap::free`], with `size` and `align` the block's current ones.
    pub unsafe fn realloc(
        &mut self,
        block: *mut u8,
        size: usize,
        align: usize,
        new_size: usize,
    ) -> *mut u8 {
        let old = class_of(size, align).map(|(class, _)| class);
        if old.is_some() && old == class_of(new_size, align).map(|(class, _)| class) {
            return block;
        }
        // SAFETY: forwarded from the caller.
        let moved = unsafe { self.alloc(new_size, align) };
        if !moved.is_null() {
            // SAFETY: both blocks hold at least the bytes copied, and a block never
            // overlaps another live one.
            unsafe {
                ptr::copy_nonoverlapping(block, moved, size.min(new_size));
                self.free(block, size, align);
            }
        }
        moved
    }
}

/// The Wasm instance's linear memory, grown a page at a time.
#[cfg(target_arch = "wasm32")]
pub(crate) struct WasmMemory;

#[cfg(target_arch = "wasm32")]
impl Memory for WasmMemory {
    fn grow(&mut self, bytes: usize) -> Option<(*mut u8, usize)> {
        const PAGE: usize = 64 * 1024;
        let pages = bytes.div_ceil(PAGE);
        let first = core::arch::wasm32::memory_grow::<0>(pages);
        (first != usize::MAX).then(|| {
            (
                ptr::with_exposed_provenance_mut(first.wrapping_mul(PAGE)),
                pages.wrapping_mul(PAGE),
            )
        })
    }
}

/// The heap as a global allocator for a single-threaded Wasm instance.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
pub(crate) struct GlobalHeap(core::cell::UnsafeCell<Heap<WasmMemory>>);

#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
impl GlobalHeap {
    /// An empty heap over the instance's memory.
    pub(crate) const fn new() -> Self {
        GlobalHeap(core::cell::UnsafeCell::new(Heap::new(WasmMemory)))
    }
}

// SAFETY: without the atomics feature a Wasm instance runs one thread, so the heap is
// never used from two threads at once.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
unsafe impl Sync for GlobalHeap {}

// SAFETY: the heap hands out blocks of at least the layout's size and alignment that
// overlap no other live block; one thread means no call interleaves with another.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
unsafe impl core::alloc::GlobalAlloc for GlobalHeap {
    unsafe fn alloc(&self, layout: core::alloc::Layout) -> *mut u8 {
        unsafe { (*self.0.get()).alloc(layout.size(), layout.align()) }
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: core::alloc::Layout) {
        unsafe { (*self.0.get()).free(block, layout.size(), layout.align()) }
    }

    unsafe fn realloc(
        &self,
        block: *mut u8,
        layout: core::alloc::Layout,
        new_size: usize,
    ) -> *mut u8 {
        unsafe { (*self.0.get()).realloc(block, layout.size(), layout.align(), new_size) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Memory from a fixed buffer, handed out in the pieces asked for.
    struct Arena {
        buf: Vec<u8>,
        used: usize,
        grows: usize,
    }

    impl Arena {
        fn new(len: usize) -> Self {
            Arena {
                buf: vec![0; len],
                used: 0,
                grows: 0,
            }
        }
    }

    impl Memory for Arena {
        fn grow(&mut self, bytes: usize) -> Option<(*mut u8, usize)> {
            if self.used + bytes > self.buf.len() {
                return None;
            }
            let start = self.buf.as_mut_ptr().wrapping_add(self.used);
            self.used += bytes;
            self.grows += 1;
            Some((start, bytes))
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Alloc(usize, u32),
        Free(usize),
        Realloc(usize, usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (1usize..5000, 0u32..7).prop_map(|(s, a)| Op::Alloc(s, a)),
            any::<usize>().prop_map(Op::Free),
            (any::<usize>(), 1usize..9000).prop_map(|(i, s)| Op::Realloc(i, s)),
        ]
    }

    struct Live {
        ptr: *mut u8,
        size: usize,
        align: usize,
        fill: u8,
    }

    fn check_fill(b: &Live, len: usize) {
        for k in 0..len {
            // SAFETY: the block is live and at least `len` bytes.
            assert_eq!(unsafe { *b.ptr.add(k) }, b.fill, "block contents changed");
        }
    }

    fn paint(b: &Live) {
        // SAFETY: the block is live and `size` bytes.
        unsafe { ptr::write_bytes(b.ptr, b.fill, b.size) };
    }

    proptest! {
        /// Live blocks are aligned, disjoint, and keep their bytes through frees and
        /// reallocs of other blocks and through their own reallocs.
        #[test]
        fn blocks_stay_aligned_disjoint_and_intact(ops in prop::collection::vec(op(), 1..300)) {
            let mut heap = Heap::new(Arena::new(64 << 20));
            let mut live: Vec<Live> = Vec::new();
            let mut fill = 0u8;
            for op in ops {
                match op {
                    Op::Alloc(size, a) => {
                        let align = 1usize << a;
                        // SAFETY: only this heap's blocks reach its free lists.
                        let ptr = unsafe { heap.alloc(size, align) };
                        prop_assert!(!ptr.is_null());
                        prop_assert_eq!(ptr.addr() % align, 0);
                        fill = fill.wrapping_add(1);
                        let b = Live { ptr, size, align, fill };
                        paint(&b);
                        live.push(b);
                    }
                    Op::Free(i) if !live.is_empty() => {
                        let b = live.swap_remove(i % live.len());
                        check_fill(&b, b.size);
                        // SAFETY: the block is live and freed once.
                        unsafe { heap.free(b.ptr, b.size, b.align) };
                    }
                    Op::Realloc(i, new_size) if !live.is_empty() => {
                        let n = i % live.len();
                        let b = &mut live[n];
                        // SAFETY: the block is live with this size and alignment.
                        let ptr = unsafe { heap.realloc(b.ptr, b.size, b.align, new_size) };
                        prop_assert!(!ptr.is_null());
                        prop_assert_eq!(ptr.addr() % b.align, 0);
                        let kept = b.size.min(new_size);
                        b.ptr = ptr;
                        check_fill(b, kept);
                        b.size = new_size;
                        paint(b);
                    }
                    _ => {}
                }
                let mut spans: Vec<(usize, usize)> =
                    live.iter().map(|b| (b.ptr.addr(), b.ptr.addr() + b.size)).collect();
                spans.sort_unstable();
                for w in spans.windows(2) {
                    prop_assert!(w[0].1 <= w[1].0, "blocks overlap: {:?}", w);
                }
            }
            for b in &live {
                check_fill(b, b.size);
            }
        }
    }

    #[test]
    fn freed_blocks_are_reused_so_a_steady_workload_stops_growing() {
        let mut heap = Heap::new(Arena::new(4 << 20));
        for _ in 0..10_000 {
            // SAFETY: each block is freed once, with the size it was allocated with.
            unsafe {
                let a = heap.alloc(100, 8);
                let b = heap.alloc(3000, 8);
                let c = heap.realloc(a, 100, 8, 1000);
                heap.free(b, 3000, 8);
                heap.free(c, 1000, 8);
            }
        }
        assert_eq!(heap.memory.grows, 1, "memory grew after the first chunk");
    }

    #[test]
    fn realloc_within_a_class_keeps_the_block() {
        let mut heap = Heap::new(Arena::new(1 << 20));
        // SAFETY: the block is used with the sizes it was given.
        unsafe {
            let a = heap.alloc(33, 8);
            assert_eq!(heap.realloc(a, 33, 8, 64), a);
            assert_ne!(heap.realloc(a, 64, 8, 65), a);
        }
    }

    #[test]
    fn out_of_memory_is_null_and_leaves_the_block() {
        let mut heap = Heap::new(Arena::new(CHUNK));
        // SAFETY: the block is used with the sizes it was given.
        unsafe {
            let a = heap.alloc(100, 8);
            ptr::write_bytes(a, 7, 100);
            assert!(heap.realloc(a, 100, 8, CHUNK * 2).is_null());
            assert_eq!(*a.add(99), 7);
            assert!(heap.alloc(usize::MAX / 2, 8).is_null());
        }
    }
}
