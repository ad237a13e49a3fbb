//! The CLI end to end: exit codes, exact output, batch mode.

use std::io::Write;
use std::process::{Command, Output, Stdio};

const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/demo.json");

fn run(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_edgeprompt"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A command may exit before reading its input (e.g. on an error): not a failure.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).unwrap()
}

#[test]
fn validate_ok_prints_one_summary_line() {
    let o = run(&["validate", DEMO], "");
    assert_eq!(o.status.code(), Some(0));
    let out = text(&o.stdout);
    assert_eq!(out.lines().count(), 1);
    assert!(
        out.contains("valid: schema 1, revision 1, 2 prompt(s)"),
        "{out}"
    );
}

#[test]
fn validate_bad_prints_every_problem_and_exits_1() {
    let bad = r#"{"schema": 1, "revision": 1, "prompts": {"p": {"versions": [{"version": 1, "text": "{{x}}"}],
        "labels": {"production": {"default": {"split": [{"version": 1, "weight": 95}]}}}, "extra": true}}}"#;
    let o = run(&["validate", "-"], bad);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert!(
        lines.contains(
            &"-: prompts.p.labels.production.default.split: weights sum to 95, expected 100"
        ),
        "{err}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("-: prompts.p.extra: unknown field")),
        "{err}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("-: prompts.p.versions[0].text: undeclared variable \"x\"")),
        "{err}"
    );
    assert!(o.stdout.is_empty());
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(run(&["resolve", DEMO], "").status.code(), Some(2));
    assert_eq!(run(&["frobnicate"], "").status.code(), Some(2));
    let o = run(
        &[
            "resolve", DEMO, "--prompt", "support", "--unit", "u", "--vars", "{nope",
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("--vars: not valid JSON"));
    assert_eq!(run(&["--help"], "").status.code(), Some(0));
    assert_eq!(run(&["resolve", "--help"], "").status.code(), Some(0));
}

#[test]
fn render_prints_exact_bytes() {
    let dir = std::env::temp_dir().join(format!("edgeprompt-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let t = dir.join("t.mustache");
    let p = dir.join("p.json");
    std::fs::write(&t, "Hi {{name}} <{{> sig}}>").unwrap();
    std::fs::write(&p, r#"{"sig": "-- {{team}}"}"#).unwrap();
    let data = r#"{"name": "A&B", "team": "ops"}"#;
    let o = run(
        &[
            "render",
            "--template",
            t.to_str().unwrap(),
            "--data",
            "-",
            "--partials",
            p.to_str().unwrap(),
        ],
        data,
    );
    assert_eq!(text(&o.stdout), "Hi A&B <-- ops>");
    let o = run(
        &[
            "render",
            "--template",
            t.to_str().unwrap(),
            "--data",
            "-",
            "--partials",
            p.to_str().unwrap(),
            "--escape",
            "html",
        ],
        data,
    );
    assert_eq!(text(&o.stdout), "Hi A&amp;B <-- ops>");
    std::fs::write(&t, "{{#open}}").unwrap();
    let o = run(
        &["render", "--template", t.to_str().unwrap(), "--data", "-"],
        "{}",
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("line 1"), "{}", text(&o.stderr));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn resolve_prints_the_decision() {
    let o = run(
        &[
            "resolve",
            DEMO,
            "--prompt",
            "support",
            "--unit",
            "qa-alice",
            "--attr",
            "country=DE",
            "--vars",
            r#"{"question": "hi"}"#,
            "--compact",
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let d: serde_json::Value = serde_json::from_str(&text(&o.stdout)).unwrap();
    assert_eq!(d["version"], 2);
    assert_eq!(d["rule"], "qa");
    let o = run(&["resolve", DEMO, "--prompt", "support", "--unit", "u"], "");
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        text(&o.stderr).trim(),
        "missing_variables: missing required variable(s): question"
    );
}

#[test]
fn resolve_passes_now_for_now_rules() {
    let dir = std::env::temp_dir().join(format!("edgeprompt-now-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("m.json");
    let doc = serde_json::json!({"schema": 1, "revision": 1, "prompts": {"p": {
        "versions": [{"version": 1, "text": "old"}, {"version": 2, "text": "new"}],
        "labels": {"production": {
            "rules": [{"name": "launch", "when": {"attr": "$now", "op": "after", "value": "2026-06-01T09:00:00+02:00"}, "target": {"version": 2}}],
            "default": {"version": 1}}}}}});
    std::fs::write(&file, doc.to_string()).unwrap();
    let file = file.to_str().unwrap();
    let at = |now: &str| {
        let o = run(
            &[
                "resolve",
                file,
                "--prompt",
                "p",
                "--unit",
                "u",
                "--now",
                now,
                "--compact",
            ],
            "",
        );
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        let d: serde_json::Value = serde_json::from_str(&text(&o.stdout)).unwrap();
        d["rule"].as_str().unwrap().to_string()
    };
    assert_eq!(at("2026-06-01T07:00:00Z"), "default");
    assert_eq!(at("2026-06-01T07:00:01Z"), "launch");
    let o = run(
        &[
            "resolve", file, "--prompt", "p", "--unit", "u", "--now", "June",
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("--now: expected an RFC 3339 time"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn batch_resolve_prints_one_line_per_unit_matching_single_resolves() {
    let units: String =
        (0..200).map(|i| format!("user-{i}\n")).collect::<String>() + "\nqa-bob\r\n";
    let o = run(
        &[
            "resolve",
            DEMO,
            "--prompt",
            "support",
            "--units-from",
            "-",
            "--attrs",
            r#"{"app_version": "2.1.0"}"#,
        ],
        &units,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 201);
    assert_eq!(lines[200]["unit"], "qa-bob");
    assert_eq!(lines[200]["rule"], "qa");
    for l in lines.iter().take(5) {
        let unit = l["unit"].as_str().unwrap();
        let o = run(
            &[
                "resolve",
                DEMO,
                "--prompt",
                "support",
                "--unit",
                unit,
                "--attrs",
                r#"{"app_version": "2.1.0"}"#,
                "--vars",
                r#"{"question": "q"}"#,
                "--compact",
            ],
            "",
        );
        let d: serde_json::Value = serde_json::from_str(&text(&o.stdout)).unwrap();
        assert_eq!(
            (&d["version"], &d["rule"], &d["bucket"]),
            (&l["version"], &l["rule"], &l["bucket"])
        );
    }
    let keys: Vec<&String> = lines[0].as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 4);
}

#[test]
fn init_build_and_validate_a_sources_directory() {
    let dir = std::env::temp_dir().join(format!("edgeprompt-src-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let d = dir.to_str().unwrap();
    let o = run(&["init", d], "");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout).lines().count(), 5);
    assert_eq!(
        run(&["init", d], "").status.code(),
        Some(1),
        "init never overwrites"
    );
    let o = run(&["validate", d], "");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let built: serde_json::Value = serde_json::from_slice(&run(&["build", d], "").stdout).unwrap();
    assert_eq!(built["revision"], 1);
    assert_eq!(
        built["prompts"]["assistant"]["versions"][0]["messages"][1],
        serde_json::json!({"placeholder": "history"})
    );
    // Building onto the built manifest adds nothing; an edit becomes version 2.
    let base = dir.join("base.json");
    std::fs::write(&base, built.to_string()).unwrap();
    let again: serde_json::Value =
        serde_json::from_slice(&run(&["build", d, "--base", base.to_str().unwrap()], "").stdout)
            .unwrap();
    assert_eq!(again, built);
    std::fs::write(
        dir.join("prompts/assistant/user.mustache"),
        "Question: {{question}}\n",
    )
    .unwrap();
    let edited: serde_json::Value =
        serde_json::from_slice(&run(&["build", d, "--base", base.to_str().unwrap()], "").stdout)
            .unwrap();
    assert_eq!(edited["revision"], 2);
    assert_eq!(edited["prompts"]["assistant"]["versions"][1]["version"], 2);
    // A template error is reported with its path.
    std::fs::write(dir.join("prompts/assistant/user.mustache"), "{{#open}}").unwrap();
    let o = run(&["validate", d], "");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains(
            "prompts.assistant.versions[0].messages[2].content: template does not compile"
        ),
        "{}",
        text(&o.stderr)
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn validate_json_reports_problems_as_data() {
    let o = run(&["validate", "-", "--json"], r#"{"schema": 1}"#);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["valid"], false);
    assert_eq!(
        v["problems"],
        serde_json::json!([
            "-: revision: missing required field \"revision\"",
            "-: prompts: missing required field \"prompts\""
        ])
    );
    let o = run(&["validate", DEMO, "--json"], "");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (v["valid"].clone(), v["prompts"].clone()),
        (serde_json::json!(true), serde_json::json!(2))
    );
}

#[test]
fn kv_bulk_writes_every_pair_of_the_per_prompt_layout_and_the_pointer_last() {
    let o = run(&["kv-bulk", DEMO, "--current"], "");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let pairs: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let keys: Vec<&str> = pairs
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys.len(), 5, "{keys:?}");
    assert!(keys[0].starts_with("prompt/summarize/") && keys[1].starts_with("prompt/support/"));
    assert!(keys[2].starts_with("client/"));
    assert_eq!(&keys[3..], ["manifest/1", "manifest/current"]);
    let index = pairs[3]["value"].as_str().unwrap();
    assert_eq!(pairs[4]["value"].as_str().unwrap(), format!("1\n{index}"));
    // Without --current the pointer is left alone.
    let o = run(&["kv-bulk", DEMO], "");
    let pairs: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(pairs.as_array().unwrap().len(), 4);
}

#[test]
fn kv_bulk_refuses_an_invalid_manifest_and_writes_nothing() {
    let bad = r#"{"schema": 1, "revision": 1, "prompts": {"p": {"versions": []}}}"#;
    let o = run(&["kv-bulk", "-", "--current"], bad);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    assert!(
        text(&o.stderr).contains("-: prompts.p"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn console_prints_the_sign_in_link_with_the_token_in_the_fragment() {
    let o = Command::new(env!("CARGO_BIN_EXE_edgeprompt"))
        .args(["console"])
        .env("EDGEPROMPT_URL", "http://127.0.0.1:8787/")
        .env("EDGEPROMPT_TOKEN", "tok en/1")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(
        text(&o.stdout),
        "http://127.0.0.1:8787/console/#token=tok%20en%2F1\n"
    );
    let o = run(&["console", "--remote", "ftp://x", "--token", "t"], "");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("--remote must be"),
        "{}",
        text(&o.stderr)
    );
}

const STEP_LINE: &str = r#"{"plan": {"candidate": 2, "control": 1, "stages": [1, 10, 50, 100], "min_units": 500, "min_duration_ms": 3600000, "guardrails": [{"metric": "resolved", "max_regression": 0}], "alpha": 0.05, "on_trip": "rollback"}, "metrics": {"resolved": {"kind": "binary", "higher_is_better": true}}, "state": null, "now_ms": 3600000, "periods": [{"stage": 1, "weights": {"1": 99, "2": 1}, "started_ms": 0, "versions": {"1": {"exposed_units": 19800, "metrics": {"resolved": {"units": 19800, "sum": 9900, "sum_sq": 9900}}}, "2": {"exposed_units": 200, "metrics": {"resolved": {"units": 200, "sum": 100, "sum_sq": 100}}}}}]}"#;

#[test]
fn rollout_step_answers_each_line_and_names_the_lines_that_fail() {
    let bad_plan = STEP_LINE.replace("[1, 10, 50, 100]", "[1, 10, 50]");
    let input = format!("{STEP_LINE}\n{{not json\n\n{bad_plan}\n{STEP_LINE}\n");
    let o = run(&["rollout", "step"], &input);
    assert_eq!(o.status.code(), Some(1));
    let out = text(&o.stdout);
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // One answer per non-blank line, in order.
    assert_eq!(lines.len(), 4, "{out}");
    assert_eq!(lines[0]["action"], "hold");
    assert_eq!(lines[0]["percent"], 1);
    assert_eq!(lines[0]["state"]["stage"], 1);
    assert_eq!(lines[1]["line"], 2);
    assert!(lines[1]["error"].as_str().unwrap().starts_with("line 2: "));
    assert_eq!(lines[2]["line"], 4);
    assert_eq!(
        lines[2]["error"],
        "line 4: plan.stages: ends at 50, expected 100"
    );
    assert_eq!(lines[3], lines[0]);
    assert_eq!(text(&o.stderr), "-: 2 of 4 line(s) failed\n");
    // Exactly the engine's function.
    assert_eq!(
        out.lines().next().unwrap(),
        edgeprompt::rollout::step_json(STEP_LINE).unwrap()
    );

    // A line that is not UTF-8 fails alone.
    let mut bytes = b"\xff\xfe\n".to_vec();
    bytes.extend_from_slice(STEP_LINE.as_bytes());
    let dir = std::env::temp_dir().join(format!("edgeprompt-step-{}", std::process::id()));
    std::fs::write(&dir, bytes).unwrap();
    let o = run(&["rollout", "step", dir.to_str().unwrap()], "");
    std::fs::remove_file(&dir).unwrap();
    assert_eq!(o.status.code(), Some(1));
    let out = text(&o.stdout);
    assert!(out.starts_with("{\"error\":\"line 1: "), "{out}");
    assert_eq!(out.lines().count(), 2);

    let o = run(&["rollout", "step", "-"], &format!("{STEP_LINE}\n"));
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(text(&o.stdout).lines().count(), 1);
    for args in [
        &["rollout", "--help"][..],
        &["rollout", "step", "--help"],
        &["rollout", "simulate", "--help"],
    ] {
        assert_eq!(run(args, "").status.code(), Some(0), "{args:?}");
    }
    assert_eq!(
        run(&["rollout", "simulate", "--runs", "0"], "")
            .status
            .code(),
        Some(2)
    );
}

/// The issue's four scenarios at a fixed seed, 200 runs each: every goal met with a
/// margin (docs/rollouts.md has the 1,000-run figures).
#[test]
fn rollout_simulate_meets_the_goals_at_a_fixed_seed() {
    let mut args = vec![
        "rollout", "simulate", "--runs", "200", "--seed", "7", "--json",
    ];
    for s in ["aa", "regression", "latency", "srm"] {
        args.extend(["--scenario", s]);
    }
    let o = run(&args, "");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let report: serde_json::Value = serde_json::from_str(&text(&o.stdout)).unwrap();
    let share = |scenario: &str, what: &str| -> f64 {
        let s = report["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["scenario"] == scenario)
            .unwrap();
        let f = s["figures"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["what"] == what)
            .unwrap();
        f["share"].as_f64().unwrap()
    };
    assert!(share("aa", "rolled back or paused") <= 0.03);
    assert!(share("aa", "completed within the run") >= 0.95);
    assert!(share("regression", "rolled back") >= 0.985);
    assert!(share("regression", "rolled back before the 50% stage starts") >= 0.93);
    assert!(share("latency", "caught (rolled back)") >= 0.98);
    assert!(share("srm", "paused before any advance") >= 0.98);
    // The same seed, the same figures.
    assert_eq!(run(&args, "").stdout, o.stdout);
}
