//! `import`: a root filesystem tarball (file or `-` for stdin) becomes an image.

use super::{CmdResult, GlobalOpts};
use anyhow::Context;
use clap::Args;
use libvaina::image::import::ImportOptions;

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Apply the following possible instructions to the created image (default []): CMD | ENTRYPOINT | ENV | EXPOSE | LABEL | ONBUILD | STOPSIGNAL | USER | VOLUME | WORKDIR
    #[arg(short = 'c', long = "change")]
    pub change: Vec<String>,
    /// Set commit message for imported image
    #[arg(short = 'm', long)]
    pub message: Option<String>,
    /// Suppress output
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Set the OS of the imported image
    #[arg(long)]
    pub os: Option<String>,
    /// Set the architecture of the imported image
    #[arg(long)]
    pub arch: Option<String>,
    /// Set the variant of the imported image
    #[arg(long)]
    pub variant: Option<String>,
    /// Path of the tarball, or - for stdin
    pub path: String,
    /// Name of the new image
    pub reference: Option<String>,
}

pub fn run(g: &GlobalOpts, a: ImportArgs) -> CmdResult {
    let mut engine = g.engine()?;
    let mut opts = ImportOptions {
        changes: a.change,
        message: a.message,
        reference: a.reference,
        created: None,
        os: a.os,
        arch: a.arch,
        variant: a.variant,
    };
    let rec = if a.path == "-" {
        let stdin = std::io::stdin();
        let mut lock = stdin.lock();
        engine.import_image(&mut lock, &opts)?
    } else {
        if a.path.starts_with("http://") || a.path.starts_with("https://") {
            anyhow::bail!("importing from a URL is not supported: {}", a.path);
        }
        let mut f = std::fs::File::open(&a.path).with_context(|| a.path.clone())?;
        opts.created = f.metadata().and_then(|m| m.modified()).ok();
        engine.import_image(&mut f, &opts)?
    };
    println!("sha256:{}", rec.id);
    Ok(0)
}
