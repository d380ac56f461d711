//! Store maintenance: `system df` (disk usage of images, containers and volumes), `system
//! prune` (stopped containers, unused networks, dangling or unused images, unused volumes)
//! and `system reset` (everything vaina made, then the graph and run roots themselves).
//!
//! Sizes are apparent sizes: the images module's sizes for images, the bytes of regular
//! files in a container's overlay upper dir (its writable layer) and in a volume's data.

use crate::{Engine, Result};
use serde::Serialize;
use std::path::Path;

/// One line of `system df`.
#[derive(Debug, Clone, Serialize)]
pub struct DfSummary {
    #[serde(rename = "Type")]
    pub kind: String,
    pub total: usize,
    pub active: usize,
    pub size: u64,
    pub reclaimable: u64,
}

/// One image of `system df -v`.
#[derive(Debug, Clone, Serialize)]
pub struct DfImage {
    pub repository: String,
    pub tag: String,
    pub id: String,
    pub created_ns: i64,
    pub size: u64,
    pub shared_size: u64,
    pub unique_size: u64,
    pub containers: usize,
}

/// One container of `system df -v`.
#[derive(Debug, Clone, Serialize)]
pub struct DfContainer {
    pub id: String,
    pub image: String,
    pub command: String,
    pub local_volumes: usize,
    pub size: u64,
    pub created_ns: i64,
    pub status: String,
    pub names: String,
}

/// One volume of `system df -v`.
#[derive(Debug, Clone, Serialize)]
pub struct DfVolume {
    pub name: String,
    pub links: usize,
    pub size: u64,
}

/// Everything `system df` reports.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DfReport {
    pub images: Vec<DfImage>,
    pub containers: Vec<DfContainer>,
    pub volumes: Vec<DfVolume>,
}

impl DfReport {
    /// The three summary lines (Images, Containers, Local Volumes).
    pub fn summary(&self) -> Vec<DfSummary> {
        let img_active: Vec<_> = self.images.iter().filter(|i| i.containers > 0).collect();
        let img_size: u64 = self.images.iter().map(|i| i.size).sum();
        let img_active_size: u64 = img_active.iter().map(|i| i.size).sum();
        let running = |c: &&DfContainer| c.status == "running" || c.status == "paused";
        let ctr_size: u64 = self.containers.iter().map(|c| c.size).sum();
        let ctr_active_size: u64 = self.containers.iter().filter(running).map(|c| c.size).sum();
        let vol_size: u64 = self.volumes.iter().map(|v| v.size).sum();
        let vol_active: Vec<_> = self.volumes.iter().filter(|v| v.links > 0).collect();
        let vol_active_size: u64 = vol_active.iter().map(|v| v.size).sum();
        vec![
            DfSummary {
                kind: "Images".into(),
                total: self.images.len(),
                active: img_active.len(),
                size: img_size,
                reclaimable: img_size - img_active_size,
            },
            DfSummary {
                kind: "Containers".into(),
                total: self.containers.len(),
                active: self.containers.iter().filter(running).count(),
                size: ctr_size,
                reclaimable: ctr_size - ctr_active_size,
            },
            DfSummary {
                kind: "Local Volumes".into(),
                total: self.volumes.len(),
                active: vol_active.len(),
                size: vol_size,
                reclaimable: vol_size - vol_active_size,
            },
        ]
    }
}

/// What `system prune` removed.
#[derive(Debug, Clone, Default)]
pub struct PruneReport {
    pub containers: Vec<String>,
    pub networks: Vec<String>,
    pub volumes: Vec<String>,
    pub images: Vec<String>,
    /// Bytes freed (containers' writable layers, images, volumes).
    pub reclaimed: u64,
}

/// Apparent size of the regular files under `dir` (symlinks not followed, other file
/// systems not entered).
pub fn dir_size(dir: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let Ok(top) = std::fs::symlink_metadata(dir) else {
        return 0;
    };
    let dev = top.dev();
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let Ok(m) = e.metadata() else { continue };
            if m.is_dir() {
                if m.dev() == dev {
                    stack.push(e.path());
                }
            } else if m.is_file() {
                total += m.len();
            }
        }
    }
    total
}

impl Engine {
    /// `system df`.
    pub fn system_df(&self) -> Result<DfReport> {
        let mut r = DfReport::default();
        let containers = self.list_containers()?;
        for i in self.list_images()? {
            let (repository, tag) = match i.names.first() {
                Some(n) => (
                    crate::image::name_repository(n).to_string(),
                    crate::image::name_tag(n).unwrap_or("<none>").to_string(),
                ),
                None => ("<none>".into(), "<none>".into()),
            };
            r.images.push(DfImage {
                repository,
                tag,
                id: i.id.clone(),
                created_ns: i.created_ns,
                size: i.size,
                shared_size: 0,
                unique_size: i.size,
                containers: containers.iter().filter(|c| c.image_id == i.id).count(),
            });
        }
        let volumes = self.volume_list().unwrap_or_default();
        for c in &containers {
            let upper = self.container_paths(&c.id).writable_layer();
            let local_volumes = volumes
                .iter()
                .filter(|v| {
                    self.volume_users(&v.name)
                        .map(|u| u.contains(&c.id))
                        .unwrap_or(false)
                })
                .count();
            r.containers.push(DfContainer {
                id: c.id.clone(),
                image: c.image_id.clone(),
                command: c.config.command.join(" "),
                local_volumes,
                size: dir_size(&upper),
                created_ns: c.created,
                status: c.state.as_str().to_string(),
                names: c.name.clone(),
            });
        }
        for v in volumes {
            let links = self.volume_users(&v.name).map(|u| u.len()).unwrap_or(0);
            r.volumes.push(DfVolume {
                size: dir_size(&v.mountpoint),
                name: v.name,
                links,
            });
        }
        Ok(r)
    }

    /// `system prune`: stopped containers, unused networks, dangling images (every unused
    /// image with `all`), and unused volumes with `volumes`.
    pub fn system_prune(&mut self, all: bool, volumes: bool) -> Result<PruneReport> {
        let mut r = PruneReport::default();
        self.prune_pods()?;
        for c in self.list_containers()? {
            if c.state.is_active() || c.config.infra {
                continue;
            }
            let size = dir_size(&self.container_paths(&c.id).writable_layer());
            // Newest first, so dependents go before their dependencies; a stopped container
            // that a running one depends on stays.
            let id = match self.remove_container(&c.id, false, None) {
                Err(crate::Error::Container(crate::container::ContainerError::HasDependents {
                    ..
                })) => continue,
                r => r?,
            };
            if !id.is_empty() {
                r.reclaimed += size;
                r.containers.push(id);
            }
        }
        let used = self.networks_in_use()?;
        r.networks = self.network_prune(&|n| used.contains(&n.name))?;
        if volumes {
            let before: Vec<_> = self
                .volume_list()?
                .into_iter()
                .map(|v| (v.name.clone(), dir_size(&v.mountpoint)))
                .collect();
            r.volumes = self.volume_prune(&|_| false)?;
            r.reclaimed += before
                .iter()
                .filter(|(n, _)| r.volumes.contains(n))
                .map(|(_, s)| s)
                .sum::<u64>();
        }
        let sizes: Vec<_> = self
            .list_images()?
            .into_iter()
            .map(|i| (i.id, i.size))
            .collect();
        r.images = self.prune_images(all, &[])?;
        r.reclaimed += sizes
            .iter()
            .filter(|(id, _)| r.images.iter().any(|x| x == id || x.ends_with(id.as_str())))
            .map(|(_, s)| s)
            .sum::<u64>();
        Ok(r)
    }

    /// `system reset`: removes every container (stopping it), image, volume and network, then
    /// unmounts anything left under the graph and run roots and deletes both.
    pub fn system_reset(&mut self) -> Result<()> {
        let mut first_err: Option<crate::Error> = None;
        let mut keep = |r: Result<()>| {
            if let Err(e) = r {
                log::warn!("system reset: {e}");
                first_err.get_or_insert(e);
            }
        };
        for p in self.list_pods().unwrap_or_default() {
            keep(self.remove_pod(&p.id, true, Some(0)).map(|_| ()));
        }
        for c in self.list_containers().unwrap_or_default() {
            keep(self.remove_container(&c.id, true, Some(0)).map(|_| ()));
        }
        let opts = crate::image::remove::RemoveOptions {
            force: true,
            all: true,
            ignore: true,
        };
        keep(self.remove_images(&[], &opts).map(|_| ()));
        for v in self.volume_list().unwrap_or_default() {
            keep(self.volume_remove(&v.name, true, Some(0)).map(|_| ()));
        }
        keep(self.network_prune(&|_| false).map(|_| ()));
        keep(self.network_reset_default());
        for dir in [self.paths.root.clone(), self.paths.runroot.clone()] {
            unmount_below(&dir);
            match std::fs::remove_dir_all(&dir) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    keep(Err(crate::Error::io(&dir, e)))
                }
                _ => {}
            }
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// Detaches every mount at or below `dir`, deepest first.
fn unmount_below(dir: &Path) {
    let prefix = dir.to_string_lossy().trim_end_matches('/').to_string();
    let mut points: Vec<String> = std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split(' ').nth(4).map(str::to_string))
        .filter(|p| *p == prefix || p.starts_with(&format!("{prefix}/")))
        .collect();
    points.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for p in points {
        let _ = nix::mount::umount2(p.as_str(), nix::mount::MntFlags::MNT_DETACH);
    }
}
