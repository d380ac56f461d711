//! Image commands: `images`, `image ls/inspect/rm/prune/exists/history/save/load/import/tag`,
//! `tag`, `untag`, `rmi`, `history`, `save`, `load`, `import`.

use super::{CmdResult, GlobalOpts};
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum ImageCommand {}

pub fn run(_g: &GlobalOpts, cmd: ImageCommand) -> CmdResult {
    match cmd {}
}
