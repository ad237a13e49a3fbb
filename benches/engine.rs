//! Engine benchmarks: `cargo bench --bench engine`. Results go to BENCHMARKS.md.
//!
//! The workload: a ~1 KB chat template (system + user message) with 5 variables, on a
//! label with a 90/10 split; and manifests of 10, 1,000 and 10,000 such prompts.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use edgeprompt::assign::RouteAt;
use edgeprompt::resolve::{self, Request};
use edgeprompt::{assign, manifest};
use serde_json::{json, Value};
use std::hint::black_box;

const SYSTEM: &str = "You are the customer support assistant of {{company}}, a company that sells outdoor equipment online. \
Answer the customer's question accurately and concisely, in a friendly and professional tone. \
Always use the customer's first name, {{first_name}}, when you greet them. The customer is on the {{plan}} plan; \
customers on paid plans are entitled to priority handling and free returns within 60 days. \
If the question is about an order, ask for the order number unless it is given below. \
Never invent tracking numbers, delivery dates, prices or policies: when you do not know, say so and offer to \
escalate to a human agent. Do not discuss competitors. Keep answers under 150 words unless the customer asks \
for detail. If the customer is upset, acknowledge the frustration before answering. If the question is about \
something other than our products, orders, shipping, returns or account, politely decline and steer the \
conversation back. Format lists with hyphens, never with numbers.";
const USER: &str = "Order reference: {{order_id}}\n\nQuestion from {{first_name}}:\n{{question}}";

fn version(n: u32) -> Value {
    json!({
        "version": n,
        "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": USER}],
        "model": {"provider": "openai", "name": "gpt-4o", "params": {"temperature": 0.2}},
        "variables": {
            "company": {"default": "Acme Outdoor"},
            "first_name": {"required": true},
            "plan": {"default": "free"},
            "order_id": {"default": "none"},
            "question": {"required": true}
        }
    })
}

fn prompt() -> Value {
    json!({
        "versions": [version(1), version(2)],
        "labels": {"production": {"default": {"split": [{"version": 1, "weight": 90}, {"version": 2, "weight": 10}]}}}
    })
}

/// A typical small prompt for the compile benchmarks (~0.9 KB of JSON), so that
/// 10,000 of them fit under the 25 MiB document limit.
fn small_prompt(i: usize) -> Value {
    let v = |n: u32| {
        json!({
            "version": n,
            "messages": [
                {"role": "system", "content": format!("You are assistant number {i} of {{{{company}}}}. Answer concisely and politely; never invent facts. Version {n}.")},
                {"role": "user", "content": "{{question}}"}
            ],
            "model": {"provider": "openai", "name": "gpt-4o-mini", "params": {"temperature": 0.2}},
            "variables": {"company": {"default": "Acme"}, "question": {"required": true}}
        })
    };
    json!({
        "versions": [v(1), v(2)],
        "labels": {"production": {"default": {"split": [{"version": 1, "weight": 90}, {"version": 2, "weight": 10}]}}}
    })
}

fn manifest_text(prompts: usize) -> String {
    let mut map = serde_json::Map::new();
    for i in 0..prompts {
        map.insert(format!("prompt-{i}"), prompt());
    }
    json!({"schema": 1, "revision": 1, "prompts": map}).to_string()
}

fn small_manifest_text(prompts: usize) -> String {
    let mut map = serde_json::Map::new();
    for i in 0..prompts {
        map.insert(format!("prompt-{i}"), small_prompt(i));
    }
    json!({"schema": 1, "revision": 1, "prompts": map}).to_string()
}

/// The edge's request body, typed as `edge/src/api/resolve.rs` reads it (less its own
/// `track`, which the bench's requests do not carry).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct EdgeBody {
    prompt: String,
    #[serde(default)]
    label: Option<String>,
    unit: String,
    #[serde(default)]
    attributes: Option<Value>,
    #[serde(default)]
    variables: Option<Value>,
}

fn variables() -> Value {
    json!({
        "company": "Acme Outdoor",
        "first_name": "Dana",
        "plan": "pro",
        "order_id": "A-10023",
        "question": "My tent arrived with a torn rain fly. Can I get a replacement before my trip on Friday?"
    })
}

fn engine(c: &mut Criterion) {
    let m = manifest::compile(&manifest_text(1)).expect("bench manifest is valid");
    let vars = variables();
    let attrs = json!({"country": "DE"});
    let req = Request {
        prompt: "prompt-0",
        label: None,
        unit: "user-12345",
        attributes: Some(&attrs),
        variables: Some(&vars),
        now_ms: None,
    };
    let rendered = resolve::resolve(&m, &req).expect("resolves");
    let size: usize = rendered
        .messages
        .iter()
        .flatten()
        .map(|m| m.content.len())
        .sum();
    eprintln!("rendered bytes per decision: {size}");

    let mut g = c.benchmark_group("resolve");
    g.bench_function("bucket_only", |b| {
        b.iter(|| assign::bucket(black_box("prompt-0/production"), black_box("user-12345")))
    });
    let route = m
        .prompt("prompt-0")
        .and_then(|p| p.route("production"))
        .expect("route");
    g.bench_function("assign_route", |b| {
        b.iter(|| {
            black_box(route).assign(
                RouteAt {
                    prompt: "prompt-0",
                    label: "production",
                    revision: 1,
                },
                black_box("user-12345"),
                None,
                None,
            )
        })
    });
    g.bench_function("assign", |b| {
        b.iter(|| resolve::assign(black_box(&m), black_box(&req)))
    });
    g.bench_function("resolve_render", |b| {
        b.iter(|| resolve::resolve(black_box(&m), black_box(&req)))
    });
    let request_json =
        json!({"prompt": "prompt-0", "unit": "user-12345", "attributes": attrs, "variables": vars})
            .to_string();
    g.bench_function("resolve_json_in_out", |b| {
        // What the edge does (edge/src/api/resolve.rs), and what this figure measured up
        // to the workspace split: the body straight into a typed struct, the decision to
        // JSON text.
        b.iter(|| {
            let body: EdgeBody = serde_json::from_str(black_box(&request_json)).expect("parses");
            let req = Request {
                prompt: &body.prompt,
                label: body.label.as_deref(),
                unit: &body.unit,
                attributes: body.attributes.as_ref(),
                variables: body.variables.as_ref(),
                now_ms: None,
            };
            let d = resolve::resolve(black_box(&m), &req).expect("resolves");
            serde_json::to_string(&d).expect("serialises")
        })
    });
    g.bench_function("resolve_json_value", |b| {
        // The request into a `Value` read by `Request::from_json` (the CLI and the npm
        // package's JSON path): ~2,500 instructions more than the typed body.
        b.iter(|| {
            let doc: Value = serde_json::from_str(black_box(&request_json)).expect("parses");
            let req = Request::from_json(&doc, &[]).expect("a request");
            let d = resolve::resolve(black_box(&m), &req).expect("resolves");
            serde_json::to_string(&d).expect("serialises")
        })
    });
    g.finish();

    let mut g = c.benchmark_group("compile");
    g.sample_size(10);
    for n in [10usize, 1_000, 10_000] {
        let text = small_manifest_text(n);
        manifest::compile(&text).expect("bench manifest is valid");
        eprintln!("compile/{n}: {} bytes", text.len());
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &text, |b, t| {
            b.iter(|| manifest::compile(black_box(t)))
        });
    }
    g.finish();
}

criterion_group!(benches, engine);
criterion_main!(benches);
