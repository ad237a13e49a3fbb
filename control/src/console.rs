//! `/console/*`: the web console's static assets (`www/`, built into
//! `build-www/console/`), served through the `ASSETS` binding with the console's security
//! headers. Requests reach this Worker through the edge's origin (the edge forwards
//! `/console/*` over its service binding, as it does `/admin/v1/*`), so the console and
//! the admin API it calls share one origin and no CORS is needed.

use edgeprompt_shell::http::ApiError;
use worker::{Env, Headers, Request, Response, ResponseBuilder};

/// The assets binding (`[assets]` in wrangler.control.toml).
pub const ASSETS: &str = "ASSETS";

/// Scripts and Wasm only from the Worker itself (the preview runs the engine's Wasm);
/// no inline script or style; no framing; requests only to this origin (the admin API).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// Serves one asset with the console's headers; `/console` redirects to `/console/`.
pub async fn serve(req: Request, env: &Env) -> Result<Response, ApiError> {
    let unavailable = |e: worker::Error| {
        ApiError::new(503, "console_unavailable", format!("console assets: {e}"))
    };
    if req.path() == "/console" {
        let mut r = Response::empty().map_err(unavailable)?.with_status(308);
        r.headers_mut()
            .set("location", "/console/")
            .map_err(unavailable)?;
        return Ok(r);
    }
    let assets = env.assets(ASSETS).map_err(|_| {
        ApiError::new(
            503,
            "console_unavailable",
            format!("this control plane has no {ASSETS} binding: build the console (node www/build.mjs) and deploy with [assets]"),
        )
    })?;
    let served = assets.fetch_request(req).await.map_err(unavailable)?;
    let status = served.status_code();
    let headers = Headers::new();
    for (name, value) in served.headers().entries() {
        headers.set(&name, &value).map_err(unavailable)?;
    }
    for (name, value) in [
        ("content-security-policy", CONTENT_SECURITY_POLICY),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        ("cross-origin-opener-policy", "same-origin"),
    ] {
        headers.set(name, value).map_err(unavailable)?;
    }
    let (_, body) = served.into_parts();
    Ok(ResponseBuilder::new()
        .with_status(status)
        .with_headers(headers)
        .body(body))
}
