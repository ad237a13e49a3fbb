//! Rendering allocates nothing besides growing the output buffer; evaluating targeting
//! conditions (assignment) allocates nothing either.
//!
//! A test binary of its own, not a module of `tests/it/`: its `#[global_allocator]`
//! holds for a whole binary, so in the shared one every other test would allocate
//! through the counting allocator too (and no other test binary could choose its own).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::HashMap;

use edgeprompt::render::{render_to, Escape, RenderOptions, Template};
use edgeprompt::resolve::{self, Request};
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

#[test]
fn conditions_do_not_allocate() {
    // Attributes that are not times (`plan`, `day`) are refused without a message.
    // Every rule but the last fails, so each condition is evaluated on every assign.
    let rules = json!([
        {"name": "ci", "when": {"attr": "plan", "op": "eq", "value": "ENTERPRISE", "case_insensitive": true}, "target": {"version": 2}},
        {"name": "text", "when": {"any": [
            {"attr": "email", "op": "ends_with", "value": "@EXAMPLE.ORG", "case_insensitive": true},
            {"attr": "email", "op": "contains_str", "value": "STRASSE", "case_insensitive": true},
            {"attr": "email", "op": "starts_with", "value": "bob"}
        ]}, "target": {"version": 2}},
        {"name": "lists", "when": {"any": [
            {"attr": "groups", "op": "contains_any", "value": ["admin", "owner"], "case_insensitive": true},
            {"attr": "groups", "op": "contains_all", "value": ["beta", "qa"]},
            {"attr": "groups", "op": "in", "value": ["x"]}
        ]}, "target": {"version": 2}},
        {"name": "order", "when": {"attr": "plan", "op": "lt", "value": "a"}, "target": {"version": 2}},
        {"name": "time", "when": {"any": [
            {"attr": "signed_up", "op": "before", "value": "2020-01-01T00:00:00Z"},
            {"attr": "plan", "op": "after", "value": "2020-01-01T00:00:00Z"},
            {"attr": "day", "op": "after", "value": "2020-01-01T00:00:00Z"},
            {"attr": "$now", "op": "before", "value": "2020-01-01T00:00:00Z"}
        ]}, "target": {"version": 2}},
        {"name": "re", "when": {"attr": "email", "op": "matches", "value": "^[a-z]+@example\\.com$"}, "target": {"version": 2}}
    ]);
    let doc = json!({"schema": 1, "revision": 1, "prompts": {"p": {
        "versions": [{"version": 1, "text": "a"}, {"version": 2, "text": "b"}],
        "labels": {"production": {"rules": rules, "default": {"version": 1}}}}}});
    let m = edgeprompt::manifest::compile(&doc.to_string()).unwrap();
    let attrs = json!({"plan": "pro", "email": "ada@example.com", "groups": ["beta", "Staff"],
        "signed_up": "2025-06-01T12:00:00+02:00", "day": "2026-01-01"});
    let req = Request {
        prompt: "p",
        label: None,
        unit: "u",
        attributes: Some(&attrs),
        variables: None,
        now_ms: Some(1_767_225_600_000),
    };
    // The regular expression's search cache is made on its first use.
    assert_eq!(resolve::assign(&m, &req).unwrap().rule, "re");
    let before = allocations();
    for _ in 0..10 {
        assert_eq!(resolve::assign(&m, &req).unwrap().rule, "re");
    }
    assert_eq!(
        allocations() - before,
        0,
        "allocations while evaluating conditions"
    );
    // A time attribute of the right shape with a field out of range is no time either,
    // told apart without writing its refusal out.
    let bad = json!({"plan": "pro", "email": "ada@example.com", "groups": ["beta", "Staff"],
        "signed_up": "2026-13-01T25:00:00Z", "day": "2026-01-01"});
    let req = Request {
        attributes: Some(&bad),
        ..req
    };
    assert_eq!(resolve::assign(&m, &req).unwrap().rule, "re");
    let before = allocations();
    for _ in 0..10 {
        assert_eq!(resolve::assign(&m, &req).unwrap().rule, "re");
    }
    assert_eq!(
        allocations() - before,
        0,
        "allocations while telling an out-of-range time apart"
    );
}
