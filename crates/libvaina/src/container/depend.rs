//! Dependencies between containers, as Podman keeps them: a container created with
//! `--pid/--ipc/--uts/--network container:NAME` depends on NAME (its full ID is stored in the
//! dependent's config). A container with dependents cannot be removed, even with `--force`;
//! `rm --depend` removes the dependents first, deepest first, then the container itself.

use super::record::{self, ContainerRecord, ContainerState};
use super::ContainerError;
use crate::{Engine, Result};
use oci_spec::runtime::LinuxNamespaceType;

impl Engine {
    /// Before a container starts: points the namespaces it joined from other containers
    /// (`namespace_joins`) at their current PIDs in its `config.json`, since they may have
    /// been restarted since. The infra container of the container's pod is started first
    /// when it is not running (as Podman starts a pod's infra before its containers).
    pub(crate) fn refresh_joined_namespaces(&mut self, rec: &ContainerRecord) -> Result<()> {
        if rec.config.namespace_joins.is_empty() {
            return Ok(());
        }
        let running = |r: &ContainerRecord| {
            matches!(r.state, ContainerState::Running | ContainerState::Paused) && r.pid > 0
        };
        let mut pids = std::collections::BTreeMap::new();
        for (kind, id) in &rec.config.namespace_joins {
            let mut other = self.lookup_container(id)?;
            if !running(&other) && other.config.infra && other.config.pod == rec.config.pod {
                self.start_container(&other.id, false)?;
                other = self.lookup_container(id)?;
            }
            if !running(&other) {
                return Err(ContainerError::Invalid(format!(
                    "cannot join the namespaces of container {}: it is not running",
                    other.name
                ))
                .into());
            }
            pids.insert(kind.as_str(), other.pid);
        }
        let path = self.container_paths(&rec.id).config_json();
        let invalid =
            |e: oci_spec::OciSpecError| ContainerError::Invalid(format!("{}: {e}", path.display()));
        let mut spec = oci_spec::runtime::Spec::load(&path).map_err(invalid)?;
        let mut changed = false;
        if let Some(linux) = spec.linux_mut() {
            let mut nss = linux.namespaces().clone().unwrap_or_default();
            for ns in &mut nss {
                let (kind, file) = match ns.typ() {
                    LinuxNamespaceType::Pid => ("pid", "pid"),
                    LinuxNamespaceType::Network => ("net", "net"),
                    LinuxNamespaceType::Ipc => ("ipc", "ipc"),
                    LinuxNamespaceType::Uts => ("uts", "uts"),
                    _ => continue,
                };
                // Only `/proc/PID/ns` paths go stale; a pinned namespace file (a bridge
                // network's `<runroot>/netns/<id>`) outlives restarts.
                let stale = ns.path().as_ref().is_none_or(|p| p.starts_with("/proc/"));
                if let Some(pid) = pids.get(kind).filter(|_| stale) {
                    let want = std::path::PathBuf::from(format!("/proc/{pid}/ns/{file}"));
                    if ns.path().as_ref() != Some(&want) {
                        ns.set_path(Some(want));
                        changed = true;
                    }
                }
            }
            linux.set_namespaces(Some(nss));
        }
        if changed {
            spec.save(&path).map_err(invalid)?;
        }
        Ok(())
    }

    /// Full IDs of the containers that depend directly on container `id`, oldest first.
    pub fn container_dependents(&self, id: &str) -> Result<Vec<String>> {
        let mut all = record::list(self.db()?.conn())?;
        all.reverse();
        Ok(all
            .into_iter()
            .filter(|r| r.config.dependencies.iter().any(|d| d == id))
            .map(|r| r.id)
            .collect())
    }

    /// The full IDs `rm --depend name_or_id` removes, in removal order: every container that
    /// depends on it, directly or not, each after its own dependents, and the container last.
    pub fn container_removal_order(&mut self, name_or_id: &str) -> Result<Vec<String>> {
        let rec = self.lookup_container(name_or_id)?;
        let mut order = Vec::new();
        self.push_dependents_first(&rec.id, &mut order)?;
        Ok(order)
    }

    fn push_dependents_first(&self, id: &str, order: &mut Vec<String>) -> Result<()> {
        if order.iter().any(|o| o == id) {
            return Ok(());
        }
        for dep in self.container_dependents(id)? {
            self.push_dependents_first(&dep, order)?;
        }
        if !order.iter().any(|o| o == id) {
            order.push(id.to_string());
        }
        Ok(())
    }
}
