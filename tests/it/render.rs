//! Behaviour beyond the spec suites: modes, limits, errors, references, scopes.

use std::collections::{BTreeMap, HashMap};

use edgeprompt::render::{
    render, render_to, CompileError, Escape, Limits, NameRef, NoPartials, PartialRef, References,
    RenderError, RenderOptions, Template, Value,
};
use serde_json::json;

fn tpl(src: &str) -> Template {
    Template::compile(src).unwrap_or_else(|e| panic!("{src:?}: {e}"))
}

fn refs(src: &str) -> References {
    Template::compile_with_references(src)
        .unwrap_or_else(|e| panic!("{src:?}: {e}"))
        .1
}

fn partials(list: &[(&str, &str)]) -> HashMap<String, Template> {
    list.iter()
        .map(|(name, src)| (name.to_string(), tpl(src)))
        .collect()
}

fn opts() -> RenderOptions {
    RenderOptions::default()
}

fn limits(max_output: usize, max_depth: usize, max_iterations: usize) -> RenderOptions {
    RenderOptions {
        escape: Escape::None,
        limits: Limits {
            max_output,
            max_depth,
            max_iterations,
        },
    }
}

fn r(src: &str, data: Value) -> String {
    render(&tpl(src), &[&data], &NoPartials, &opts()).unwrap()
}

fn rp(src: &str, data: Value, list: &[(&str, &str)]) -> String {
    render(&tpl(src), &[&data], &partials(list), &opts()).unwrap()
}

fn err(src: &str) -> CompileError {
    Template::compile(src).expect_err(src)
}

fn ce(line: usize, column: usize, message: &str) -> CompileError {
    CompileError {
        line,
        column,
        message: message.to_string(),
    }
}

#[test]
fn defaults() {
    let l = Limits::default();
    assert_eq!(
        (l.max_output, l.max_depth, l.max_iterations),
        (1_048_576, 32, 100_000)
    );
    assert_eq!(RenderOptions::default().escape, Escape::None);
}

#[test]
fn template_is_send_sync_clone_debug() {
    fn check<T: Send + Sync + Clone + std::fmt::Debug>() {}
    check::<Template>();
    let t = tpl("a{{b}}c");
    let copy = t.clone();
    assert_eq!(r("a{{b}}c", json!({"b": 1})), "a1c");
    assert!(format!("{copy:?}").contains("Template"));
}

#[test]
fn verbatim_by_default_escaped_in_html_mode() {
    let data = json!({"x": "<a href=\"q\">&'</a>"});
    assert_eq!(r("{{x}}", data.clone()), "<a href=\"q\">&'</a>");
    let html = RenderOptions {
        escape: Escape::Html,
        ..opts()
    };
    let out = render(&tpl("{{x}}|{{{x}}}|{{&x}}"), &[&data], &NoPartials, &html).unwrap();
    assert_eq!(
        out,
        "&lt;a href=&quot;q&quot;&gt;&amp;'&lt;/a&gt;|<a href=\"q\">&'</a>|<a href=\"q\">&'</a>"
    );
}

#[test]
fn values_are_never_parsed_as_templates() {
    let data = json!({"x": "{{y}}", "y": "NO", "list": ["{{y}}"], "p": "{{>p}}"});
    assert_eq!(r("{{x}}", data.clone()), "{{y}}");
    assert_eq!(r("{{#list}}{{.}}{{/list}}", data.clone()), "{{y}}");
    assert_eq!(rp("{{p}}", data, &[("p", "P")]), "{{>p}}");
}

#[test]
fn value_kinds() {
    let data = json!({
        "s": "text", "t": true, "f": false, "n": null, "i": 42, "neg": -7, "x": 1.5,
        "big": 1e21, "whole": 3.0, "arr": [1, "a", null, {"k": true}], "obj": {"b": 2, "a": [1]},
        "empty_arr": [], "empty_obj": {}
    });
    let out = r(
        "{{s}}|{{t}}|{{f}}|{{n}}|{{missing}}|{{i}}|{{neg}}|{{x}}|{{big}}|{{whole}}|{{arr}}|{{obj}}|{{empty_arr}}|{{empty_obj}}",
        data,
    );
    assert_eq!(
        out,
        "text|true|false|||42|-7|1.5|1e+21|3|[1,\"a\",null,{\"k\":true}]|{\"a\":[1],\"b\":2}|[]|{}"
    );
}

#[test]
fn json_interpolation_is_escaped_in_html_mode_only_for_double_mustache() {
    let data = json!({"o": {"k": "<v>"}});
    let html = RenderOptions {
        escape: Escape::Html,
        ..opts()
    };
    let out = render(&tpl("{{o}} {{{o}}}"), &[&data], &NoPartials, &html).unwrap();
    assert_eq!(out, "{&quot;k&quot;:&quot;&lt;v&gt;&quot;} {\"k\":\"<v>\"}");
}

#[test]
fn truthiness() {
    let data =
        json!({"zero": 0, "empty": "", "space": " ", "list": [], "obj": {}, "f": false, "n": null});
    let src = "{{#zero}}zero{{/zero}}{{#empty}}empty{{/empty}}{{#space}}space{{/space}}\
               {{#list}}list{{/list}}{{#obj}}obj{{/obj}}{{#f}}f{{/f}}{{#n}}n{{/n}}{{#missing}}m{{/missing}}";
    assert_eq!(r(src, data.clone()), "zerospaceobj");
    let inverted = "{{^zero}}zero{{/zero}}{{^empty}}empty{{/empty}}{{^space}}space{{/space}}\
                    {{^list}}list{{/list}}{{^obj}}obj{{/obj}}{{^f}}f{{/f}}{{^n}}n{{/n}}{{^missing}}m{{/missing}}";
    assert_eq!(r(inverted, data), "emptylistfnm");
}

#[test]
fn sections_push_context() {
    let data = json!({"name": "outer", "items": [{"name": "a"}, {"other": 1}], "one": {"name": "b"}, "num": 5});
    assert_eq!(
        r(
            "{{#items}}{{name}},{{/items}}|{{#one}}{{name}}{{/one}}|{{#num}}{{.}}{{/num}}",
            data
        ),
        "a,outer,|b|5"
    );
}

#[test]
fn dotted_names() {
    let data =
        json!({"a": {"b": {"c": "deep"}}, "list": [{"x": "first"}, {"x": "second"}], "s": "str"});
    assert_eq!(
        r("{{a.b.c}}|{{a.b.x}}|{{a.x.c}}|{{s.len}}", data.clone()),
        "deep|||"
    );
    // Array elements by index.
    assert_eq!(
        r("{{list.1.x}}|{{list.5.x}}|{{list.x}}", data.clone()),
        "second||"
    );
    // Broken chains do not fall back to outer contexts.
    assert_eq!(
        r("{{#a}}{{b.c}}{{#b}}{{a.b.c}}{{/b}}{{/a}}", data),
        "deepdeep"
    );
}

#[test]
fn scope_stack_last_scope_wins() {
    let defaults =
        json!({"greeting": "Hello", "name": "world", "nested": {"x": "default"}, "n": "default"});
    let request = json!({"name": "Ada", "nested": {"y": "req"}, "n": null});
    let t = tpl("{{greeting}}, {{name}}! {{nested.x}}/{{nested.y}} [{{n}}]");
    let out = render(&t, &[&defaults, &request], &NoPartials, &opts()).unwrap();
    // `nested` resolves in the request scope only (no deep merge); null wins too.
    assert_eq!(out, "Hello, Ada! /req []");
    let out = render(&t, &[&request, &defaults], &NoPartials, &opts()).unwrap();
    assert_eq!(out, "Hello, world! default/ [default]");
    // Section contexts come before all scopes.
    let t = tpl("{{#nested}}{{name}}{{y}}{{/nested}}");
    let out = render(&t, &[&defaults, &request], &NoPartials, &opts()).unwrap();
    assert_eq!(out, "Adareq");
    // No scopes at all.
    assert_eq!(render(&t, &[], &NoPartials, &opts()).unwrap(), "");
    assert_eq!(
        render(&tpl("a{{.}}b"), &[], &NoPartials, &opts()).unwrap(),
        "ab"
    );
}

#[test]
fn implicit_iterator_at_root_is_last_scope() {
    let a = json!("first");
    let b = json!("second");
    let out = render(&tpl("{{.}}"), &[&a, &b], &NoPartials, &opts()).unwrap();
    assert_eq!(out, "second");
}

#[test]
fn render_to_appends_and_limit_counts_new_bytes_only() {
    let mut out = String::from("prefix:");
    let t = tpl("abc");
    render_to(&t, &[], &NoPartials, &limits(3, 8, 8), &mut out).unwrap();
    assert_eq!(out, "prefix:abc");
    let mut out = String::from("prefix:");
    let e = render_to(&tpl("abcd"), &[], &NoPartials, &limits(3, 8, 8), &mut out);
    assert_eq!(e, Err(RenderError::OutputTooLarge { limit: 3 }));
}

#[test]
fn output_limit() {
    let data = json!({"x": "0123456789", "list": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]});
    let t = tpl("{{#list}}{{x}}{{/list}}");
    let out = render(&t, &[&data], &NoPartials, &limits(100, 8, 100)).unwrap();
    assert_eq!(out.len(), 100);
    let e = render(&t, &[&data], &NoPartials, &limits(99, 8, 100));
    assert_eq!(e, Err(RenderError::OutputTooLarge { limit: 99 }));
    // Stops early: the buffer never exceeds the limit.
    let mut out = String::new();
    let e = render_to(&t, &[&data], &NoPartials, &limits(25, 8, 100), &mut out);
    assert_eq!(e, Err(RenderError::OutputTooLarge { limit: 25 }));
    assert!(out.len() <= 25);
    // Literal text, escaped text and JSON values are all bounded.
    for src in ["0123456789ab", "{{o}}", "{{x}}{{x}}"] {
        let data = json!({"o": {"key": "value"}, "x": "<<<<<<"});
        let html = RenderOptions {
            escape: Escape::Html,
            limits: Limits {
                max_output: 10,
                ..Limits::default()
            },
        };
        let mut out = String::new();
        let e = render_to(&tpl(src), &[&data], &NoPartials, &html, &mut out);
        assert_eq!(e, Err(RenderError::OutputTooLarge { limit: 10 }), "{src}");
        assert!(out.len() <= 10, "{src}: {out}");
    }
}

#[test]
fn too_many_iterations() {
    let data = json!({"list": (0..1000).collect::<Vec<_>>()});
    let t = tpl("{{#list}}{{#list}}.{{/list}}{{/list}}");
    let e = render(&t, &[&data], &NoPartials, &limits(usize::MAX, 8, 100_000));
    assert_eq!(e, Err(RenderError::TooManyIterations { limit: 100_000 }));
    let t = tpl("{{#list}}x{{/list}}");
    assert!(render(&t, &[&data], &NoPartials, &limits(10_000, 8, 1000)).is_ok());
    let e = render(&t, &[&data], &NoPartials, &limits(10_000, 8, 999));
    assert_eq!(e, Err(RenderError::TooManyIterations { limit: 999 }));
}

#[test]
fn recursive_partial_is_too_deep() {
    let p = partials(&[("self", "x{{>self}}")]);
    let e = render(&tpl("{{>self}}"), &[], &p, &opts());
    assert_eq!(e, Err(RenderError::TooDeep { limit: 32 }));
    // Even with a huge configured depth, recursion is capped (no stack overflow).
    let e = render(
        &tpl("{{>self}}"),
        &[],
        &p,
        &limits(usize::MAX, usize::MAX, 10),
    );
    assert_eq!(e, Err(RenderError::TooDeep { limit: 256 }));
    // Bounded recursion through data works.
    let p = partials(&[("node", "{{name}}({{#kids}}{{>node}}{{/kids}})")]);
    let data = json!({"name": "a", "kids": [
        {"name": "b", "kids": [{"name": "c", "kids": []}]},
        {"name": "d", "kids": []}
    ]});
    assert_eq!(
        render(&tpl("{{>node}}"), &[&data], &p, &opts()).unwrap(),
        "a(b(c())d())"
    );
}

#[test]
fn recursive_parent_is_too_deep() {
    let p = partials(&[("p", "{{<p}}{{/p}}")]);
    let e = render(&tpl("{{<p}}{{/p}}"), &[], &p, &opts());
    assert_eq!(e, Err(RenderError::TooDeep { limit: 32 }));
    // A block overriding itself.
    let p = partials(&[("p", "{{$a}}{{/a}}")]);
    let e = render(
        &tpl("{{<p}}{{$a}}x{{$a}}{{/a}}{{/a}}{{/p}}"),
        &[],
        &p,
        &opts(),
    );
    assert_eq!(e, Err(RenderError::TooDeep { limit: 32 }));
}

#[test]
fn section_depth_counts() {
    let data = json!({"a": {"a": {"a": {"a": true}}}});
    let t = tpl("{{#a}}{{#a}}{{#a}}{{#a}}x{{/a}}{{/a}}{{/a}}{{/a}}");
    assert_eq!(
        render(&t, &[&data], &NoPartials, &limits(100, 4, 10)).unwrap(),
        "x"
    );
    let e = render(&t, &[&data], &NoPartials, &limits(100, 3, 10));
    assert_eq!(e, Err(RenderError::TooDeep { limit: 3 }));
}

#[test]
fn missing_partials_and_parents_render_nothing() {
    assert_eq!(
        r("a{{>nope}}b{{<nope}}{{$x}}y{{/x}}{{/nope}}c", json!({})),
        "abc"
    );
}

#[test]
fn compile_error_positions() {
    assert_eq!(err("{{#items}}\nx"), ce(1, 1, "unclosed section \"items\""));
    assert_eq!(
        err("ab\n  {{^a}}{{#b}}"),
        ce(2, 9, "unclosed section \"b\"")
    );
    assert_eq!(
        err("line1\n{{#y}}\n  {{/x}}"),
        ce(3, 3, "unexpected closing tag \"x\" (open section is \"y\")")
    );
    assert_eq!(err("é{{/x}}"), ce(1, 2, "unexpected closing tag \"x\""));
    assert_eq!(err("\n\nabc {{ }}"), ce(3, 5, "empty tag"));
    assert_eq!(err("{{#}}{{/}}"), ce(1, 1, "empty tag"));
    assert_eq!(err("ü\n ñ{{=a=}}"), ce(2, 3, "invalid delimiters \"a\""));
    assert_eq!(
        err("{{= a b c =}}"),
        ce(1, 1, "invalid delimiters \"a b c\"")
    );
    assert_eq!(err("x\n{{name"), ce(2, 1, "unclosed tag (expected \"}}\")"));
    assert_eq!(
        err("{{{name}}"),
        ce(1, 1, "unclosed tag (expected \"}}}\")")
    );
    assert_eq!(err("{{a b}}"), ce(1, 1, "invalid name \"a b\""));
    assert_eq!(err("{{a.}}"), ce(1, 1, "invalid name \"a.\""));
    assert_eq!(
        err("{{$b}}{{/c}}"),
        ce(1, 7, "unexpected closing tag \"c\" (open block is \"b\")")
    );
    assert_eq!(err("{{<p}}"), ce(1, 1, "unclosed parent \"p\""));
    // New delimiters are reported as written.
    assert_eq!(
        err("{{=<% %>=}}\n<%#s%>"),
        ce(2, 1, "unclosed section \"s\"")
    );
    assert_eq!(
        err("{{#a}}").to_string(),
        "line 1, column 1: unclosed section \"a\""
    );
}

fn name(n: &str, line: usize, column: usize) -> NameRef {
    NameRef {
        name: n.to_string(),
        line,
        column,
    }
}

fn part(n: &str, in_section: bool, line: usize, column: usize) -> PartialRef {
    PartialRef {
        name: n.to_string(),
        in_section,
        line,
        column,
    }
}

#[test]
fn references_root_names() {
    let r = refs(
        "Hi {{user.name}}!\n{{#items}}{{title}}{{user}}{{>row}}{{/items}}\n{{^empty}}{{fallback}}{{/empty}}{{.}}{{{raw}}} {{user.id}}\n{{$b}}{{in_block}}{{/b}}{{&amp}}",
    );
    assert_eq!(
        r,
        References {
            root_names: vec![
                name("user", 1, 4),
                name("items", 2, 1),
                name("empty", 3, 1),
                name("fallback", 3, 11),
                name("raw", 3, 38),
                name("in_block", 4, 7),
                name("amp", 4, 25),
            ],
            partials: vec![part("row", true, 2, 28)],
        }
    );
}

#[test]
fn references_partials_and_parents() {
    let r = refs(
        "{{>header}}\n{{#list}}\n  {{>item}}\n  {{>header}}\n{{/list}}\n{{^list}}{{>empty}}{{/list}}\n{{<layout}}ignored {{ignored}}{{$body}}{{>inner}}{{body_var}}{{/body}}{{/layout}}",
    );
    assert_eq!(
        r.partials,
        vec![
            part("header", false, 1, 1),
            part("item", true, 3, 3),
            part("empty", false, 6, 10),
            part("layout", false, 7, 1),
            part("inner", false, 7, 40),
        ]
    );
    assert_eq!(
        r.root_names,
        vec![name("list", 2, 1), name("body_var", 7, 50)]
    );
    // Parents inside sections.
    let r = refs("{{#s}}{{<p}}{{/p}}{{/s}}");
    assert_eq!(r.partials, vec![part("p", true, 1, 7)]);
    assert_eq!(r.root_names, vec![name("s", 1, 1)]);
    assert_eq!(refs("plain"), References::default());
}

#[test]
fn literal_len() {
    assert_eq!(tpl("abc{{x}}de").literal_len(), 5);
    // Standalone lines are removed from the literal text.
    assert_eq!(tpl("a\n{{#s}}\nb\n{{/s}}\n").literal_len(), 4);
    assert_eq!(tpl("").literal_len(), 0);
}

#[test]
fn render_reserves_capacity() {
    let src = "x".repeat(1000) + "{{a}}";
    let out = render(&tpl(&src), &[&json!({"a": "!"})], &NoPartials, &opts()).unwrap();
    assert_eq!(out.len(), 1001);
    assert!(out.capacity() >= 1000);
}

#[test]
fn btreemap_partials() {
    let mut p = BTreeMap::new();
    p.insert("p".to_string(), tpl("[{{x}}]"));
    let out = render(&tpl("{{>p}}"), &[&json!({"x": 1})], &p, &opts()).unwrap();
    assert_eq!(out, "[1]");
}

#[test]
fn partial_indentation() {
    let list = [("p", "a\n\nb {{x}}\n{{#s}}\nin\n{{/s}}\n")];
    let data = json!({"x": "1\n2", "s": true});
    // Every line of the partial is indented, blank ones included; values are not
    // re-indented.
    assert_eq!(
        rp("start\n  {{>p}}\nend", data.clone(), &list),
        "start\n  a\n  \n  b 1\n2\n  in\nend"
    );
    // Nested standalone partials accumulate indentation.
    let list = [("outer", "o\n  {{>inner}}\n"), ("inner", "i1\ni2\n")];
    assert_eq!(rp("  {{>outer}}\n", data, &list), "  o\n    i1\n    i2\n");
}

#[test]
fn inheritance_reindentation_example() {
    // The motivating example of mustache/spec#131.
    let list = [("parent", "I say,\n  {{$block}}\n  Hi there!\n  {{/block}}")];
    let src = "{{<parent}}\n        {{$block}}\n        Hello\n        {{/block}}\n{{/parent}}";
    assert_eq!(rp(src, json!({}), &list), "I say,\n  Hello\n");
    // Default content renders as written.
    assert_eq!(
        rp("{{<parent}}{{/parent}}", json!({}), &list),
        "I say,\n  Hi there!\n"
    );
}

#[test]
fn inheritance_blocks_see_parent_context_and_partials_of_parents() {
    let list = [
        (
            "layout",
            "<{{>head}}>{{#user}}{{$body}}none{{/body}}{{/user}}",
        ),
        ("head", "{{$title}}Untitled{{/title}}"),
    ];
    let data = json!({"user": {"name": "Ada"}});
    assert_eq!(
        rp(
            "{{<layout}}{{$title}}T{{/title}}{{$body}}hi {{name}}{{/body}}{{/layout}}",
            data.clone(),
            &list
        ),
        "<T>hi Ada"
    );
    assert_eq!(rp("{{<layout}}{{/layout}}", data, &list), "<Untitled>none");
}

#[test]
fn set_delimiters_do_not_leak_into_partials() {
    let list = [("p", "{{x}}<%x%>")];
    assert_eq!(rp("{{=<% %>=}}<%>p%>", json!({"x": 1}), &list), "1<%x%>");
}

#[test]
fn one_line_parent_with_empty_override_is_standalone() {
    let list = [("layout", "[{{$title}}T{{/title}}]\n")];
    assert_eq!(
        rp(
            "a\n{{<layout}}{{$title}}{{/title}}{{/layout}}\nb",
            json!({}),
            &list
        ),
        "a\n[]\nb"
    );
    // A block site opened and closed on one line renders in place: the line stays.
    let list = [("p", "  {{$b}}{{/b}}\nend")];
    assert_eq!(rp("{{<p}}{{/p}}", json!({}), &list), "  \nend");
}

#[test]
fn layout_blocks_keep_the_layout_indentation() {
    let layout = "System:\n  {{$rules}}\n  - be nice\n  {{/rules}}\nItems:\n  {{$list}}\n  {{#items}}\n  - {{.}}\n  {{/items}}\n  {{/list}}\nUser: {{q}}";
    let list = [("layout", layout)];
    let data = json!({"q": "Q?", "items": ["a", "b"]});
    assert_eq!(
        rp("{{<layout}}{{/layout}}", data.clone(), &list),
        "System:\n  - be nice\nItems:\n  - a\n  - b\nUser: Q?"
    );
    let child =
        "{{<layout}}\n{{$rules}}\n- rule A\n  - nested\n- rule B\n{{/rules}}\n{{/layout}}\n";
    assert_eq!(
        rp(child, data.clone(), &list),
        "System:\n  - rule A\n    - nested\n  - rule B\nItems:\n  - a\n  - b\nUser: Q?"
    );
    // Indented override content is re-indented to the site's indentation.
    let child = "{{<layout}}\n    {{$list}}\n        * {{#items}}{{.}}{{/items}}\n    {{/list}}\n{{/layout}}";
    assert_eq!(
        rp(child, data, &list),
        "System:\n  - be nice\nItems:\n  * ab\nUser: Q?"
    );
}
