//! Completions, help, configuration, and the JSON error contract.

use crate::support::{pov, Pov};

#[test]
fn completions_for_bash_zsh_and_fish() {
    for (shell, marker) in [
        ("bash", "complete -F _pov"),
        ("zsh", "#compdef pov"),
        ("fish", "complete -c pov"),
    ] {
        let out = pov().args(["completions", shell]).output().expect("runs");
        assert!(out.status.success(), "{shell}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(marker), "{shell}: {marker} not in script");
        for cmd in ["contribute", "evaluate", "explain", "add-member"] {
            assert!(text.contains(cmd), "{shell}: {cmd} not completed");
        }
    }
    let out = pov().args(["completions", "tcsh"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn help_shows_an_example_and_the_exit_codes() {
    let out = pov().args(["evaluate", "--help"]).output().expect("runs");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Example:\n  pov evaluate 0 4 --from alice"),
        "{text}"
    );
    let out = pov().args(["--help"]).output().expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("6 transaction rejected"), "{text}");
}

#[test]
fn usage_errors_exit_2_and_are_json_when_asked() {
    let out = pov().args(["evaluate"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let out = pov()
        .args(["evaluate", "--output", "json"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(v["error"]["code"], "usage");
    let message = v["error"]["message"].as_str().expect("message");
    assert!(
        message.contains("required") && message.contains("<CONTRIBUTION>"),
        "{message}"
    );
}

#[test]
fn config_file_and_precedence() {
    let pov = Pov::new();
    let path = pov.ok(&["config", "path"]);
    assert_eq!(path.trim(), pov.path("config.toml").display().to_string());
    let shown = pov.json(&["config", "show"]);
    assert_eq!(shown["settings"]["node"]["value"], "http://127.0.0.1:7070");
    assert_eq!(shown["settings"]["node"]["source"], "default");

    pov.ok(&["config", "set", "node", "10.0.0.5:7070"]);
    pov.ok(&["config", "set", "output", "json"]);
    // output = json in the file: no --output needed any more.
    let shown: serde_json::Value =
        serde_json::from_str(&pov.ok(&["config", "show"])).expect("json by config");
    assert_eq!(shown["settings"]["node"]["value"], "http://10.0.0.5:7070");
    assert_eq!(shown["settings"]["node"]["source"], "config file");
    // The environment beats the file, the flag beats both.
    let out = pov
        .cmd()
        .args(["config", "show"])
        .env("POV_NODE", "http://127.0.0.2:1")
        .output()
        .expect("runs");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["settings"]["node"]["value"], "http://127.0.0.2:1");
    let text = pov.ok(&[
        "config",
        "show",
        "--output",
        "text",
        "--node",
        "http://127.0.0.3:1",
    ]);
    let line = text
        .lines()
        .find(|l| l.starts_with("node "))
        .expect("node line");
    assert!(
        line.contains("http://127.0.0.3:1") && line.ends_with("flag/env"),
        "{text}"
    );

    pov.fails(3, &["config", "set", "output", "yaml"]);
    pov.fails(3, &["config", "set", "colour", "blue"]);
    pov.ok(&["config", "unset", "output"]);
    assert!(pov.ok(&["config", "show"]).starts_with("config file:"));

    // A broken config file is an error naming it, in every command.
    std::fs::write(pov.path("config.toml"), "nod = 1\n").expect("write");
    let (_, err) = pov.fails(3, &["keys", "list"]);
    assert!(err.contains("config.toml") && err.contains("nod"), "{err}");
}

#[test]
fn simulate_check_in_json() {
    let file = format!(
        "{}/../protocol/tests/vectors/median-examples.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let out = pov()
        .args(["simulate", &file, "--check", "--output", "json"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["ok"], true);
    assert_eq!(v["vectors"], 8);
}

#[test]
fn devnet_init_writes_one_home_per_validator() {
    let pov = Pov::new();
    let dir = pov.path("devnet");
    let dir_arg = dir.display().to_string();
    let manifest = pov.json(&[
        "devnet",
        "init",
        "--validators",
        "3",
        "--dir",
        &dir_arg,
        "--p2p-port",
        "36656",
        "--api-port",
        "17070",
    ]);
    let nodes = manifest["nodes"].as_array().expect("nodes");
    assert_eq!(nodes.len(), 3);
    assert_eq!(nodes[2]["api"], "http://127.0.0.1:17072");
    for i in 0..3 {
        let home = dir.join(format!("node{i}"));
        for file in ["genesis.toml", "config.toml", "validator.key", "node.key"] {
            assert!(home.join(file).is_file(), "node{i}/{file}");
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(home.join("validator.key"))
                .expect("key")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
    let text = std::fs::read_to_string(dir.join("node0/genesis.toml")).expect("genesis");
    let genesis = pov_protocol::genesis::Genesis::from_toml(&text).expect("valid genesis");
    assert_eq!(genesis.validators.len(), 3);
    assert_eq!(
        manifest["genesis_hash"],
        genesis.hash().to_string().as_str()
    );
    pov.fails(3, &["devnet", "init", "--dir", &dir_arg]); // not empty
}
