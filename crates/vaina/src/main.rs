//! `vaina`: the command line front end of libvaina. Parses flags, calls the engine, prints.
//!
//! This file owns the one mapping from errors to exit codes (Podman's: 125 engine error,
//! 126 cannot invoke, 127 not found, else the container's own code).

mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // Rust ignores SIGPIPE by default; a CLI piped into `head` must die quietly instead.
    cli::restore_sigpipe();
    let args = match cli::Cli::try_parse_from(cli::normalize_args(std::env::args_os())) {
        Ok(a) => a,
        Err(e) => return usage_error(e),
    };
    cli::init_logging(&args.global);
    let code = match cli::run(args) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("Error: {}", error_chain(&err));
            exit_code(&err)
        }
    };
    // Like Go's os.Exit: the low byte, so a container's recorded -1 (`run --timeout`) is 255.
    ExitCode::from(code.rem_euclid(256) as u8)
}

/// Flag and command errors exit 125 with a one-line message, as Podman's do; help and
/// version requests print and exit 0.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            ExitCode::SUCCESS
        }
        // A command group without its command (`vaina pod`): Podman prints the group's help
        // on stdout, then an error, and exits 125.
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let help = e.render().to_string();
            print!("{help}");
            let path: Vec<&str> = help
                .lines()
                .find_map(|l| l.trim().strip_prefix("Usage: "))
                .unwrap_or("vaina")
                .split_whitespace()
                .take_while(|w| !w.starts_with('[') && !w.starts_with('<'))
                .collect();
            eprintln!("Error: missing command '{} COMMAND'", path.join(" "));
            ExitCode::from(125)
        }
        // The same after flags (`vaina network --root DIR`): clap names the group in quotes.
        ErrorKind::MissingSubcommand => {
            let msg = e.render().to_string();
            let group = msg.split('\'').nth(1).unwrap_or("vaina");
            eprintln!("Error: missing command '{group} COMMAND'");
            ExitCode::from(125)
        }
        _ => {
            eprintln!("Error: {}", one_line(&e.render().to_string()));
            eprintln!("See 'vaina --help'");
            ExitCode::from(125)
        }
    }
}

/// clap's message on one line: its first paragraph, where an indented list (the missing
/// arguments) follows the heading (`...not provided: <CONTAINER>, <PATH>`).
fn one_line(rendered: &str) -> String {
    let mut lines = rendered
        .lines()
        .skip_while(|l| l.trim().is_empty())
        .take_while(|l| !l.trim().is_empty());
    let mut out = lines
        .next()
        .unwrap_or("invalid usage")
        .trim_start_matches("error: ")
        .to_string();
    let rest: Vec<&str> = lines.map(str::trim).collect();
    if !rest.is_empty() {
        out.push(' ');
        out.push_str(&rest.join(", "));
    }
    out
}

/// The message of an error and its causes, one line, as Podman prints them (`a: b: c`).
fn error_chain(err: &anyhow::Error) -> String {
    let mut out = err.to_string();
    for cause in err.chain().skip(1) {
        let s = cause.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
    }
    out
}

/// The single place where errors become exit codes.
fn exit_code(err: &anyhow::Error) -> i32 {
    if let Some(e) = err.downcast_ref::<cli::ExitStatus>() {
        return e.0;
    }
    if let Some(e) = err.downcast_ref::<cli::image_rm::CodedError>() {
        return e.code;
    }
    if let Some(e) = err.downcast_ref::<libvaina::Error>() {
        return libvaina_exit_code(e);
    }
    125
}

fn libvaina_exit_code(e: &libvaina::Error) -> i32 {
    match e {
        libvaina::Error::Spec(s) => s.exit_code(),
        libvaina::Error::Volume(v) => v.exit_code(),
        libvaina::Error::Network(n) => n.exit_code(),
        // The container's command: not found 127, not executable 126 (Podman's codes).
        libvaina::Error::Runtime(libvaina::runtime::RuntimeError::NotFound { .. }) => 127,
        libvaina::Error::Runtime(libvaina::runtime::RuntimeError::PermissionDenied { .. }) => 126,
        // Podman exits 255 for an exec into a container that is not running.
        libvaina::Error::Container(libvaina::container::ContainerError::ExecNotRunning) => 255,
        libvaina::Error::Container(libvaina::container::ContainerError::ExecSetup(_)) => 255,
        _ => 125,
    }
}
