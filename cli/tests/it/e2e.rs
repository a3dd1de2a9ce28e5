//! Issue 5, item 6: a single-node devnet started by the test (`povd --dev`), then, through
//! `pov` alone, keys, a contribution, evaluations by dev members until half the reputation
//! has evaluated, and the contributor's minted tokens and reputation read back with
//! `pov show account --output json`, equal to what the protocol library computes for the
//! same transactions (`scenario.rs`).
//!
//! `povd` is looked up next to the `pov` binary (`target/<profile>/povd`). Cargo builds only
//! this package's binaries for its tests, so when it is missing the test builds it with
//! `cargo build -p pov-node --bin povd` into the same target directory and profile; if that
//! fails the test fails and says why. It never passes without running the real node.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::Pov;

fn povd_path() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_pov"))
        .with_file_name(format!("povd{}", std::env::consts::EXE_SUFFIX))
}

/// The `povd` binary, built if this `cargo test` did not build it.
fn ensure_povd() -> PathBuf {
    let path = povd_path();
    if path.exists() {
        return path;
    }
    let profile_dir = path.parent().expect("profile dir");
    let target_dir = profile_dir.parent().expect("target dir");
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace");
    let mut cmd = Command::new(option_env!("CARGO").unwrap_or("cargo"));
    cmd.args(["build", "-p", "pov-node", "--bin", "povd"])
        .arg("--target-dir")
        .arg(target_dir)
        .current_dir(workspace);
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        cmd.arg("--release");
    }
    let out = cmd.output().expect("cargo runs");
    assert!(
        out.status.success() && path.exists(),
        "the end-to-end test needs the real node, {}, and building it failed \
         (`cargo build -p pov-node --bin povd`):\n{}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    path
}

/// A running `povd --dev`; killed when dropped (its log printed if the test failed).
struct Devnet {
    child: Child,
    log: PathBuf,
    _dir: tempfile::TempDir,
    url: String,
}

impl Devnet {
    fn start() -> Devnet {
        let povd = ensure_povd();
        let dir = tempfile::tempdir().expect("tempdir");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port();
        let log = dir.path().join("povd.log");
        let log_file = std::fs::File::create(&log).expect("log file");
        let mut cmd = Command::new(&povd);
        for (k, _) in std::env::vars() {
            if k.starts_with("POV_") {
                cmd.env_remove(k); // the test's environment must not configure the node
            }
        }
        let child = cmd
            .arg("--dev")
            .arg("--home")
            .arg(dir.path().join("node"))
            .arg("--api-addr")
            .arg(format!("127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("log"))
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", povd.display()));
        Devnet {
            child,
            log,
            _dir: dir,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until `pov status` answers (through `pov`, like a user would).
    fn wait_ready(&mut self, pov: &Pov) {
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "povd exited with {status} before serving:\n{}",
                    self.log_text()
                );
            }
            let out = pov.run(&["status", "--output", "json"]);
            if out.status.success() {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "povd did not serve {} within 60 s:\n{}",
                self.url,
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Devnet {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- povd log ---\n{}", self.log_text());
        }
    }
}

#[test]
fn devnet_end_to_end_through_pov_alone() {
    let mut devnet = Devnet::start();
    let pov = Pov::with_node(&devnet.url);
    devnet.wait_ready(&pov);
    let outcome = crate::scenario::devnet(&pov);

    // The block that made the reward is a real, final block with a certificate.
    let history = pov.json(&["explain", &outcome.carl.to_string()]);
    let height = history["events"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["rule"] == "contributor-reward"))
        .and_then(|e| e["height"].as_u64())
        .expect("the reward's block");
    let block = pov.json(&["show", "block", &height.to_string()]);
    assert_eq!(block["height"], height);
    assert!(block["certificate"]["signatures"]
        .as_array()
        .is_some_and(|s| !s.is_empty()));
    // The node's state equals the library's once the library is at the node's height too
    // (empty blocks since the last transaction only move the height).
    let status = pov.json(&["status"]);
    let mut state = outcome.state.clone();
    crate::scenario::advance(&mut state, status["height"].as_u64().expect("height"));
    assert_eq!(
        status["state_root"],
        state.state_root().to_string().as_str()
    );
}
