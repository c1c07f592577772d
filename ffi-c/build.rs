//! Gives the shared library its SONAME. Cargo names the file
//! `libnzpir_ffi.so`; it is installed as `libnzpir.so.X.Y.Z` (scripts/install-c.sh,
//! scripts/dist.sh), and programs linked against it record the SONAME, so
//! they load any build with the same ABI line.
//!
//! The SONAME follows cargo-c's rule: `libnzpir.so.MAJOR` from 1.0 on, and
//! `libnzpir.so.0.MINOR` before it, when a minor release may change the ABI.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_default();
    let minor = std::env::var("CARGO_PKG_VERSION_MINOR").unwrap_or_default();
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if ![
        "linux",
        "android",
        "freebsd",
        "netbsd",
        "openbsd",
        "dragonfly",
    ]
    .contains(&target_os.as_str())
    {
        return; // macOS uses install names, Windows none: see docs/RELEASING.md
    }
    let soname = if major == "0" {
        format!("libnzpir.so.0.{minor}")
    } else {
        format!("libnzpir.so.{major}")
    };
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{soname}");
}
