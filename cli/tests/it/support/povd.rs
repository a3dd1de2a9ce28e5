//! A real `povd --dev` for the node-facing tests: a child process on a free port, in its own
//! temporary home, killed when dropped (its log printed if the test failed).
//!
//! `povd` is looked up next to the `pov` binary (`target/<profile>/povd`). Cargo builds only
//! this package's binaries for its tests, so when it is missing it is built with
//! `cargo build -p pov-node --bin povd` into the same target directory and profile; if that
//! fails the test fails and says why. A test never passes without running the real node.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::Pov;

fn povd_path() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_pov"))
        .with_file_name(format!("povd{}", std::env::consts::EXE_SUFFIX))
}

/// The `povd` binary, built once if this `cargo test` did not build it.
fn ensure_povd() -> PathBuf {
    static BUILD: Mutex<()> = Mutex::new(());
    let _one_build_at_a_time = BUILD.lock().unwrap_or_else(|e| e.into_inner());
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
        "the node-facing tests need the real node, {}, and building it failed \
         (`cargo build -p pov-node --bin povd`):\n{}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    path
}

/// A running `povd --dev` serving the development genesis from height 0.
pub struct DevNode {
    child: Child,
    log: PathBuf,
    _dir: tempfile::TempDir,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl DevNode {
    /// Starts a fresh dev node and waits until its API answers (through `pov status`, as a
    /// user would).
    pub fn start() -> DevNode {
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
        let mut node = DevNode {
            child,
            log,
            _dir: dir,
            url: format!("http://127.0.0.1:{port}"),
        };
        node.wait_ready();
        node
    }

    /// The node's log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn wait_ready(&mut self) {
        let pov = Pov::with_node(&self.url);
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "povd exited with {status} before serving:\n{}",
                    self.log_text()
                );
            }
            if pov.run(&["status", "--output", "json"]).status.success() {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "povd did not serve {} within 60 s:\n{}",
                self.url,
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for DevNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- povd log ---\n{}", self.log_text());
        }
    }
}
