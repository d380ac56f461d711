//! Validated options of `create`/`run`: what the flags and containers.conf say a container
//! should be, independent of the command line (the REST API builds the same struct).

use std::collections::BTreeMap;

/// Everything needed to create a container besides the image.
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    /// `--name`; generated (adjective_noun) when `None`.
    pub name: Option<String>,
    /// `--entrypoint`, already split; `Some(vec![])` clears the image's entrypoint.
    pub entrypoint: Option<Vec<String>>,
    /// The command after the image name; empty means the image's CMD.
    pub command: Vec<String>,
    /// Environment set by `-e`, `--env-file`, `--env-host` (merged over the image's).
    pub env: BTreeMap<String, String>,
    /// `-w`.
    pub workdir: Option<String>,
    /// `-u user[:group]`, unresolved.
    pub user: Option<String>,
    /// `--hostname`.
    pub hostname: Option<String>,
    /// `-t`.
    pub tty: bool,
    /// `-i`.
    pub interactive: bool,
    /// `--rm`.
    pub remove: bool,
    /// `--label`.
    pub labels: BTreeMap<String, String>,
    /// `--annotation`.
    pub annotations: BTreeMap<String, String>,
}
