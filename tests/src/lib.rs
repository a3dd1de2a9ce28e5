//! Helpers for tests that run real `povd` and `pov` processes.
//!
//! The binaries are the ones `cargo test --workspace` builds for the `pov-node` and
//! `pov-cli` packages (both have integration tests, so cargo builds their binaries before
//! any test runs); they sit next to this test's own executable's `deps/` directory.

pub mod clock;
pub mod cluster;
pub mod impair;
pub mod load;
pub mod netns;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub mod doc;

/// Plain-HTTP JSON calls to a node's API (status codes are answers, not errors).
pub mod http {
    use std::time::Duration;

    use serde_json::Value;

    fn agent() -> ureq::Agent {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(10)))
            .build();
        ureq::Agent::new_with_config(config)
    }

    /// GET `url`; the status and the JSON body, whatever the status.
    pub fn get_with_status(url: &str) -> Result<(u16, Value), String> {
        status_and_json(agent().get(url).call())
    }

    /// The status and JSON body of an answer (any status).
    fn status_and_json(
        answer: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<(u16, Value), String> {
        let mut response = answer.map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|e| e.to_string())?;
        let value =
            serde_json::from_str(&text).map_err(|e| format!("{status}: not JSON: {e}: {text}"))?;
        Ok((status, value))
    }

    /// GET `url`; the JSON body of a 2xx answer, else `None`.
    pub fn get_json(url: &str) -> Option<Value> {
        let mut response = agent().get(url).call().ok()?;
        if !response.status().is_success() {
            return None;
        }
        let text = response.body_mut().read_to_string().ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Reads a Server-Sent Events stream until a line contains `needle` (or `limit` passes);
    /// returns what was read.
    pub fn read_sse_until(url: &str, needle: &str, limit: Duration) -> String {
        use std::io::BufRead;
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(limit))
            .build();
        let agent = ureq::Agent::new_with_config(config);
        let Ok(mut response) = agent.get(url).call() else {
            return String::new();
        };
        let reader = std::io::BufReader::new(response.body_mut().as_reader());
        let mut seen = String::new();
        for line in reader.lines() {
            let Ok(line) = line else { break };
            seen.push_str(&line);
            seen.push('\n');
            if line.contains(needle) {
                break;
            }
        }
        seen
    }

    /// Any request: the status, the `Content-Type` of the answer and its body as text.
    pub fn raw(
        method: &str,
        url: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<(u16, String, String), String> {
        let mut request = ureq::http::Request::builder().method(method).uri(url);
        if let Some(ct) = content_type {
            request = request.header("Content-Type", ct);
        }
        let request = request.body(body.to_vec()).map_err(|e| e.to_string())?;
        let mut response = agent().run(request).map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let ct = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|e| e.to_string())?;
        Ok((status, ct, text))
    }

    /// GET `url`; the text body of a 2xx answer (`/metrics`), else `None`.
    pub fn get_text(url: &str) -> Option<String> {
        let mut response = agent().get(url).call().ok()?;
        if !response.status().is_success() {
            return None;
        }
        response.body_mut().read_to_string().ok()
    }

    /// The value of one sample in a Prometheus text exposition (`name` with its labels, as
    /// written), if present.
    pub fn metric(text: &str, name: &str) -> Option<f64> {
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
    }

    /// POST raw bytes (a transaction's canonical postcard form); the status and the JSON
    /// answer.
    pub fn post_bytes(url: &str, body: &[u8]) -> Result<(u16, Value), String> {
        status_and_json(
            agent()
                .post(url)
                .header("Content-Type", "application/octet-stream")
                .send(body),
        )
    }

    /// POST a JSON body; the status and the JSON answer.
    pub fn post_json(url: &str, body: &str) -> Result<(u16, Value), String> {
        status_and_json(
            agent()
                .post(url)
                .header("Content-Type", "application/json")
                .send(body),
        )
    }
}

/// Path of a workspace binary built in the same profile as the running test.
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<test>");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} not found: run the tests with `cargo test --workspace` so it is built",
        path.display()
    );
    path
}

/// A base port with `count` free consecutive ports above it (best effort: probed now).
pub fn free_ports(count: u16) -> u16 {
    for _ in 0..200 {
        let base = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or(20_000);
        if base > 60_000 {
            continue;
        }
        let all_free =
            (0..count).all(|i| std::net::TcpListener::bind(("127.0.0.1", base + i)).is_ok());
        if all_free {
            return base;
        }
    }
    panic!("no {count} free consecutive ports");
}

/// A running `povd`, killed when dropped.
pub struct NodeProcess {
    /// The process.
    pub child: Child,
    /// Its API base URL.
    pub api: String,
    /// Its home.
    pub home: PathBuf,
}

impl NodeProcess {
    /// Starts `povd --home HOME`, logging to HOME/povd.log.
    pub fn start(home: &Path, api: &str) -> NodeProcess {
        NodeProcess::spawn(&[], home, api)
    }

    /// Starts `povd --dev --home HOME` with its API on 127.0.0.1:`port`: the single-validator
    /// devnet on the embedded dev genesis (HOME is initialized on its first start).
    pub fn start_dev(home: &Path, port: u16) -> NodeProcess {
        let addr = format!("127.0.0.1:{port}");
        NodeProcess::spawn(
            &["--dev", "--api-addr", &addr],
            home,
            &format!("http://{addr}"),
        )
    }

    /// Starts `povd ARGS --home HOME`, logging to HOME/povd.log (HOME is created if needed).
    fn spawn(args: &[&str], home: &Path, api: &str) -> NodeProcess {
        std::fs::create_dir_all(home).expect("node home");
        let log = std::fs::File::create(home.join("povd.log")).expect("log file");
        let child = Command::new(binary("povd"))
            .args(args)
            .arg("--home")
            .arg(home)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("povd starts");
        NodeProcess {
            child,
            api: api.to_string(),
            home: home.to_path_buf(),
        }
    }

    /// GET a JSON document from the API.
    pub fn get(&self, path: &str) -> Option<Value> {
        http::get_json(&format!("{}{path}", self.api))
    }

    /// The node's finalized height (0 when unreachable).
    pub fn height(&self) -> u64 {
        self.get("/status")
            .and_then(|s| s["height"].as_u64())
            .unwrap_or(0)
    }

    /// Waits until the node's height reaches `target`.
    pub fn wait_height(&self, target: u64, limit: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < limit {
            if self.height() >= target {
                return true;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        false
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn stop(mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "povd did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The last lines of the node's log, for failure messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.home.join("povd.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
