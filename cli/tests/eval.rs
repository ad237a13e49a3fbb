//! `edgeprompt eval` end to end: the binary against local sources, a fake
//! OpenAI-compatible model server (deterministic answers, a 429 first, one that never
//! answers) and a fake control plane, both started here with tiny_http.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A request the fake server received: method, path, authorization and JSON body.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    auth: Option<String>,
    body: Value,
}

/// What the fake answers: a status, a JSON body and headers, or never.
enum Reply {
    Json(u16, Value, Vec<(&'static str, String)>),
    Never,
}

type Handler = dyn Fn(&Seen, usize) -> Reply + Send + Sync;

/// A fake HTTP server; every request is handled on its own thread.
struct Fake {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    max_in_flight: Arc<AtomicUsize>,
    server: Arc<tiny_http::Server>,
}

impl Fake {
    fn start(handler: impl Fn(&Seen, usize) -> Reply + Send + Sync + 'static) -> Fake {
        Fake::start_with_delay(Duration::ZERO, handler)
    }

    fn start_with_delay(
        delay: Duration,
        handler: impl Fn(&Seen, usize) -> Reply + Send + Sync + 'static,
    ) -> Fake {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let port = server.server_addr().to_ip().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let max_in_flight = Arc::new(AtomicUsize::new(0));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let handler: Arc<Handler> = Arc::new(handler);
        let (s, seen2, max2) = (server.clone(), seen.clone(), max_in_flight.clone());
        std::thread::spawn(move || {
            while let Ok(mut req) = s.recv() {
                let mut text = String::new();
                let _ = req.as_reader().read_to_string(&mut text);
                let auth = req
                    .headers()
                    .iter()
                    .find(|h| h.field.equiv("authorization"))
                    .map(|h| h.value.to_string());
                let got = Seen {
                    method: req.method().to_string(),
                    path: req.url().to_string(),
                    auth,
                    body: serde_json::from_str(&text).unwrap_or(Value::Null),
                };
                let n = {
                    let mut list = seen2.lock().unwrap();
                    list.push(got.clone());
                    list.len()
                };
                let (handler, in_flight, max) = (handler.clone(), in_flight.clone(), max2.clone());
                std::thread::spawn(move || {
                    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    max.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(delay);
                    let reply = handler(&got, n);
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                    match reply {
                        Reply::Json(status, body, headers) => {
                            let mut resp = tiny_http::Response::from_string(body.to_string())
                                .with_status_code(status)
                                .with_header(
                                    tiny_http::Header::from_bytes(
                                        "content-type",
                                        "application/json",
                                    )
                                    .unwrap(),
                                );
                            for (k, v) in headers {
                                resp =
                                    resp.with_header(tiny_http::Header::from_bytes(k, v).unwrap());
                            }
                            let _ = req.respond(resp);
                        }
                        // Holds the connection open, answering nothing, past any timeout.
                        Reply::Never => std::thread::sleep(Duration::from_secs(10)),
                    }
                });
            }
        });
        Fake {
            url: format!("http://127.0.0.1:{port}"),
            seen,
            max_in_flight,
            server,
        }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.server.unblock();
    }
}

fn completion(message: Value) -> Reply {
    Reply::Json(
        200,
        json!({"id": "x", "object": "chat.completion",
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}),
        vec![],
    )
}

/// The deterministic model: the judge grades answers that name a day; a request with
/// tools calls the first one; a JSON response format gets JSON; anything else echoes.
fn model(req: &Seen) -> Reply {
    let b = &req.body;
    let last = b["messages"]
        .as_array()
        .and_then(|m| m.last())
        .and_then(|m| m["content"].as_str())
        .unwrap_or("")
        .to_string();
    if b["model"] == "fake-judge" {
        let grade = if last.contains("Monday") {
            json!({"score": 0.9, "reason": "names the day"})
        } else {
            json!({"score": 0.1, "reason": "names no day"})
        };
        return completion(json!({"role": "assistant", "content": grade.to_string()}));
    }
    if let Some(tool) = b["tools"][0]["function"]["name"].as_str() {
        return completion(json!({"role": "assistant", "content": null, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": tool, "arguments": "{\"id\":\"A-1\"}"}}]}));
    }
    if b["response_format"].is_object() {
        let content = if last.contains("vague") {
            json!({"answer": "Soon"}).to_string()
        } else {
            json!({"answer": "Your order ships Monday"}).to_string()
        };
        return completion(json!({"role": "assistant", "content": content}));
    }
    completion(json!({"role": "assistant", "content": format!("echo: {last}")}))
}

static DIRS: AtomicUsize = AtomicUsize::new(0);

/// A fresh sources directory with the test prompts and the given suites.
fn sources(suites: &[(&str, Value)]) -> PathBuf {
    let n = DIRS.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("edgeprompt-eval-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let files: Vec<(&str, String)> = vec![
        ("prompts/support/prompt.json", json!({
            "model": {"provider": "openai", "name": "fake-1", "params": {"temperature": 0, "max_tokens": 100}},
            "response_format": {"type": "json_schema", "json_schema": {"name": "reply", "schema": {
                "type": "object", "required": ["answer"], "properties": {"answer": {"type": "string"}},
                "additionalProperties": false}}},
            "variables": {"company": {"default": "Acme"}, "question": {"required": true}},
            "messages": [{"role": "system", "file": "system.mustache"}, {"role": "user", "file": "user.mustache"}],
            "labels": {"production": {"default": {"version": 1}}}}).to_string()),
        ("prompts/support/system.mustache", "You are the support assistant of {{company}}.".into()),
        ("prompts/support/user.mustache", "{{question}}".into()),
        ("prompts/orders/prompt.json", json!({
            "model": {"name": "fake-1"},
            "tools": [{"type": "function", "function": {"name": "lookup_order",
                "parameters": {"type": "object", "properties": {"id": {"type": "string"}}}}}],
            "variables": {"order_id": {"required": true}},
            "labels": {"production": {"default": {"version": 1}}}}).to_string()),
        ("prompts/orders/prompt.mustache", "Look up order {{order_id}}.".into()),
        ("prompts/grader/prompt.json", json!({
            "model": {"name": "fake-judge", "params": {"temperature": 0}},
            "variables": {"input": {"required": true}, "answer": {"required": true}, "criteria": {"default": null}},
            "messages": [{"role": "system", "file": "system.mustache"}, {"role": "user", "file": "user.mustache"}],
            "labels": {"production": {"default": {"version": 1}}}}).to_string()),
        ("prompts/grader/system.mustache", "Grade the answer from 0 to 1. Reply with JSON: {\"score\": n, \"reason\": \"...\"}".into()),
        ("prompts/grader/user.mustache", "Prompt:\n{{input}}\n\nAnswer:\n{{answer}}\n\nCriteria: {{criteria}}".into()),
    ];
    for (rel, text) in files {
        write(&dir, rel, &text);
    }
    for (rel, suite) in suites {
        write(&dir, rel, &serde_json::to_string_pretty(suite).unwrap());
    }
    dir
}

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// The model suites: a JSON answer checked by schema, text and a judge; a tool call.
fn model_suites() -> Vec<(&'static str, Value)> {
    vec![
        (
            "prompts/support/evals/basic.json",
            json!({"cases": [
            {"name": "ships", "variables": {"question": "When does my order ship?"}, "assertions": [
                {"type": "contains", "role": "system", "value": "Acme"},
                {"type": "answer_contains", "value": "monday", "case_insensitive": true},
                {"type": "answer_json_schema"},
                {"type": "judge", "prompt": "grader", "threshold": 0.5, "criteria": "names a day"}]},
            {"name": "render only", "variables": {"question": "Hi"}, "assertions": [{"type": "no_unrendered"}]}]}),
        ),
        (
            "prompts/orders/evals/tools.json",
            json!({"cases": [
            {"name": "looks up", "variables": {"order_id": "A-1"}, "assertions": [
                {"type": "tool_call", "name": "lookup_order"}]}]}),
        ),
    ]
}

fn eval(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_edgeprompt"));
    cmd.arg("eval").arg(dir).args(args);
    for var in [
        "EDGEPROMPT_URL",
        "EDGEPROMPT_TOKEN",
        "EDGEPROMPT_MODEL_URL",
        "OPENAI_API_KEY",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).unwrap()
}

fn json_out(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", text(&o.stdout), text(&o.stderr)))
}

fn url(fake: &Fake) -> String {
    format!("{}/v1/chat/completions", fake.url)
}

#[test]
fn answers_are_checked_and_cached_so_a_second_run_makes_no_call() {
    let fake = Fake::start(|req, _| model(req));
    let dir = sources(&model_suites());
    let u = url(&fake);
    let o = eval(
        &dir,
        &["--model-url", &u, "--json"],
        &[("OPENAI_API_KEY", "sk-test")],
    );
    let doc = json_out(&o);
    assert_eq!(o.status.code(), Some(0), "{doc:#}\n{}", text(&o.stderr));
    assert_eq!(doc["passed"], true);
    assert_eq!(
        doc["summary"],
        json!({"cases": 3, "passed": 3, "failed": 0, "errors": 0, "skipped_assertions": 0})
    );
    // One answer per model case and one judge call.
    assert_eq!(doc["model"]["calls"], 3, "{doc:#}");
    assert_eq!(doc["model"]["cache_hits"], 0);
    let seen = fake.seen();
    assert_eq!(seen.len(), 3);
    assert!(seen
        .iter()
        .all(|s| s.method == "POST" && s.path == "/v1/chat/completions"));
    assert!(seen
        .iter()
        .all(|s| s.auth.as_deref() == Some("Bearer sk-test")));
    // The version's model settings, response format and tools, as pinned.
    let support = seen
        .iter()
        .find(|s| s.body["response_format"].is_object())
        .unwrap();
    assert_eq!(support.body["model"], "fake-1");
    assert_eq!(support.body["temperature"], 0);
    assert_eq!(support.body["max_tokens"], 100);
    assert_eq!(
        support.body["response_format"]["json_schema"]["name"],
        "reply"
    );
    assert_eq!(
        support.body["messages"],
        json!([{"role": "system", "content": "You are the support assistant of Acme."},
               {"role": "user", "content": "When does my order ship?"}])
    );
    let orders = seen.iter().find(|s| s.body["tools"].is_array()).unwrap();
    assert_eq!(orders.body["tools"][0]["function"]["name"], "lookup_order");
    assert_eq!(
        orders.body["messages"],
        json!([{"role": "user", "content": "Look up order A-1."}])
    );
    // The judge saw the prompt and the answer.
    let judge = seen
        .iter()
        .find(|s| s.body["model"] == "fake-judge")
        .unwrap();
    let asked = judge.body["messages"][1]["content"].as_str().unwrap();
    assert!(asked.contains("user: When does my order ship?"), "{asked}");
    assert!(asked.contains("Your order ships Monday"), "{asked}");
    assert!(asked.contains("Criteria: names a day"), "{asked}");
    // Suites run in file order: orders/tools.json, then support/basic.json.
    let cases: Vec<&str> = doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["case"].as_str().unwrap())
        .collect();
    assert_eq!(cases, ["looks up", "ships", "render only"]);
    let ships = &doc["results"][1];
    assert_eq!(ships["cached"], false);
    assert_eq!(
        ships["model"],
        json!({"provider": "openai", "name": "fake-1", "params": {"temperature": 0, "max_tokens": 100}})
    );
    let judged = &ships["assertions"][3];
    assert_eq!(judged["type"], "judge");
    assert_eq!(judged["score"], 0.9);
    assert_eq!(judged["threshold"], 0.5);
    assert_eq!(judged["judge"]["prompt"], "grader");
    assert_eq!(judged["judge"]["hash"].as_str().unwrap().len(), 64);
    // The render-only case needs no model.
    assert_eq!(doc["results"][2]["model"], Value::Null);
    assert_eq!(doc["results"][2]["cached"], Value::Null);

    // Unchanged sources: every answer (and grade) from the cache, no call.
    let o = eval(&dir, &["--model-url", &u, "--json"], &[]);
    let again = json_out(&o);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(fake.seen().len(), 3, "a second run calls nothing");
    assert_eq!(again["model"]["calls"], 0);
    assert_eq!(again["model"]["cache_hits"], 3);
    assert_eq!(again["results"], {
        let mut r = doc["results"].clone();
        r[0]["cached"] = json!(true);
        r[1]["cached"] = json!(true);
        r
    });
    assert!(dir.join(".edgeprompt/eval-cache").is_dir());

    // A changed version (its hash) asks again, for that prompt only.
    write(
        &dir,
        "prompts/support/system.mustache",
        "You are the support agent of {{company}}.",
    );
    let o = eval(&dir, &["--model-url", &u, "--json"], &[]);
    assert_eq!(o.status.code(), Some(0));
    let changed = json_out(&o);
    assert_eq!(
        changed["model"]["calls"], 2,
        "the support answer and its grade"
    );
    assert_ne!(changed["results"][1]["hash"], doc["results"][1]["hash"]);
    assert_eq!(changed["results"][0]["hash"], doc["results"][0]["hash"]);

    // --no-cache bypasses it.
    let o = eval(&dir, &["--model-url", &u, "--json", "--no-cache"], &[]);
    assert_eq!(json_out(&o)["model"]["calls"], 3);
    assert_eq!(fake.seen().len(), 8);
}

#[test]
fn the_json_document_has_a_stable_shape() {
    let dir = sources(&[(
        "prompts/support/evals/basic.json",
        json!({"assertions": [{"type": "no_unrendered"}],
        "cases": [{"name": "a", "variables": {"question": "q"}, "assertions": [{"type": "answer_contains", "value": "x"}]},
                  {"name": "routed", "label": "production", "unit": "user-1", "variables": {"question": "q"}}]}),
    )]);
    let o = eval(&dir, &["--json"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let doc = json_out(&o);
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        keys(&doc),
        ["model", "passed", "results", "schema", "source", "suites", "summary", "versions"]
    );
    assert_eq!(doc["schema"], 1);
    assert_eq!(doc["model"], Value::Null);
    assert_eq!(doc["source"]["kind"], "local");
    assert_eq!(doc["source"]["revision"], Value::Null);
    assert_eq!(
        doc["summary"],
        json!({"cases": 2, "passed": 2, "failed": 0, "errors": 0, "skipped_assertions": 1})
    );
    let suite = &doc["suites"][0];
    assert_eq!(keys(suite), ["cases", "file", "hash", "name", "prompt"]);
    assert_eq!(suite["file"], "prompts/support/evals/basic.json");
    let hash = doc["results"][0]["hash"].clone();
    assert_eq!(hash.as_str().unwrap().len(), 64);
    assert_eq!(
        doc["versions"],
        json!([{"prompt": "support", "version": null, "hash": hash, "passed": true, "cases": 2, "failed": 0,
                "errors": 0, "skipped_assertions": 1, "models": [], "suites": [{"name": "basic", "file": suite["file"], "hash": suite["hash"]}]}])
    );
    let r = &doc["results"][0];
    assert_eq!(
        keys(r),
        [
            "assertions",
            "cached",
            "case",
            "error",
            "hash",
            "label",
            "model",
            "prompt",
            "result",
            "rule",
            "suite",
            "suite_file",
            "suite_hash",
            "unit",
            "version"
        ]
    );
    assert_eq!(r["suite_hash"], suite["hash"]);
    assert_eq!(
        r["assertions"],
        json!([
        {"type": "no_unrendered", "role": null, "result": "pass", "reason": null},
        {"type": "answer_contains", "role": null, "result": "skip",
         "reason": "no model endpoint (--model-url or EDGEPROMPT_MODEL_URL)"}])
    );
    // A case with a label and a unit is resolved through the label's route.
    let routed = &doc["results"][1];
    assert_eq!(
        (&routed["label"], &routed["unit"], &routed["rule"]),
        (&json!("production"), &json!("user-1"), &json!("default"))
    );
    assert_eq!(routed["hash"], hash);
}

#[test]
fn a_429_is_retried_after_its_retry_after() {
    let fake = Fake::start(|req, n| {
        if n == 1 {
            Reply::Json(
                429,
                json!({"error": {"message": "slow down"}}),
                vec![("retry-after", "1".into())],
            )
        } else {
            model(req)
        }
    });
    let dir = sources(&model_suites()[1..]);
    let start = Instant::now();
    let o = eval(&dir, &["--model-url", &url(&fake), "--json"], &[]);
    let doc = json_out(&o);
    assert_eq!(o.status.code(), Some(0), "{doc:#}");
    assert!(
        start.elapsed() >= Duration::from_secs(1),
        "waited for Retry-After"
    );
    assert_eq!(doc["model"]["calls"], 2);
    assert_eq!(doc["model"]["retries"], 1);
    assert_eq!(fake.seen().len(), 2);
}

#[test]
fn server_errors_are_retried_then_reported() {
    let fake = Fake::start(|_, _| {
        Reply::Json(
            503,
            json!({"error": "down"}),
            vec![("retry-after", "0".into())],
        )
    });
    let dir = sources(&model_suites()[1..]);
    let o = eval(&dir, &["--model-url", &url(&fake), "--retries", "2"], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(fake.seen().len(), 3, "one call and two retries");
    let out = text(&o.stdout);
    assert!(out.contains("ERROR"), "{out}");
    assert!(
        out.contains("the model endpoint answered 503 after 3 attempts: {\"error\":\"down\"}"),
        "{out}"
    );
    // A 401 is not retried, and says when no key was sent.
    let fake = Fake::start(|_, _| Reply::Json(401, json!({"error": "no key"}), vec![]));
    let o = eval(
        &dir,
        &["--model-url", &url(&fake), "--model-key-env", "MY_KEY"],
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(fake.seen().len(), 1);
    assert!(text(&o.stdout).contains("answered 401: {\"error\":\"no key\"} (no key was sent: $MY_KEY is not set; see --model-key-env)"), "{}", text(&o.stdout));
}

#[test]
fn a_model_that_never_answers_times_out() {
    let fake = Fake::start(|_, _| Reply::Never);
    let dir = sources(&model_suites()[1..]);
    let start = Instant::now();
    let o = eval(
        &dir,
        &["--model-url", &url(&fake), "--timeout", "1", "--json"],
        &[],
    );
    assert!(
        start.elapsed() < Duration::from_secs(8),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(o.status.code(), Some(1));
    let doc = json_out(&o);
    let r = &doc["results"][0];
    assert_eq!(r["result"], "error");
    assert_eq!(
        r["error"],
        "no answer from the model endpoint within 1 s (--timeout)"
    );
    assert_eq!(r["assertions"][0]["result"], "error");
    assert_eq!(doc["summary"]["errors"], 1);
    assert_eq!(fake.seen().len(), 1, "a timeout is not retried");
}

#[test]
fn a_low_judge_score_fails_the_case() {
    let fake = Fake::start(|req, _| model(req));
    let dir = sources(&[(
        "prompts/support/evals/judged.json",
        json!({"cases": [
        {"name": "vague", "variables": {"question": "vague question"}, "assertions": [
            {"type": "answer_json_schema"},
            {"type": "judge", "prompt": "grader", "threshold": 0.5}]},
        {"name": "unknown judge", "variables": {"question": "q"}, "assertions": [
            {"type": "judge", "prompt": "nobody", "threshold": 0.5}]}]}),
    )]);
    let o = eval(&dir, &["--model-url", &url(&fake), "--json"], &[]);
    assert_eq!(o.status.code(), Some(1));
    let doc = json_out(&o);
    let vague = &doc["results"][0];
    assert_eq!(vague["result"], "fail");
    assert_eq!(vague["assertions"][0]["result"], "pass");
    assert_eq!(vague["assertions"][1]["result"], "fail");
    assert_eq!(vague["assertions"][1]["score"], 0.1);
    assert_eq!(
        vague["assertions"][1]["reason"],
        "score 0.1 under the threshold 0.5: names no day"
    );
    let unknown = &doc["results"][1];
    assert_eq!(unknown["result"], "error");
    assert_eq!(
        unknown["assertions"][0]["reason"],
        "judge prompt \"nobody\" is not in the sources (prompts/nobody/prompt.json)"
    );
}

#[test]
fn calls_stay_within_the_concurrency_limit() {
    let fake = Fake::start_with_delay(Duration::from_millis(150), |req, _| model(req));
    let cases: Vec<Value> = (0..8)
        .map(|i| {
            json!({"name": format!("c{i}"), "variables": {"order_id": format!("A-{i}")},
                        "assertions": [{"type": "tool_call", "name": "lookup_order"}]})
        })
        .collect();
    let dir = sources(&[("prompts/orders/evals/many.json", json!({"cases": cases}))]);
    let o = eval(
        &dir,
        &["--model-url", &url(&fake), "--concurrency", "2"],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    assert_eq!(fake.seen().len(), 8);
    assert_eq!(fake.max_in_flight.load(Ordering::SeqCst), 2);
}

#[test]
fn the_table_names_the_failed_assertion_and_exit_is_1() {
    let dir = sources(&[(
        "prompts/support/evals/basic.json",
        json!({"cases": [
        {"name": "ok", "variables": {"question": "Where is my parcel?"}, "assertions": [
            {"type": "contains", "value": "parcel"}]},
        {"name": "bad", "variables": {"question": "Hi"}, "assertions": [
            {"type": "length", "role": "user", "min": 5}, {"type": "not_contains", "value": "Acme"},
            {"type": "answer_contains", "value": "x"}]},
        {"name": "missing", "assertions": [{"type": "no_unrendered"}]}]}),
    )]);
    let o = eval(&dir, &[], &[]);
    assert_eq!(o.status.code(), Some(1));
    let out = text(&o.stdout);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["CASE", "PROMPT", "VERSION", "HASH", "RESULT", "REASON"]
    );
    assert!(
        lines[1].starts_with("basic/ok       support  local    ") && lines[1].ends_with(" pass"),
        "{out}"
    );
    assert!(lines[2].contains(" FAIL    length[user]: the \"user\" messages has 2 characters, under the minimum of 5 (+1 more)"), "{out}");
    assert!(
        lines[3].contains(
            " ERROR   cannot render: missing_variables: missing required variable(s): question"
        ),
        "{out}"
    );
    assert_eq!(
        lines[4],
        "3 case(s): 1 passed, 1 failed, 1 error(s); 1 assertion(s) skipped"
    );
    assert_eq!(lines.len(), 5);
}

#[test]
fn usage_errors_exit_2_and_bad_suites_exit_1() {
    let dir = sources(&model_suites());
    let code = |args: &[&str], env: &[(&str, &str)]| eval(&dir, args, env).status.code();
    assert_eq!(
        code(&["--version", "2"], &[]),
        Some(2),
        "--version needs --prompt"
    );
    assert_eq!(
        code(&["--prompt", "support", "--version", "2"], &[]),
        Some(2),
        "and a control plane"
    );
    assert_eq!(
        code(
            &["--label", "production", "--version", "1", "--prompt", "p"],
            &[]
        ),
        Some(2)
    );
    assert_eq!(code(&["--report"], &[]), Some(2));
    assert_eq!(code(&["--concurrency", "0"], &[]), Some(2));
    assert_eq!(code(&["--timeout", "0"], &[]), Some(2));
    let o = eval(&dir, &["--report"], &[]);
    assert!(
        text(&o.stderr).contains("--report needs the control plane: --remote and --token"),
        "{}",
        text(&o.stderr)
    );

    let o = eval(&dir, &["--prompt", "grader"], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("no eval suites (prompts/grader/evals/*.json"),
        "{}",
        text(&o.stderr)
    );
    write(
        &dir,
        "prompts/support/evals/broken.json",
        r#"{"cases": [{"name": "x", "assertions": [{"type": "matches", "pattern": "("}]}]}"#,
    );
    write(
        &dir,
        "prompts/ghost/evals/a.json",
        r#"{"cases": [{"name": "x", "assertions": [{"type": "no_unrendered"}]}]}"#,
    );
    let o = eval(&dir, &[], &[]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(err.starts_with("prompts/support/evals/broken.json: cases[0].assertions[0].pattern: not a valid regular expression"), "{err}");
    std::fs::remove_file(dir.join("prompts/support/evals/broken.json")).unwrap();
    let o = eval(&dir, &[], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        text(&o.stderr),
        "prompts/ghost/evals/a.json: no prompt \"ghost\" in the sources\n"
    );
}

/// A live manifest with two versions of `support` split 50/50 on production, and a
/// staging label on version 2.
fn live_manifest(dir: &Path) -> Value {
    let built = Command::new(env!("CARGO_BIN_EXE_edgeprompt"))
        .arg("build")
        .arg(dir)
        .output()
        .unwrap();
    let mut m: Value = serde_json::from_slice(&built.stdout).unwrap();
    let v1 = m["prompts"]["support"]["versions"][0].clone();
    let mut v2 = v1.clone();
    v2["version"] = json!(2);
    v2["messages"][0]["content"] = json!("You are the friendly support assistant of {{company}}.");
    m["prompts"]["support"]["versions"] = json!([v1, v2]);
    m["prompts"]["support"]["labels"] = json!({
        "production": {"default": {"split": [{"version": 1, "weight": 50}, {"version": 2, "weight": 50}]}},
        "staging": {"default": {"version": 2}}});
    m["revision"] = json!(7);
    m
}

/// A fake control plane: the live manifest, and POST /admin/v1/evals answered by `evals`.
fn control(manifest: Value, evals: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Fake {
    Fake::start(
        move |req, _| match (req.method.as_str(), req.path.as_str()) {
            ("GET", "/admin/v1/manifest") => Reply::Json(200, manifest.clone(), vec![]),
            ("POST", "/admin/v1/evals") => evals(req),
            (m, p) => Reply::Json(
                404,
                json!({"error": {"code": "not_found", "message": format!("no route for {m} {p}")}}),
                vec![],
            ),
        },
    )
}

#[test]
fn live_versions_and_labels_are_evaluated_from_the_control_plane() {
    let dir = sources(&[(
        "prompts/support/evals/basic.json",
        json!({"cases": [
        {"name": "friendly", "variables": {"question": "q"}, "assertions": [{"type": "contains", "value": "friendly"}]}]}),
    )]);
    let cp = control(live_manifest(&dir), |_| Reply::Json(500, json!({}), vec![]));
    let env = [
        ("EDGEPROMPT_URL", cp.url.as_str()),
        ("EDGEPROMPT_TOKEN", "tok"),
    ];
    let o = eval(
        &dir,
        &["--prompt", "support", "--version", "2", "--json"],
        &env,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let doc = json_out(&o);
    assert_eq!(doc["source"]["kind"], "remote");
    assert_eq!(doc["source"]["revision"], 7);
    assert_eq!(doc["source"]["version"], 2);
    assert_eq!(doc["results"][0]["version"], 2);
    assert_eq!(cp.seen()[0].auth.as_deref(), Some("Bearer tok"));
    // Production splits between 1 and 2: both are evaluated; version 1 is not friendly.
    let o = eval(&dir, &["--label", "production", "--json"], &env);
    assert_eq!(o.status.code(), Some(1));
    let doc = json_out(&o);
    let got: Vec<(Value, Value)> = doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["version"].clone(), r["result"].clone()))
        .collect();
    assert_eq!(got, [(json!(1), json!("fail")), (json!(2), json!("pass"))]);
    assert_eq!(doc["versions"].as_array().unwrap().len(), 2);
    assert_eq!(doc["versions"][0]["passed"], false);
    assert_eq!(doc["versions"][1]["passed"], true);
    assert_eq!(
        eval(&dir, &["--label", "staging"], &env).status.code(),
        Some(0)
    );
    let o = eval(&dir, &["--label", "canary"], &env);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        text(&o.stderr),
        "prompt \"support\" has no label \"canary\"\n"
    );
    let o = eval(&dir, &["--prompt", "support", "--version", "3"], &env);
    assert_eq!(
        text(&o.stderr),
        "prompt \"support\" has no version 3 in the live manifest (it has 1 to 2)\n"
    );
}

#[test]
fn report_posts_the_document_and_a_404_says_the_control_plane_lacks_it() {
    let dir = sources(&[(
        "prompts/support/evals/basic.json",
        json!({"cases": [
        {"name": "a", "variables": {"question": "q"}, "assertions": [{"type": "no_unrendered"}]}]}),
    )]);
    let cp = control(live_manifest(&dir), |_| {
        Reply::Json(201, json!({"id": "report-1"}), vec![])
    });
    let env = [
        ("EDGEPROMPT_URL", cp.url.as_str()),
        ("EDGEPROMPT_TOKEN", "tok"),
    ];
    let o = eval(&dir, &["--report"], &env);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).ends_with(&format!("reported to {} as report-1\n", cp.url)),
        "{}",
        text(&o.stdout)
    );
    let posted = cp
        .seen()
        .into_iter()
        .find(|s| s.path == "/admin/v1/evals")
        .unwrap();
    assert_eq!(posted.auth.as_deref(), Some("Bearer tok"));
    let r = &posted.body;
    assert_eq!(r["schema"], 1);
    assert_eq!(r["passed"], true);
    assert_eq!(r["client"]["name"], "edgeprompt");
    let at = r["created_at"].as_str().unwrap();
    assert!(at.len() == 20 && at.ends_with('Z'), "{at}");
    assert_eq!(r["versions"][0]["hash"].as_str().unwrap().len(), 64);
    assert_eq!(r["results"][0]["suite_hash"], r["suites"][0]["hash"]);
    // --json keeps stdout to the document.
    let o = eval(&dir, &["--report", "--json"], &env);
    assert_eq!(json_out(&o)["passed"], true);
    assert!(text(&o.stderr).contains("reported to"));

    // A control plane without eval reports: a clear failure.
    let old = control(live_manifest(&dir), |req| {
        Reply::Json(
            404,
            json!({"error": {"code": "not_found", "message": format!("no route for Post \"{}\"", req.path)}}),
            vec![],
        )
    });
    let o = eval(
        &dir,
        &["--report", "--remote", &old.url, "--token", "t"],
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        text(&o.stderr),
        format!("--report: {}/admin/v1/evals answered 404: this control plane does not accept eval reports yet (no POST /admin/v1/evals); the results above were not recorded\n", old.url)
    );
    assert!(
        text(&o.stdout).contains("1 case(s): 1 passed"),
        "the results are still shown"
    );
}
