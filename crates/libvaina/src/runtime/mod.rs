//! The OCI runtime command line (create, start, state, kill, delete, pause, resume, exec,
//! update) of runc, crun or youki, and the choice of a runtime that works on this host.
//!
//! Called by [`crate::monitor`] (create) and [`crate::container`] (everything else).

/// Errors from the OCI runtime.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("{0}")]
    Other(String),
}
