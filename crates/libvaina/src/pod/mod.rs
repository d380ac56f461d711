//! Pods: groups of containers that share namespaces and are managed as one unit, modelled the
//! way Kubernetes sees a pod (one network identity, one hostname, containers that talk over
//! localhost), so that `generate kube` / `play kube` can map them one to one later.
//!
//! A pod is a record in the state database ([`SCHEMA`], [`record`]) plus, unless created with
//! `--infra=false`, an *infra container* that holds the shared namespaces (net, ipc and uts by
//! default). The infra container runs vaina's own pause program ([`pause`]): a tiny static ELF
//! embedded in the binary, installed as the local image `localhost/vaina-pause:<version>` on
//! first use, so no registry is ever needed. Containers created with `--pod` join the infra
//! container's namespaces through the same `container:` joining as `--pid/--ipc/--uts
//! container:NAME` ([`crate::container::create`]); their config carries the pod's ID. A pod's
//! state is derived from its containers' states as Podman does ([`PodState`]).
//!
//! Neighbours: [`crate::container`] (records, create, lifecycle), [`crate::image`] (the pause
//! image), [`crate::monitor`] (calls [`crate::Engine::pod_member_exited`] for `--exit-policy`).

pub mod ops;
pub mod pause;
pub mod record;
pub mod state;

pub use record::{ExitPolicy, PodConfig, PodRecord};
pub use state::PodState;

/// Tables owned by the pod module. A container's pod is `$.pod` in its config (indexed).
pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS pods (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created INTEGER NOT NULL,
    infra_id TEXT NOT NULL DEFAULT '',
    config TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS containers_pod ON containers(json_extract(config, '$.pod'));
";

/// Errors of pod operations (Podman's wording).
#[derive(Debug, thiserror::Error)]
pub enum PodError {
    #[error("no pod with name or ID {0} found: no such pod")]
    NotFound(String),
    /// `pod create --name` of a name a pod has.
    #[error("adding pod to state: name {0:?} is in use: pod already exists")]
    NameInUse(String),
    /// `pod create --name` of a name a container has (pods and containers share names).
    #[error("adding pod to state: name {0:?} is in use: container already exists")]
    NameUsedByContainer(String),
    /// A container created with the name of a pod.
    #[error("name {0:?} is in use: pod already exists")]
    ContainerNameIsPod(String),
    /// `pod rm` without `-f` of a pod with running containers.
    #[error("removing container {ctr} from pod {pod}: cannot remove container {ctr} as it is running - running or paused containers cannot be removed without force: container state improper")]
    RemoveRunning { pod: String, ctr: String },
    /// `-p` on a container that joins a pod.
    #[error("invalid config provided: published or exposed ports must be defined when the pod is created: network cannot be configured when it is shared with a pod")]
    PortsOnPodMember,
    /// `--network` on a container that joins a pod sharing its network.
    #[error("invalid config provided: networks must be defined when the pod is created: network cannot be configured when it is shared with a pod")]
    NetworkOnPodMember,
    /// `rm` of an infra container whose pod still exists.
    #[error("container {ctr} is the infra container of pod {pod} and cannot be removed without removing the pod")]
    InfraRemove { ctr: String, pod: String },
    /// A value the pod module cannot use.
    #[error("{0}")]
    Invalid(String),
    #[error("database: {0}")]
    Sql(#[from] rusqlite::Error),
}
