//! `version`, `info` (and later `system df/prune/reset`).

use super::{CmdResult, GlobalOpts};
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum SystemCommand {
    /// Display the vaina version information
    Version,
}

pub fn run(_g: &GlobalOpts, cmd: SystemCommand) -> CmdResult {
    match cmd {
        SystemCommand::Version => {
            println!("Version:      {}", env!("CARGO_PKG_VERSION"));
            Ok(0)
        }
    }
}
