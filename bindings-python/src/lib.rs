//! Python bindings for nzpir: the private `nzpir._native` module.
use pyo3::prelude::*;

#[pymodule]
mod _native {
    use pyo3::prelude::*;

    /// The library version.
    #[pyfunction]
    fn version() -> &'static str {
        nzpir::VERSION
    }
}
