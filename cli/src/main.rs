//! The `nzpir` command line.
fn main() {}
