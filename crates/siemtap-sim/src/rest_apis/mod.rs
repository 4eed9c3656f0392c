//! Example REST APIs for declarative connectors (`siemtap sim rest`): an Okta-System-Log-style
//! API, an OAuth2 client-credentials token endpoint with a Microsoft-Graph-style alert list,
//! and a page-number API — on one port, with the shared `/_sim/` control plane.
//!
//! | Stream (oracle key) | Endpoint | Credential (defaults) |
//! |---|---|---|
//! | `system_log` | `GET /api/v1/logs?since&until&limit&after&sortOrder=ASCENDING` → JSON array, `Link: <…>; rel="next"` (bounded: while records remain; no `until`: always) | `Authorization: SSWS sim-okta-token` |
//! | (token) | `POST /oauth2/v2.0/token` (form: `grant_type=client_credentials`, `scope`, `client_id`/`client_secret` or HTTP Basic) → `{"access_token","expires_in","token_type"}` | `sim-client` / `sim-client-secret`, tokens live `--token-ttl` s on the virtual clock |
//! | `security_alerts` | `GET /v1.0/security/alerts_v2?$top&$filter=createdDateTime ge T and createdDateTime lt T` → `{"value":[…],"@odata.nextLink"}` | `Authorization: Bearer <issued token>` |
//! | `items` | `GET /api/items?since=<epoch s>&page&per_page` → `{"page","per_page","total","total_pages","items"}` | `?api_key=sim-api-key` |
//!
//! Records are ordered by event time; each feed has `--events` records spread over
//! [t0 − 24 h + 15 min, t0 − 10 min]. `late_events {fraction, delay_s}` fault rules (with
//! `stream`) delay visibility. Extra control endpoint: `POST /_sim/revoke_tokens` invalidates
//! every issued access token (the next API call gets 401, a new token works). `/_sim/stats`
//! adds `token_requests`, `tokens_live`, `tokens_rejected`.
//!
//! Rate limits per credential: Okta 120 requests/min, Graph 20/s, items 10/s (`--no-rate-limit`).

mod api;
mod args;
mod data;
mod feeds;
mod state;

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

pub use args::RestArgs;

use crate::common::control;
use crate::common::respond::json;
use crate::common::server::{self, SimHandle};

async fn revoke(State(sim): State<Arc<state::RestSim>>) -> Response {
    let n = sim.revoke_tokens();
    json(
        StatusCode::OK,
        serde_json::json!({"revoked": n}).to_string().into_bytes(),
    )
}

/// Binds `args.listen` and serves the REST simulator on the current tokio runtime.
pub async fn spawn_rest(args: RestArgs) -> std::io::Result<SimHandle> {
    let sim = Arc::new(state::RestSim::new(&args)?);
    let router = control::routes::<state::RestSim>()
        .route("/_sim/revoke_tokens", axum::routing::post(revoke))
        .fallback(api::handle)
        .with_state(sim);
    server::serve(args.listen, router).await
}
