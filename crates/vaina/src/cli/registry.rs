//! Registry commands: `pull`, `push`, `login`, `logout`, `search`.

use super::output::{print_rows, Format};
use super::progress::CopyProgress;
use super::shortnames;
use super::{CmdResult, GlobalOpts};
use anyhow::{anyhow, Context};
use clap::{Args, Subcommand};
use libvaina::reference::Reference;
use libvaina::registry::login::RegistryAccess;
use libvaina::registry::manifest::Compression;
use libvaina::registry::push::PushOptions;
use libvaina::registry::{Credentials, PullOptions, PullProgress};
use std::io::{BufRead, IsTerminal, Read};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// Pull an image from a registry
    Pull(PullArgs),
    /// Push an image to a specified destination
    Push(PushArgs),
    /// Log in to a container registry
    Login(LoginArgs),
    /// Log out of a container registry
    Logout(LogoutArgs),
    /// Search a registry for an image
    Search(SearchArgs),
}

/// Flags shared by the commands that talk to a registry.
#[derive(Debug, Args, Clone)]
pub struct AccessArgs {
    /// Path of the authentication file
    #[arg(long, value_name = "PATH")]
    authfile: Option<PathBuf>,
    /// Path to certificates (*.crt) of the registry's CAs
    #[arg(long, value_name = "PATH")]
    cert_dir: Option<PathBuf>,
    /// Require HTTPS and verify certificates when contacting registries
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    tls_verify: Option<bool>,
}

#[derive(Debug, Args)]
pub struct PullArgs {
    /// Pull all tagged images in the repository
    #[arg(short = 'a', long)]
    all_tags: bool,
    /// Use ARCH instead of the architecture of the machine for choosing images
    #[arg(long, value_name = "ARCH")]
    arch: Option<String>,
    /// Use OS instead of the running OS for choosing images
    #[arg(long, value_name = "OS")]
    os: Option<String>,
    /// Use VARIANT instead of the running architecture variant for choosing images
    #[arg(long, value_name = "VARIANT")]
    variant: Option<String>,
    /// Specify the platform for selecting the image (OS/ARCH[/VARIANT])
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    platform: Option<String>,
    /// Credentials (USERNAME:PASSWORD) to use for authenticating to a registry
    #[arg(long, value_name = "USERNAME[:PASSWORD]")]
    creds: Option<String>,
    /// Suppress output information when pulling images
    #[arg(short, long)]
    quiet: bool,
    /// This is a Docker specific option and is a NOOP
    #[arg(long, hide = true)]
    disable_content_trust: bool,
    #[command(flatten)]
    access: AccessArgs,
    /// Images to pull
    #[arg(required = true, value_name = "IMAGE")]
    images: Vec<String>,
}

#[derive(Debug, Args)]
pub struct PushArgs {
    /// Credentials (USERNAME:PASSWORD) to use for authenticating to a registry
    #[arg(long, value_name = "USERNAME[:PASSWORD]")]
    creds: Option<String>,
    /// Manifest type (oci, v2s2) to use in the destination
    #[arg(short, long, value_name = "FORMAT")]
    format: Option<String>,
    /// Compression format to use (gzip, zstd)
    #[arg(long, value_name = "FORMAT")]
    compression_format: Option<String>,
    /// Write the digest of the pushed image to the specified file
    #[arg(long, value_name = "PATH")]
    digestfile: Option<PathBuf>,
    /// Suppress output information when pushing images
    #[arg(short, long)]
    quiet: bool,
    /// Discard any pre-existing signatures in the image
    #[arg(long)]
    remove_signatures: bool,
    #[arg(long, hide = true)]
    disable_content_trust: bool,
    #[command(flatten)]
    access: AccessArgs,
    /// Image to push
    #[arg(value_name = "IMAGE")]
    image: String,
    /// Destination (default: the image's name)
    #[arg(value_name = "DESTINATION")]
    destination: Option<String>,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Username for registry
    #[arg(short, long)]
    username: Option<String>,
    /// Password for registry
    #[arg(short, long)]
    password: Option<String>,
    /// Take the password from stdin
    #[arg(long)]
    password_stdin: bool,
    /// Return the current login user for the registry
    #[arg(long)]
    get_login: bool,
    /// Write more detailed information to stdout
    #[arg(short, long)]
    verbose: bool,
    #[command(flatten)]
    access: AccessArgs,
    /// Registry to log in to
    registry: Option<String>,
}

#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// Remove the cached credentials for all registries in the auth file
    #[arg(short, long)]
    all: bool,
    /// Path of the authentication file
    #[arg(long, value_name = "PATH")]
    authfile: Option<PathBuf>,
    /// Registry to log out of
    registry: Option<String>,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Limit the number of results
    #[arg(long, default_value_t = 0)]
    limit: usize,
    /// Change the output format to JSON or a Go template
    #[arg(long)]
    format: Option<String>,
    /// Do not truncate the output
    #[arg(long)]
    no_trunc: bool,
    /// List the tags of the repository given as the search term
    #[arg(long)]
    list_tags: bool,
    /// Credentials (USERNAME:PASSWORD) to use for authenticating to a registry
    #[arg(long, value_name = "USERNAME[:PASSWORD]")]
    creds: Option<String>,
    #[command(flatten)]
    access: AccessArgs,
    /// Search term (REGISTRY/TERM or TERM)
    term: String,
}

pub fn run(g: &GlobalOpts, cmd: RegistryCommand) -> CmdResult {
    match cmd {
        RegistryCommand::Pull(a) => pull(g, a),
        RegistryCommand::Push(a) => push(g, a),
        RegistryCommand::Login(a) => login(g, a),
        RegistryCommand::Logout(a) => logout(g, a),
        RegistryCommand::Search(a) => search(g, a),
    }
}

fn access(a: &AccessArgs, creds: Option<String>) -> RegistryAccess {
    RegistryAccess {
        tls_verify: a.tls_verify,
        cert_dir: a.cert_dir.clone(),
        authfile: a.authfile.clone(),
        creds,
    }
}

fn pull(g: &GlobalOpts, a: PullArgs) -> CmdResult {
    let mut engine = g.engine()?;
    let opts = PullOptions {
        tls_verify: a.access.tls_verify,
        creds: a.creds,
        authfile: a.access.authfile,
        cert_dir: a.access.cert_dir,
        platform: a.platform,
        os: a.os,
        arch: a.arch,
        variant: a.variant,
        all_tags: a.all_tags,
    };
    let progress = CopyProgress::new(a.quiet);
    for image in &a.images {
        let parsed = Reference::parse(image.strip_prefix("docker://").unwrap_or(image))?;
        if opts.all_tags && (parsed.tag.is_some() || parsed.digest.is_some()) {
            return Err(anyhow!("tag can't be used with --all-tags/-a"));
        }
        let res = engine.resolve_short_name(&parsed)?;
        if let Some(d) = res.description() {
            progress.message(&d);
        }
        let choice = shortnames::choose(&res)?;
        let recs = engine.pull_resolved(&choice.candidates, &opts, &progress)?;
        if let Some(pulled) = choice.candidates.first() {
            shortnames::record_choice(&engine, &res, &choice, pulled)?;
        }
        for rec in recs {
            println!("{}", rec.id);
        }
    }
    Ok(0)
}

fn push(g: &GlobalOpts, a: PushArgs) -> CmdResult {
    let engine = g.engine()?;
    let compression = match a.compression_format.as_deref() {
        None => None,
        Some("gzip") => Some(Compression::Gzip),
        Some("zstd") => Some(Compression::Zstd),
        Some(other) => {
            return Err(anyhow!(
                "unsupported compression format {other:?}: use gzip or zstd"
            ))
        }
    };
    let opts = PushOptions {
        tls_verify: a.access.tls_verify,
        creds: a.creds,
        authfile: a.access.authfile,
        cert_dir: a.access.cert_dir,
        format: a.format,
        compression,
    };
    let progress = CopyProgress::new(a.quiet);
    let digest = engine.push(&a.image, a.destination.as_deref(), &opts, &progress)?;
    if let Some(p) = a.digestfile {
        std::fs::write(&p, digest.to_string()).with_context(|| p.display().to_string())?;
    }
    Ok(0)
}

/// The registry to log in to: the argument, else the first unqualified-search registry.
fn registry_arg(engine: &libvaina::Engine, registry: Option<String>) -> anyhow::Result<String> {
    if let Some(r) = registry {
        return Ok(r);
    }
    engine
        .registries_conf()
        .ok()
        .and_then(|c| c.unqualified_search_registries.first().cloned())
        .ok_or_else(|| anyhow!("please provide a registry to log in to"))
}

fn prompt(label: &str, hidden: bool) -> anyhow::Result<String> {
    eprint!("{label}: ");
    let stdin = std::io::stdin();
    let tty = stdin.is_terminal();
    let saved = if hidden && tty {
        let t = nix::sys::termios::tcgetattr(&stdin).ok();
        if let Some(t) = &t {
            let mut quiet = t.clone();
            quiet
                .local_flags
                .remove(nix::sys::termios::LocalFlags::ECHO);
            let _ =
                nix::sys::termios::tcsetattr(&stdin, nix::sys::termios::SetArg::TCSANOW, &quiet);
        }
        t
    } else {
        None
    };
    let mut line = String::new();
    let res = stdin.lock().read_line(&mut line);
    if let Some(t) = saved {
        let _ = nix::sys::termios::tcsetattr(&stdin, nix::sys::termios::SetArg::TCSANOW, &t);
        eprintln!();
    }
    res.context("reading from stdin")?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

fn login(g: &GlobalOpts, a: LoginArgs) -> CmdResult {
    let engine = g.engine()?;
    let registry = registry_arg(&engine, a.registry)?;
    let acc = access(&a.access, None);
    if a.get_login {
        println!("{}", engine.login_username(&registry, &acc)?);
        return Ok(0);
    }
    if a.password_stdin && a.password.is_some() {
        return Err(anyhow!(
            "can't specify both --password-stdin and --password"
        ));
    }
    if a.password_stdin && a.username.is_none() {
        return Err(anyhow!("must provide --username with --password-stdin"));
    }
    let username = match a.username {
        Some(u) => u,
        None => prompt("Username", false)?,
    };
    let password = if a.password_stdin {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading password from stdin")?;
        s.trim_end_matches(['\n', '\r']).to_string()
    } else {
        match a.password {
            Some(p) => p,
            None => prompt("Password", true)?,
        }
    };
    if username.is_empty() {
        return Err(anyhow!("username can't be empty"));
    }
    if password.is_empty() {
        return Err(anyhow!("password can't be empty"));
    }
    engine.login(&registry, &Credentials { username, password }, &acc)?;
    println!("Login Succeeded!");
    Ok(0)
}

fn logout(g: &GlobalOpts, a: LogoutArgs) -> CmdResult {
    let engine = g.engine()?;
    let acc = RegistryAccess {
        authfile: a.authfile,
        ..Default::default()
    };
    if a.all {
        engine.logout(None, &acc)?;
        println!("Removed login credentials for all registries");
        return Ok(0);
    }
    let registry = registry_arg(&engine, a.registry)?;
    engine.logout(Some(&registry), &acc)?;
    println!("Removed login credentials for {registry}");
    Ok(0)
}

fn search(g: &GlobalOpts, a: SearchArgs) -> CmdResult {
    let engine = g.engine()?;
    let acc = access(&a.access, a.creds);
    let (mut rows, default) = if a.list_tags {
        (
            engine.search_tags(&a.term, a.limit, &acc)?,
            "table {{.Name}}\t{{.Tag}}",
        )
    } else {
        (
            engine.search(&a.term, a.limit, &acc)?,
            "table {{.Name}}\t{{.Description}}",
        )
    };
    if !a.no_trunc {
        for r in &mut rows {
            if r.description.chars().count() > 44 {
                r.description = r.description.chars().take(44).collect::<String>() + "...";
            }
        }
    }
    let format = Format::parse(a.format.as_deref(), default);
    print_rows(
        &rows,
        &format,
        &[
            "Index",
            "Name",
            "Description",
            "Stars",
            "Official",
            "Automated",
            "Tag",
        ],
        &[],
        false,
    )?;
    Ok(0)
}
