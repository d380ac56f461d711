//! `version`, `info`, and the `system` group (`system info`, `system version`; later
//! `system df/prune/reset`).

use super::{output, yaml, CmdResult, GlobalOpts};
use clap::{Args, Subcommand};
use serde_json::{Map, Value};
use std::io::Write;

#[derive(Debug, Subcommand)]
pub enum SystemCommand {
    /// Display the vaina version information
    Version(VersionArgs),
    /// Display vaina related system information
    Info(InfoArgs),
    /// Manage vaina
    #[command(subcommand)]
    System(SystemSubcommand),
}

#[derive(Debug, Subcommand)]
pub enum SystemSubcommand {
    /// Display vaina related system information
    Info(InfoArgs),
    /// Display the vaina version information
    Version(VersionArgs),
    #[command(flatten)]
    Maint(super::system_maint::MaintCommand),
}

#[derive(Debug, Args)]
pub struct VersionArgs {
    /// Change the output format to JSON or a Go template
    #[arg(short, long)]
    pub format: Option<String>,
}

#[derive(Debug, Args)]
pub struct InfoArgs {
    /// Change the output format to JSON or a Go template
    #[arg(short, long)]
    pub format: Option<String>,
    /// Display additional debug information
    #[arg(short = 'D', long, hide = true)]
    pub debug: bool,
}

pub fn run(g: &GlobalOpts, cmd: SystemCommand) -> CmdResult {
    match cmd {
        SystemCommand::Version(a) | SystemCommand::System(SystemSubcommand::Version(a)) => {
            version(&a)
        }
        SystemCommand::Info(a) | SystemCommand::System(SystemSubcommand::Info(a)) => info(g, &a),
        SystemCommand::System(SystemSubcommand::Maint(c)) => super::system_maint::run(g, c),
    }
}

fn version(a: &VersionArgs) -> CmdResult {
    let v = libvaina::system::version_info();
    let report = serde_json::json!({ "Client": v });
    match a.format.as_deref() {
        Some(f) if f.trim() == "json" => {
            println!("{}", serde_json::to_string(&report)?);
        }
        Some(f) => print_template(f, &report)?,
        None => {
            let mut out = std::io::stdout().lock();
            writeln!(out, "Client:       Vaina Engine")?;
            writeln!(out, "Version:      {}", v.version)?;
            writeln!(out, "API Version:  {}", v.api_version)?;
            writeln!(out, "Rust Version: {}", v.rust_version)?;
            if !v.git_commit.is_empty() {
                writeln!(out, "Git Commit:   {}", v.git_commit)?;
            }
            writeln!(out, "Built:        {}", v.built_time)?;
            writeln!(out, "OS/Arch:      {}", v.os_arch)?;
        }
    }
    Ok(0)
}

fn info(g: &GlobalOpts, a: &InfoArgs) -> CmdResult {
    let engine = g.engine()?;
    let info = engine.info()?;
    let value = serde_json::to_value(&info)?;
    match a.format.as_deref() {
        Some(f) if f.trim() == "json" => {
            println!("{}", serde_json::to_string_pretty(&value)?);
        }
        Some(f) => print_template(f, &go_names(&value, false))?,
        None => print!("{}", yaml::to_yaml(&value)),
    }
    Ok(0)
}

/// Runs a Go template over `value` and prints the result ending with a newline.
fn print_template(format: &str, value: &Value) -> anyhow::Result<()> {
    let text = format.replace("\\t", "\t").replace("\\n", "\n");
    let mut s = output::render(&text, value)?;
    if !s.ends_with('\n') {
        s.push('\n');
    }
    std::io::stdout().lock().write_all(s.as_bytes())?;
    Ok(())
}

/// `info`'s JSON keys (camelCase) turned into the Go field names Podman's templates use
/// (`host.arch` → `.Host.Arch`, `cgroupVersion` → `.CgroupsVersion`). Keys of plain maps
/// (registries, graph status) stay as they are.
fn go_names(v: &Value, keep_keys: bool) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, child) in m {
                let keep_children =
                    matches!(k.as_str(), "registries" | "graphStatus" | "graphOptions");
                let key = if keep_keys { k.clone() } else { go_key(k) };
                out.insert(key, go_names(child, keep_children));
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| go_names(x, false)).collect()),
        other => other.clone(),
    }
}

fn go_key(k: &str) -> String {
    let special = match k {
        "cgroupVersion" => "CgroupsVersion",
        "cpus" => "CPUs",
        "cpuUtilization" => "CPUUtilization",
        "idMappings" => "IDMappings",
        "gidmap" => "GIDMap",
        "uidmap" => "UIDMap",
        "ociRuntime" => "OCIRuntime",
        "os" => "OS",
        "apparmorEnabled" => "AppArmorEnabled",
        "capabilities" => "DefaultCapabilities",
        "seccompEnabled" => "SECCOMPEnabled",
        "seccompProfilePath" => "SECCOMPProfilePath",
        "selinuxEnabled" => "SELinuxEnabled",
        _ => "",
    };
    if !special.is_empty() {
        return special.to_string();
    }
    let mut c = k.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn go_field_names() {
        let v = json!({"host": {"arch": "amd64", "cgroupVersion": "v1", "ociRuntime": {"name": "runc"}},
                       "registries": {"search": ["a.io"]},
                       "version": {"APIVersion": "x"}});
        let g = go_names(&v, false);
        assert_eq!(g["Host"]["Arch"], "amd64");
        assert_eq!(g["Host"]["CgroupsVersion"], "v1");
        assert_eq!(g["Host"]["OCIRuntime"]["Name"], "runc");
        assert_eq!(g["Registries"]["search"][0], "a.io");
        assert_eq!(g["Version"]["APIVersion"], "x");
    }
}
