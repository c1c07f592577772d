//! nzpir-sandbox: a local emulator of Inland Revenue's PIR gateway.
