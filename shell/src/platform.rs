//! What only the platform can give the engine: the clock, randomness, the location.

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = crypto, js_name = getRandomValues, catch)]
    fn get_random_values(buf: &mut [u8]) -> Result<JsValue, JsValue>;
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    worker::Date::now().as_millis()
}

/// A 16-byte nonce from the platform's CSPRNG, as hex.
pub fn nonce() -> String {
    let mut buf = [0u8; 16];
    // getRandomValues cannot fail for 16 bytes; an all-zero nonce would still sign.
    let _ = get_random_values(&mut buf);
    edgeprompt::value::canonical::hex(&buf)
}

/// The serving location (colo code), or `local` when the runtime gives none.
pub fn location(req: &worker::Request) -> String {
    req.cf()
        .map(|cf| cf.colo())
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "local".into())
}
