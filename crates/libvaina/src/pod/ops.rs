//! Pod operations on [`Engine`]: create (with its infra container), look up, list, the state
//! of each pod, start/stop/restart/kill/pause/unpause of all its containers, remove, prune,
//! and the two hooks the container code calls: [`Engine::pod_member_options`] at create and
//! [`Engine::pod_member_exited`] when a member's monitor ends (`--exit-policy stop`).
//!
//! Order: infra starts first and stops last. Stops and forced removals run one thread per
//! container (each with its own engine and database connection), so a pod of N containers
//! that ignore SIGTERM takes one stop timeout, not N.

use super::record::{self, ExitPolicy, PodConfig, PodRecord};
use super::{PodError, PodState};
use crate::container::options::{CreateOptions, NamespaceMode};
use crate::container::record::now_nanos;
use crate::container::{ContainerRecord, ContainerState};
use crate::{Engine, Result};

/// What `pod create` asks for.
#[derive(Debug, Clone, Default)]
pub struct PodCreateOptions {
    /// `--name` (generated when `None`).
    pub name: Option<String>,
    pub config: PodConfig,
    /// `--infra-image`: an image (in the store) instead of vaina's pause image.
    pub infra_image: Option<String>,
    /// `--infra-name`: instead of `<podid[:12]>-infra`.
    pub infra_name: Option<String>,
}

/// Namespace kinds `--share` accepts.
pub const SHAREABLE: [&str; 5] = ["cgroup", "ipc", "net", "pid", "uts"];

/// Parses `--share` (`net,ipc,uts` by default; `none`; `+pid` adds to the default).
pub fn parse_share(value: &str) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    let (add, list) = match value.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, value),
    };
    if add {
        out.extend(["ipc", "net", "uts"].map(String::from));
    }
    for k in list.split(',').map(str::trim).filter(|k| !k.is_empty()) {
        if k == "none" {
            continue;
        }
        if k == "user" {
            return Err(PodError::Invalid(
                "sharing the user namespace in a pod is not supported by vaina".into(),
            )
            .into());
        }
        if k == "mnt" {
            return Err(PodError::Invalid(
                "mount sharing functionality not supported on pod level".into(),
            )
            .into());
        }
        if !SHAREABLE.contains(&k) {
            return Err(PodError::Invalid(format!(
                "invalid kernel namespace to share: {k}: invalid argument"
            ))
            .into());
        }
        if !out.iter().any(|o| o == k) {
            out.push(k.to_string());
        }
    }
    out.sort();
    Ok(out)
}

impl Engine {
    /// Finds a pod by name, full ID or unique ID prefix.
    pub fn lookup_pod(&self, name_or_id: &str) -> Result<PodRecord> {
        Ok(record::lookup(self.db()?.conn(), name_or_id)?)
    }

    /// Every pod, newest first.
    pub fn list_pods(&self) -> Result<Vec<PodRecord>> {
        Ok(record::list(self.db()?.conn())?)
    }

    /// The containers of a pod, oldest first (infra first), states reconciled.
    pub fn pod_containers(&self, pod: &PodRecord) -> Result<Vec<ContainerRecord>> {
        let ids = record::member_ids(self.db()?.conn(), &pod.id)?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Ok(r) = self.lookup_container(&id) {
                if !r.id.is_empty() {
                    out.push(r);
                }
            }
        }
        // Infra first, then by creation.
        out.sort_by_key(|c| (c.id != pod.infra_id, c.created));
        Ok(out)
    }

    /// The pod's state derived from its containers.
    pub fn pod_state(&self, containers: &[ContainerRecord]) -> PodState {
        let states: Vec<ContainerState> = containers.iter().map(|c| c.state).collect();
        PodState::derive(&states)
    }

    /// Creates a pod and (unless `config.infra` is false) its infra container from the
    /// pause image, with `infra` as the infra container's create options (network, ports,
    /// DNS, hosts, hostname: the same create path as any container).
    pub fn create_pod(
        &mut self,
        opts: &PodCreateOptions,
        infra: Option<CreateOptions>,
    ) -> Result<PodRecord> {
        let conn = self.db()?.conn();
        let name = match &opts.name {
            Some(n) => {
                crate::container::names::validate(n)?;
                n.clone()
            }
            None => {
                let mut attempt = 0;
                loop {
                    let n = crate::container::names::generate(attempt);
                    if !record::name_taken(conn, &n)?
                        && !crate::container::record::name_taken(conn, &n)?
                    {
                        break n;
                    }
                    attempt += 1;
                }
            }
        };
        let id = crate::container::create::new_id();
        let pod = PodRecord {
            id: id.clone(),
            name,
            created: now_nanos(),
            infra_id: String::new(),
            config: opts.config.clone(),
        };
        record::insert(conn, &pod)?;
        if !pod.config.infra {
            return Ok(pod);
        }
        let made = (|| -> Result<String> {
            let image = match &opts.infra_image {
                Some(i) => i.clone(),
                None => self.ensure_pause_image()?,
            };
            let mut o = infra.unwrap_or_default();
            o.name = Some(
                opts.infra_name
                    .clone()
                    .unwrap_or_else(|| format!("{}-infra", &id[..12])),
            );
            o.pod = Some(id.clone());
            o.infra = true;
            if pod.config.shares("ipc") {
                // A host-side /dev/shm that the members bind (`--ipc container:`).
                o.namespaces.ipc = NamespaceMode::Shareable;
            }
            if o.hostname.is_none() && pod.config.shares("uts") {
                o.hostname = Some(if pod.config.hostname.is_empty() {
                    pod.name.clone()
                } else {
                    pod.config.hostname.clone()
                });
            }
            if o.cgroup_parent.is_none() && !pod.config.cgroup_parent.is_empty() {
                o.cgroup_parent = Some(pod.config.cgroup_parent.clone());
            }
            Ok(self.create_container(&image, &o)?.id)
        })();
        match made {
            Ok(infra_id) => {
                record::set_infra(self.db()?.conn(), &id, &infra_id)?;
                Ok(PodRecord { infra_id, ..pod })
            }
            Err(e) => {
                let _ = self
                    .db()?
                    .conn()
                    .execute("DELETE FROM pods WHERE id = ?1", [&id]);
                Err(e)
            }
        }
    }

    /// For a container created with `--pod`: checks the flags against the pod and returns
    /// the options with the pod's shared namespaces joined (through its infra container),
    /// the pod's hostname and cgroup parent. `None` when the container is not in a pod or
    /// is the infra container itself.
    pub fn pod_member_options(&self, opts: &CreateOptions) -> Result<Option<CreateOptions>> {
        let Some(pod_ref) = &opts.pod else {
            return Ok(None);
        };
        if opts.infra {
            return Ok(None);
        }
        let pod = self.lookup_pod(pod_ref)?;
        let mut o = opts.clone();
        o.pod = Some(pod.id.clone());
        if pod.config.shares("net") {
            if opts.publish_set {
                return Err(PodError::PortsOnPodMember.into());
            }
            if opts.network_set {
                return Err(PodError::NetworkOnPodMember.into());
            }
        }
        if pod.config.infra {
            let infra = pod.infra_id.clone();
            let ns = &mut o.namespaces;
            for (kind, mode) in [
                ("pid", &mut ns.pid),
                ("ipc", &mut ns.ipc),
                ("uts", &mut ns.uts),
                ("net", &mut ns.net),
            ] {
                // Defaults (containers.conf `netns`, `ipc`) give way to the pod's namespaces;
                // an explicit `--network` was refused above, `host`/`container:`/`ns:` stay.
                let default_mode = matches!(
                    mode,
                    NamespaceMode::Private | NamespaceMode::None | NamespaceMode::Shareable
                );
                if pod.config.shares(kind) && default_mode {
                    *mode = NamespaceMode::Container(infra.clone());
                }
            }
            if pod.config.shares("uts") && o.hostname.is_none() {
                if let Ok(i) = self.lookup_container(&infra) {
                    o.hostname = Some(i.config.hostname.clone());
                }
            }
        }
        if o.cgroup_parent.is_none() && !pod.config.cgroup_parent.is_empty() {
            o.cgroup_parent = Some(pod.config.cgroup_parent.clone());
        }
        Ok(Some(o))
    }

    /// Starts a pod: infra first, then the others. Errors of single containers are
    /// collected; the first is returned after all were tried.
    pub fn start_pod(&mut self, name_or_id: &str) -> Result<PodRecord> {
        let pod = self.lookup_pod(name_or_id)?;
        let members = self.pod_containers(&pod)?;
        if members.is_empty() {
            return Err(PodError::Invalid(format!(
                "no containers in pod {} have no dependencies, cannot start pod: no such container",
                pod.id
            ))
            .into());
        }
        let mut first_err = None;
        for c in members {
            if matches!(c.state, ContainerState::Running | ContainerState::Paused) {
                continue;
            }
            if let Err(e) = self.start_container(&c.id, false) {
                first_err.get_or_insert(e);
            }
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(pod),
        }
    }

    /// Stops a pod: every container but infra at once, then infra.
    pub fn stop_pod(&mut self, name_or_id: &str, timeout: Option<u64>) -> Result<PodRecord> {
        let pod = self.lookup_pod(name_or_id)?;
        let members = self.pod_containers(&pod)?;
        let (infra, others): (Vec<_>, Vec<_>) =
            members.into_iter().partition(|c| c.id == pod.infra_id);
        let active = |v: Vec<ContainerRecord>| -> Vec<String> {
            v.into_iter()
                .filter(|c| c.state.has_monitor())
                .map(|c| c.id)
                .collect()
        };
        let stop = |e: &mut Engine, id: &str| e.stop_container(id, timeout).map(|_| ());
        let errs = if timeout == Some(0) {
            // No grace period: everything is killed at once.
            let mut all = active(others);
            all.extend(active(infra));
            self.in_parallel(all, stop)
        } else {
            let mut errs = self.in_parallel(active(others), stop);
            errs.extend(self.in_parallel(active(infra), stop));
            errs
        };
        match errs.into_iter().next() {
            Some(e) => Err(e),
            None => Ok(pod),
        }
    }

    /// Stops and starts a pod again.
    pub fn restart_pod(&mut self, name_or_id: &str, timeout: Option<u64>) -> Result<PodRecord> {
        let pod = self.stop_pod(name_or_id, timeout)?;
        self.start_pod(&pod.id)
    }

    /// Sends `signal` to every running container of the pod (infra last).
    pub fn kill_pod(&mut self, name_or_id: &str, signal: i32) -> Result<PodRecord> {
        let pod = self.lookup_pod(name_or_id)?;
        let mut members = self.pod_containers(&pod)?;
        members.reverse();
        for c in members {
            if c.state == ContainerState::Running {
                self.kill_container(&c.id, signal)?;
            }
        }
        Ok(pod)
    }

    /// Pauses every running container of the pod.
    pub fn pause_pod(&mut self, name_or_id: &str) -> Result<PodRecord> {
        let pod = self.lookup_pod(name_or_id)?;
        for c in self.pod_containers(&pod)? {
            if c.state == ContainerState::Running {
                self.pause_container(&c.id)?;
            }
        }
        Ok(pod)
    }

    /// Resumes every paused container of the pod.
    pub fn unpause_pod(&mut self, name_or_id: &str) -> Result<PodRecord> {
        let pod = self.lookup_pod(name_or_id)?;
        for c in self.pod_containers(&pod)? {
            if c.state == ContainerState::Paused {
                self.unpause_container(&c.id)?;
            }
        }
        Ok(pod)
    }

    /// Removes a pod and all its containers. Without `force` a pod with running or paused
    /// containers is refused before anything is touched; with it they are stopped first
    /// (with `timeout`). Returns the pod's full ID.
    pub fn remove_pod(
        &mut self,
        name_or_id: &str,
        force: bool,
        timeout: Option<u64>,
    ) -> Result<String> {
        let pod = self.lookup_pod(name_or_id)?;
        let members = self.pod_containers(&pod)?;
        if !force {
            if let Some(c) = members
                .iter()
                .filter(|c| c.state.is_active())
                .min_by_key(|c| c.id == pod.infra_id)
            {
                return Err(PodError::RemoveRunning {
                    pod: pod.id.clone(),
                    ctr: c.id.clone(),
                }
                .into());
            }
        }
        let (infra, mut others): (Vec<_>, Vec<_>) =
            members.into_iter().partition(|c| c.id == pod.infra_id);
        // Newest first: a member that joined another member's namespaces goes before it.
        others.reverse();
        // Members stop at once; infra after them, unless there is no grace period anyway
        // (`-t 0`: everything is killed at once).
        let with_infra = if timeout == Some(0) { &infra[..] } else { &[] };
        let mut errs = self.in_parallel(
            others
                .iter()
                .chain(with_infra)
                .filter(|c| c.state.has_monitor())
                .map(|c| c.id.clone())
                .collect(),
            |e, id| e.stop_container(id, timeout).map(|_| ()),
        );
        // Stopped members are removed in parallel; what failed (a member another member
        // depends on) is tried again in order.
        let failed = self.in_parallel(others.iter().map(|c| c.id.clone()).collect(), |e, id| {
            e.remove_container_unchecked(id, true, timeout).map(|_| ())
        });
        if !failed.is_empty() {
            for c in &others {
                match self.remove_container_unchecked(&c.id, true, timeout) {
                    Ok(_) => {}
                    Err(crate::Error::Container(crate::container::ContainerError::NotFound(_))) => {
                    }
                    Err(e) => errs.push(e),
                }
            }
        }
        for c in &infra {
            if let Err(e) = self.remove_container_unchecked(&c.id, true, timeout) {
                errs.push(e);
            }
        }
        if let Some(e) = errs.into_iter().next() {
            return Err(e);
        }
        record::delete(self.db()?.conn(), &pod.id)?;
        Ok(pod.id)
    }

    /// `rm --all` reaching an infra container: removes its whole pod (as Podman does);
    /// returns the infra container's ID.
    pub fn remove_pod_of_infra(
        &mut self,
        infra_id: &str,
        force: bool,
        timeout: Option<u64>,
    ) -> Result<String> {
        let rec = self.lookup_container(infra_id)?;
        match record::get(self.db()?.conn(), &rec.config.pod)? {
            Some(pod) if rec.config.infra => {
                self.remove_pod(&pod.id, force, timeout)?;
                Ok(rec.id)
            }
            _ => self.remove_container(&rec.id, force, timeout),
        }
    }

    /// Removes every pod whose containers have all exited; returns their IDs.
    pub fn prune_pods(&mut self) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for pod in self.list_pods()? {
            let members = self.pod_containers(&pod)?;
            if !members.is_empty() && self.pod_state(&members) == PodState::Exited {
                out.push(self.remove_pod(&pod.id, false, None)?);
            }
        }
        Ok(out)
    }

    /// Called when the monitor of a pod member (not infra) ends for good: with
    /// `--exit-policy stop`, stops the pod once no member but infra is left running.
    pub fn pod_member_exited(&mut self, pod_id: &str) -> Result<()> {
        let Some(pod) = record::get(self.db()?.conn(), pod_id)? else {
            return Ok(());
        };
        if pod.config.exit_policy != ExitPolicy::Stop || pod.infra_id.is_empty() {
            return Ok(());
        }
        let members = self.pod_containers(&pod)?;
        let busy = members
            .iter()
            .any(|c| c.id != pod.infra_id && c.state.has_monitor());
        if !busy {
            self.stop_container(&pod.infra_id, None)?;
        }
        Ok(())
    }

    /// Runs `f` for each ID on its own thread with its own engine; returns the errors.
    fn in_parallel(
        &self,
        ids: Vec<String>,
        f: impl Fn(&mut Engine, &str) -> Result<()> + Sync,
    ) -> Vec<crate::Error> {
        if ids.len() <= 1 {
            return ids
                .iter()
                .filter_map(|id| {
                    Engine::new(self.options.clone())
                        .and_then(|mut e| f(&mut e, id))
                        .err()
                })
                .collect();
        }
        let opts = self.options.clone();
        std::thread::scope(|s| {
            let handles: Vec<_> = ids
                .iter()
                .map(|id| {
                    let opts = opts.clone();
                    let f = &f;
                    s.spawn(move || -> Result<()> {
                        let mut e = Engine::new(opts)?;
                        f(&mut e, id)
                    })
                })
                .collect();
            handles
                .into_iter()
                .filter_map(|h| h.join().ok().and_then(|r| r.err()))
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn share_values() {
        assert_eq!(parse_share("net,ipc,uts").unwrap(), ["ipc", "net", "uts"]);
        assert_eq!(parse_share("none").unwrap(), Vec::<String>::new());
        assert_eq!(parse_share("+pid").unwrap(), ["ipc", "net", "pid", "uts"]);
        assert_eq!(parse_share("pid,cgroup").unwrap(), ["cgroup", "pid"]);
        assert!(parse_share("mnt").is_err());
    }
}
