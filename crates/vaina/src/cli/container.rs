//! Container commands: `run`, `create`, `start`, `stop`, `ps`, `exec`, `logs`, ... and the
//! generic `inspect`.

use super::{CmdResult, GlobalOpts};
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum ContainerCommand {}

pub fn run(_g: &GlobalOpts, cmd: ContainerCommand) -> CmdResult {
    match cmd {}
}
