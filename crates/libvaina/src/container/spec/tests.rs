//! Tests of [`generate`] as a whole and of the parts that need a full input.

use super::*;
use crate::container::options::{
    ContainerDefaults, DeviceMapping, NamespaceMode, SeccompPolicy, Ulimit,
};
use oci_spec::image::{ConfigBuilder, ImageConfigurationBuilder};
use oci_spec::runtime::{LinuxNamespaceType, Mount};

fn image(entrypoint: Option<&[&str]>, cmd: Option<&[&str]>, env: &[&str]) -> ImageConfiguration {
    let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let mut c = ConfigBuilder::default().env(v(env));
    if let Some(e) = entrypoint {
        c = c.entrypoint(v(e));
    }
    if let Some(cmd) = cmd {
        c = c.cmd(v(cmd));
    }
    ImageConfigurationBuilder::default()
        .config(c.build().unwrap())
        .build()
        .unwrap()
}

fn rootfs() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(d.path().join("etc")).unwrap();
    std::fs::write(
        d.path().join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n",
    )
    .unwrap();
    std::fs::write(
        d.path().join("etc/group"),
        "root:x:0:\napp:x:1000:\nusers:x:100:app\n",
    )
    .unwrap();
    d
}

fn host() -> HostFacts {
    let mut h = HostFacts::probe();
    h.cgroup_v2 = false;
    h
}

const ID: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn gen(opts: &CreateOptions, img: &ImageConfiguration) -> Result<Spec> {
    let root = rootfs();
    let mut input = SpecInput::new(ID, opts, img, root.path().to_path_buf());
    input.host = Some(host());
    generate(&input)
}

fn defaults() -> CreateOptions {
    CreateOptions::with_defaults(&ContainerDefaults::default())
}

fn argv(
    entrypoint: Option<&str>,
    command: &[&str],
    img: &ImageConfiguration,
) -> Result<Vec<String>> {
    let opts = CreateOptions {
        entrypoint: entrypoint.map(crate::container::options::parse::entrypoint),
        command: command.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    process::args(&opts, img)
}

#[test]
fn entrypoint_and_cmd_as_docker_documents() {
    let none = image(None, None, &[]);
    let cmd_only = image(None, Some(&["exec_cmd", "p1_cmd"]), &[]);
    let entry_only = image(Some(&["exec_entry", "p1_entry"]), None, &[]);
    let both = image(
        Some(&["exec_entry", "p1_entry"]),
        Some(&["exec_cmd", "p1_cmd"]),
        &[],
    );
    // The table of Docker's "Understand how CMD and ENTRYPOINT interact".
    assert!(matches!(
        argv(None, &[], &none).unwrap_err(),
        crate::Error::Spec(SpecError::NoCommand)
    ));
    assert_eq!(argv(None, &[], &cmd_only).unwrap(), ["exec_cmd", "p1_cmd"]);
    assert_eq!(
        argv(None, &[], &entry_only).unwrap(),
        ["exec_entry", "p1_entry"]
    );
    assert_eq!(
        argv(None, &[], &both).unwrap(),
        ["exec_entry", "p1_entry", "exec_cmd", "p1_cmd"]
    );
    // A command after the image replaces CMD only.
    assert_eq!(
        argv(None, &["x", "y"], &both).unwrap(),
        ["exec_entry", "p1_entry", "x", "y"]
    );
    assert_eq!(argv(None, &["x"], &cmd_only).unwrap(), ["x"]);
    // --entrypoint replaces ENTRYPOINT and drops the image's CMD.
    assert_eq!(argv(Some("/bin/sh"), &[], &both).unwrap(), ["/bin/sh"]);
    assert_eq!(
        argv(Some("/bin/sh"), &["-c", "id"], &both).unwrap(),
        ["/bin/sh", "-c", "id"]
    );
    assert_eq!(
        argv(Some(r#"["/bin/echo","a"]"#), &["b"], &both).unwrap(),
        ["/bin/echo", "a", "b"]
    );
    // --entrypoint "" clears it: the command runs alone.
    assert_eq!(
        argv(Some(""), &["echo", "hi"], &both).unwrap(),
        ["echo", "hi"]
    );
    assert!(argv(Some(""), &[], &both).is_err());
}

#[test]
fn environment_precedence() {
    let img = image(
        None,
        Some(&["sh"]),
        &["PATH=/img/bin", "A=image", "B=image"],
    );
    let mut opts = defaults();
    opts.env.insert("B".into(), "flag".into());
    opts.env.insert("HOME".into(), "/x".into());
    let env = process::env(&opts, &img, "/root", "host1");
    assert_eq!(
        env,
        [
            "PATH=/img/bin",
            "TERM=xterm",
            "A=image",
            "B=flag",
            "container=podman",
            "HOME=/x",
            "HOSTNAME=host1"
        ]
    );
    // No PATH anywhere: Podman's default; --unsetenv removes; -t keeps TERM=xterm.
    let img = image(None, Some(&["sh"]), &[]);
    let mut opts = CreateOptions {
        tty: true,
        unset_env: vec!["container".into()],
        ..Default::default()
    };
    let env = process::env(&opts, &img, "/", "h");
    assert_eq!(
        env,
        [
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "TERM=xterm",
            "HOME=/",
            "HOSTNAME=h"
        ]
    );
    // --unsetenv-all keeps only what the flags set, plus HOME and HOSTNAME.
    opts.unset_env_all = true;
    opts.env.insert("K".into(), "v".into());
    assert_eq!(
        process::env(&opts, &img, "/", "h"),
        ["K=v", "HOME=/", "HOSTNAME=h"]
    );
}

#[test]
fn default_spec_matches_podman() {
    let img = image(None, Some(&["sh"]), &[]);
    let spec = gen(&defaults(), &img).unwrap();
    let p = spec.process().as_ref().unwrap();
    assert_eq!(p.args().clone().unwrap(), ["sh"]);
    assert_eq!(p.cwd().to_str(), Some("/"));
    assert_eq!((p.user().uid(), p.user().gid()), (0, 0));
    assert_eq!(spec.hostname().as_deref(), Some("0123456789ab"));
    let env = p.env().clone().unwrap();
    assert!(
        env.contains(&"HOSTNAME=0123456789ab".to_string()),
        "{env:?}"
    );
    assert!(env.contains(&"HOME=/root".to_string()));
    // Podman's eleven default capabilities, nothing else.
    let caps = p.capabilities().as_ref().unwrap();
    let mut eff: Vec<String> = caps
        .effective()
        .iter()
        .flatten()
        .map(|c| c.to_string())
        .collect();
    eff.sort();
    let mut want: Vec<String> = crate::container::options::DEFAULT_CAPABILITIES
        .iter()
        .map(|s| s.to_string())
        .collect();
    want.sort();
    assert_eq!(eff, want);
    assert_eq!(caps.bounding(), caps.effective());
    assert!(caps.inheritable().is_none() && caps.ambient().is_none());
    let linux = spec.linux().as_ref().unwrap();
    assert_eq!(
        linux.masked_paths().clone().unwrap(),
        security::MASKED_PATHS.map(String::from)
    );
    assert_eq!(
        linux.readonly_paths().clone().unwrap(),
        security::READONLY_PATHS.map(String::from)
    );
    assert!(linux.seccomp().is_some());
    let ns: Vec<LinuxNamespaceType> = linux
        .namespaces()
        .iter()
        .flatten()
        .map(|n| n.typ())
        .collect();
    assert_eq!(
        ns,
        [
            LinuxNamespaceType::Pid,
            LinuxNamespaceType::Network,
            LinuxNamespaceType::Ipc,
            LinuxNamespaceType::Uts,
            LinuxNamespaceType::Mount
        ]
    );
    assert_eq!(
        linux.cgroups_path().as_ref().unwrap().to_str(),
        Some(&*format!("/vaina/{ID}"))
    );
    let res = linux.resources().as_ref().unwrap();
    assert_eq!(res.pids().unwrap().limit(), 2048);
    assert_eq!(
        linux
            .sysctl()
            .as_ref()
            .unwrap()
            .get("net.ipv4.ping_group_range")
            .map(String::as_str),
        Some("0 0")
    );
    let dests: Vec<&str> = spec
        .mounts()
        .iter()
        .flatten()
        .map(|m| m.destination().to_str().unwrap())
        .collect();
    assert_eq!(
        dests,
        [
            "/proc",
            "/dev",
            "/sys",
            "/dev/pts",
            "/dev/mqueue",
            "/dev/shm",
            "/sys/fs/cgroup"
        ]
    );
    let shm = mount_at(&spec, "/dev/shm");
    assert!(shm
        .options()
        .as_ref()
        .unwrap()
        .contains(&"size=65536k".to_string()));
    let ann = spec.annotations().as_ref().unwrap();
    assert_eq!(ann["org.opencontainers.image.stopSignal"], "15");
    assert_eq!(ann["io.podman.annotations.privileged"], "FALSE");
    assert!(p.no_new_privileges().is_none());
    assert!(!spec.root().as_ref().unwrap().readonly().unwrap_or(false));
    // It serialises to a config.json the runtime can read back.
    let json = serde_json::to_string(&spec).unwrap();
    let back: Spec = serde_json::from_str(&json).unwrap();
    assert_eq!(back.process().as_ref().unwrap().args(), p.args());
}

fn mount_at<'a>(spec: &'a Spec, dest: &str) -> &'a Mount {
    spec.mounts()
        .iter()
        .flatten()
        .find(|m| m.destination().to_str() == Some(dest))
        .unwrap_or_else(|| panic!("no mount at {dest}"))
}

fn caps_of(opts: &CreateOptions) -> Vec<String> {
    security::capabilities(&opts.security, &host())
        .unwrap()
        .into_iter()
        .collect()
}

#[test]
fn capability_flags() {
    let mut o = defaults();
    o.security.cap_add = vec!["net_admin".into()];
    o.security.cap_drop = vec!["CAP_CHOWN".into(), "kill".into()];
    let c = caps_of(&o);
    assert!(c.contains(&"NET_ADMIN".to_string()));
    assert!(!c.contains(&"CHOWN".to_string()) && !c.contains(&"KILL".to_string()));
    assert_eq!(c.len(), 10);
    o.security.cap_drop = vec!["ALL".into()];
    o.security.cap_add = vec!["SETUID".into()];
    assert_eq!(caps_of(&o), ["SETUID"]);
    o.security.cap_add = vec!["ALL".into()];
    o.security.cap_drop = vec!["SYS_ADMIN".into()];
    let c = caps_of(&o);
    assert_eq!(c.len(), host().bounding_capabilities.len() - 1);
    assert!(!c.contains(&"SYS_ADMIN".to_string()));
    o.security.cap_add = vec!["FOO".into()];
    assert!(security::capabilities(&o.security, &host()).is_err());
}

#[test]
fn privileged() {
    let mut o = defaults();
    o.security.privileged = true;
    let spec = gen(&o, &image(None, Some(&["sh"]), &[])).unwrap();
    let linux = spec.linux().as_ref().unwrap();
    assert!(linux.seccomp().is_none());
    assert!(linux.masked_paths().is_none());
    assert!(linux.readonly_paths().is_none());
    let caps = spec
        .process()
        .as_ref()
        .unwrap()
        .capabilities()
        .as_ref()
        .unwrap();
    assert_eq!(
        caps.effective().as_ref().unwrap().len(),
        host().bounding_capabilities.len()
    );
    let rules = linux
        .resources()
        .as_ref()
        .unwrap()
        .devices()
        .clone()
        .unwrap();
    assert!(rules.last().unwrap().allow());
    assert!(linux
        .devices()
        .iter()
        .flatten()
        .any(|d| d.path().to_str() == Some("/dev/null")));
    assert!(!mount_at(&spec, "/sys")
        .options()
        .as_ref()
        .unwrap()
        .contains(&"ro".to_string()));
}

#[test]
fn security_opts_and_read_only() {
    let mut o = defaults();
    o.security.no_new_privileges = true;
    o.security.unmask = vec!["/proc/kcore".into()];
    o.security.mask = vec!["/proc/version".into()];
    o.security.seccomp = SeccompPolicy::Unconfined;
    o.read_only = true;
    o.read_only_tmpfs = true;
    let spec = gen(&o, &image(None, Some(&["sh"]), &[])).unwrap();
    assert_eq!(
        spec.process().as_ref().unwrap().no_new_privileges(),
        Some(true)
    );
    let linux = spec.linux().as_ref().unwrap();
    let masked = linux.masked_paths().clone().unwrap();
    assert!(!masked.contains(&"/proc/kcore".to_string()));
    assert!(masked.contains(&"/proc/version".to_string()));
    assert!(linux.seccomp().is_none());
    assert_eq!(spec.root().as_ref().unwrap().readonly(), Some(true));
    for d in ["/tmp", "/var/tmp", "/run"] {
        assert_eq!(mount_at(&spec, d).typ().as_deref(), Some("tmpfs"));
    }
    o.read_only_tmpfs = false;
    let spec = gen(&o, &image(None, Some(&["sh"]), &[])).unwrap();
    assert!(!spec
        .mounts()
        .iter()
        .flatten()
        .any(|m| m.destination().to_str() == Some("/tmp")));
    o.security.unmask = vec!["ALL".into()];
    let spec = gen(&o, &image(None, Some(&["sh"]), &[])).unwrap();
    let linux = spec.linux().as_ref().unwrap();
    assert_eq!(linux.masked_paths().clone().unwrap(), ["/proc/version"]);
    assert!(linux.readonly_paths().clone().unwrap().is_empty());
}

#[test]
fn user_workdir_and_files() {
    let mut o = defaults();
    o.user = Some("app".into());
    o.workdir = Some("/home/app".into());
    o.hostname = Some("web".into());
    let img = image(None, Some(&["id"]), &[]);
    let root = rootfs();
    let mut input = SpecInput::new(ID, &o, &img, root.path().to_path_buf());
    input.host = Some(host());
    input.files = vec![("/etc/hosts".into(), PathBuf::from("/tmp/h"))];
    let spec = generate(&input).unwrap();
    let p = spec.process().as_ref().unwrap();
    assert_eq!((p.user().uid(), p.user().gid()), (1000, 1000));
    assert_eq!(p.user().additional_gids().clone().unwrap(), [1000, 100]);
    assert_eq!(p.cwd().to_str(), Some("/home/app"));
    assert!(p
        .env()
        .clone()
        .unwrap()
        .contains(&"HOME=/home/app".to_string()));
    assert_eq!(spec.hostname().as_deref(), Some("web"));
    let m = mount_at(&spec, "/etc/hosts");
    assert_eq!(m.source().as_ref().unwrap().to_str(), Some("/tmp/h"));
    o.user = Some("nosuchuser".into());
    let e = gen(&o, &img).unwrap_err();
    assert_eq!(
        e.to_string(),
        "unable to find user nosuchuser: no matching entries in passwd file"
    );
    assert!(matches!(&e, crate::Error::Spec(s) if s.exit_code() == 126));
    o.user = None;
    o.workdir = Some("relative".into());
    let spec = gen(&o, &img).unwrap();
    assert_eq!(
        spec.process().as_ref().unwrap().cwd().to_str(),
        Some("/relative")
    );
}

#[test]
fn namespaces_and_sysctls() {
    let mut o = defaults();
    o.namespaces.pid = NamespaceMode::Host;
    o.namespaces.ipc = NamespaceMode::Container("db".into());
    o.namespaces.uts = NamespaceMode::Host;
    o.namespaces.net = NamespaceMode::Host;
    let img = image(None, Some(&["sh"]), &[]);
    let root = rootfs();
    let mut input = SpecInput::new(ID, &o, &img, root.path().to_path_buf());
    input.host = Some(host());
    assert!(generate(&input)
        .unwrap_err()
        .to_string()
        .contains("no container with name or ID \"db\""));
    input.container_pids.insert("db".into(), 4242);
    let spec = generate(&input).unwrap();
    let linux = spec.linux().as_ref().unwrap();
    let ns: Vec<(LinuxNamespaceType, Option<String>)> = linux
        .namespaces()
        .iter()
        .flatten()
        .map(|n| (n.typ(), n.path().as_ref().map(|p| p.display().to_string())))
        .collect();
    assert_eq!(
        ns,
        [
            (LinuxNamespaceType::Ipc, Some("/proc/4242/ns/ipc".into())),
            (LinuxNamespaceType::Mount, None)
        ]
    );
    assert!(spec.hostname().is_none(), "uts=host keeps the host's name");
    // The default net.* sysctl is skipped with --network host; an explicit one is an error.
    assert!(linux.sysctl().as_ref().is_none_or(|s| s.is_empty()));
    assert_eq!(mount_at(&spec, "/sys").typ().as_deref(), Some("bind"));
    assert_eq!(
        mount_at(&spec, "/dev/shm").typ().as_deref(),
        Some("tmpfs"),
        "another container's /dev/shm cannot be a bind source"
    );
    o.sysctls.insert("net.ipv4.ip_forward".into(), "1".into());
    assert_eq!(
        security::sysctls(&o).unwrap_err().to_string(),
        "sysctl net.ipv4.ip_forward=1 can't be set since Network Namespace set to host: invalid argument"
    );
    let mut o = defaults();
    o.sysctls.insert("vm.swappiness".into(), "1".into());
    assert_eq!(
        security::sysctls(&o).unwrap_err().to_string(),
        "sysctl 'vm.swappiness' is not allowed"
    );
    let mut o = defaults();
    o.sysctls.insert("kernel.msgmax".into(), "8192".into());
    o.sysctls.insert("net.core.somaxconn".into(), "1024".into());
    let s = security::sysctls(&o).unwrap();
    assert_eq!(s.len(), 3);
    // A network namespace prepared by the network code is joined.
    let o = defaults();
    let mut input = SpecInput::new(ID, &o, &img, root.path().to_path_buf());
    input.host = Some(host());
    input.network_namespace = Some("/run/netns/x".into());
    let spec = generate(&input).unwrap();
    let net = spec
        .linux()
        .as_ref()
        .unwrap()
        .namespaces()
        .iter()
        .flatten()
        .find(|n| n.typ() == LinuxNamespaceType::Network)
        .unwrap()
        .path()
        .clone();
    assert_eq!(net, Some(PathBuf::from("/run/netns/x")));
}

#[test]
fn devices_rlimits_resources_init() {
    let mut o = defaults();
    o.devices = vec![DeviceMapping {
        host: "/dev/null".into(),
        container: "/dev/mynull".into(),
        permissions: "rw".into(),
    }];
    o.ulimits = vec![Ulimit::new("nofile", 100, 200)];
    o.resources.memory = Some(64 << 20);
    o.resources.shm_size = 1 << 20;
    o.stop_signal = Some(9);
    let img = image(None, Some(&["sh"]), &[]);
    let spec = gen(&o, &img).unwrap();
    let linux = spec.linux().as_ref().unwrap();
    let dev = linux.devices().clone().unwrap();
    assert_eq!(dev[0].path().to_str(), Some("/dev/mynull"));
    assert_eq!((dev[0].major(), dev[0].minor()), (1, 3));
    let rules = linux
        .resources()
        .as_ref()
        .unwrap()
        .devices()
        .clone()
        .unwrap();
    assert!(!rules[0].allow());
    assert_eq!(rules[1].access().as_deref(), Some("rw"));
    let rl = spec.process().as_ref().unwrap().rlimits().clone().unwrap();
    let nofile = rl
        .iter()
        .find(|r| r.typ() == oci_spec::runtime::PosixRlimitType::RlimitNofile)
        .unwrap();
    assert_eq!((nofile.soft(), nofile.hard()), (100, 200));
    assert_eq!(
        linux
            .resources()
            .as_ref()
            .unwrap()
            .memory()
            .unwrap()
            .limit(),
        Some(64 << 20)
    );
    assert!(mount_at(&spec, "/dev/shm")
        .options()
        .as_ref()
        .unwrap()
        .contains(&"size=1024k".to_string()));
    assert_eq!(
        spec.annotations().as_ref().unwrap()["org.opencontainers.image.stopSignal"],
        "9"
    );
    o.devices[0].host = "/dev/nonexist".into();
    assert_eq!(
        gen(&o, &img).unwrap_err().to_string(),
        "stat /dev/nonexist: no such file or directory"
    );
    // A directory brings every device node below it.
    let devdir = tempfile::tempdir().unwrap();
    o.devices = vec![DeviceMapping {
        host: "/dev".into(),
        container: "/dev/host".into(),
        permissions: "r".into(),
    }];
    let spec = gen(&o, &img).unwrap();
    let dev = spec.linux().as_ref().unwrap().devices().clone().unwrap();
    assert!(dev
        .iter()
        .any(|d| d.path().to_str() == Some("/dev/host/null")));
    o.devices[0].host = devdir.path().to_path_buf();
    assert!(gen(&o, &img)
        .unwrap()
        .linux()
        .as_ref()
        .unwrap()
        .devices()
        .as_ref()
        .unwrap()
        .is_empty());
    o.devices[0].host = "/etc/passwd".into();
    assert_eq!(
        gen(&o, &img).unwrap_err().to_string(),
        "/etc/passwd is not a valid device: not a device node"
    );
    // --init: catatonit bind-mounted read-only and prepended with "--".
    let mut o = defaults();
    o.init = true;
    let fake_init = tempfile::NamedTempFile::new().unwrap();
    o.init_path = Some(fake_init.path().to_path_buf());
    let spec = gen(&o, &img).unwrap();
    assert_eq!(
        spec.process().as_ref().unwrap().args().clone().unwrap(),
        ["/run/vaina-init", "--", "sh"]
    );
    let m = mount_at(&spec, "/run/vaina-init");
    assert_eq!(m.source().as_deref(), Some(fake_init.path()));
    o.init_path = None;
    let root = rootfs();
    let mut input = SpecInput::new(ID, &o, &img, root.path().to_path_buf());
    let mut h = host();
    h.init_binary = None;
    input.host = Some(h);
    assert!(generate(&input)
        .unwrap_err()
        .to_string()
        .contains("catatonit"));
}
