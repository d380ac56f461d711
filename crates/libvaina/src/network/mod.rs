//! Networking (rootful): bridge networks with veth pairs, IP leases in the state database,
//! published ports and masquerade in one nftables table, network definitions in Podman's JSON.
//!
//! - [`config`]: network definitions (`<root>/networks/<name>.json`), validation, free subnets
//! - [`cidr`]: subnets and address arithmetic
//! - [`ipam`]: leases, attachments and host-port reservations (tables in [`SCHEMA`])
//! - [`ports`]: the `-p` grammar
//! - [`dns`], [`dns_service`]: the resolver for container names on user networks and its
//!   process (one per network while it has containers)
//! - [`driver`]: the backend trait ([`driver::NetworkDriver`]) and the bridge backend
//! - [`netns`]: persistent network namespaces for containers (create, enter, remove)
//! - [`netlink`] (over [`rtnl`], in-process rtnetlink), [`firewall`] (nftables), [`sysctl`]: the
//!   kernel changes the bridge backend makes
//! - [`ops`]: the `Engine` methods (`network create/ls/inspect/rm/prune/exists/reload`, and
//!   [`Engine::network_setup`]/[`Engine::network_teardown`] for the container lifecycle)
//!
//! The container code creates the network namespace, calls `network_setup` before the
//! runtime's `create`, stores the returned status for `inspect`, and calls `network_teardown`
//! on exit, stop, `rm -f` and when a monitor died (teardown is idempotent and reads what it
//! must undo from the database).

pub mod cidr;
pub mod config;
pub mod dns;
pub mod dns_service;
pub mod driver;
pub mod firewall;
pub mod ipam;
pub mod netlink;
pub mod netns;
pub mod ops;
pub mod ports;
pub mod rtnl;
pub mod sysctl;

pub use cidr::Cidr;
pub use config::{CreateOptions, Network, DEFAULT_NETWORK};
pub use driver::{NetworkRequest, NetworkStatus, SetupRequest, SetupStatus};
pub use ipam::SCHEMA;
pub use ports::{parse_publish, PortMapping};

/// Errors of network operations.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    /// A value the network code cannot use (Podman's wording where it has one).
    #[error("{0}")]
    Invalid(String),
    #[error("network name {0} already used: network already exists")]
    Exists(String),
    #[error("unable to find network with name or ID {0}: network not found")]
    NotFound(String),
    #[error("{0:?} has associated containers with it. Use -f to forcibly delete containers and pods: network is being used")]
    InUse(String),
    #[error("default network {0} cannot be removed")]
    DefaultNetwork(String),
    /// A fixed host port another container holds (Podman exits 126 at start).
    #[error("{0}")]
    PortInUse(String),
    /// A kernel change (ip, nft, sysctl) that failed.
    #[error("{0}")]
    Command(String),
    #[error(transparent)]
    Cidr(#[from] cidr::CidrError),
    #[error("network database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// Every error a teardown met (it keeps going after each one).
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Teardown(Vec<NetworkError>),
}

impl NetworkError {
    /// Podman's exit code: 1 for `network rm` of a missing network is decided by the CLI;
    /// everything else is an engine error.
    pub fn exit_code(&self) -> i32 {
        match self {
            NetworkError::PortInUse(_) => 126,
            _ => 125,
        }
    }
}
