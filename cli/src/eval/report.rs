//! The results as a table, as the documented JSON document (`--json`), and as the
//! report posted to the control plane (`--report`: `POST /admin/v1/evals`).

use super::assert::Status;
use super::run::{CaseResult, Verdict};
use super::suite::Suite;
use crate::Failure;
use serde_json::{json, Map, Value};
use std::time::{SystemTime, UNIX_EPOCH};

/// The version of the `--json` document and report shape.
pub const SCHEMA: u64 = 1;

/// One result as JSON.
fn result_json(r: &CaseResult) -> Value {
    let assertions: Vec<Value> = r
        .outcomes
        .iter()
        .map(|(kind, role, o)| {
            let mut a = Map::new();
            a.insert("type".into(), json!(kind));
            a.insert("role".into(), json!(role));
            a.insert("result".into(), json!(o.status.as_str()));
            a.insert("reason".into(), json!(o.reason));
            a.extend(o.extra.clone());
            Value::Object(a)
        })
        .collect();
    let (label, unit, rule) = match &r.route {
        Some((l, u, rule)) => (json!(l), json!(u), json!(rule)),
        None => (Value::Null, Value::Null, Value::Null),
    };
    json!({
        "prompt": r.prompt,
        "suite": r.suite,
        "suite_file": r.suite_file,
        "suite_hash": r.suite_hash,
        "case": r.case,
        "version": r.version,
        "hash": r.hash,
        "label": label,
        "unit": unit,
        "rule": rule,
        "result": r.verdict.as_str(),
        "error": r.error,
        "model": r.model,
        "cached": r.cached,
        "assertions": assertions,
    })
}

/// Per prompt and content hash, in first-seen order: what passed for that version.
fn versions_json(results: &[CaseResult]) -> Vec<Value> {
    let mut out: Vec<(String, String, Value)> = Vec::new();
    for r in results {
        let Some(hash) = &r.hash else { continue };
        let i = match out.iter().position(|(p, h, _)| p == &r.prompt && h == hash) {
            Some(i) => i,
            None => {
                out.push((
                    r.prompt.clone(),
                    hash.clone(),
                    json!({"prompt": r.prompt, "version": r.version, "hash": hash, "passed": true,
                           "cases": 0, "failed": 0, "errors": 0, "skipped_assertions": 0,
                           "suites": [], "models": []}),
                ));
                out.len() - 1
            }
        };
        let Some((_, _, v)) = out.get_mut(i) else {
            continue;
        };
        v["cases"] = json!(v["cases"].as_u64().unwrap_or(0) + 1);
        match r.verdict {
            Verdict::Pass => {}
            Verdict::Fail => v["failed"] = json!(v["failed"].as_u64().unwrap_or(0) + 1),
            Verdict::Error => v["errors"] = json!(v["errors"].as_u64().unwrap_or(0) + 1),
        }
        if r.verdict != Verdict::Pass {
            v["passed"] = json!(false);
        }
        let skipped = r
            .outcomes
            .iter()
            .filter(|(_, _, o)| o.status == Status::Skip)
            .count() as u64;
        v["skipped_assertions"] = json!(v["skipped_assertions"].as_u64().unwrap_or(0) + skipped);
        let suite = json!({"name": r.suite, "file": r.suite_file, "hash": r.suite_hash});
        push_unique(&mut v["suites"], suite);
        if let Some(m) = &r.model {
            push_unique(&mut v["models"], m.clone());
        }
    }
    out.into_iter().map(|(_, _, v)| v).collect()
}

fn push_unique(list: &mut Value, item: Value) {
    if let Some(l) = list.as_array_mut() {
        if !l.contains(&item) {
            l.push(item);
        }
    }
}

/// Counts of cases by verdict, and of skipped assertions.
pub fn summary(results: &[CaseResult]) -> Value {
    let count = |v: Verdict| results.iter().filter(|r| r.verdict == v).count();
    let skipped = results
        .iter()
        .flat_map(|r| &r.outcomes)
        .filter(|(_, _, o)| o.status == Status::Skip)
        .count();
    json!({
        "cases": results.len(),
        "passed": count(Verdict::Pass),
        "failed": count(Verdict::Fail),
        "errors": count(Verdict::Error),
        "skipped_assertions": skipped,
    })
}

/// The `--json` document.
pub fn document(source: Value, model: Value, suites: &[Suite], results: &[CaseResult]) -> Value {
    let suites: Vec<Value> = suites
        .iter()
        .map(|s| json!({"prompt": s.prompt, "name": s.name, "file": s.file, "hash": s.hash, "cases": s.cases.len()}))
        .collect();
    json!({
        "schema": SCHEMA,
        "passed": results.iter().all(|r| r.verdict == Verdict::Pass),
        "source": source,
        "model": model,
        "summary": summary(results),
        "suites": suites,
        "versions": versions_json(results),
        "results": results.iter().map(result_json).collect::<Vec<_>>(),
    })
}

/// The report posted with `--report`: the `--json` document, with when and by what.
pub fn report(document: &Value) -> Value {
    let mut r = document.clone();
    if let Some(o) = r.as_object_mut() {
        o.insert("created_at".into(), json!(rfc3339(SystemTime::now())));
        o.insert(
            "client".into(),
            json!({"name": "edgeprompt", "version": env!("CARGO_PKG_VERSION")}),
        );
    }
    r
}

/// A time as RFC 3339 in UTC, to the second (the engine's formatter).
pub fn rfc3339(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    edgeprompt::time::format_rfc3339(i64::try_from(secs).unwrap_or(i64::MAX / 1000) * 1000)
}

/// The table: one row per case and version, then a summary.
pub fn table(results: &[CaseResult]) -> Vec<String> {
    let mut rows = vec![[
        "CASE".to_string(),
        "PROMPT".into(),
        "VERSION".into(),
        "HASH".into(),
        "RESULT".into(),
        "REASON".into(),
    ]];
    for r in results {
        let version = match (r.version, &r.hash) {
            (Some(n), _) => format!("v{n}"),
            (None, Some(_)) => "local".into(),
            (None, None) => "-".into(),
        };
        let hash: String = r.hash.as_deref().unwrap_or("-").chars().take(12).collect();
        let result = match r.verdict {
            Verdict::Pass => "pass",
            Verdict::Fail => "FAIL",
            Verdict::Error => "ERROR",
        };
        rows.push([
            format!("{}/{}", r.suite, r.case),
            r.prompt.clone(),
            version,
            hash,
            result.into(),
            reason(r),
        ]);
    }
    let mut widths = [0usize; 6];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row.iter()) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out: Vec<String> = rows
        .iter()
        .map(|row| {
            let mut line = String::new();
            for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
                if i == 5 {
                    line.push_str(cell);
                } else {
                    line.push_str(&format!("{cell:<w$}  "));
                }
            }
            line.trim_end().to_string()
        })
        .collect();
    let s = summary(results);
    let mut line = format!(
        "{} case(s): {} passed, {} failed, {} error(s)",
        s["cases"], s["passed"], s["failed"], s["errors"]
    );
    if s["skipped_assertions"].as_u64().unwrap_or(0) > 0 {
        line.push_str(&format!(
            "; {} assertion(s) skipped",
            s["skipped_assertions"]
        ));
    }
    out.push(line);
    out
}

/// A row's reason: the case's error, or its first assertion that did not pass (and
/// how many more did not), or what was skipped.
fn reason(r: &CaseResult) -> String {
    if let Some(e) = &r.error {
        return e.clone();
    }
    let describe = |(kind, role, o): &(&str, Option<String>, super::assert::Outcome)| {
        let role = role.as_ref().map(|r| format!("[{r}]")).unwrap_or_default();
        format!("{kind}{role}: {}", o.reason.as_deref().unwrap_or(""))
    };
    let bad: Vec<_> = r
        .outcomes
        .iter()
        .filter(|(_, _, o)| matches!(o.status, Status::Fail | Status::Error))
        .collect();
    if let Some(first) = bad.first() {
        let more = bad.len() - 1;
        let mut s = describe(first);
        if more > 0 {
            s.push_str(&format!(" (+{more} more)"));
        }
        return s;
    }
    let skipped: Vec<_> = r
        .outcomes
        .iter()
        .filter(|(_, _, o)| o.status == Status::Skip)
        .collect();
    match skipped.first() {
        Some((_, _, o)) => format!(
            "{} skipped: {}",
            skipped.len(),
            o.reason.as_deref().unwrap_or("")
        ),
        None => String::new(),
    }
}

/// Posts the report; a 404 with no route (a control plane without eval reports) is
/// said plainly.
pub fn post(remote: &str, token: &str, report: &Value) -> Result<Value, Failure> {
    let url = format!("{}/admin/v1/evals", remote.trim_end_matches('/'));
    let resp = ureq::post(&url)
        .set("authorization", &format!("Bearer {token}"))
        .send_json(report);
    match resp {
        Ok(r) => r
            .into_json()
            .map_err(|e| Failure::fail(format!("{url}: unreadable answer: {e}"))),
        Err(ureq::Error::Status(404, r)) => {
            let body: Value = r.into_json().unwrap_or(Value::Null);
            let code = body["error"]["code"].as_str();
            let message = body["error"]["message"].as_str().unwrap_or("");
            if code.is_none_or(|c| c == "not_found")
                && (code.is_none() || message.starts_with("no route"))
            {
                Err(Failure::fail(format!(
                    "--report: {url} answered 404: this control plane does not accept eval reports yet (no POST /admin/v1/evals); the results above were not recorded"
                )))
            } else {
                Err(Failure::fail(format!(
                    "--report: {} (404): {message}",
                    code.unwrap_or("not_found")
                )))
            }
        }
        Err(ureq::Error::Status(code, r)) => {
            let body: Value = r.into_json().unwrap_or(Value::Null);
            Err(Failure::fail(format!(
                "--report: {} ({code}): {}",
                body["error"]["code"].as_str().unwrap_or("error"),
                body["error"]["message"]
                    .as_str()
                    .unwrap_or("the server refused the report")
            )))
        }
        Err(e) => Err(Failure::fail(format!("--report: {url}: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_formats_utc_seconds() {
        let t = |s: u64| rfc3339(UNIX_EPOCH + std::time::Duration::from_secs(s));
        assert_eq!(t(0), "1970-01-01T00:00:00Z");
        assert_eq!(t(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(t(1_798_761_599), "2026-12-31T23:59:59Z");
    }
}
