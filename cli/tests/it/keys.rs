//! `pov keys` through the real binary: the keystore's life cycle, its files, its errors.

use std::io::Write;
use std::process::Stdio;

use crate::support::Pov;

#[test]
fn new_list_show_export_import_delete() {
    let pov = Pov::new();
    let created = pov.json(&["keys", "new", "carl"]);
    let address = created["address"].as_str().expect("address").to_string();
    assert_eq!(created["public_key"], address.as_str());
    let file = pov.path("keys/carl.json");
    assert_eq!(created["file"], file.display().to_string().as_str());

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file)
            .expect("key file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    let text = std::fs::read_to_string(&file).expect("read");
    assert!(text.contains("argon2id") && text.contains("xchacha20poly1305"));

    let list = pov.ok(&["keys", "list"]);
    assert!(list.starts_with("NAME"), "{list}");
    assert!(
        list.contains(&format!("carl  {address}  encrypted")),
        "{list}"
    );
    let shown = pov.ok(&["keys", "show", "carl"]);
    assert!(shown.contains(&format!("address     {address}")), "{shown}");

    // Export, then import the secret under another name through a pipe.
    let secret = pov.ok(&["keys", "export", "carl"]);
    assert_eq!(secret.trim().len(), 64);
    let mut child = pov
        .cmd()
        .args(["keys", "import", "carl2", "--output", "json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(secret.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("import");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("already in the keystore as \"carl\""));
    let imported: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(imported["address"], address.as_str());

    // From a file too, with the passphrase from a file.
    let secret_file = pov.path("secret.txt");
    std::fs::write(&secret_file, &secret).expect("write");
    let pass_file = pov.path("pass.txt");
    std::fs::write(&pass_file, "from a file\n").expect("write");
    let mut no_env = Pov::new();
    no_env.passphrase = None;
    let secret_arg = secret_file.display().to_string();
    let pass_arg = pass_file.display().to_string();
    no_env.ok(&[
        "keys",
        "import",
        "c",
        "--secret-file",
        &secret_arg,
        "--passphrase-file",
        &pass_arg,
    ]);
    assert_eq!(
        no_env.ok(&["keys", "export", "c", "--passphrase-file", &pass_arg]),
        secret
    );

    pov.fails(3, &["keys", "delete", "carl2"]); // not interactive, no --yes
    let deleted = pov.json(&["keys", "delete", "carl2", "--yes"]);
    assert_eq!(deleted["deleted"], true);
    let list = pov.json(&["keys", "list"]);
    assert_eq!(list["keys"].as_array().map(Vec::len), Some(1));
}

#[test]
fn key_errors_exit_7_and_never_panic() {
    let pov = Pov::new();
    pov.ok(&["keys", "new", "carl"]);
    let (_, err) = pov.fails(7, &["keys", "new", "carl"]);
    assert!(err.contains("already exists"), "{err}");
    let (_, err) = pov.fails(7, &["keys", "show", "nobody"]);
    assert!(err.contains("no key named \"nobody\""), "{err}");
    pov.fails(7, &["keys", "new", "../escape"]);

    let mut wrong = Pov::new();
    wrong.home = pov.home;
    wrong.cwd = wrong.home.path().to_path_buf();
    wrong.passphrase = Some("wrong".into());
    let (out, err) = wrong.fails(7, &["keys", "export", "carl"]);
    assert!(out.is_empty(), "nothing on stdout: {out}");
    assert!(err.contains("wrong passphrase for key \"carl\""), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    let (out, _) = wrong.fails(7, &["keys", "export", "carl", "--output", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON error");
    assert_eq!(v["error"]["code"], "key_error");

    // A tampered file: one changed digit of the ciphertext.
    let path = wrong.path("keys/carl.json");
    let text = std::fs::read_to_string(&path).expect("read");
    let file: serde_json::Value = serde_json::from_str(&text).expect("json");
    let ct = file["cipher"]["ciphertext"].as_str().expect("ct");
    let last = ct.chars().last().expect("digit");
    let changed = format!(
        "{}{}",
        &ct[..ct.len() - 1],
        if last == '0' { '1' } else { '0' }
    );
    std::fs::write(&path, text.replace(ct, &changed)).expect("write");
    wrong.passphrase = Some(crate::support::PASSPHRASE.into());
    let (_, err) = wrong.fails(7, &["keys", "export", "carl"]);
    assert!(err.contains("modified"), "{err}");
    std::fs::write(&path, "{").expect("write");
    let (_, err) = wrong.fails(7, &["keys", "show", "carl"]);
    assert!(err.contains("is damaged"), "{err}");

    // No passphrase anywhere and no terminal: an error, not a hang.
    let mut none = Pov::new();
    none.passphrase = None;
    let (_, err) = none.fails(7, &["keys", "new", "x"]);
    assert!(err.contains("POV_PASSPHRASE"), "{err}");
    none.passphrase = Some(String::new());
    let (_, err) = none.fails(7, &["keys", "new", "x"]);
    assert!(err.contains("empty"), "{err}");
}

#[test]
fn dev_keys_are_explicit_and_marked_insecure() {
    let pov = Pov::new();
    let out = pov.run(&["keys", "add-dev"]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("PUBLIC development keys"), "{err}");
    let list = pov.ok(&["keys", "list"]);
    assert!(list.contains("INSECURE dev key 0"), "{list}");
    let alice = pov.json(&["keys", "show", "alice"]);
    assert_eq!(alice["kind"], "insecure-dev-key");
    assert_eq!(
        alice["address"],
        pov_crypto::Keypair::dev(0).address().to_string().as_str()
    );
    assert!(pov.ok(&["keys", "add-dev"]).contains("already"));
}

/// A key file others can read still unlocks (refusing would lock the owner out), with a
/// warning that names the file and the fix; a private one gives no warning.
#[cfg(unix)]
#[test]
fn a_world_readable_key_file_unlocks_with_a_warning() {
    use std::os::unix::fs::PermissionsExt;
    let pov = Pov::new();
    pov.ok(&["keys", "new", "carl"]);
    let out = pov.run(&["keys", "export", "carl"]);
    assert!(out.status.success());
    let quiet = String::from_utf8_lossy(&out.stderr);
    assert!(!quiet.contains("readable by other users"), "{quiet}");

    let file = pov.path("keys/carl.json");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let out = pov.run(&["keys", "export", "carl"]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim().len(), 64);
    let warned = String::from_utf8_lossy(&out.stderr);
    assert!(
        warned.contains(&format!(
            "warning: {} is readable by other users; run `chmod 600 {}`",
            file.display(),
            file.display()
        )),
        "{warned}"
    );
}
