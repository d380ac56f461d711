//! The per-container monitor, conmon's role, run from the vaina binary itself: it creates the
//! container through [`crate::runtime`], holds its terminal or pipes, writes the log, serves
//! attach clients, and records the exit in the store.
