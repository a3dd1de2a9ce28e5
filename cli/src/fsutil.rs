//! Writing files so that an interrupted `pov` never leaves half a key or half a genesis.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

/// Writes `bytes` to `path` through a temporary file in the same directory that is synced
/// and then renamed over `path`; on Unix the file gets permission bits `mode` from the
/// moment it exists (a key file is never readable by others, not even briefly).
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    // An unpredictable name, created exclusively: a file or symlink planted at a guessable
    // name by someone who can write to the directory is never opened or followed (the
    // key would otherwise go where they chose, with their file's permissions).
    let mut nonce = [0u8; 8];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut nonce);
    let tmp = dir.join(format!(".{name}.tmp-{}", hex::encode(nonce)));
    let result = (|| -> std::io::Result<()> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(mode);
        }
        #[cfg(not(unix))]
        let _ = mode;
        let mut file = options.open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(|| format!("writing {}", path.display()))
}

/// Creates a directory only its owner may enter (the keystore).
pub fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("restricting {} to its owner", dir.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(unix)]
    fn a_symlink_planted_at_the_old_predictable_temp_name_is_not_followed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let elsewhere = dir.path().join("attacker-owned");
        std::fs::write(&elsewhere, b"untouched").expect("write");
        let key = dir.path().join("alice.key");
        // The name the previous version used: `.NAME.tmp-PID`.
        let planted = dir
            .path()
            .join(format!(".alice.key.tmp-{}", std::process::id()));
        std::os::unix::fs::symlink(&elsewhere, &planted).expect("symlink");
        write_atomic(&key, b"secret", 0o600).expect("written");
        assert_eq!(std::fs::read(&elsewhere).expect("read"), b"untouched");
        assert_eq!(std::fs::read(&key).expect("read"), b"secret");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        // No temporary file is left behind.
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".tmp-") && !n.ends_with(&std::process::id().to_string()))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }
}
