//! Wall-clock time in a named time zone, from the runtime's `Intl` (the engine has no
//! time-zone database; the Workers runtime carries ICU's), for freeze windows.

use edgeprompt::policy::LocalTime;
use serde::Deserialize;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = Intl, js_name = DateTimeFormat)]
    type DateTimeFormat;
    #[wasm_bindgen(constructor, js_namespace = Intl, js_class = "DateTimeFormat", catch)]
    fn new(locale: &str, options: &JsValue) -> Result<DateTimeFormat, JsValue>;
    #[wasm_bindgen(method, js_name = formatToParts, catch)]
    fn format_to_parts(this: &DateTimeFormat, ms: f64) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_namespace = JSON, js_name = parse, catch)]
    fn json_parse(text: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_namespace = JSON, js_name = stringify, catch)]
    fn json_stringify(value: &JsValue) -> Result<JsValue, JsValue>;
}

#[derive(Deserialize)]
struct Part {
    #[serde(rename = "type")]
    kind: String,
    value: String,
}

fn formatter(time_zone: &str) -> Option<DateTimeFormat> {
    // The name goes through serde_json so that any text makes a well-formed options object.
    let options = serde_json::json!({
        "timeZone": time_zone,
        "weekday": "short",
        "hour": "2-digit",
        "minute": "2-digit",
        "hourCycle": "h23",
    });
    let options = json_parse(&options.to_string()).ok()?;
    DateTimeFormat::new("en-US", &options).ok()
}

/// Whether the runtime knows the IANA time zone `name` (e.g. `Europe/Berlin`).
pub fn known(name: &str) -> bool {
    formatter(name).is_some()
}

/// The weekday and minute of the day in `time_zone` at `ms` (Unix milliseconds), or
/// `None` when the runtime does not know the zone.
pub fn local_time(time_zone: &str, ms: u64) -> Option<LocalTime> {
    let parts = formatter(time_zone)?.format_to_parts(ms as f64).ok()?;
    let text = json_stringify(&parts).ok()?.as_string()?;
    let parts: Vec<Part> = serde_json::from_str(&text).ok()?;
    let get = |k: &str| parts.iter().find(|p| p.kind == k).map(|p| p.value.as_str());
    let weekday = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        .iter()
        .position(|d| Some(*d) == get("weekday"))?;
    // Some ICU versions write midnight as 24 even with h23.
    let hour: u16 = get("hour")?.parse::<u16>().ok()? % 24;
    let minute: u16 = get("minute")?.parse().ok()?;
    Some(LocalTime {
        weekday: u8::try_from(weekday).ok()?,
        minute: hour * 60 + minute,
    })
}
