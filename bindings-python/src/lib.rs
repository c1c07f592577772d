//! Python bindings for nzpir: the private `nzpir._native` module, re-exported
//! by the pure-Python `nzpir` package.
//!
//! Thin by design: arguments are converted (`convert`), the core does the work
//! with the GIL released, and its errors become the one exception tree
//! (`errors`). Library logs go to Python's `logging` under the `nzpir` logger.

mod bulk;
mod client;
mod convert;
mod errors;
mod estimate;
mod ird;
mod jwt;
mod oauth;
mod sandbox;

use pyo3::prelude::*;

/// Routes the core's `log` records (target `nzpir` and below) to Python's
/// `logging`. Logger objects are cached, levels are not, so `logging`
/// configured after import is honoured. Other crates are not forwarded: not
/// rustls, not the sandbox's server threads (which so never take the GIL),
/// and never the HTTP library's raw wire dumps (`WithoutWireDumps` makes sure
/// of that even if the filter is widened one day).
fn install_logging(py: Python<'_>) -> PyResult<()> {
    let logger = pyo3_log::Logger::new(py, pyo3_log::Caching::Loggers)?
        .filter(log::LevelFilter::Off)
        .filter_target("nzpir".to_owned(), log::LevelFilter::Trace);
    // Another extension in the process may have installed a `log` logger
    // first; nzpir then logs through it instead.
    if log::set_boxed_logger(Box::new(nzpir::logging::WithoutWireDumps::new(logger))).is_ok() {
        log::set_max_level(log::LevelFilter::Trace);
    }
    Ok(())
}

/// The native part of the `nzpir` package. Import `nzpir`, not this module.
#[pymodule(gil_used = false)]
mod _native {
    use pyo3::prelude::*;

    #[pymodule_export]
    use crate::bulk::{BatchProgress, LookupManyIterator};
    #[pymodule_export]
    use crate::client::{Address, Client, DoctorCheck, LookupResult, Name, doctor};
    #[pymodule_export]
    use crate::estimate::{PirEstimate, estimate_pir};
    #[pymodule_export]
    use crate::ird::{is_valid_ird, normalise_ird, normalize_ird, valid_irds};
    #[pymodule_export]
    use crate::jwt::mint_jwt;
    #[pymodule_export]
    use crate::oauth::{AuthorizationRequest, OAuth, TokenSet};
    #[pymodule_export]
    use crate::sandbox::Sandbox;

    /// Called by `os.register_at_fork(after_in_child=...)` (set up by the
    /// `nzpir` package): every client opens new connections and reads its
    /// OAuth tokens again from the store before its next call in the child.
    #[pyfunction]
    fn _after_fork_in_child() {
        nzpir::fork::after_fork_in_child();
    }

    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        m.add("__version__", nzpir::VERSION)?;
        crate::errors::register(m)?;
        crate::install_logging(m.py())
    }
}
