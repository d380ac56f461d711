//! The [`Engine`]: one value per command invocation that owns the store paths, the loaded
//! configuration and (opened on first use) the state database.
//!
//! Construction is cheap on purpose: commands like `ps` must not pay for what they do not use.

use crate::config::{self, Mode};
use crate::store::db::Db;
use crate::store::{blobs::BlobStore, StorePaths};
use crate::Result;
use std::cell::OnceCell;
use std::path::PathBuf;

/// Global options, as given by the `vaina` global flags (Podman's names).
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    pub root: Option<PathBuf>,
    pub runroot: Option<PathBuf>,
    pub tmpdir: Option<PathBuf>,
    pub storage_driver: Option<String>,
    pub runtime: Option<String>,
    pub cgroup_manager: Option<String>,
    pub events_backend: Option<String>,
}

/// The engine: every user-visible operation is a method here or on a service it owns.
pub struct Engine {
    pub options: EngineOptions,
    pub mode: Mode,
    pub paths: StorePaths,
    db: OnceCell<Db>,
    driver: OnceCell<crate::store::driver::GraphDriver>,
    /// Configuration files, loaded on first use (`config::engine_config`).
    pub(crate) config: config::ConfigCache,
}

impl Engine {
    /// Builds an engine for the calling user with the given global options.
    pub fn new(options: EngineOptions) -> Result<Self> {
        let mode = Mode::current();
        let (def_root, def_runroot) = config::default_store_paths(mode);
        let paths = StorePaths::new(
            options.root.clone().unwrap_or(def_root),
            options.runroot.clone().unwrap_or(def_runroot),
            options.tmpdir.clone(),
        );
        Ok(Engine {
            options,
            mode,
            paths,
            db: OnceCell::new(),
            driver: OnceCell::new(),
            config: config::ConfigCache::default(),
        })
    }

    /// The state database, opened (and the store directories created) on first use.
    pub fn db(&self) -> Result<&Db> {
        if let Some(db) = self.db.get() {
            return Ok(db);
        }
        self.paths.ensure()?;
        // A driver asked for by flag or environment must be the store's (Podman checks this
        // whenever it opens its database).
        if crate::store::driver::explicit(self.options.storage_driver.as_deref()).is_some() {
            self.graph_driver()?;
        }
        let db = Db::open(&self.paths.db())?;
        Ok(self.db.get_or_init(|| db))
    }

    /// The state database for writing (transactions need `&mut`).
    pub fn db_mut(&mut self) -> Result<&mut Db> {
        self.db()?;
        Ok(self.db.get_mut().expect("opened above"))
    }

    /// The store's graph driver, chosen and recorded on first use ([`crate::store::driver`]).
    pub fn graph_driver(&self) -> Result<crate::store::driver::GraphDriver> {
        if let Some(d) = self.driver.get() {
            return Ok(*d);
        }
        self.paths.ensure()?;
        let d = crate::store::driver::select(
            &self.paths,
            self.options.storage_driver.as_deref(),
            self.mode,
        )?;
        Ok(*self.driver.get_or_init(|| d))
    }

    /// The OCI layout holding every blob.
    pub fn blobs(&self) -> Result<BlobStore> {
        Ok(BlobStore::open(&self.paths.oci_layout())?)
    }
}
