//! Running the real `pov` binary in a sandbox: its own `POV_HOME` (so no test ever reads or
//! writes the real home), no `POV_*` variable from the caller's environment, stdin closed
//! (so nothing can wait on a prompt).

#![allow(dead_code)]

pub mod povd;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// A passphrase tests use for the keys they create.
pub const PASSPHRASE: &str = "test passphrase, not secret";

/// A `pov` command with a home shared by the tests that need no home of their own.
pub fn pov() -> Command {
    static HOME: OnceLock<tempfile::TempDir> = OnceLock::new();
    let home = HOME.get_or_init(|| tempfile::tempdir().expect("tempdir"));
    command(home.path())
}

fn command(home: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pov"));
    for (k, _) in std::env::vars() {
        if k.starts_with("POV_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("POV_HOME", home).stdin(Stdio::null());
    cmd
}

/// One sandboxed user of `pov`: a home directory, and optionally a node URL.
pub struct Pov {
    /// The home (config.toml, keys/).
    pub home: tempfile::TempDir,
    /// `POV_NODE`, if set.
    pub node: Option<String>,
    /// `POV_PASSPHRASE`, if set.
    pub passphrase: Option<String>,
    /// Working directory for relative paths (genesis.toml).
    pub cwd: PathBuf,
}

impl Pov {
    /// A fresh home with `PASSPHRASE` as the passphrase.
    pub fn new() -> Pov {
        let home = tempfile::tempdir().expect("tempdir");
        let cwd = home.path().to_path_buf();
        Pov {
            home,
            node: None,
            passphrase: Some(PASSPHRASE.to_string()),
            cwd,
        }
    }

    /// The same, talking to `url`.
    pub fn with_node(url: &str) -> Pov {
        Pov {
            node: Some(url.to_string()),
            ..Pov::new()
        }
    }

    /// A command in this sandbox.
    pub fn cmd(&self) -> Command {
        let mut cmd = command(self.home.path());
        cmd.current_dir(&self.cwd);
        if let Some(n) = &self.node {
            cmd.env("POV_NODE", n);
        }
        if let Some(p) = &self.passphrase {
            cmd.env("POV_PASSPHRASE", p);
        }
        cmd
    }

    /// Runs `pov ARGS`.
    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().expect("pov runs")
    }

    /// Runs `pov ARGS`, asserts success, returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "pov {args:?} exited {:?}\nstdout: {}\nstderr: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    }

    /// Runs `pov ARGS --output json`, asserts success, returns the one JSON object.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = args.to_vec();
        all.extend(["--output", "json"]);
        let text = self.ok(&all);
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("pov {args:?}: not one JSON object ({e}): {text}"))
    }

    /// Runs `pov ARGS`, asserts the exit code, returns (stdout, stderr).
    pub fn fails(&self, code: i32, args: &[&str]) -> (String, String) {
        let out = self.run(args);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(
            out.status.code(),
            Some(code),
            "pov {args:?}\nstdout: {stdout}\nstderr: {stderr}"
        );
        (stdout, stderr)
    }

    /// A path inside the home.
    pub fn path(&self, name: &str) -> PathBuf {
        self.home.path().join(name)
    }
}

/// A JSON amount (a decimal string) as an exact amount.
pub fn amount(v: &serde_json::Value) -> pov_protocol::Amount {
    match v {
        serde_json::Value::String(s) => s.parse().expect("amount string"),
        serde_json::Value::Number(n) => n.to_string().parse().expect("amount number"),
        other => panic!("not an amount: {other}"),
    }
}
