//! The C ABI of nzpir. See `include/nzpir.h`.
