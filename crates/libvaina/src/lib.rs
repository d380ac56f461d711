//! libvaina is the vaina container engine as a library: the role libpod plays for Podman.
//!
//! Every user-visible operation is a method on [`Engine`] or on a domain service it owns. The
//! library never prints: it returns data and reports progress through callbacks, so the `vaina`
//! CLI today and a REST API later are two front ends on the same calls.
//!
//! Map of the modules (each opens with a paragraph on its role and its neighbours):
//! - [`config`]: containers.conf, registries.conf, policy.json, auth.json and per-user paths
//! - [`reference`]: image reference grammar, normalisation, short-name resolution
//! - [`registry`]: OCI distribution client (pull, push, auth, mirrors, platforms)
//! - [`store`]: state database, content-addressed blobs, unpacked layers, locks
//! - [`image`]: image records, tags, save/load/import, history, prune
//! - [`container`]: spec generation, lifecycle, exec sessions, logs
//! - [`runtime`]: the OCI runtime CLI (runc, crun, youki)
//! - [`monitor`]: the per-container monitor (conmon's role), run from the same binary
//! - [`system`]: `version` and `info` reports (host probing)
//! - [`network`]: bridge networks, IPAM, published ports, nftables (rootful)
//! - [`volume`]: named and anonymous volumes (local driver), their use by containers
//! - [`pod`]: pods, their infra container and vaina's own pause program

#![recursion_limit = "256"]

pub mod config;
pub mod container;
pub mod digest;
pub mod engine;
pub mod error;
pub mod image;
pub mod monitor;
pub mod network;
pub mod pod;
pub mod reference;
pub mod registry;
pub mod runtime;
pub mod store;
pub mod system;
pub mod volume;

pub use engine::{Engine, EngineOptions};
pub use error::{Error, Result};
