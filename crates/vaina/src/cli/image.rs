//! Image commands: `images`, `image ls/inspect/rm/prune/exists/history/save/load/import/tag/untag`,
//! `tag`, `untag`, `rmi`, `history`, `save`, `load`, `import`.
//!
//! This file holds the command tree, its dispatch and the three one-liners (`tag`, `untag`,
//! `image exists`); each bigger family has its own file (`image_list.rs`, `image_rm.rs`,
//! `image_inspect.rs`, `image_import.rs`, `image_archive.rs`).

use super::image_archive::{self, LoadArgs, SaveArgs};
use super::image_import::{self, ImportArgs};
use super::image_inspect::{self, HistoryArgs, InspectArgs};
use super::image_list::{self, ListArgs};
use super::image_rm::{self, PruneArgs, RmArgs};
use super::{CmdResult, GlobalOpts};
use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// List images in local storage
    Images(ListArgs),
    /// Import a tarball to create a filesystem image
    Import(ImportArgs),
    /// Remove one or more images from local storage
    Rmi(RmArgs),
    /// Add an additional name to a local image
    Tag(TagArgs),
    /// Remove a name from a local image
    Untag(UntagArgs),
    /// Show history of a specified image
    History(HistoryArgs),
    /// Save image(s) to an archive
    Save(SaveArgs),
    /// Load image(s) from a tar archive
    Load(LoadArgs),
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
    /// Remove one or more images from local storage
    Rm(RmArgs),
    /// Remove unused images from local storage
    Prune(PruneArgs),
    /// Display the configuration of an image
    Inspect(InspectArgs),
    /// Check if an image exists in local storage
    Exists(ExistsArgs),
    /// Add an additional name to a local image
    Tag(TagArgs),
    /// Remove a name from a local image
    Untag(UntagArgs),
    /// Show history of a specified image
    History(HistoryArgs),
    /// Save image(s) to an archive
    Save(SaveArgs),
    /// Load image(s) from a tar archive
    Load(LoadArgs),
}

#[derive(Debug, Args)]
pub struct TagArgs {
    /// The image to tag
    pub image: String,
    /// New names
    #[arg(required = true)]
    pub names: Vec<String>,
}

#[derive(Debug, Args)]
pub struct UntagArgs {
    /// The image to untag
    pub image: String,
    /// Names to remove (all when none is given)
    pub names: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ExistsArgs {
    /// The image to look for
    pub image: String,
}

pub fn run(g: &GlobalOpts, cmd: ImageCommand) -> CmdResult {
    match cmd {
        ImageCommand::Images(a) => image_list::run(g, a),
        ImageCommand::Import(a) => image_import::run(g, a),
        ImageCommand::Rmi(a) => image_rm::rmi(g, a),
        ImageCommand::Tag(a) => tag(g, a),
        ImageCommand::Untag(a) => untag(g, a),
        ImageCommand::History(a) => image_inspect::history(g, a),
        ImageCommand::Save(a) => image_archive::save(g, a),
        ImageCommand::Load(a) => image_archive::load(g, a),
        ImageCommand::Image { cmd } => match cmd {
            ImageSubcommand::Ls(a) => image_list::run(g, a),
            ImageSubcommand::Import(a) => image_import::run(g, a),
            ImageSubcommand::Rm(a) => image_rm::rmi(g, a),
            ImageSubcommand::Prune(a) => image_rm::prune(g, a),
            ImageSubcommand::Inspect(a) => image_inspect::inspect(g, a),
            ImageSubcommand::Exists(a) => exists(g, a),
            ImageSubcommand::Tag(a) => tag(g, a),
            ImageSubcommand::Untag(a) => untag(g, a),
            ImageSubcommand::History(a) => image_inspect::history(g, a),
            ImageSubcommand::Save(a) => image_archive::save(g, a),
            ImageSubcommand::Load(a) => image_archive::load(g, a),
        },
    }
}

fn tag(g: &GlobalOpts, a: TagArgs) -> CmdResult {
    g.engine()?.tag_image(&a.image, &a.names)?;
    Ok(0)
}

fn untag(g: &GlobalOpts, a: UntagArgs) -> CmdResult {
    g.engine()?.untag_image(&a.image, &a.names)?;
    Ok(0)
}

/// Exit 0 when the image exists, 1 when it does not (no message), 125 on errors.
fn exists(g: &GlobalOpts, a: ExistsArgs) -> CmdResult {
    match g.engine()?.lookup_image(&a.image) {
        Ok(_) => Ok(0),
        Err(libvaina::Error::Image(libvaina::image::ImageError::NotFound(_))) => Ok(1),
        Err(e) => Err(e.into()),
    }
}
