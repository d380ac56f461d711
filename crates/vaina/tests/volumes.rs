//! Volumes end to end: `volume create/ls/inspect/rm/prune/exists/export/import` with Podman's
//! output and exit codes, volumes and mounts used by containers (`-v`, `--mount`, `--tmpfs`,
//! `--volumes-from`), and the bad inputs of issue 4 about them (store unchanged). Every test
//! has its own store; the harness checks that nothing stays mounted.

mod common;

use common::TestEnv;

/// `volume create -o type=tmpfs -o device=tmpfs <extra...> <name>`: a mount-backed volume.
fn tmpfs_volume(env: &TestEnv, extra: &[&str], name: &str) {
    let mut args = vec!["volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs"];
    args.extend_from_slice(extra);
    args.push(name);
    env.ok(args);
}

#[test]
fn create_ls_inspect_exists_rm() {
    let env = TestEnv::new();
    assert_eq!(env.ok(["volume", "create", "myvol"]), "myvol\n");
    let anon = env.ok_trim(["volume", "create"]);
    assert_eq!(anon.len(), 64);
    assert!(anon.bytes().all(|b| b.is_ascii_hexdigit()));
    tmpfs_volume(&env, &["--label", "a=b", "-o", "o=nodev"], "tv");
    let ls = env.ok(["volume", "ls"]);
    let lines: Vec<&str> = ls.lines().collect();
    assert_eq!(lines[0], "DRIVER      VOLUME NAME");
    assert_eq!(lines.len(), 4);
    assert!(lines.contains(&"local       myvol"));
    assert_eq!(
        env.ok(["volume", "ls", "-q", "--filter", "label=a=b"]),
        "tv\n"
    );
    assert_eq!(
        env.ok(["volume", "ls", "-q", "--filter", "name=myv"]),
        "myvol\n"
    );
    assert_eq!(
        env.ok([
            "volume",
            "ls",
            "--format",
            "{{.Name}} {{.Labels}} {{.Options}}",
            "--filter",
            "driver=local",
            "--filter",
            "name=tv"
        ]),
        "tv map[a:b] map[device:tmpfs o:nodev type:tmpfs]\n"
    );

    let js = env.ok_json(["volume", "inspect", "myvol"]);
    let v = &js[0];
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(|k| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "Name",
            "Driver",
            "Mountpoint",
            "CreatedAt",
            "Labels",
            "Scope",
            "Options",
            "MountCount",
            "NeedsCopyUp",
            "NeedsChown"
        ]
    );
    let mp = env.root.join("volumes/myvol/_data");
    assert_eq!(v["Mountpoint"], mp.to_str().unwrap());
    assert!(mp.is_dir());
    assert_eq!(v["Scope"], "local");
    assert_eq!(
        env.ok([
            "volume",
            "inspect",
            "--format",
            "{{.Name}} {{.Driver}}",
            "tv"
        ]),
        "tv local\n"
    );

    assert_eq!(
        env.run(["volume", "exists", "myvol"]).status.code(),
        Some(0)
    );
    assert_eq!(env.run(["volume", "exists", "nope"]).status.code(), Some(1));
    let err = env.fails(125, ["volume", "inspect", "nope"]);
    assert_eq!(err, "Error: inspecting object: no such volume nope\n");
    let err = env.fails(1, ["volume", "rm", "nope"]);
    assert_eq!(
        err,
        "Error: no volume with name \"nope\" found: no such volume\n"
    );

    assert_eq!(env.ok(["volume", "rm", "myvol", "tv"]), "myvol\ntv\n");
    assert!(!mp.exists());
    assert_eq!(env.ok(["volume", "ls", "-q"]), format!("{anon}\n"));
}

#[test]
fn bad_create_inputs_leave_store_unchanged() {
    let env = TestEnv::new();
    env.ok(["volume", "create", "v1"]);
    let before = env.store_snapshot();
    let cases: &[(&[&str], &str)] = &[
        (
            &["volume", "create", "bad name"],
            "Error: running volume create option: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: invalid argument\n",
        ),
        (
            &["volume", "create", "v1"],
            "Error: volume with name v1 already exists: volume already exists\n",
        ),
        (
            &["volume", "create", "-o", "foo=bar", "x"],
            "Error: invalid mount option foo for driver 'local': invalid argument\n",
        ),
        (
            &["volume", "create", "--driver", "nope", "y"],
            "Error: volume y uses volume plugin nope but it could not be retrieved: no volume plugin with name nope available: required plugin missing\n",
        ),
        (
            &["volume", "ls", "--filter", "foo=bar"],
            "Error: \"foo\" is an invalid volume filter\n",
        ),
    ];
    for (args, msg) in cases {
        assert_eq!(env.fails(125, *args), *msg, "{args:?}");
    }
    assert_eq!(env.store_snapshot(), before);
    assert_eq!(env.ok(["volume", "create", "--ignore", "v1"]), "v1\n");
}

#[test]
fn prune_and_export_import() {
    let env = TestEnv::new();
    env.ok(["volume", "create", "--label", "keep=1", "kept"]);
    env.ok(["volume", "create", "data"]);
    let src = env.dir.path().join("src");
    std::fs::create_dir_all(src.join("sub")).unwrap();
    std::fs::write(src.join("sub/f"), "hello\n").unwrap();
    let tar_path = env.dir.path().join("in.tar");
    {
        let mut b = tar::Builder::new(std::fs::File::create(&tar_path).unwrap());
        b.append_dir_all(".", &src).unwrap();
        b.finish().unwrap();
    }
    env.ok(["volume", "import", "data", tar_path.to_str().unwrap()]);
    assert_eq!(
        std::fs::read_to_string(env.root.join("volumes/data/_data/sub/f")).unwrap(),
        "hello\n"
    );
    let out_tar = env.dir.path().join("out.tar");
    env.ok(["volume", "export", "data", "-o", out_tar.to_str().unwrap()]);
    let mut a = tar::Archive::new(std::fs::File::open(&out_tar).unwrap());
    let names: Vec<String> = a
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["sub/", "sub/f"]);
    let out = env.run(["volume", "export", "data"]);
    assert!(out.status.success());
    assert_eq!(
        out.stdout.len() as u64,
        std::fs::metadata(&out_tar).unwrap().len()
    );
    assert_eq!(
        env.fails(
            125,
            ["volume", "import", "nope", tar_path.to_str().unwrap()]
        ),
        "Error: no such volume nope\n"
    );
    assert_eq!(
        env.fails(125, ["volume", "export", "nope"]),
        "Error: no such volume nope\n"
    );

    assert_eq!(
        env.ok(["volume", "prune", "-f", "--filter", "label!=keep=1"]),
        "data\n"
    );
    assert_eq!(env.ok(["volume", "ls", "-q"]), "kept\n");
    assert_eq!(env.ok(["volume", "prune", "-f"]), "kept\n");
    assert_eq!(env.ok(["volume", "ls", "-q"]), "");
}

fn volume_names(env: &TestEnv) -> Vec<String> {
    env.ok(["volume", "ls", "-q"])
        .lines()
        .map(String::from)
        .collect()
}

#[test]
fn named_volume_data_survives_and_is_shared() {
    require_root!();
    let (env, img) = TestEnv::with_busybox();
    env.ok([
        "run",
        "--rm",
        "-v",
        "shared:/data",
        img,
        "sh",
        "-c",
        "echo kept > /data/f",
    ]);
    assert_eq!(volume_names(&env), ["shared"]);
    let out = env.ok([
        "run",
        "--rm",
        "-v",
        "shared:/data:ro",
        img,
        "cat",
        "/data/f",
    ]);
    assert_eq!(out, "kept\n");
    // A named volume is not removed with the container, even by `--rm`.
    assert_eq!(volume_names(&env), ["shared"]);
    assert_eq!(
        std::fs::read_to_string(env.root.join("volumes/shared/_data/f")).unwrap(),
        "kept\n"
    );
    // --mount type=volume names the same volume.
    let out = env.ok([
        "run",
        "--rm",
        "--mount",
        "type=volume,src=shared,dst=/d",
        img,
        "cat",
        "/d/f",
    ]);
    assert_eq!(out, "kept\n");
}

#[test]
fn copy_up_fills_a_new_volume_once() {
    require_root!();
    let (env, img) = TestEnv::with_busybox();
    env.ok(["create", "--name", "c1", "-v", "cu:/etc", img, "true"]);
    let data = env.root.join("volumes/cu/_data");
    assert!(
        data.join("passwd").is_file(),
        "image content copied into the volume"
    );
    let js = env.ok_json(["volume", "inspect", "cu"]);
    assert_eq!(js[0]["NeedsCopyUp"], false);
    // nocopy leaves a new volume empty.
    env.ok([
        "create",
        "--name",
        "c2",
        "-v",
        "empty:/etc:nocopy",
        img,
        "true",
    ]);
    assert_eq!(
        std::fs::read_dir(env.root.join("volumes/empty/_data"))
            .unwrap()
            .count(),
        0
    );
    env.ok(["rm", "c1", "c2"]);
}

#[test]
fn anonymous_volumes_go_with_rm_v_and_run_rm() {
    require_root!();
    let (env, img) = TestEnv::with_busybox();
    env.ok(["create", "--name", "a1", "-v", "/anon", img, "true"]);
    let vols = volume_names(&env);
    assert_eq!(vols.len(), 1);
    let js = env.ok_json(["volume", "inspect", &vols[0]]);
    assert_eq!(js[0]["Anonymous"], true);
    assert_eq!(
        env.ok([
            "inspect",
            "--format",
            "{{range .Mounts}}{{.Type}} {{.Name}} {{.Destination}} {{.RW}}{{end}}",
            "a1"
        ]),
        format!("volume {} /anon true\n", vols[0])
    );
    // In use: refused without -f, exit 2, store unchanged.
    let before = env.store_snapshot();
    let err = env.fails(2, ["volume", "rm", &vols[0]]);
    assert!(
        err.starts_with(&format!(
            "Error: volume {} is being used by the following container(s): ",
            vols[0]
        )) && err.ends_with(": volume is being used\n"),
        "{err}"
    );
    assert_eq!(env.store_snapshot(), before);
    assert_eq!(env.ok(["volume", "prune", "-f"]), "");
    env.ok(["rm", "-v", "a1"]);
    assert!(volume_names(&env).is_empty());
    // `rm` without -v keeps it.
    env.ok(["create", "--name", "a2", "-v", "/anon", img, "true"]);
    env.ok(["rm", "a2"]);
    assert_eq!(volume_names(&env).len(), 1);
    env.ok(["volume", "prune", "-f"]);
    // `run --rm` removes its anonymous volumes.
    env.ok(["run", "--rm", "-v", "/anon", img, "true"]);
    assert!(volume_names(&env).is_empty());
}

#[test]
fn volume_rm_force_removes_users() {
    require_root!();
    let (env, img) = TestEnv::with_busybox();
    env.ok(["volume", "create", "v"]);
    env.ok(["create", "--name", "user", "-v", "v:/v", img, "true"]);
    assert_eq!(
        env.ok(["volume", "ls", "-q", "--filter", "dangling=true"]),
        ""
    );
    assert_eq!(env.ok(["volume", "rm", "-f", "v"]), "v\n");
    assert_eq!(env.ok(["ps", "-aq"]), "");
    assert!(volume_names(&env).is_empty());
}

#[test]
fn binds_tmpfs_and_read_only() {
    require_root!();
    let (env, img) = TestEnv::with_busybox();
    let host = env.dir.path().join("host");
    std::fs::create_dir_all(&host).unwrap();
    std::fs::write(host.join("in"), "from host\n").unwrap();
    let bind = format!("{}:/h", host.display());
    let out = env.ok([
        "run",
        "--rm",
        "-v",
        &bind,
        img,
        "sh",
        "-c",
        "cat /h/in; echo back > /h/out",
    ]);
    assert_eq!(out, "from host\n");
    assert_eq!(std::fs::read_to_string(host.join("out")).unwrap(), "back\n");

    // Writing to a :ro mount fails inside the container with EROFS.
    let ro = format!("{bind}:ro,rprivate");
    let out = env.run(["run", "--rm", "-v", &ro, img, "sh", "-c", "echo x > /h/new"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Read-only file system"));
    assert!(!host.join("new").exists());
    let m = format!("type=bind,src={},dst=/h,readonly", host.display());
    let out = env.run(["run", "--rm", "--mount", &m, img, "touch", "/h/new"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("Read-only file system"));

    // tmpfs, by --tmpfs and --mount.
    let out = env.ok([
        "run",
        "--rm",
        "--tmpfs",
        "/t:size=1m,mode=1777",
        img,
        "grep",
        " /t ",
        "/proc/mounts",
    ]);
    assert!(
        out.starts_with("tmpfs /t tmpfs rw,nosuid,nodev,noexec"),
        "{out}"
    );
    assert!(out.contains("size=1024k"), "{out}");
    let out = env.ok([
        "run",
        "--rm",
        "--mount",
        "type=tmpfs,dst=/m,tmpfs-size=2m",
        img,
        "grep",
        " /m ",
        "/proc/mounts",
    ]);
    assert!(out.contains("size=2048k"), "{out}");
}

#[test]
fn volumes_from_shares_volumes_and_binds() {
    require_root!();
    let (env, img) = TestEnv::with_busybox();
    let host = env.dir.path().join("host");
    std::fs::create_dir_all(&host).unwrap();
    let bind = format!("{}:/h", host.display());
    env.ok([
        "create", "--name", "src", "-v", "vf:/data", "-v", &bind, img, "true",
    ]);
    env.ok([
        "run",
        "--rm",
        "--volumes-from",
        "src",
        img,
        "sh",
        "-c",
        "echo 1 > /data/x; echo 2 > /h/y",
    ]);
    assert_eq!(
        std::fs::read_to_string(env.root.join("volumes/vf/_data/x")).unwrap(),
        "1\n"
    );
    assert_eq!(std::fs::read_to_string(host.join("y")).unwrap(), "2\n");
    let out = env.run([
        "run",
        "--rm",
        "--volumes-from",
        "src:ro",
        img,
        "touch",
        "/data/z",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("Read-only file system"));
    env.ok(["rm", "src"]);
}

#[test]
fn mount_backed_volume_is_mounted_while_used() {
    require_root!();
    let (env, img) = TestEnv::with_busybox();
    tmpfs_volume(&env, &["-o", "o=size=2m"], "tv");
    let out = env.ok([
        "run",
        "--rm",
        "-v",
        "tv:/t",
        img,
        "sh",
        "-c",
        "grep ' /t ' /proc/mounts; echo gone > /t/f",
    ]);
    assert!(out.starts_with("tmpfs /t tmpfs"), "{out}");
    assert!(out.contains("size=2048k"), "{out}");
    // Unmounted after the last user: the tmpfs content is gone.
    assert!(env.leaked_mounts().is_empty());
    assert!(!env.root.join("volumes/tv/_data/f").exists());
    let js = env.ok_json(["volume", "inspect", "tv"]);
    assert_eq!(js[0]["MountCount"], 0);
}

#[test]
fn bad_mount_inputs_leave_store_unchanged() {
    require_root!();
    let (env, img) = TestEnv::with_busybox();
    // One container first, so the store's own directories exist before the snapshot.
    env.ok(["run", "--rm", img, "true"]);
    let before = env.store_snapshot();
    let cases: &[(&[&str], &str)] = &[
        (&["-v", "/nope/missing:/x"], "statfs /nope/missing: no such file or directory"),
        (&["--mount", "type=bind,src=/nope/missing,dst=/x"], "statfs /nope/missing: no such file or directory"),
        (
            &["-v", "bad name:/x"],
            "creating named volume \"bad name\": running volume create option: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: invalid argument",
        ),
        (&["--mount", "type=volume,src=v,dst=/x,foo=bar"], "foo: invalid mount option"),
        (&["--mount", "type=bind,src=/tmp,dst=/x,tmpfs-size=1m"], "tmpfs-size: invalid mount option"),
        (&["--mount", "type=nfs,dst=/x"], "invalid filesystem type \"nfs\""),
        (&["-v", "/tmp:/x:foo"], "invalid option type \"foo\""),
        (&["-v", "/tmp:rel"], "invalid container path \"rel\", must be an absolute path"),
        (&["--tmpfs", "/t:foo"], "unknown mount option \"foo\": invalid mount option"),
        (
            &["--mount", "type=image,src=localhost/nosuch,dst=/x"],
            "creating image volume \"localhost/nosuch\":\"/x\": localhost/nosuch: image not known",
        ),
        (&["--mount", "type=image,dst=/x"], "must set source and destination for image volume"),
        (&["-v", "/tmp:/x:O,ro"], "can't use 'O' with other options"),
        (&["--mount", "type=image,src=localhost/bb,dst=/x,foo=bar"], "foo: invalid mount option"),
        (
            &["--volumes-from", "nope"],
            "looking up container \"nope\" for volumes-from: no container with name or ID \"nope\" found: no such container",
        ),
    ];
    for (flags, msg) in cases {
        let mut args = vec!["run", "--rm"];
        args.extend_from_slice(flags);
        args.extend([img, "true"]);
        let err = env.fails(125, &args);
        assert_eq!(err, format!("Error: {msg}\n"), "{flags:?}");
        assert_eq!(env.store_snapshot(), before, "{flags:?} changed the store");
    }
    assert!(volume_names(&env).is_empty());
    assert_eq!(env.ok(["ps", "-aq"]), "");
}

#[test]
fn image_volumes_are_anonymous_and_filled() {
    require_root!();
    let env = TestEnv::new();
    env.busybox_image();
    let tar = env.busybox_tar();
    env.ok([
        "import",
        "--change",
        "VOLUME /etc",
        tar.to_str().unwrap(),
        "localhost/bbv",
    ]);
    env.ok(["create", "--name", "iv", "localhost/bbv", "true"]);
    let vols = volume_names(&env);
    assert_eq!(vols.len(), 1);
    let data = env.root.join("volumes").join(&vols[0]).join("_data");
    assert!(data.join("passwd").is_file());
    // `-v` on the same path replaces the image's volume.
    env.ok([
        "create",
        "--name",
        "iv2",
        "-v",
        "named:/etc",
        "localhost/bbv",
        "true",
    ]);
    assert_eq!(volume_names(&env).len(), 2);
    env.ok(["rm", "-v", "iv", "iv2"]);
    assert_eq!(volume_names(&env), ["named"]);
}

#[test]
fn volume_rm_force_stops_running_users_and_u_chowns() {
    require_root!();
    let (env, img) = TestEnv::with_busybox();
    env.ok([
        "run",
        "-d",
        "--name",
        "busy",
        "-v",
        "live:/live:U",
        "-u",
        "1000:1000",
        img,
        "sleep",
        "300",
    ]);
    let meta = std::fs::metadata(env.root.join("volumes/live/_data")).unwrap();
    use std::os::unix::fs::MetadataExt;
    assert_eq!((meta.uid(), meta.gid()), (1000, 1000));
    env.fails(2, ["volume", "rm", "live"]);
    assert_eq!(env.ok(["volume", "rm", "-f", "-t", "0", "live"]), "live\n");
    assert_eq!(env.ok(["ps", "-aq"]), "");
    assert!(volume_names(&env).is_empty());
}

#[test]
fn concurrent_first_use_creates_one_volume() {
    require_root!();
    let (env, img) = TestEnv::with_busybox();
    let codes: Vec<Option<i32>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let env = &env;
                s.spawn(move || {
                    let cmd = format!("echo {i} > /x/{i}");
                    env.run(["run", "--rm", "-v", "race:/x", img, "sh", "-c", &cmd])
                        .status
                        .code()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(codes, [Some(0); 4]);
    assert_eq!(volume_names(&env), ["race"]);
    let n = std::fs::read_dir(env.root.join("volumes/race/_data"))
        .unwrap()
        .count();
    assert_eq!(n, 4);
}

#[test]
fn mount_backed_volume_stays_mounted_until_last_user_stops() {
    require_root!();
    let (env, img) = TestEnv::with_busybox();
    tmpfs_volume(&env, &[], "sv");
    let data = env.root.join("volumes/sv/_data");
    let count =
        |env: &TestEnv| env.ok_trim(["volume", "inspect", "--format", "{{.MountCount}}", "sv"]);
    env.ok([
        "run", "-d", "--name", "u1", "-v", "sv:/s", img, "sleep", "300",
    ]);
    env.ok([
        "run", "-d", "--name", "u2", "-v", "sv:/s", img, "sleep", "300",
    ]);
    assert_eq!(count(&env), "2");
    env.ok(["exec", "u1", "sh", "-c", "echo shared > /s/f"]);
    assert_eq!(env.ok(["exec", "u2", "cat", "/s/f"]), "shared\n");
    env.ok(["stop", "-t", "0", "u1"]);
    assert_eq!(count(&env), "1");
    assert!(data.join("f").exists(), "still mounted for u2");
    env.ok(["rm", "-f", "-t", "0", "u2"]);
    assert_eq!(count(&env), "0");
    assert!(!data.join("f").exists(), "unmounted after the last user");
    env.ok(["rm", "u1"]);
    env.ok(["volume", "rm", "sv"]);
}
