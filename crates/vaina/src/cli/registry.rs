//! Registry commands: `pull`, `push`, `login`, `logout`, `search`.

use super::{CmdResult, GlobalOpts};
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum RegistryCommand {}

pub fn run(_g: &GlobalOpts, cmd: RegistryCommand) -> CmdResult {
    match cmd {}
}
