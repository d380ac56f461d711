//! Volumes end to end: `volume create/ls/inspect/rm/prune/exists/export/import` with Podman's
//! output and exit codes, volumes and mounts used by containers (`-v`, `--mount`, `--tmpfs`,
//! `--volumes-from`), and the bad inputs of issue 4 about them (store unchanged). Every test
//! has its own store; the harness checks that nothing stays mounted.

mod common;

use common::TestEnv;

#[test]
fn create_ls_inspect_exists_rm() {
    let env = TestEnv::new();
    assert_eq!(env.ok(["volume", "create", "myvol"]), "myvol\n");
    let anon = env.ok(["volume", "create"]);
    let anon = anon.trim();
    assert_eq!(anon.len(), 64);
    assert!(anon.bytes().all(|b| b.is_ascii_hexdigit()));
    env.ok([
        "volume",
        "create",
        "--label",
        "a=b",
        "-o",
        "type=tmpfs",
        "-o",
        "device=tmpfs",
        "-o",
        "o=nodev",
        "tv",
    ]);
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

    let js: serde_json::Value =
        serde_json::from_str(&env.ok(["volume", "inspect", "myvol"])).unwrap();
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
    assert!(names.iter().any(|n| n.ends_with("sub/f")), "{names:?}");
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
