//! Robustness: compiling arbitrary input never panics, and rendering any compiled
//! template under small limits never panics and respects `max_output`.

use std::collections::HashMap;

use edgeprompt::render::{render_to, Escape, Limits, RenderOptions, Template, Value};
use proptest::prelude::*;

/// Sources built from Mustache-ish fragments, so that many of them compile.
fn mustache_source() -> impl Strategy<Value = String> {
    let syntax = prop_oneof![
        Just("{{"),
        Just("}}"),
        Just("{{{"),
        Just("}}}"),
        Just("#"),
        Just("^"),
        Just("/"),
        Just(">"),
        Just("<"),
        Just("$"),
        Just("!"),
        Just("&"),
        Just("="),
    ];
    let text = prop_oneof![
        Just("a"),
        Just("."),
        Just(" "),
        Just("  "),
        Just("\t"),
        Just("\n"),
        Just("\r\n"),
        Just("x"),
        Just("é"),
    ];
    let tags = prop_oneof![
        Just("{{#a}}"),
        Just("{{/a}}"),
        Just("{{#b}}"),
        Just("{{/b}}"),
        Just("{{^b}}"),
        Just("{{>a}}"),
        Just("{{>b}}"),
        Just("{{<a}}"),
        Just("{{/a}}"),
        Just("{{$b}}"),
        Just("{{/b}}"),
        Just("{{$a}}"),
        Just("{{a}}"),
        Just("{{{b}}}"),
        Just("{{.}}"),
        Just("{{a.b}}"),
        Just("{{! c }}"),
        Just("{{=<% %>=}}"),
        Just("<%={{ }}=%>"),
    ];
    let fragment = prop_oneof![1 => syntax, 4 => text, 4 => tags];
    let soup = prop::collection::vec(fragment, 0..30).prop_map(|parts| parts.concat());
    prop_oneof![soup, balanced_source()]
}

/// Well-nested templates: sections, inverted sections, blocks and parents with
/// arbitrary whitespace around tags, so most of them compile.
fn balanced_source() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("x"),
        Just(" "),
        Just("  "),
        Just("\n"),
        Just("\r\n"),
        Just("{{a}}"),
        Just("{{{b}}}"),
        Just("{{&a.b}}"),
        Just("{{.}}"),
        Just("{{>a}}"),
        Just("{{>b}}"),
        Just("{{! c }}"),
        Just("{{=<% %>=}}<%a%><%={{ }}=%>"),
    ]
    .prop_map(str::to_string);
    leaf.prop_recursive(4, 40, 5, |inner| {
        (
            prop_oneof![Just('#'), Just('^'), Just('$'), Just('<')],
            prop_oneof![Just("a"), Just("b"), Just(".")],
            prop_oneof![Just(""), Just("\n"), Just("  ")],
            prop::collection::vec(inner, 0..5),
            prop_oneof![Just(""), Just("\n"), Just("\n  ")],
        )
            .prop_map(|(sigil, name, open_ws, body, close_ws)| {
                let name = if matches!(sigil, '$' | '<') && name == "." {
                    "a"
                } else {
                    name
                };
                format!(
                    "{{{{{sigil}{name}}}}}{open_ws}{}{close_ws}{{{{/{name}}}}}",
                    body.concat()
                )
            })
    })
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "[a-c<&\n{}]{0,6}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[ab.]{1,2}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn render_to_string(t: &Template) -> String {
    let mut out = String::new();
    let empty = serde_json::json!({});
    render_to(
        t,
        &[&empty],
        &HashMap::<String, Template>::new(),
        &RenderOptions::default(),
        &mut out,
    )
    .expect("plain text renders");
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn compile_errors_point_inside_the_source(src in any::<String>()) {
        match Template::compile(&src) {
            Ok(t) => prop_assert!(t.literal_len() <= src.len()),
            Err(e) => {
                prop_assert!(e.line >= 1 && e.column >= 1);
                prop_assert!(e.line <= src.split('\n').count(), "{} in {:?}", e, src);
                prop_assert!(!e.message.is_empty());
            }
        }
    }

    #[test]
    fn text_without_tags_renders_as_itself(src in "[^{}]{0,200}") {
        let t = Template::compile(&src).expect("plain text compiles");
        let out = render_to_string(&t);
        prop_assert_eq!(out, src);
    }

    #[test]
    fn references_name_only_tags_of_the_source(src in mustache_source()) {
        if let Ok((_, refs)) = Template::compile_with_references(&src) {
            for n in &refs.root_names {
                prop_assert!(src.contains(n.name.as_str()), "{} not in {:?}", n.name, src);
            }
            for p in &refs.partials {
                prop_assert!(src.contains(p.name.as_str()), "{} not in {:?}", p.name, src);
            }
        }
    }

    #[test]
    fn render_never_panics_and_respects_limits(
        src in mustache_source(),
        partial_a in mustache_source(),
        partial_b in mustache_source(),
        data in json_value(),
        defaults in json_value(),
        html in any::<bool>(),
        max_output in 0usize..200,
        max_depth in 0usize..6,
        max_iterations in 0usize..40,
    ) {
        let Ok(tpl) = Template::compile(&src) else {
            return Ok(());
        };
        let mut partials = HashMap::new();
        for (name, source) in [("a", partial_a), ("b", partial_b)] {
            if let Ok(t) = Template::compile(&source) {
                partials.insert(name.to_string(), t);
            }
        }
        let opts = RenderOptions {
            escape: if html { Escape::Html } else { Escape::None },
            limits: Limits { max_output, max_depth, max_iterations },
        };
        let mut out = String::from("prefix");
        let _ = render_to(&tpl, &[&defaults, &data], &partials, &opts, &mut out);
        prop_assert!(out.len() <= "prefix".len() + max_output);
        prop_assert!(out.starts_with("prefix"));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20000))]

    /// JavaScript's number text round-trips and is as short as Rust's own shortest
    /// formatting. (Where two shortest forms exist, ECMAScript takes the one closest to
    /// the value, as ryu does; Rust's `{:e}` may not: -152874121549551.12 vs ...13.)
    #[test]
    fn js_number_text_round_trips_with_shortest_digits(bits in any::<u64>()) {
        let x = f64::from_bits(bits);
        prop_assume!(x.is_finite());
        let mut out = String::new();
        edgeprompt::render::write_f64(x, &mut out);
        let back: f64 = out.parse().expect("JS number text parses");
        prop_assert!(back == x || (x == 0.0 && back == 0.0), "{} -> {}", x, out);
        let digits = |s: &str| -> String {
            let m = s.split(['e', 'E']).next().unwrap_or("");
            m.chars().filter(char::is_ascii_digit).collect::<String>().trim_start_matches('0').trim_end_matches('0').to_string()
        };
        prop_assert!(digits(&out).len() <= digits(&format!("{:e}", x.abs())).len(), "{}", out);
    }
}

#[test]
fn ties_between_shortest_forms_go_to_the_closest_like_javascript() {
    // Node prints -152874121549551.12 for these bits; Rust's `{:e}` would end in 13.
    let mut out = String::new();
    edgeprompt::render::write_f64(f64::from_bits(14042612010403421668), &mut out);
    assert_eq!(out, "-152874121549551.12");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20000))]

    /// The shortest digits come out as ryu, the reference, gives them.
    #[test]
    fn number_digits_equal_ryus(bits in any::<u64>()) {
        let x = f64::from_bits(bits);
        prop_assume!(x.is_finite() && x != 0.0);
        let mut out = String::new();
        edgeprompt::render::write_f64(x, &mut out);
        let mut buf = ryu::Buffer::new();
        let reference = buf.format_finite(x);
        let digits = |s: &str| -> String {
            let m = s.split(['e', 'E']).next().unwrap_or("");
            m.chars().filter(char::is_ascii_digit).collect::<String>().trim_start_matches('0').trim_end_matches('0').to_string()
        };
        prop_assert_eq!(digits(&out), digits(reference), "{}", x);
        let back: f64 = out.parse().unwrap();
        prop_assert_eq!(back, x);
    }
}
