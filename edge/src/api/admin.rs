//! `/admin/v1/*` and `/console/*` on the edge: forwarded as is to the control-plane Worker over the
//! `CONTROL_PLANE` service binding, which authenticates it. One URL serves both.

use edgeprompt_shell::http::ApiError;
use worker::{Env, Request, Response};

/// The service binding to the control-plane Worker.
pub const CONTROL_PLANE: &str = "CONTROL_PLANE";

/// Forwards the request unchanged; without the binding, 503 naming it.
pub async fn forward(req: Request, env: &Env) -> Result<Response, ApiError> {
    let control = env.service(CONTROL_PLANE).map_err(|_| {
        ApiError::new(
            503,
            "control_unavailable",
            format!("this edge has no {CONTROL_PLANE} service binding to the control plane"),
        )
    })?;
    control
        .fetch_request(req)
        .await
        .map_err(|e| ApiError::new(502, "control_unavailable", format!("control plane: {e}")))
}
