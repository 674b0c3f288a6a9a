//! Generates the Kotlin and Swift bindings from the built library (library mode); see scripts/generate.sh.
fn main() {
    uniffi::uniffi_bindgen_main()
}
