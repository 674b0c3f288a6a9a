//! The phone library stays small and free of the city's server: `cargo tree -p cityguide-ffi -e normal` must not
//! contain the HTTP server, async runtime, database drivers, mail or password-hashing crates the server uses, nor
//! the publisher, the CLI or the server crates themselves.

use std::process::Command;

#[test]
fn the_phone_library_does_not_depend_on_the_server_stack() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace").to_path_buf();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["tree", "-p", "cityguide-ffi", "-e", "normal", "--prefix", "none", "--locked"])
        .current_dir(&root)
        .output()
        .expect("cargo tree runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let tree = String::from_utf8_lossy(&out.stdout);
    let crates: Vec<&str> = tree.lines().filter_map(|l| l.split_whitespace().next()).collect();
    assert!(crates.contains(&"cityguide-core"), "the tree was read: {tree}");
    for banned in [
        "axum",
        "tokio",
        "tower",
        "tower-http",
        "hyper",
        "sqlx",
        "postgres",
        "tokio-postgres",
        "lettre",
        "argon2",
        "quick-xml",
        "cityguide-server",
        "cityguide-publisher",
        "cityguide-cli",
    ] {
        assert!(!crates.contains(&banned), "the phone library depends on {banned}:\n{tree}");
    }
}
