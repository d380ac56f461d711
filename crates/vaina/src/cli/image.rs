//! Image commands: `images`, `image ls/inspect/rm/prune/exists/history/save/load/import/tag/untag`,
//! `tag`, `untag`, `rmi`, `history`, `save`, `load`, `import`.
//!
//! This file holds the command tree and dispatch; each command family has its own file
//! (`image_list.rs`, `image_import.rs`, ...).

use super::image_import::{self, ImportArgs};
use super::image_list::{self, ListArgs};
use super::{CmdResult, GlobalOpts};
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// List images in local storage
    Images(ListArgs),
    /// Import a tarball to create a filesystem image
    Import(ImportArgs),
    /// Manage images
    Image {
        #[command(subcommand)]
        cmd: ImageSubcommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImageSubcommand {
    /// List images in local storage
    #[command(visible_alias = "list")]
    Ls(ListArgs),
    /// Import a tarball to create a filesystem image
    Import(ImportArgs),
}

pub fn run(g: &GlobalOpts, cmd: ImageCommand) -> CmdResult {
    match cmd {
        ImageCommand::Images(a) => image_list::run(g, a),
        ImageCommand::Import(a) => image_import::run(g, a),
        ImageCommand::Image { cmd } => match cmd {
            ImageSubcommand::Ls(a) => image_list::run(g, a),
            ImageSubcommand::Import(a) => image_import::run(g, a),
        },
    }
}
