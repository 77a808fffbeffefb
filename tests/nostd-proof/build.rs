//! No C runtime start files: the binary brings its own `_start`.
//! Link args live here, not in RUSTFLAGS (a RUSTFLAGS variable would not
//! replace them, but `cargo:rustc-link-arg-bins` keeps them scoped to this binary).
fn main() {
    println!("cargo:rustc-link-arg-bins=-nostartfiles");
    println!("cargo:rerun-if-changed=build.rs");
}
