//! 1Password Events API: `POST PATH` with `{limit, start_time}` first, then `{cursor}` until
//! `has_more` is false (the connector's first-run paging with no stored cursor).

use crate::{Drained, Error};

#[derive(serde::Deserialize)]
struct PageHead {
    cursor: String,
    has_more: bool,
    items: Vec<serde::de::IgnoredAny>,
}

/// Drains `PATH` of the simulator at `base`.
pub async fn drain(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    path: &str,
    limit: u32,
) -> Result<Drained, Error> {
    let url = format!("{base}{path}");
    let mut body = serde_json::json!({"limit": limit, "start_time": "2000-01-01T00:00:00.000Z"});
    let mut out = Drained::default();
    loop {
        let bytes = client
            .post(&url)
            .bearer_auth(token)
            .header("Content-Type", "application/json")
            .body(serde_json::to_vec(&body)?)
            .send()
            .await?
            .error_for_status()?
            .bytes()
            .await?;
        let page: PageHead = serde_json::from_slice(&bytes)?;
        out.events += page.items.len() as u64;
        out.pages += 1;
        if !page.has_more {
            return Ok(out);
        }
        body = serde_json::json!({ "cursor": page.cursor });
    }
}
