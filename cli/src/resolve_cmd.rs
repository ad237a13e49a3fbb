//! `edgeprompt resolve FILE --prompt NAME ...`: one decision, or a batch of assignments.

use crate::input::{json_arg, load_manifest, read_text};
use crate::Failure;
use edgeprompt::resolve::{self, Request};
use serde_json::{Map, Value};
use std::io::{BufRead, BufReader, Read, Write};

/// Arguments of `resolve`.
#[derive(clap::Args)]
pub struct Args {
    /// The manifest (JSON).
    file: String,
    /// Prompt name.
    #[arg(long)]
    prompt: String,
    /// Label (default: production).
    #[arg(long)]
    label: Option<String>,
    /// The unit to resolve for.
    #[arg(
        long,
        required_unless_present = "units_from",
        conflicts_with = "units_from"
    )]
    unit: Option<String>,
    /// Batch: one unit per line (`-` for standard input); prints one JSON line per unit, no rendering.
    #[arg(long)]
    units_from: Option<String>,
    /// An attribute as a string, KEY=VALUE (repeatable; overrides --attrs).
    #[arg(long = "attr", value_name = "KEY=VALUE")]
    attr: Vec<String>,
    /// Attributes as a JSON object (typed values).
    #[arg(long)]
    attrs: Option<String>,
    /// Variables as a JSON object.
    #[arg(long)]
    vars: Option<String>,
    /// Print the decision on one line.
    #[arg(long)]
    compact: bool,
    /// The request's time for `$now` conditions, RFC 3339 (default: the system clock).
    #[arg(long, value_name = "RFC3339")]
    now: Option<String>,
}

/// The request's time: `--now`, or the system clock.
fn now_ms(a: &Args) -> Result<i64, Failure> {
    match &a.now {
        Some(text) => edgeprompt::time::parse_rfc3339(text)
            .map_err(|e| Failure::Usage(format!("--now: expected an RFC 3339 time: {e}"))),
        None => Ok(system_now_ms()),
    }
}

/// Milliseconds since the Unix epoch by the system clock (0 before it).
pub(crate) fn system_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn attributes(a: &Args) -> Result<Value, Failure> {
    let mut map = match &a.attrs {
        Some(text) => match json_arg("--attrs", text)? {
            Value::Object(m) => m,
            _ => return Err(Failure::Usage("--attrs: expected a JSON object".into())),
        },
        None => Map::new(),
    };
    for kv in &a.attr {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| Failure::Usage(format!("--attr {kv:?}: expected KEY=VALUE")))?;
        map.insert(k.to_string(), Value::String(v.to_string()));
    }
    Ok(Value::Object(map))
}

/// Resolves one unit or a batch.
pub fn run(a: Args) -> Result<(), Failure> {
    let attrs = attributes(&a)?;
    let now = now_ms(&a)?;
    let vars = match &a.vars {
        Some(text) => {
            let v = json_arg("--vars", text)?;
            if !v.is_object() {
                return Err(Failure::Usage("--vars: expected a JSON object".into()));
            }
            Some(v)
        }
        None => None,
    };
    if a.units_from.as_deref() == Some("-") && a.file == "-" {
        return Err(Failure::Usage(
            "the manifest and --units-from cannot both read standard input".into(),
        ));
    }
    let m = load_manifest(&a.file)?;
    if let Some(path) = &a.units_from {
        return batch(&m, &a, &attrs, path, now);
    }
    let unit = a.unit.as_deref().unwrap_or_default();
    let req = Request {
        prompt: &a.prompt,
        label: a.label.as_deref(),
        unit,
        attributes: Some(&attrs),
        variables: vars.as_ref(),
        now_ms: Some(now),
    };
    let d = resolve::resolve(&m, &req).map_err(|e| Failure::fail(format!("{}: {e}", e.code())))?;
    let text = if a.compact {
        serde_json::to_string(&d)
    } else {
        serde_json::to_string_pretty(&d)
    }
    .map_err(|e| Failure::fail(e.to_string()))?;
    crate::out(&text)?;
    Ok(())
}

fn batch(
    m: &edgeprompt::CompiledManifest,
    a: &Args,
    attrs: &Value,
    path: &str,
    now: i64,
) -> Result<(), Failure> {
    let reader: Box<dyn Read> = if path == "-" {
        Box::new(std::io::stdin())
    } else {
        let text = read_text(path)?;
        Box::new(std::io::Cursor::new(text.into_bytes()))
    };
    let reader = BufReader::with_capacity(1 << 16, reader);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let write_err = |e: std::io::Error| Failure::fail(format!("cannot write output: {e}"));
    for (n, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| Failure::fail(format!("{path}: line {}: {e}", n + 1)))?;
        let unit = line.strip_suffix('\r').unwrap_or(&line);
        if unit.is_empty() {
            continue;
        }
        let req = Request {
            prompt: &a.prompt,
            label: a.label.as_deref(),
            unit,
            attributes: Some(attrs),
            variables: None,
            now_ms: Some(now),
        };
        let asg = resolve::assign(m, &req)
            .map_err(|e| Failure::fail(format!("{path}: line {}: {}: {e}", n + 1, e.code())))?;
        out.write_all(b"{\"unit\":").map_err(write_err)?;
        serde_json::to_writer(&mut out, unit).map_err(|e| Failure::fail(e.to_string()))?;
        write!(out, ",\"version\":{},\"rule\":", asg.version).map_err(write_err)?;
        serde_json::to_writer(&mut out, asg.rule).map_err(|e| Failure::fail(e.to_string()))?;
        writeln!(out, ",\"bucket\":{}}}", asg.bucket).map_err(write_err)?;
    }
    out.flush().map_err(write_err)
}
