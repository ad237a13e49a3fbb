//! Rendering allocates nothing besides growing the output buffer.
//!
//! A test binary of its own, not a module of `tests/it/`: its `#[global_allocator]`
//! holds for a whole binary, so in the shared one every other test would allocate
//! through the counting allocator too (and no other test binary could choose its own).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::HashMap;

use edgeprompt::render::{render_to, Escape, RenderOptions, Template};
use serde_json::json;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn render_does_not_allocate() {
    let src = "Hello {{user.name}} ({{user.age}}, {{ratio}}, {{flag}})\n\
               {{#items}}\n  {{>item}}\n{{/items}}\n{{^none}}none{{/none}}\n\
               {{<layout}}{{$body}}\nbody {{user}}\n{{/body}}{{/layout}}\n";
    let tpl = Template::compile(src).unwrap();
    let partials: HashMap<String, Template> = [
        ("item", "- {{name}} <{{price}}>\n"),
        ("layout", "[\n  {{$body}}\n  default\n  {{/body}}\n]\n"),
    ]
    .into_iter()
    .map(|(n, s)| (n.to_string(), Template::compile(s).unwrap()))
    .collect();
    let data = json!({
        "user": {"name": "Ada", "age": 36},
        "ratio": 0.25,
        "flag": true,
        "items": [{"name": "a", "price": 1.5}, {"name": "b", "price": 1e21}],
    });
    let opts = RenderOptions {
        escape: Escape::Html,
        ..RenderOptions::default()
    };
    let mut out = String::with_capacity(4096);
    let before = allocations();
    render_to(&tpl, &[&data], &partials, &opts, &mut out).unwrap();
    let after = allocations();
    assert_eq!(after - before, 0, "allocations while rendering:\n{out}");
    assert_eq!(
        out,
        "Hello Ada (36, 0.25, true)\n  - a <1.5>\n  - b <1e+21>\nnone\n[\n  body {&quot;age&quot;:36,&quot;name&quot;:&quot;Ada&quot;}\n]\n"
    );
}
