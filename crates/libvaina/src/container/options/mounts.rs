//! The user's mounts of `create`/`run`: `-v/--volume`, `--mount`, `--tmpfs` parsed into
//! [`UserMount`]s with Podman's messages. Sources are not checked here (no I/O); the volume
//! module resolves them when the container is created ([`crate::volume::attach`]).

use crate::{Error, Result};
use std::path::PathBuf;

/// Where a mount's content comes from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum MountSource {
    /// A host path (absolute).
    Bind(PathBuf),
    /// A named volume, or an anonymous one (`None`) created with the container.
    Volume(Option<String>),
    /// A fresh tmpfs.
    Tmpfs,
    /// An image's root filesystem (`--mount type=image`): an overlay of its `layers` (lowest
    /// first) with an upper and work dir under `dir`, both filled in at create time.
    Image {
        name: String,
        #[serde(default)]
        layers: Vec<PathBuf>,
        #[serde(default)]
        dir: PathBuf,
    },
}

/// One user mount, as the flags describe it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UserMount {
    pub source: MountSource,
    /// Absolute path inside the container.
    pub destination: String,
    pub read_only: bool,
    /// Extra mount options for the runtime: propagation (`rshared`...), `bind` (non
    /// recursive), `nosuid`/`noexec`/`nodev` and their opposites, tmpfs `size=`/`mode=`.
    pub options: Vec<String>,
    /// `nocopy`: no copy-up of the image's content into a new volume.
    pub no_copy: bool,
    /// `U`: chown the source to the container's user and group.
    pub chown: bool,
}

impl UserMount {
    fn new(source: MountSource, destination: &str) -> Self {
        UserMount {
            source,
            destination: destination.to_string(),
            read_only: false,
            options: Vec::new(),
            no_copy: false,
            chown: false,
        }
    }
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::InvalidArgument(msg.into())
}

const PROPAGATIONS: &[&str] = &[
    "shared",
    "rshared",
    "slave",
    "rslave",
    "private",
    "rprivate",
    "unbindable",
    "runbindable",
];

const FLAGS: &[&str] = &["exec", "noexec", "suid", "nosuid", "dev", "nodev"];

fn check_destination(dst: &str) -> Result<()> {
    if !dst.starts_with('/') {
        return Err(invalid(format!(
            "invalid container path {dst:?}, must be an absolute path"
        )));
    }
    Ok(())
}

/// Applies the `-v` options (`ro`, `z`, `U`, `nocopy`, propagation...) to `m`.
fn volume_options(m: &mut UserMount, opts: &str) -> Result<()> {
    let list: Vec<&str> = opts.split(',').collect();
    let rw: Vec<&str> = list
        .iter()
        .copied()
        .filter(|o| matches!(*o, "ro" | "rw"))
        .collect();
    if rw.len() > 1 {
        return Err(invalid(format!(
            "invalid options {:?}, can only specify 1 'rw' or 'ro' option",
            rw.join(", ")
        )));
    }
    let label: Vec<&str> = list
        .iter()
        .copied()
        .filter(|o| matches!(*o, "z" | "Z" | "O"))
        .collect();
    if label.len() > 1 {
        return Err(invalid(format!(
            "invalid options {:?}, can only specify 1 'z', 'Z', or 'O' option",
            label.join(", ")
        )));
    }
    if list.contains(&"O") && list.len() > 1 {
        return Err(invalid("can't use 'O' with other options"));
    }
    for o in list {
        match o {
            "ro" => m.read_only = true,
            "rw" => m.read_only = false,
            // SELinux relabelling: accepted and ignored (vaina does not label).
            "z" | "Z" => {}
            // An overlay over the source; the volume module gives it an upper dir.
            "O" => m.options.push("O".into()),
            "U" => m.chown = true,
            "nocopy" => m.no_copy = true,
            "copy" => m.no_copy = false,
            "idmap" => {}
            "bind" | "rbind" => {
                m.options.retain(|x| x != "bind");
                if o == "bind" {
                    m.options.push("bind".into());
                }
            }
            _ if PROPAGATIONS.contains(&o) || FLAGS.contains(&o) => m.options.push(o.into()),
            _ => return Err(invalid(format!("invalid option type {o:?}"))),
        }
    }
    Ok(())
}

/// Parses `-v [SRC:]DST[:OPTIONS]`. A source starting with `/` or `.` is a bind mount,
/// anything else names a volume; no source means an anonymous volume.
pub fn volume(spec: &str) -> Result<UserMount> {
    let parts: Vec<&str> = spec.split(':').collect();
    let known_opts = |s: &str| {
        s.split(',').all(|o| {
            matches!(
                o,
                "ro" | "rw"
                    | "z"
                    | "Z"
                    | "O"
                    | "U"
                    | "nocopy"
                    | "copy"
                    | "idmap"
                    | "bind"
                    | "rbind"
            ) || PROPAGATIONS.contains(&o)
                || FLAGS.contains(&o)
        })
    };
    let (src, dst, opts) = match parts.as_slice() {
        [dst] => (None, *dst, None),
        [a, b] if a.starts_with('/') && !b.starts_with('/') && known_opts(b) => {
            (None, *a, Some(*b))
        }
        [src, dst] => (Some(*src), *dst, None),
        [src, dst, opts] => (Some(*src), *dst, Some(*opts)),
        _ => {
            return Err(invalid(format!(
                "{spec}: incorrect volume format, should be [host-dir:]ctr-dir[:option]"
            )))
        }
    };
    if src == Some("") {
        return Err(invalid("host directory cannot be empty"));
    }
    check_destination(dst)?;
    let source = match src {
        None => MountSource::Volume(None),
        Some(s) if s.starts_with('/') => MountSource::Bind(PathBuf::from(s)),
        Some(s) if s.starts_with('.') => {
            let cwd = std::env::current_dir().map_err(|e| Error::io(".", e))?;
            MountSource::Bind(cwd.join(s))
        }
        Some(s) => MountSource::Volume(Some(s.to_string())),
    };
    let mut m = UserMount::new(source, dst);
    if let Some(o) = opts {
        volume_options(&mut m, o)?;
    }
    Ok(m)
}

fn bool_value(v: Option<&str>) -> Result<bool> {
    match v {
        None => Ok(true),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(other) => Err(invalid(format!(
            "'readonly', 'ro', or 'rw' must be set to true or false, instead received {other:?}: must provide an argument for option"
        ))),
    }
}

fn bad_option(key: &str) -> Error {
    invalid(format!("{key}: invalid mount option"))
}

/// Parses `--mount type=bind|volume|tmpfs,src=...,dst=...[,options]`.
pub fn mount(spec: &str) -> Result<UserMount> {
    let mut typ = None;
    let mut src: Option<String> = None;
    let mut dst: Option<String> = None;
    let mut rest = Vec::new();
    for item in spec.split(',') {
        let (k, v) = match item.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (item, None),
        };
        match k {
            "type" => typ = v.map(str::to_string),
            "src" | "source" => src = v.map(str::to_string),
            "dst" | "target" | "destination" => dst = v.map(str::to_string),
            _ => rest.push((k.to_string(), v.map(str::to_string))),
        }
    }
    let Some(typ) = typ else {
        return Err(invalid("incorrect mount format: should be --mount type=<bind|tmpfs|volume>,[src=<host-dir|volume-name>,]target=<ctr-dir>[,options]"));
    };
    let Some(dst) = dst else {
        return Err(invalid("must set volume destination"));
    };
    check_destination(&dst)?;
    let source = match typ.as_str() {
        "bind" => MountSource::Bind(PathBuf::from(src.clone().unwrap_or_else(|| dst.clone()))),
        "volume" => MountSource::Volume(src.clone().filter(|s| !s.is_empty())),
        "tmpfs" => {
            if src.is_some() {
                return Err(invalid("source is not supported with tmpfs mounts"));
            }
            MountSource::Tmpfs
        }
        "image" => {
            return image_mount(src, dst, rest);
        }
        other => return Err(invalid(format!("invalid filesystem type {other:?}"))),
    };
    if let MountSource::Bind(p) = &source {
        if !p.is_absolute() {
            return Err(invalid(format!(
                "invalid source path {:?}, must be an absolute path",
                p.display()
            )));
        }
    }
    let mut m = UserMount::new(source, &dst);
    for (k, v) in rest {
        let v = v.as_deref();
        match (typ.as_str(), k.as_str()) {
            (_, "ro" | "readonly") => m.read_only = bool_value(v)?,
            (_, "rw") => m.read_only = !bool_value(v)?,
            (_, "z" | "Z" | "relabel" | "consistency" | "idmap") => {}
            (_, "U" | "chown") => m.chown = bool_value(v)?,
            (_, f) if FLAGS.contains(&f) => m.options.push(f.to_string()),
            ("bind", "bind-propagation") => match v {
                Some(p) if PROPAGATIONS.contains(&p) => m.options.push(p.to_string()),
                Some(p) => return Err(invalid(format!("invalid option type {p:?}"))),
                None => return Err(bad_option(&k)),
            },
            ("bind", "bind-nonrecursive") => {
                if bool_value(v)? {
                    m.options.push("bind".into());
                }
            }
            ("volume", "nocopy" | "volume-nocopy") => m.no_copy = bool_value(v)?,
            ("volume", "volume-opt" | "volume-label") => {}
            ("tmpfs", "tmpfs-size") => match v {
                Some(s) => m.options.push(format!("size={s}")),
                None => return Err(bad_option(&k)),
            },
            ("tmpfs", "tmpfs-mode") => match v {
                Some(s) => m.options.push(format!("mode={s}")),
                None => return Err(bad_option(&k)),
            },
            ("tmpfs", "tmpcopyup" | "notmpcopyup") => {}
            _ => return Err(bad_option(&k)),
        }
    }
    Ok(m)
}

/// `--mount type=image,src=IMAGE,dst=PATH[,rw=true|false]`: read-only unless `rw=true`.
fn image_mount(
    src: Option<String>,
    dst: String,
    rest: Vec<(String, Option<String>)>,
) -> Result<UserMount> {
    let Some(name) = src.filter(|s| !s.is_empty()) else {
        return Err(invalid("must set source and destination for image volume"));
    };
    let mut m = UserMount::new(
        MountSource::Image {
            name,
            layers: Vec::new(),
            dir: PathBuf::new(),
        },
        &dst,
    );
    m.read_only = true;
    for (k, v) in rest {
        match k.as_str() {
            "rw" | "readwrite" => m.read_only = !bool_value(v.as_deref())?,
            _ => return Err(bad_option(&k)),
        }
    }
    Ok(m)
}

/// Parses `--tmpfs /path[:options]`.
pub fn tmpfs(spec: &str) -> Result<UserMount> {
    let (dst, opts) = match spec.split_once(':') {
        Some((d, o)) => (d, Some(o)),
        None => (spec, None),
    };
    check_destination(dst)?;
    let mut m = UserMount::new(MountSource::Tmpfs, dst);
    for o in opts
        .into_iter()
        .flat_map(|o| o.split(','))
        .filter(|o| !o.is_empty())
    {
        let key = o.split_once('=').map_or(o, |(k, _)| k);
        match key {
            "ro" => m.read_only = true,
            "rw" => m.read_only = false,
            "size" | "mode" | "uid" | "gid" | "nr_inodes" | "nr_blocks" => {
                m.options.push(o.to_string())
            }
            "tmpcopyup" | "notmpcopyup" => {}
            _ if PROPAGATIONS.contains(&key) || FLAGS.contains(&key) => {
                m.options.push(o.to_string())
            }
            _ => {
                return Err(invalid(format!(
                    "unknown mount option {o:?}: invalid mount option"
                )))
            }
        }
    }
    Ok(m)
}

/// All of `-v`, `--mount` and `--tmpfs` (in that order). The same mount given twice counts
/// once; two different mounts on one destination are an error.
pub fn user_mounts(
    volumes: &[String],
    mounts: &[String],
    tmpfs_flags: &[String],
) -> Result<Vec<UserMount>> {
    let mut out: Vec<UserMount> = Vec::new();
    let parsed = volumes
        .iter()
        .map(|v| volume(v))
        .chain(mounts.iter().map(|m| mount(m)))
        .chain(tmpfs_flags.iter().map(|t| tmpfs(t)));
    for m in parsed {
        let m = m?;
        match out.iter().find(|o| o.destination == m.destination) {
            Some(o) if *o == m => {}
            Some(_) => {
                return Err(invalid(format!(
                    "{}: duplicate mount destination",
                    m.destination
                )))
            }
            None => out.push(m),
        }
    }
    Ok(out)
}

/// Parses `--volumes-from CTR[:ro|rw]` into the container and the forced mode.
pub fn volumes_from(spec: &str) -> Result<(String, Option<bool>)> {
    match spec.split_once(':') {
        None => Ok((spec.to_string(), None)),
        Some((c, "ro")) => Ok((c.to_string(), Some(true))),
        Some((c, "rw")) => Ok((c.to_string(), Some(false))),
        Some((c, o)) if o.split(',').all(|x| matches!(x, "z" | "Z")) => Ok((c.to_string(), None)),
        Some((_, o)) => Err(invalid(format!(
            "invalid options {o:?}, can only specify 'ro', 'rw', and 'z'"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(r: Result<UserMount>) -> String {
        r.unwrap_err().to_string()
    }

    #[test]
    fn dash_v() {
        let m = volume("/tmp:/x:ro,rshared,z").unwrap();
        assert_eq!(m.source, MountSource::Bind("/tmp".into()));
        assert!(m.read_only);
        assert_eq!(m.options, ["rshared"]);
        assert_eq!(volume("/data").unwrap().source, MountSource::Volume(None));
        let m = volume("/data:ro").unwrap();
        assert_eq!(
            (m.source, m.destination.as_str(), m.read_only),
            (MountSource::Volume(None), "/data", true)
        );
        let m = volume("vol:/d:nocopy,U").unwrap();
        assert_eq!(m.source, MountSource::Volume(Some("vol".into())));
        assert!(m.no_copy && m.chown);
        assert_eq!(err(volume("/tmp:/x:foo")), "invalid option type \"foo\"");
        assert_eq!(
            err(volume("/tmp:/x:ro,rw")),
            "invalid options \"ro, rw\", can only specify 1 'rw' or 'ro' option"
        );
        assert_eq!(
            err(volume("/tmp:x")),
            "invalid container path \"x\", must be an absolute path"
        );
        assert_eq!(
            err(volume("/tmp:/x:ro:z")),
            "/tmp:/x:ro:z: incorrect volume format, should be [host-dir:]ctr-dir[:option]"
        );
        assert_eq!(err(volume(":/x")), "host directory cannot be empty");
    }

    #[test]
    fn dash_mount() {
        let m = mount("type=bind,src=/tmp,dst=/x,readonly,bind-propagation=rslave").unwrap();
        assert!(m.read_only);
        assert_eq!(m.options, ["rslave"]);
        let m = mount("type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=700").unwrap();
        assert_eq!(m.options, ["size=1m", "mode=700"]);
        let m = mount("type=volume,source=v,destination=/d,ro=false,nocopy").unwrap();
        assert!(!m.read_only && m.no_copy);
        assert_eq!(
            mount("type=bind,dst=/x").unwrap().source,
            MountSource::Bind("/x".into())
        );
        assert_eq!(
            err(mount("type=foo,dst=/x")),
            "invalid filesystem type \"foo\""
        );
        assert_eq!(
            err(mount("type=bind,src=/tmp")),
            "must set volume destination"
        );
        assert_eq!(
            err(mount("type=volume,dst=/x,foo")),
            "foo: invalid mount option"
        );
        assert_eq!(
            err(mount("type=volume,src=v,dst=/x,tmpfs-size=1")),
            "tmpfs-size: invalid mount option"
        );
        assert_eq!(
            err(mount("type=tmpfs,src=/tmp,dst=/x")),
            "source is not supported with tmpfs mounts"
        );
        assert!(err(mount("dst=/x")).starts_with("incorrect mount format"));
        assert!(err(mount("type=bind,src=/tmp,dst=/x,ro=maybe"))
            .starts_with("'readonly', 'ro', or 'rw' must be set"));
        assert_eq!(
            err(mount("type=bind,src=/tmp,dst=/x,bind-propagation=foo")),
            "invalid option type \"foo\""
        );
    }

    #[test]
    fn dash_tmpfs_and_volumes_from() {
        let m = tmpfs("/x:size=1m,mode=1777,ro").unwrap();
        assert!(m.read_only);
        assert_eq!(m.options, ["size=1m", "mode=1777"]);
        assert_eq!(
            err(tmpfs("x")),
            "invalid container path \"x\", must be an absolute path"
        );
        assert_eq!(
            err(tmpfs("/x:foo")),
            "unknown mount option \"foo\": invalid mount option"
        );
        assert_eq!(volumes_from("c:ro").unwrap(), ("c".to_string(), Some(true)));
        assert_eq!(volumes_from("c").unwrap(), ("c".to_string(), None));
        assert!(volumes_from("c:x").is_err());
    }
}
