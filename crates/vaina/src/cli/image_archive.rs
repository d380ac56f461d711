//! `save` and `load`: docker-archive, oci-archive and oci-dir, to and from files or stdio.

use super::{CmdResult, GlobalOpts};
use anyhow::Context;
use clap::Args;
use libvaina::image::archive::{ArchiveFormat, LoadSource};
use std::io::{IsTerminal, Write};

#[derive(Debug, Args)]
pub struct SaveArgs {
    /// Save image to oci-archive, oci-dir (directory with oci manifest type), docker-archive
    #[arg(long, default_value = "docker-archive")]
    pub format: String,
    /// Write to a specified file (default: stdout, which must be redirected)
    #[arg(short = 'o', long)]
    pub output: Option<String>,
    /// Interpret additional arguments as images not tags and create a multi-image-archive (only for docker-archive)
    #[arg(short = 'm', long)]
    pub multi_image_archive: bool,
    /// Suppress the output
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Compress tarball image layers when saving to a directory using the 'dir' transport
    #[arg(long)]
    pub compress: bool,
    /// Accept uncompressed layers when copying OCI images (layers are saved as stored; accepted)
    #[arg(long)]
    pub uncompressed: bool,
    /// Images to save
    #[arg(required = true)]
    pub images: Vec<String>,
}

#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Load image from specified file or directory (default: stdin)
    #[arg(short = 'i', long)]
    pub input: Option<String>,
    /// Suppress the output
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

pub fn save(g: &GlobalOpts, a: SaveArgs) -> CmdResult {
    let format: ArchiveFormat = a.format.parse().map_err(libvaina::Error::from)?;
    let engine = g.engine()?;
    match (format, a.output.as_deref()) {
        (ArchiveFormat::OciDir, Some(dir)) => {
            engine.save_images_to_dir(&a.images, std::path::Path::new(dir))?
        }
        (ArchiveFormat::OciDir, None) => anyhow::bail!("--format oci-dir needs -o DIRECTORY"),
        (_, Some(path)) if path != "-" && path != "/dev/stdout" => {
            let dir = std::path::Path::new(path)
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."));
            // Written to a temp file and renamed, so a failed save leaves no half archive.
            let mut tmp = tempfile::Builder::new()
                .prefix(".vaina-save-")
                .tempfile_in(dir)
                .with_context(|| dir.display().to_string())?;
            {
                let mut w = std::io::BufWriter::new(tmp.as_file_mut());
                engine.save_images_to(&a.images, format, &mut w)?;
                w.flush().with_context(|| path.to_string())?;
            }
            tmp.persist(path).with_context(|| path.to_string())?;
        }
        _ => {
            let stdout = std::io::stdout();
            if stdout.is_terminal() {
                anyhow::bail!("refusing to save to terminal. Use -o flag or redirect");
            }
            let mut w = std::io::BufWriter::new(stdout.lock());
            engine.save_images_to(&a.images, format, &mut w)?;
            w.flush()?;
        }
    }
    Ok(0)
}

pub fn load(g: &GlobalOpts, a: LoadArgs) -> CmdResult {
    let mut engine = g.engine()?;
    let names = match a.input.as_deref() {
        Some(p) if std::path::Path::new(p).is_dir() => {
            engine.load_images(LoadSource::Dir(p.into()))?
        }
        Some(p) if p != "-" => {
            let mut f = std::fs::File::open(p).with_context(|| p.to_string())?;
            engine.load_images(LoadSource::Stream(&mut f))?
        }
        _ => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                anyhow::bail!(
                    "cannot read from terminal, use command-line redirection or the --input flag"
                );
            }
            let mut lock = stdin.lock();
            engine.load_images(LoadSource::Stream(&mut lock))?
        }
    };
    let mut out = String::new();
    for n in names {
        out.push_str(&format!("Loaded image: {n}\n"));
    }
    print!("{out}");
    Ok(0)
}
