//! The flags shared by `create` and `run` (Podman's names), and their conversion into
//! libvaina's validated [`CreateOptions`].

use clap::Args;
use libvaina::container::options::CreateOptions;

#[derive(Debug, Args, Clone, Default)]
pub struct CreateFlags {
    /// Assign a name to the container
    #[arg(long)]
    pub name: Option<String>,
    /// Set environment variables in container
    #[arg(short = 'e', long = "env")]
    pub env: Vec<String>,
    /// Overwrite the default ENTRYPOINT of the image
    #[arg(long)]
    pub entrypoint: Option<String>,
    /// Working directory inside the container
    #[arg(short = 'w', long)]
    pub workdir: Option<String>,
    /// Username or UID (format: <name|uid>[:<group|gid>])
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    /// Set container hostname
    #[arg(short = 'h', long)]
    pub hostname: Option<String>,
    /// Allocate a pseudo-TTY for container
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Make STDIN available to the contained process
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Remove container and any anonymous unnamed volume associated with the container after exit
    #[arg(long)]
    pub rm: bool,
}

impl CreateFlags {
    /// Validates the flags into engine options; `command` is what followed the image.
    pub fn to_options(&self, command: Vec<String>) -> anyhow::Result<CreateOptions> {
        let mut env = std::collections::BTreeMap::new();
        for e in &self.env {
            match e.split_once('=') {
                Some((k, v)) => env.insert(k.to_string(), v.to_string()),
                None => env.insert(e.clone(), std::env::var(e).unwrap_or_default()),
            };
        }
        Ok(CreateOptions {
            name: self.name.clone(),
            entrypoint: self.entrypoint.as_ref().map(|e| {
                if e.is_empty() {
                    vec![]
                } else {
                    vec![e.clone()]
                }
            }),
            command,
            env,
            workdir: self.workdir.clone(),
            user: self.user.clone(),
            hostname: self.hostname.clone(),
            tty: self.tty,
            interactive: self.interactive,
            remove: self.rm,
            ..Default::default()
        })
    }
}
