//! The web explorer in a real browser: headless Chromium (Debian's `chromium`), driven by
//! `playwright-core` (`node/tests/browser/`), against a real `povd --dev`.
//!
//! The script submits a contribution and its evaluations through the API and waits for the
//! open contribution page to show the minted reward without a reload (the page follows
//! `/events`); it checks that a hostile title stays text and a `javascript:` URI is no link,
//! that the member page draws its chart and explanation, and that the page fits a phone's
//! width. Screenshots are saved to `target/explorer-screenshots/` (the docs' images come
//! from there). Without Chromium or the npm packages the test says so and passes, except
//! under CI (`CI` set), where `.ci/run` installs both and a missing one is a failure.
//!
//! Besides, without a browser: the pages and assets are served with their types and a
//! Content-Security-Policy, and the JSON API's routes are untouched.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use pov_crypto::Keypair;
use pov_protocol::{Transaction, TxBody};
use pov_tests::{free_ports, NodeProcess};

const CHAIN: &str = "pov-devnet";

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

fn chromium() -> PathBuf {
    std::env::var_os("POV_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

/// Why the browser test cannot run here, if it cannot.
fn missing() -> Option<String> {
    if !chromium().exists() {
        return Some(format!(
            "{} not found (apt-get install chromium, or set POV_CHROMIUM)",
            chromium().display()
        ));
    }
    if !browser_dir().join("node_modules/playwright-core").exists() {
        return Some("playwright-core not installed (npm ci --prefix node/tests/browser)".into());
    }
    if Command::new("node").arg("--version").output().is_err() {
        return Some("node not found".into());
    }
    None
}

fn sign(who: u32, nonce: u64, body: TxBody) -> serde_json::Value {
    let genesis_hash = pov_protocol::genesis::Genesis::dev().hash();
    let tx = Transaction::sign(&Keypair::dev(who), CHAIN, &genesis_hash, nonce, body);
    serde_json::to_value(tx).expect("json")
}

fn get(url: &str) -> (u16, String, Vec<(String, String)>) {
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build();
    let mut response = ureq::Agent::new_with_config(config)
        .get(url)
        .call()
        .expect("answer");
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
        .collect();
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_string().expect("body");
    (status, body, headers)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> &'a str {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map_or("", |(_, v)| v.as_str())
}

#[test]
fn the_explorer_shows_a_minted_reward_live_in_a_real_browser() {
    let dir = tempfile::tempdir().expect("tempdir");
    let node = NodeProcess::start_dev(&dir.path().join("dev"), free_ports(1));
    assert!(
        node.wait_height(1, Duration::from_secs(30)),
        "{}",
        node.log_tail()
    );

    // Served by the API server, embedded, with a policy that allows no inline script and no
    // other origin; the JSON API is where it was.
    let (status, html, headers) = get(&format!("{}/", node.api));
    assert_eq!(status, 200);
    assert!(header(&headers, "content-type").starts_with("text/html"));
    assert!(header(&headers, "content-security-policy").contains("script-src 'self'"));
    assert!(html.contains("/explorer/app.js"), "{html}");
    for (file, kind) in [("app.js", "text/javascript"), ("app.css", "text/css")] {
        let (status, body, headers) = get(&format!("{}/explorer/{file}", node.api));
        assert_eq!(status, 200, "{file}");
        assert!(header(&headers, "content-type").starts_with(kind), "{file}");
        assert!(!body.is_empty());
    }
    let (status, body, _) = get(&format!("{}/explorer/secret.txt", node.api));
    assert_eq!(status, 404, "{body}");
    let (status, body, _) = get(&format!("{}/status", node.api));
    assert!(status == 200 && body.contains("chain_id"), "{body}");

    if let Some(why) = missing() {
        assert!(
            std::env::var_os("CI").is_none(),
            "the browser test must run in CI: {why}"
        );
        eprintln!("SKIPPED: the browser part of the explorer test: {why}");
        return;
    }

    // Contribution 0 by alice; contribution 1 by bob, with a hostile title and URI; then
    // every member (alice first) evaluates contribution 0 with the top value.
    let contributions = vec![
        sign(
            0,
            1,
            TxBody::Contribute {
                kind: "work".into(),
                title: "New logo".into(),
                uri: "https://example.org/logo".into(),
                content_hash: None,
            },
        ),
        sign(
            1,
            1,
            TxBody::Contribute {
                kind: "work".into(),
                title: "<img src=x onerror=alert(1)> & \"quotes\"".into(),
                uri: "javascript:alert(document.domain)".into(),
                content_hash: None,
            },
        ),
    ];
    let nonces = [2, 2, 1, 1];
    let evaluations: Vec<_> = (0..4u32)
        .map(|who| {
            sign(
                who,
                nonces[who as usize],
                TxBody::Evaluate {
                    contribution: 0,
                    value: 5,
                },
            )
        })
        .collect();
    let txs = serde_json::json!({
        "contributions": contributions,
        "evaluations": evaluations,
        "member": Keypair::dev(0).address().to_string(),
    });
    let txs_path = dir.path().join("txs.json");
    std::fs::write(&txs_path, txs.to_string()).expect("write");
    let out = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .join("target/explorer-screenshots");
    let started = Instant::now();
    let run = Command::new("node")
        .arg(browser_dir().join("explorer.mjs"))
        .arg(&node.api)
        .arg(&txs_path)
        .arg(&out)
        .env("POV_CHROMIUM", chromium())
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        run.status.success(),
        "the browser script failed ({}):\n{stdout}\n{stderr}\nscreenshots in {}\n{}",
        run.status,
        out.display(),
        node.log_tail()
    );
    eprintln!(
        "browser checks passed in {:.1} s: {}",
        started.elapsed().as_secs_f64(),
        stdout.trim()
    );
    for file in ["contribution.png", "member.png", "member-phone.png"] {
        let png = std::fs::read(out.join(file)).expect("screenshot");
        assert!(png.starts_with(b"\x89PNG"), "{file} is a PNG");
    }
}
