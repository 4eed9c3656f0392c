//! The benchmark floor: fetch the same 1Password pages siemtap would, with a bare client, and
//! discard them. Only `cursor` and `has_more` are parsed (items are skipped by the parser),
//! so the floor is the cost of the transfer itself.
//!
//! Usage: `siemtap-floor BASE_URL TOKEN PATH LIMIT` → prints `events=N pages=P secs=S`.

use std::io::Write;
use std::time::Instant;

#[derive(serde::Deserialize)]
struct PageHead {
    cursor: String,
    has_more: bool,
    items: Vec<serde::de::IgnoredAny>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, base, token, path, limit] = args.as_slice() else {
        return Err("usage: siemtap-floor BASE_URL TOKEN PATH LIMIT".into());
    };
    let limit: u32 = limit.parse()?;
    // Same TLS stack as siemtap (ring); the floor itself talks plain http to loopback.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder().build()?;
    let url = format!("{base}{path}");
    let start = Instant::now();
    let mut body = serde_json::json!({"limit": limit, "start_time": "2000-01-01T00:00:00.000Z"});
    let (mut events, mut pages) = (0usize, 0usize);
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
        events += page.items.len();
        pages += 1;
        if !page.has_more {
            break;
        }
        body = serde_json::json!({ "cursor": page.cursor });
    }
    let secs = start.elapsed().as_secs_f64();
    writeln!(
        std::io::stdout(),
        "events={events} pages={pages} secs={secs:.3}"
    )?;
    Ok(())
}
