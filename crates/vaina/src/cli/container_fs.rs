//! Container filesystem commands: `mount`, `unmount`/`umount`, `diff`, `export`, `commit` and
//! `cp` (also under `vaina container ...`). Thin glue over libvaina's `container::fs`.

use super::{CmdResult, GlobalOpts};
use clap::{Args, Subcommand};
use libvaina::container::fs::diff::ChangesJson;
use std::io::{IsTerminal, Write};

#[derive(Debug, Subcommand)]
pub enum FsCommand {
    /// Mount a working container's root filesystem
    Mount(MountArgs),
    /// Unmount working container's root filesystem
    #[command(alias = "umount")]
    Unmount(UnmountArgs),
    /// Inspect changes to the container's file systems
    Diff(DiffArgs),
    /// Export container's filesystem contents as a tar archive
    Export(ExportArgs),
    /// Copy files/folders between a container and the local filesystem
    Cp(CpArgs),
    /// Create new image based on the changed container
    Commit(CommitArgs),
}

#[derive(Debug, Args)]
pub struct MountArgs {
    /// Mount all containers
    #[arg(short, long)]
    pub all: bool,
    /// Print the mounted containers in specified format (json)
    #[arg(long)]
    pub format: Option<String>,
    /// Do not truncate output
    #[arg(long)]
    pub no_trunc: bool,
    /// Act on the latest container podman is aware of
    #[arg(short, long)]
    pub latest: bool,
    pub containers: Vec<String>,
}

#[derive(Debug, Args)]
pub struct UnmountArgs {
    /// Unmount all of the currently mounted containers
    #[arg(short, long)]
    pub all: bool,
    /// Force the complete unmount of the specified mounted containers
    #[arg(short, long)]
    pub force: bool,
    /// Act on the latest container podman is aware of
    #[arg(short, long)]
    pub latest: bool,
    pub containers: Vec<String>,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Change the output format (json)
    #[arg(long)]
    pub format: Option<String>,
    /// Act on the latest container podman is aware of
    #[arg(short, long)]
    pub latest: bool,
    pub name: Option<String>,
    /// Compare with this container or image instead of the parent
    pub other: Option<String>,
}

/// The newest container's ID (`-l/--latest`).
fn latest(engine: &libvaina::Engine) -> anyhow::Result<String> {
    engine
        .list_containers()?
        .into_iter()
        .next()
        .map(|c| c.id)
        .ok_or_else(|| anyhow::anyhow!("no containers to act on"))
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Write to a specified file (default: stdout, which must be redirected)
    #[arg(short, long)]
    pub output: Option<String>,
    pub container: String,
}

pub fn run(g: &GlobalOpts, cmd: FsCommand) -> CmdResult {
    match cmd {
        FsCommand::Mount(a) => mount(g, a),
        FsCommand::Unmount(a) => unmount(g, a),
        FsCommand::Diff(a) => diff(g, a),
        FsCommand::Export(a) => export(g, a),
        FsCommand::Cp(a) => cp(g, a),
        FsCommand::Commit(a) => commit(g, a),
    }
}

fn mount(g: &GlobalOpts, mut a: MountArgs) -> CmdResult {
    let engine = g.engine()?;
    if a.latest {
        a.containers.push(latest(&engine)?);
    }
    let mut out = std::io::stdout().lock();
    if a.all {
        for c in engine.list_containers()? {
            let p = engine.mount_container(&c.id)?;
            writeln!(out, "{}  {}", &c.id[..12], p.display())?;
        }
        return Ok(0);
    }
    if a.containers.is_empty() {
        let mounted = engine.mounted_containers()?;
        if a.format.as_deref().map(str::trim) == Some("json") {
            let v: Vec<_> = mounted
                .iter()
                .map(|(r, p)| serde_json::json!({"id": r.id, "Names": [r.name], "mountpoint": p}))
                .collect();
            writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
        } else {
            for (r, p) in mounted {
                let id = if a.no_trunc { &r.id[..] } else { &r.id[..12] };
                writeln!(out, "{id}  {}", p.display())?;
            }
        }
        return Ok(0);
    }
    let mut code = 0;
    for c in &a.containers {
        match engine.mount_container(c) {
            Ok(p) => writeln!(out, "{}", p.display())?,
            Err(e) => {
                eprintln!("Error: {e}");
                code = 125;
            }
        }
    }
    Ok(code)
}

fn unmount(g: &GlobalOpts, mut a: UnmountArgs) -> CmdResult {
    let engine = g.engine()?;
    if a.latest {
        a.containers.push(latest(&engine)?);
    }
    let names: Vec<String> = if a.all {
        engine
            .mounted_containers()?
            .into_iter()
            .map(|(r, _)| r.id)
            .collect()
    } else {
        if a.containers.is_empty() {
            anyhow::bail!("you must provide at least one name or id");
        }
        a.containers.clone()
    };
    let mut code = 0;
    for c in &names {
        match engine.unmount_container(c, a.force || a.all) {
            Ok(id) => println!("{}", if a.all { &id } else { c }),
            Err(e) => {
                eprintln!("Error: {e}");
                code = 125;
            }
        }
    }
    Ok(code)
}

fn diff(g: &GlobalOpts, a: DiffArgs) -> CmdResult {
    let engine = g.engine()?;
    let (name, other) = if a.latest {
        (latest(&engine)?, a.name.clone())
    } else {
        let Some(name) = a.name.clone() else {
            anyhow::bail!("\"podman diff\" requires a name, id, or the \"--latest\" flag");
        };
        (name, a.other.clone())
    };
    let changes = match &other {
        Some(o) => engine.diff_pair(&name, o)?,
        None => engine.diff(&name)?,
    };
    let mut out = std::io::stdout().lock();
    match a.format.as_deref().map(str::trim) {
        Some("json") => {
            let j = ChangesJson::new(&changes);
            super::output::write_json_indented(&mut out, &j, 5)?;
        }
        Some(f) if !f.is_empty() => {
            anyhow::bail!(
                "usage: podman diff --format json CONTAINER|IMAGE: format {f:?} is not supported"
            );
        }
        _ => {
            for c in &changes {
                writeln!(out, "{} {}", c.kind.letter(), c.path)?;
            }
        }
    }
    Ok(0)
}

/// Turns a closed stdout into an EPIPE error instead of a kill by SIGPIPE, so the temporary
/// rootfs mount of `export` and `cp CTR:SRC -` is always released.
fn ignore_sigpipe() {
    // SAFETY: setting SIGPIPE's disposition to ignore; no handler code runs.
    #[allow(unsafe_code)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
}

fn export(g: &GlobalOpts, a: ExportArgs) -> CmdResult {
    ignore_sigpipe();
    let engine = g.engine()?;
    match a.output.as_deref() {
        Some(p) if p != "-" => {
            // Check the container before creating the file.
            engine.lookup_container(&a.container)?;
            let tmp = format!("{p}.vaina-export");
            let mut f = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
            let r = engine.export_container(&a.container, &mut f);
            let r = r.map_err(anyhow::Error::from).and_then(|()| {
                f.flush()?;
                Ok(std::fs::rename(&tmp, p)?)
            });
            if r.is_err() {
                let _ = std::fs::remove_file(&tmp);
            }
            r?;
        }
        _ => {
            if std::io::stdout().is_terminal() {
                anyhow::bail!("refusing to export to terminal. Use -o flag or redirect");
            }
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            engine.export_container(&a.container, &mut out)?;
            out.flush()?;
        }
    }
    Ok(0)
}

#[derive(Debug, Args)]
pub struct CpArgs {
    /// Chown copied files to the primary uid/gid of the destination container.
    #[arg(short, long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub archive: bool,
    /// Allow to overwrite directories with non-directories and vice versa
    #[arg(long)]
    pub overwrite: bool,
    #[arg(value_name = "SRC_PATH")]
    pub src: String,
    #[arg(value_name = "DEST_PATH")]
    pub dst: String,
}

/// Splits `CTR:PATH`; host paths are absolute, relative with `./`, or have no colon.
fn split_ctr(arg: &str) -> Option<(&str, &str)> {
    if arg.starts_with('/') || arg.starts_with('.') {
        return None;
    }
    let (c, p) = arg.split_once(':')?;
    (!c.is_empty() && !c.contains('/')).then_some((c, p))
}

pub fn cp(g: &GlobalOpts, a: CpArgs) -> CmdResult {
    use libvaina::container::fs::cp::{CopySource, CopyTarget, CpOptions};
    let engine = g.engine()?;
    for arg in [&a.src, &a.dst] {
        if let Some((ctr, _)) = split_ctr(arg) {
            if engine.lookup_container(ctr).is_err() {
                anyhow::bail!("container {ctr:?} does not exist");
            }
        }
    }
    let opts = CpOptions {
        archive: a.archive,
        overwrite: a.overwrite,
    };
    match (split_ctr(&a.src), split_ctr(&a.dst)) {
        (Some((from, src)), Some((to, dst))) => {
            let src = if src.is_empty() { "/" } else { src };
            let dst = if dst.is_empty() { "/" } else { dst };
            engine.copy_between_containers(from, src, to, dst, &opts)?;
        }
        (None, None) => anyhow::bail!("name or ID cannot be empty"),
        (None, Some((ctr, path))) => {
            let path = if path.is_empty() { "/" } else { path };
            if a.src == "-" {
                let mut stdin = std::io::stdin().lock();
                engine.copy_into_container(ctr, CopySource::Tar(&mut stdin), path, &opts)?;
            } else {
                let src = std::path::PathBuf::from(&a.src);
                engine.copy_into_container(ctr, CopySource::Host(src), path, &opts)?;
            }
        }
        (Some((ctr, path)), None) => {
            let path = if path.is_empty() { "/" } else { path };
            if a.dst == "-" {
                ignore_sigpipe();
                let mut out = std::io::BufWriter::new(std::io::stdout().lock());
                engine.copy_from_container(ctr, path, CopyTarget::Tar(&mut out), &opts)?;
                out.flush()?;
            } else {
                let dst = std::path::PathBuf::from(&a.dst);
                engine.copy_from_container(ctr, path, CopyTarget::Host(dst), &opts)?;
            }
        }
    }
    Ok(0)
}

#[derive(Debug, Args)]
pub struct CommitArgs {
    /// Set the author for the image committed
    #[arg(short, long)]
    pub author: Option<String>,
    /// Apply the following possible instructions to the created image (default []): CMD | ENTRYPOINT | ENV | EXPOSE | LABEL | ONBUILD | STOPSIGNAL | USER | VOLUME | WORKDIR
    #[arg(short, long)]
    pub change: Vec<String>,
    /// Format of the image manifest and metadata
    #[arg(short, long, default_value = "oci")]
    pub format: String,
    /// file to write the image ID to
    #[arg(long)]
    pub iidfile: Option<String>,
    /// Include container volumes as image volumes
    #[arg(long)]
    pub include_volumes: bool,
    /// Set commit message for imported image
    #[arg(short, long)]
    pub message: Option<String>,
    /// Pause container during commit
    #[arg(short, long)]
    pub pause: bool,
    /// Suppress output
    #[arg(short, long)]
    pub quiet: bool,
    /// squash newly built layers into a single new layer
    #[arg(short, long)]
    pub squash: bool,
    pub container: String,
    pub image: Option<String>,
}

pub fn commit(g: &GlobalOpts, a: CommitArgs) -> CmdResult {
    use libvaina::container::fs::commit::CommitOptions;
    let docker = match a.format.as_str() {
        "oci" => false,
        "docker" => true,
        f => anyhow::bail!("unrecognized image type {f:?}"),
    };
    let mut engine = g.engine()?;
    let opts = CommitOptions {
        author: a.author,
        message: a.message,
        changes: a.change,
        pause: a.pause,
        squash: a.squash,
        docker,
        include_volumes: a.include_volumes,
    };
    let img = engine.commit_container(&a.container, a.image.as_deref(), &opts)?;
    // Podman's progress lines, printed once the commit worked so an error comes alone.
    if !a.quiet {
        eprintln!("Getting image source signatures");
        eprintln!("Writing manifest to image destination");
    }
    if let Some(f) = &a.iidfile {
        std::fs::write(f, format!("sha256:{}", img.id))?;
    }
    println!("{}", img.id);
    Ok(0)
}
