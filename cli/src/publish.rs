//! `cityguide keygen` and `cityguide publish`: a culture department's signing key and its published site (the work is
//! done by `cityguide_publisher::publish`).

use std::path::Path;

pub use cityguide_publisher::publish::Published;
use cityguide_publisher::signing::SigningKeyPair;

fn write_key(path: &Path, text: &str) -> Result<(), String> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// `cityguide keygen -o FILE`.
pub fn keygen(out: &Path, force: bool) -> Result<(), String> {
    if out.exists() && !force {
        return Err(format!(
            "{} exists; refusing to overwrite a signing key (pass --force to replace it)",
            out.display()
        ));
    }
    let pair = SigningKeyPair::generate();
    write_key(out, &pair.to_file_text())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(out, std::fs::Permissions::from_mode(0o600));
    }
    println!("wrote the signing key to {} (keep it secret and backed up)", out.display());
    println!("public key for the apps: {}", pair.public());
    Ok(())
}

/// Parses `30d`, `12h`, `90m` or a number of seconds.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num.parse().map_err(|_| format!("{s:?} is not a duration like 30d, 12h or 3600"))?;
    let mult = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{s:?}: use d, h, m or s")),
    };
    Ok(n * mult)
}

/// `cityguide publish --source DIR --site SITE --key KEY [--expires 30d]`.
pub fn publish(
    source: &Path,
    site: &Path,
    key_file: &Path,
    endorse: &[String],
    expires_in: i64,
    now: i64,
) -> Result<Published, String> {
    let key_text =
        std::fs::read_to_string(key_file).map_err(|e| format!("cannot read the key {}: {e}", key_file.display()))?;
    let key = SigningKeyPair::from_file_text(&key_text).map_err(|e| format!("{}: {e}", key_file.display()))?;
    let endorse = endorse
        .iter()
        .map(|k| k.parse().map_err(|e| format!("--endorse-key {k:?}: {e}")))
        .collect::<Result<Vec<_>, String>>()?;
    cityguide_publisher::publish::publish(source, site, &key, &endorse, expires_in, now)
}
