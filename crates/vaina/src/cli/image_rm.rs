//! `rmi` / `image rm` and `image prune`, with Podman's report lines and exit codes
//! (1: an image was not known, 2: an image is in use, 125: anything else).

use super::{CmdResult, GlobalOpts};
use clap::Args;
use libvaina::image::remove::RemoveOptions;
use libvaina::image::ImageError;
use std::io::{BufRead, Write};

#[derive(Debug, Args)]
pub struct RmArgs {
    /// Remove all images
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Force Removal of the image
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Ignore errors if a specified image does not exist
    #[arg(short = 'i', long)]
    pub ignore: bool,
    /// Do not remove dangling parent images (vaina images have no parents; accepted)
    #[arg(long)]
    pub no_prune: bool,
    /// Images to remove
    pub images: Vec<String>,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Remove all images not in use by containers, not just dangling ones
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Provide filter values (e.g. 'label=<key>=<value>')
    #[arg(long = "filter")]
    pub filter: Vec<String>,
    /// Do not prompt for confirmation
    #[arg(short = 'f', long)]
    pub force: bool,
}

/// An error that exits with a specific code (mapped in `main`).
#[derive(Debug)]
pub struct CodedError {
    pub code: i32,
    pub error: anyhow::Error,
}

impl std::fmt::Display for CodedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.error)
    }
}

impl std::error::Error for CodedError {}

fn rm_code(e: &libvaina::Error) -> i32 {
    match e {
        libvaina::Error::Image(ImageError::NotFound(_)) => 1,
        libvaina::Error::Image(ImageError::InUse { .. }) => 2,
        _ => 125,
    }
}

pub fn rmi(g: &GlobalOpts, a: RmArgs) -> CmdResult {
    if a.all && !a.images.is_empty() {
        anyhow::bail!("when using the --all switch, you may not pass any images names or IDs");
    }
    if !a.all && a.images.is_empty() {
        anyhow::bail!("image name or ID must be specified");
    }
    let mut engine = g.engine()?;
    let report = engine.remove_images(
        &a.images,
        &RemoveOptions {
            force: a.force,
            all: a.all,
            ignore: a.ignore,
        },
    )?;
    let mut out = String::new();
    for u in &report.untagged {
        out.push_str(&format!("Untagged: {u}\n"));
    }
    for d in &report.deleted {
        out.push_str(&format!("Deleted: {d}\n"));
    }
    print!("{out}");
    let _ = std::io::stdout().flush();
    let mut errors = report.errors;
    let Some(last) = errors.pop() else {
        return Ok(0);
    };
    // Podman's rule: any unknown image makes it 1, any image in use 2, else 125.
    let mut code = 125;
    for e in errors.iter().chain(std::iter::once(&last)) {
        match rm_code(e) {
            125 => {}
            c => code = c,
        }
    }
    for e in &errors {
        eprintln!("Error: {e}");
    }
    Err(CodedError {
        code,
        error: last.into(),
    }
    .into())
}

pub fn prune(g: &GlobalOpts, a: PruneArgs) -> CmdResult {
    if !a.force {
        let what = if a.all {
            "WARNING! This command removes all images without at least one container associated with them."
        } else {
            "WARNING! This command removes all dangling images."
        };
        print!("{what}\nAre you sure you want to continue? [y/N] ");
        let _ = std::io::stdout().flush();
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        if !matches!(line.trim(), "y" | "Y" | "yes" | "Yes") {
            return Ok(0);
        }
    }
    let mut engine = g.engine()?;
    let removed = engine.prune_images(a.all, &a.filter)?;
    let mut out = String::new();
    for id in removed {
        out.push_str(&id);
        out.push('\n');
    }
    print!("{out}");
    Ok(0)
}
