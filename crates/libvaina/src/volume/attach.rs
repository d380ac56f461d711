//! Volumes and containers: turns a container's user mounts (`-v`, `--mount`, `--tmpfs`,
//! `--volumes-from`, the image's `Volumes`) into runtime mounts at create time, creating
//! volumes on first use and copying the image's content into new empty ones (copy-up);
//! mounts mount-backed volumes while containers run; releases volumes when a container goes.
//!
//! Everything that can fail on bad input (a missing bind source, an invalid volume name, an
//! unknown `--volumes-from` container) is checked before anything is created.

use super::record;
use super::VolumeError;
use crate::container::options::{CreateOptions, MountSource, UserMount};
use crate::container::rootfs::is_mounted;
use crate::error::IoContext;
use crate::{Engine, Result};
use nix::mount::{MntFlags, MsFlags};
use oci_spec::image::ImageConfiguration;
use oci_spec::runtime::{Mount, MountBuilder};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

fn mount_err(what: &'static str, name: &str, path: &Path, source: nix::Error) -> crate::Error {
    VolumeError::Mount {
        what,
        name: name.to_string(),
        path: path.to_path_buf(),
        source,
    }
    .into()
}

/// Unmounts whatever is mounted on a volume's `_data` (lazily if busy).
pub(crate) fn force_unmount(data: &Path, name: &str) -> Result<()> {
    while is_mounted(data) {
        match nix::mount::umount2(data, MntFlags::empty()) {
            Ok(()) => {}
            Err(nix::Error::EBUSY) => nix::mount::umount2(data, MntFlags::MNT_DETACH)
                .map_err(|e| mount_err("unmounting", name, data, e))?,
            Err(nix::Error::EINVAL) | Err(nix::Error::ENOENT) => break,
            Err(e) => return Err(mount_err("unmounting", name, data, e)),
        }
    }
    Ok(())
}

/// Go's spelling of an errno (`no such file or directory`).
fn errno_text(e: &std::io::Error) -> String {
    let s = nix::Error::from_raw(e.raw_os_error().unwrap_or(libc::EIO)).desc();
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The user mounts of a container, with the `--volumes-from` and image volumes added.
fn collect(
    engine: &Engine,
    opts: &CreateOptions,
    image: &ImageConfiguration,
) -> Result<Vec<UserMount>> {
    let mut all = opts.mounts.clone();
    for (ctr, ro) in &opts.volumes_from {
        let rec = engine.lookup_container(ctr).map_err(|e| {
            VolumeError::Invalid(format!(
                "looking up container {ctr:?} for volumes-from: {e}"
            ))
        })?;
        for mut m in stored_mounts(engine, &rec.id)? {
            if matches!(m.source, MountSource::Tmpfs | MountSource::Image { .. })
                || all.iter().any(|o| o.destination == m.destination)
            {
                continue;
            }
            if let Some(ro) = ro {
                m.read_only = *ro;
            }
            // An `:O` mount gets its own upper dir in this container.
            let before = m.options.len();
            m.options
                .retain(|o| !o.starts_with("upperdir=") && !o.starts_with("workdir="));
            if m.options.len() != before {
                m.options.push("O".into());
            }
            all.push(m);
        }
    }
    let image_volumes = image
        .config()
        .as_ref()
        .and_then(|c| c.volumes().clone())
        .unwrap_or_default();
    for dest in image_volumes {
        let dest = if dest.starts_with('/') {
            dest
        } else {
            format!("/{dest}")
        };
        if !all
            .iter()
            .any(|o| o.destination.trim_end_matches('/') == dest.trim_end_matches('/'))
        {
            all.push(UserMount {
                source: MountSource::Volume(None),
                destination: dest,
                read_only: false,
                options: Vec::new(),
                no_copy: false,
                chown: false,
            });
        }
    }
    Ok(all)
}

/// The resolved user mounts recorded for container `id` (for `--volumes-from`).
fn stored_mounts(engine: &Engine, id: &str) -> Result<Vec<UserMount>> {
    let text: Option<String> =
        rusqlite::OptionalExtension::optional(engine.db()?.conn().query_row(
            "SELECT mounts FROM container_mounts WHERE container = ?1",
            [id],
            |r| r.get(0),
        ))
        .map_err(VolumeError::from)?;
    Ok(text
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default())
}

/// Resolves, creates and records the mounts of the container `id` being created, copies the
/// image's content (read from the mounted `rootfs`) into new volumes, and returns the
/// runtime mounts to add to its spec.
pub fn attach_for_container(
    engine: &Engine,
    id: &str,
    opts: &CreateOptions,
    image: &ImageConfiguration,
    rootfs: &Path,
) -> Result<Vec<Mount>> {
    let mut mounts = collect(engine, opts, image)?;
    // Checks first: nothing is created when one of them fails.
    for m in &mounts {
        match &m.source {
            MountSource::Bind(src) => {
                std::fs::metadata(src).map_err(|e| {
                    VolumeError::Invalid(format!("statfs {}: {}", src.display(), errno_text(&e)))
                })?;
            }
            MountSource::Image { name, .. } => {
                engine.lookup_image(name).map_err(|e| {
                    VolumeError::Invalid(format!(
                        "creating image volume {name:?}:{:?}: {e}",
                        m.destination
                    ))
                })?;
            }
            MountSource::Volume(Some(n)) if !super::valid_name(n) => {
                return Err(VolumeError::Invalid(format!(
                    "creating named volume {n:?}: {}",
                    VolumeError::InvalidName(n.clone())
                ))
                .into())
            }
            _ => {}
        }
    }
    let chown_to = if mounts.iter().any(|m| m.chown) {
        let u = crate::container::spec::user::resolve(rootfs, image, opts)?;
        Some((u.uid, u.gid))
    } else {
        None
    };
    let conn = engine.db()?.conn();
    let image_mounts = engine.container_paths(id).dir.join("image-mounts");
    for (i, m) in mounts.iter_mut().enumerate() {
        if let MountSource::Image { name, layers, dir } = &mut m.source {
            let img = engine.lookup_image(name)?;
            *layers = engine.image_layer_dirs(&img)?;
            *dir = image_mounts.join(i.to_string());
            for d in [dir.join("upper"), dir.join("work")] {
                std::fs::create_dir_all(&d).with_path(&d)?;
            }
            continue;
        }
        let MountSource::Volume(name) = &m.source else {
            continue;
        };
        let name = match name {
            Some(n) if record::get(conn, n)?.is_some() => n.clone(),
            other => {
                // `ignore`: another container may create the same volume at the same time.
                let v = engine.volume_create(&super::CreateOptions {
                    name: other.clone(),
                    anonymous: other.is_none(),
                    ignore: true,
                    ..Default::default()
                })?;
                v.name
            }
        };
        record::add_user(conn, &name, id)?;
        m.source = MountSource::Volume(Some(name.clone()));
        let Some(rec) = record::get(conn, &name)? else {
            continue;
        };
        let data = engine.volume_mountpoint(&name);
        let backed = rec.options.contains_key("type") || rec.options.contains_key("device");
        if rec.needs_copy_up && !m.no_copy && !backed {
            copy_up(rootfs, &m.destination, &data)?;
            record::clear_copy_up(conn, &name)?;
        }
    }
    // `:O` mounts: an upper and work dir of the container's over the source.
    let overlays = engine.container_paths(id).dir.join("overlay-volumes");
    for (i, m) in mounts.iter_mut().enumerate() {
        if let Some(pos) = m.options.iter().position(|o| o == "O") {
            let d = overlays.join(i.to_string());
            for sub in ["upper", "work"] {
                std::fs::create_dir_all(d.join(sub)).with_path(d.join(sub))?;
            }
            m.options.remove(pos);
            m.options
                .push(format!("upperdir={}", d.join("upper").display()));
            m.options
                .push(format!("workdir={}", d.join("work").display()));
        }
    }
    if let Some((uid, gid)) = chown_to {
        for m in mounts.iter().filter(|m| m.chown) {
            match &m.source {
                MountSource::Bind(p) => chown_tree(p, uid, gid)?,
                MountSource::Volume(Some(n)) => chown_tree(&engine.volume_mountpoint(n), uid, gid)?,
                _ => {}
            }
        }
    }
    conn.execute(
        "INSERT OR REPLACE INTO container_mounts (container, mounts) VALUES (?1, ?2)",
        [
            id,
            &serde_json::to_string(&mounts).unwrap_or_else(|_| "[]".into()),
        ],
    )
    .map_err(VolumeError::from)?;
    mounts.iter().map(|m| runtime_mount(engine, m)).collect()
}

/// The runtime mount for one resolved user mount.
fn runtime_mount(engine: &Engine, m: &UserMount) -> Result<Mount> {
    let has = |o: &str| m.options.iter().any(|x| x == o);
    let mut options: Vec<String> = Vec::new();
    let (typ, source) = match &m.source {
        MountSource::Bind(p) => ("bind", p.clone()),
        MountSource::Volume(n) => (
            "bind",
            engine.volume_mountpoint(n.as_deref().unwrap_or_default()),
        ),
        MountSource::Tmpfs => ("tmpfs", "tmpfs".into()),
        MountSource::Image { layers, dir, .. } => {
            // An overlay the runtime mounts in the container's namespace: nothing to mount
            // or unmount on the host.
            let lower: Vec<String> = layers
                .iter()
                .rev()
                .map(|p| p.to_string_lossy().replace(':', "\\:"))
                .collect();
            options.push(format!("lowerdir={}", lower.join(":")));
            options.push(format!("upperdir={}", dir.join("upper").display()));
            options.push(format!("workdir={}", dir.join("work").display()));
            ("overlay", "overlay".into())
        }
    };
    // `:O`: an overlay with the source as its lower dir; its changes are dropped at each
    // start ([`mount_for_container`]).
    let overlay = m.options.iter().any(|o| o.starts_with("upperdir="));
    let (typ, source) = if overlay {
        let lower = source.to_string_lossy().replace(':', "\\:");
        options.push(format!("lowerdir={lower}"));
        ("overlay", "overlay".into())
    } else {
        (typ, source)
    };
    if typ == "bind" {
        options.push(if has("bind") { "bind" } else { "rbind" }.into());
        if !m.options.iter().any(|o| {
            o.ends_with("shared")
                || o.ends_with("slave")
                || o.ends_with("private")
                || o.ends_with("bindable")
        }) {
            options.push("rprivate".into());
        }
    }
    let defaults: &[(&str, &str)] = match m.source {
        MountSource::Bind(_) => &[],
        MountSource::Volume(_) => &[("nosuid", "suid"), ("nodev", "dev")],
        MountSource::Tmpfs => &[("nosuid", "suid"), ("nodev", "dev"), ("noexec", "exec")],
        MountSource::Image { .. } => &[("nosuid", "suid"), ("nodev", "dev")],
    };
    for (flag, opposite) in defaults {
        if !has(opposite) && !has(flag) {
            options.push(flag.to_string());
        }
    }
    options.extend(m.options.iter().filter(|o| *o != "bind").cloned());
    options.push(if m.read_only { "ro" } else { "rw" }.into());
    Ok(MountBuilder::default()
        .destination(&m.destination)
        .typ(typ)
        .source(source)
        .options(options)
        .build()
        .map_err(crate::container::spec::SpecError::from)?)
}

/// Copies the image's content at `dest` (resolved inside `rootfs`) into the empty volume
/// directory `data`, keeping owners, modes and symlinks.
fn copy_up(rootfs: &Path, dest: &str, data: &Path) -> Result<()> {
    let Some(src) = crate::container::spec::user::resolve_in_root(rootfs, dest) else {
        return Ok(());
    };
    if !src.is_dir() || std::fs::read_dir(data).with_path(data)?.next().is_some() {
        return Ok(());
    }
    let meta = std::fs::symlink_metadata(&src).with_path(&src)?;
    std::os::unix::fs::lchown(data, Some(meta.uid()), Some(meta.gid())).with_path(data)?;
    std::fs::set_permissions(data, meta.permissions()).with_path(data)?;
    copy_tree(&src, data)
}

fn copy_tree(src: &Path, dst: &Path) -> Result<()> {
    for e in std::fs::read_dir(src).with_path(src)? {
        let e = e.with_path(src)?;
        let from = e.path();
        let to = dst.join(e.file_name());
        let meta = std::fs::symlink_metadata(&from).with_path(&from)?;
        let ft = meta.file_type();
        if ft.is_dir() {
            std::fs::create_dir(&to).with_path(&to)?;
            copy_tree(&from, &to)?;
        } else if ft.is_symlink() {
            let target = std::fs::read_link(&from).with_path(&from)?;
            std::os::unix::fs::symlink(&target, &to).with_path(&to)?;
        } else if ft.is_file() {
            std::fs::copy(&from, &to).with_path(&to)?;
        } else {
            continue; // devices, fifos and sockets are not copied up
        }
        std::os::unix::fs::lchown(&to, Some(meta.uid()), Some(meta.gid())).with_path(&to)?;
        if !ft.is_symlink() {
            std::fs::set_permissions(&to, meta.permissions()).with_path(&to)?;
        }
    }
    Ok(())
}

/// `U`: gives the tree at `p` to `uid:gid` (symlinks themselves, never their targets).
fn chown_tree(p: &Path, uid: u32, gid: u32) -> Result<()> {
    std::os::unix::fs::lchown(p, Some(uid), Some(gid)).with_path(p)?;
    let meta = std::fs::symlink_metadata(p).with_path(p)?;
    if meta.is_dir() {
        for e in std::fs::read_dir(p).with_path(p)? {
            chown_tree(&e.with_path(p)?.path(), uid, gid)?;
        }
    }
    Ok(())
}

/// Splits a local driver `o=` value into mount flags and filesystem data.
fn mount_flags(o: &str) -> (MsFlags, String) {
    let mut flags = MsFlags::empty();
    let mut data = Vec::new();
    for item in o.split(',').filter(|s| !s.is_empty()) {
        match item {
            "ro" => flags |= MsFlags::MS_RDONLY,
            "rw" => flags.remove(MsFlags::MS_RDONLY),
            "nosuid" => flags |= MsFlags::MS_NOSUID,
            "nodev" => flags |= MsFlags::MS_NODEV,
            "noexec" => flags |= MsFlags::MS_NOEXEC,
            "sync" => flags |= MsFlags::MS_SYNCHRONOUS,
            "noatime" => flags |= MsFlags::MS_NOATIME,
            "bind" => flags |= MsFlags::MS_BIND,
            "rbind" => flags |= MsFlags::MS_BIND | MsFlags::MS_REC,
            other => data.push(other),
        }
    }
    (flags, data.join(","))
}

/// Where a container notes the mount-backed volumes it counted as mounted, so mounting and
/// unmounting stay balanced however often the monitor's paths call them.
/// It lives in the run root (gone after a reboot, like the mounts themselves).
fn mounted_marker(engine: &Engine, id: &str) -> std::path::PathBuf {
    engine.paths.runroot.join("volume-mounts").join(id)
}

/// Releases one counted use of mount-backed volume `name`, unmounting it after the last.
fn release_mount(engine: &Engine, name: &str) -> Result<()> {
    if record::bump_mount_count(engine.db()?.conn(), name, -1)? == 0 {
        force_unmount(&engine.volume_mountpoint(name), name)?;
    }
    Ok(())
}

/// Mounts the mount-backed volumes of container `id` (before the runtime creates it); the
/// first user mounts the device, later users count. Nothing stays counted on failure.
pub fn mount_for_container(engine: &Engine, id: &str) -> Result<()> {
    // `:O` volumes start from their source again at each start, as in Podman.
    for m in stored_mounts(engine, id)? {
        for o in &m.options {
            if let Some(d) = o
                .strip_prefix("upperdir=")
                .or_else(|| o.strip_prefix("workdir="))
            {
                let d = Path::new(d);
                if d.starts_with(engine.container_paths(id).dir) {
                    let _ = std::fs::remove_dir_all(d);
                    std::fs::create_dir_all(d).with_path(d)?;
                }
            }
        }
    }
    let marker = mounted_marker(engine, id);
    if marker.exists() {
        return Ok(());
    }
    let conn = engine.db()?.conn();
    let mut counted: Vec<String> = Vec::new();
    let res = (|| -> Result<()> {
        for name in record::volumes_of(conn, id)? {
            let Some(v) = record::get(conn, &name)? else {
                continue;
            };
            let Some(device) = v.options.get("device").or(v.options.get("type")) else {
                continue;
            };
            let data = engine.volume_mountpoint(&name);
            if !is_mounted(&data) {
                // Not mounted: any count left is stale (a reboot, a killed monitor).
                record::bump_mount_count(conn, &name, -i64::from(u32::MAX))?;
                let typ = v
                    .options
                    .get("type")
                    .map(String::as_str)
                    .filter(|t| !t.is_empty() && *t != "none");
                let (flags, fsdata) =
                    mount_flags(v.options.get("o").map(String::as_str).unwrap_or(""));
                nix::mount::mount(
                    Some(device.as_str()),
                    &data,
                    typ,
                    flags,
                    (!fsdata.is_empty()).then_some(fsdata.as_str()),
                )
                .map_err(|e| mount_err("mounting", &name, &data, e))?;
            }
            record::bump_mount_count(conn, &name, 1)?;
            counted.push(name);
        }
        if !counted.is_empty() {
            if let Some(dir) = marker.parent() {
                std::fs::create_dir_all(dir).with_path(dir)?;
            }
            std::fs::write(&marker, counted.join("\n")).with_path(&marker)?;
        }
        Ok(())
    })();
    if res.is_err() {
        for name in &counted {
            let _ = release_mount(engine, name);
        }
    }
    res
}

/// Unmounts the mount-backed volumes that [`mount_for_container`] counted for container `id`
/// (after it stopped) and that no other running container uses. Safe to call again.
pub fn unmount_for_container(engine: &Engine, id: &str) -> Result<()> {
    let marker = mounted_marker(engine, id);
    let Ok(text) = std::fs::read_to_string(&marker) else {
        return Ok(());
    };
    let mut first_err = None;
    for name in text.lines().filter(|l| !l.is_empty()) {
        if let Err(e) = release_mount(engine, name) {
            first_err.get_or_insert(e);
        }
    }
    let _ = std::fs::remove_file(&marker);
    first_err.map_or(Ok(()), Err)
}

/// Forgets the volumes container `id` used; with `remove_anonymous`, its anonymous volumes
/// no other container uses are removed too (`rm -v`, `run --rm`).
pub fn release_for_container(engine: &Engine, id: &str, remove_anonymous: bool) -> Result<()> {
    // A container whose monitor died still holds its mount-backed volumes.
    let unmounted = unmount_for_container(engine, id);
    let conn = engine.db()?.conn();
    let names = record::volumes_of(conn, id)?;
    record::remove_user(conn, id)?;
    conn.execute("DELETE FROM container_mounts WHERE container = ?1", [id])
        .map_err(VolumeError::from)?;
    if remove_anonymous {
        for n in names {
            let Some(v) = record::get(conn, &n)? else {
                continue;
            };
            if v.anonymous && record::users(conn, &n)?.is_empty() {
                engine.volume_delete(&n)?;
            }
        }
    }
    unmounted
}

impl Engine {
    /// The anonymous volumes of a container (to remove them after it, `rm -v`).
    pub fn container_anonymous_volumes(&self, name_or_id: &str) -> Result<Vec<String>> {
        let rec = self.lookup_container(name_or_id)?;
        let conn = self.db()?.conn();
        let mut out = Vec::new();
        for n in record::volumes_of(conn, &rec.id)? {
            if record::get(conn, &n)?.is_some_and(|v| v.anonymous) {
                out.push(n);
            }
        }
        Ok(out)
    }

    /// Removes the named volumes that no container uses any more (`rm -v` after removal).
    pub fn remove_volumes_if_unused(&self, names: &[String]) -> Result<()> {
        for n in names {
            if record::users(self.db()?.conn(), n)?.is_empty()
                && record::get(self.db()?.conn(), n)?.is_some()
            {
                self.volume_delete(n)?;
            }
        }
        Ok(())
    }
}

impl Engine {
    /// The container's user mounts as `inspect` shows them (Podman's `Mounts` entries);
    /// empty when it has none or they cannot be read.
    pub fn container_mounts_inspect(&self, id: &str) -> Vec<serde_json::Value> {
        let mounts = stored_mounts(self, id).unwrap_or_default();
        mounts
            .iter()
            .map(|m| {
                let rt = runtime_mount(self, m).ok();
                let options: Vec<String> = rt
                    .as_ref()
                    .and_then(|r| r.options().clone())
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|o| {
                        !matches!(o.as_str(), "ro" | "rw")
                            && !o.contains("dir=")
                            && !o.ends_with("private")
                            && !o.ends_with("shared")
                            && !o.ends_with("slave")
                            && !o.ends_with("bindable")
                    })
                    .collect();
                let propagation = m
                    .options
                    .iter()
                    .find(|o| {
                        o.ends_with("private")
                            || o.ends_with("shared")
                            || o.ends_with("slave")
                            || o.ends_with("bindable")
                    })
                    .cloned()
                    .unwrap_or_else(|| match m.source {
                        MountSource::Tmpfs | MountSource::Image { .. } => String::new(),
                        _ => "rprivate".into(),
                    });
                let (typ, name, source, driver) = match &m.source {
                    MountSource::Bind(p) => ("bind", String::new(), p.display().to_string(), ""),
                    MountSource::Volume(n) => {
                        let n = n.clone().unwrap_or_default();
                        let src = self.volume_mountpoint(&n).display().to_string();
                        ("volume", n, src, "local")
                    }
                    MountSource::Tmpfs => ("tmpfs", String::new(), "tmpfs".into(), ""),
                    MountSource::Image { name, .. } => ("image", String::new(), name.clone(), ""),
                };
                let mut v = serde_json::json!({ "Type": typ });
                if !name.is_empty() {
                    v["Name"] = name.into();
                }
                v["Source"] = source.into();
                v["Destination"] = m.destination.clone().into();
                if !driver.is_empty() {
                    v["Driver"] = driver.into();
                }
                v["Mode"] = "".into();
                v["Options"] = options.into();
                v["RW"] = (!m.read_only).into();
                v["Propagation"] = propagation.into();
                v
            })
            .collect()
    }
}

/// The host directories or files behind a container's volumes and bind mounts, as
/// (destination, source) pairs, parents first (for `cp` on a stopped container; tmpfs
/// mounts have no host side).
pub(crate) fn host_mounts(engine: &Engine, id: &str) -> Result<Vec<(String, std::path::PathBuf)>> {
    let mut v: Vec<(String, std::path::PathBuf)> = stored_mounts(engine, id)?
        .into_iter()
        .filter(|m| !m.options.iter().any(|o| o.starts_with("upperdir=")))
        .filter_map(|m| match m.source {
            MountSource::Bind(p) => Some((m.destination, p)),
            MountSource::Volume(Some(n)) => Some((m.destination, engine.volume_mountpoint(&n))),
            _ => None,
        })
        .collect();
    v.sort_by_key(|(d, _)| Path::new(d).components().count());
    Ok(v)
}
