//! Container commands: `run`, `create`, `start`, `stop`, `ps`, `exec`, `logs`, ... (also
//! under `vaina container ...`), the generic `inspect`, and the hidden `monitor` command the
//! engine starts for each container. One file per command family; each is thin glue over
//! libvaina's container methods.

mod attach_io;
mod exec;
mod inspect;
mod lifecycle;
pub(crate) mod logs;
pub(crate) mod ps;
mod run;
pub(crate) mod stats;

use super::{CmdResult, GlobalOpts};
use clap::{Args, Subcommand};

/// Commands available both as `vaina X` and `vaina container X`.
#[derive(Debug, Subcommand)]
pub enum CoreCommand {
    /// Run a command in a new container
    Run(Box<run::RunArgs>),
    /// Create but do not start a container
    Create(Box<run::RunArgs>),
    /// Start one or more containers
    Start(run::StartArgs),
    /// Attach to a running container
    Attach(run::AttachArgs),
    /// Stop one or more containers
    Stop(lifecycle::StopArgs),
    /// Kill one or more running containers with a specific signal
    Kill(lifecycle::KillArgs),
    /// Restart one or more containers
    Restart(lifecycle::RestartArgs),
    /// Remove one or more containers
    Rm(lifecycle::RmArgs),
    /// Block on one or more containers
    Wait(lifecycle::WaitArgs),
    /// Pause all the processes in one or more containers
    Pause(lifecycle::PauseArgs),
    /// Unpause the processes in one or more containers
    Unpause(lifecycle::PauseArgs),
    /// Rename an existing container
    Rename(lifecycle::RenameArgs),
    /// Initialize one or more containers
    Init(lifecycle::InitArgs),
    /// List containers
    Ps(ps::PsArgs),
    /// Run a process in a running container
    Exec(exec::ExecArgs),
    /// Fetch the logs of one or more containers
    Logs(logs::LogsArgs),
    /// Display the running processes of a container
    Top(exec::TopArgs),
    /// List port mappings or a specific mapping for the container
    Port(lifecycle::PortArgs),
    /// Display a live stream of container resource usage statistics
    Stats(stats::StatsArgs),
    /// Update an existing container
    Update(stats::UpdateArgs),
}

/// `vaina container ...`.
#[derive(Debug, Args)]
pub struct ContainerGroup {
    #[command(subcommand)]
    pub cmd: ContainerSubcommand,
}

#[derive(Debug, Subcommand)]
pub enum ContainerSubcommand {
    #[command(flatten)]
    Core(CoreCommand),
    /// List containers
    #[command(name = "ls", alias = "list")]
    Ls(ps::PsArgs),
    /// Check if a container exists in local storage
    Exists(lifecycle::ExistsArgs),
    /// Remove all non running containers
    Prune(lifecycle::PruneArgs),
    /// Clean up network and mountpoints of one or more containers
    Cleanup(lifecycle::CleanupArgs),
    /// Display the configuration of a container
    Inspect(inspect::InspectArgs),
    #[command(flatten)]
    Fs(super::container_fs::FsCommand),
}

/// The `MonitorArgs` of the hidden `monitor` command.
#[derive(Debug, Args)]
pub struct MonitorArgs {
    /// Descriptor of the launcher's pipe
    #[arg(long)]
    pub sync_fd: Option<i32>,
    /// Descriptor of the attach socket the launcher bound (exec sessions)
    #[arg(long)]
    pub listen_fd: Option<i32>,
    /// Monitor this exec session instead of the container
    #[arg(long)]
    pub exec: Option<String>,
    /// The exec session keeps stdin open
    #[arg(long)]
    pub interactive: bool,
    pub id: String,
}

#[derive(Debug, Subcommand)]
pub enum ContainerCommand {
    #[command(flatten)]
    Core(CoreCommand),
    /// Manage containers
    Container(ContainerGroup),
    /// Display the configuration of object denoted by ID
    Inspect(inspect::InspectArgs),
    /// Per-container monitor (started by vaina itself)
    #[command(hide = true)]
    Monitor(MonitorArgs),
}

pub fn run(g: &GlobalOpts, cmd: ContainerCommand) -> CmdResult {
    match cmd {
        ContainerCommand::Core(c) => core(g, c),
        ContainerCommand::Container(grp) => match grp.cmd {
            ContainerSubcommand::Core(c) => core(g, c),
            ContainerSubcommand::Ls(a) => ps::ps(g, a),
            ContainerSubcommand::Exists(a) => lifecycle::exists(g, a),
            ContainerSubcommand::Prune(a) => lifecycle::prune(g, a),
            ContainerSubcommand::Cleanup(a) => lifecycle::cleanup(g, a),
            ContainerSubcommand::Fs(c) => super::container_fs::run(g, c),
            ContainerSubcommand::Inspect(mut a) => {
                a.kind = Some("container".into());
                inspect::inspect(g, a)
            }
        },
        ContainerCommand::Inspect(a) => inspect::inspect(g, a),
        ContainerCommand::Monitor(a) => {
            let mut engine = g.engine()?;
            Ok(match &a.exec {
                Some(session) => libvaina::monitor::exec::run(
                    &mut engine,
                    &a.id,
                    session,
                    a.interactive,
                    a.sync_fd,
                    a.listen_fd,
                ),
                None => libvaina::monitor::run(&mut engine, &a.id, a.sync_fd),
            })
        }
    }
}

fn core(g: &GlobalOpts, c: CoreCommand) -> CmdResult {
    match c {
        CoreCommand::Run(a) => run::run(g, *a),
        CoreCommand::Create(a) => run::create(g, *a),
        CoreCommand::Start(a) => run::start(g, a),
        CoreCommand::Attach(a) => run::attach(g, a),
        CoreCommand::Stop(a) => lifecycle::stop(g, a),
        CoreCommand::Kill(a) => lifecycle::kill(g, a),
        CoreCommand::Restart(a) => lifecycle::restart(g, a),
        CoreCommand::Rm(a) => lifecycle::rm(g, a),
        CoreCommand::Wait(a) => lifecycle::wait(g, a),
        CoreCommand::Pause(a) => lifecycle::pause(g, a, true),
        CoreCommand::Unpause(a) => lifecycle::pause(g, a, false),
        CoreCommand::Rename(a) => lifecycle::rename(g, a),
        CoreCommand::Init(a) => lifecycle::init(g, a),
        CoreCommand::Ps(a) => ps::ps(g, a),
        CoreCommand::Exec(a) => exec::exec(g, a),
        CoreCommand::Logs(a) => logs::logs(g, a),
        CoreCommand::Top(a) => exec::top(g, a),
        CoreCommand::Port(a) => lifecycle::port(g, a),
        CoreCommand::Stats(a) => stats::stats(g, a),
        CoreCommand::Update(a) => stats::update(g, a),
    }
}
