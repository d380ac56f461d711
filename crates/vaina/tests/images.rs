//! Image store and image commands: import, images, lookup, tags, inspect, history, rmi,
//! prune, save/load, and the bad inputs of issue 2 that concern the store.

mod common;

use common::TestEnv;

fn import(env: &TestEnv, name: &str) -> String {
    let tar = env.busybox_tar();
    let out = env.ok(["import".as_ref(), tar.as_os_str(), name.as_ref()]);
    let id = out
        .trim()
        .strip_prefix("sha256:")
        .expect("sha256: id")
        .to_string();
    assert_eq!(id.len(), 64, "{out}");
    id
}

#[test]
fn import_and_list() {
    require_root!();
    let env = TestEnv::new();
    let id = import(&env, "foo");
    let out = env.ok(["images"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with("REPOSITORY     TAG         IMAGE ID      CREATED"),
        "{out}"
    );
    assert!(lines[1].starts_with("localhost/foo  latest      "), "{out}");
    assert!(lines[1].contains(&id[..12]), "{out}");
    assert!(lines[1].ends_with(" MB"), "{out}");
    assert_eq!(env.ok(["images", "-q"]).trim(), &id[..12]);
    assert_eq!(
        env.ok(["images", "-q", "--no-trunc"]).trim(),
        format!("sha256:{id}")
    );
    let json = env.ok_json(["images", "--format", "json"]);
    assert_eq!(json[0]["Id"], id.as_str());
    assert_eq!(json[0]["Names"][0], "localhost/foo:latest");
    assert_eq!(
        env.ok(["image", "ls", "--format", "{{.Repository}}:{{.Tag}}"])
            .trim(),
        "localhost/foo:latest"
    );
    // The layer is unpacked once and usable as a lowerdir.
    let layers: Vec<_> = std::fs::read_dir(env.root.join("layers"))
        .unwrap()
        .collect();
    assert_eq!(layers.len(), 1);
}

#[test]
fn import_same_tar_twice_gives_one_image() {
    require_root!();
    let env = TestEnv::new();
    let a = import(&env, "a");
    let b = import(&env, "b");
    assert_eq!(a, b, "same tarball, same mtime: one image, as with Podman");
    let out = env.ok(["images", "--format", "{{.Repository}}"]);
    assert_eq!(out.lines().count(), 2, "{out}");
}

#[test]
fn import_changes_and_stdin() {
    require_root!();
    let env = TestEnv::new();
    let tar = env.busybox_tar();
    common::checked_output(
        env.cmd([
            "import",
            "--change",
            "CMD [\"/bin/sh\",\"-c\",\"echo hi\"]",
            "-c",
            "LABEL x=y",
            "-m",
            "msg",
            "-",
            "bar:v1",
        ])
        .stdin(std::fs::File::open(&tar).unwrap()),
    );
    let out = env.ok(["images", "--format", "{{.Repository}} {{.Tag}} {{.Labels}}"]);
    assert_eq!(out.trim(), "localhost/bar v1 map[x:y]");
    let err = env.fails(125, ["import", "--change", "FROB x", tar.to_str().unwrap()]);
    assert!(
        err.starts_with("Error: ") && err.lines().count() == 1,
        "{err}"
    );
}

#[test]
fn import_garbage_fails_cleanly() {
    require_root!();
    let env = TestEnv::new();
    import(&env, "ok");
    let before = env.store_snapshot();
    let g = env.dir.path().join("garbage.tar");
    std::fs::write(&g, vec![b'x'; 5000]).unwrap();
    let err = env.fails(125, ["import", g.to_str().unwrap(), "bad"]);
    assert!(
        err.starts_with("Error: ") && err.lines().count() == 1,
        "{err}"
    );
    assert_eq!(env.store_snapshot(), before);
    let err = env.fails(125, ["import", "/nonexistent.tar"]);
    assert!(err.contains("/nonexistent.tar"), "{err}");
}

fn id_of(env: &TestEnv, name: &str) -> String {
    env.ok_trim(["image", "inspect", "--format", "{{.Id}}", name])
}

#[test]
fn lookup_rules() {
    require_root!();
    let env = TestEnv::new();
    let id = import(&env, "foo");
    for r in [
        "foo",
        "foo:latest",
        "localhost/foo",
        "localhost/foo:latest",
        &id,
        &id[..12],
        &id[..5],
        &format!("sha256:{id}"),
    ] {
        assert_eq!(id_of(&env, r), id, "lookup of {r}");
    }
    env.ok(["tag", "foo", "quay.io/ns/thing:1"]);
    assert_eq!(id_of(&env, "thing:1"), id);
    assert_eq!(id_of(&env, "ns/thing:1"), id);
    let digest = env
        .ok(["images", "--format", "{{.Digest}}"])
        .lines()
        .next()
        .unwrap()
        .to_string();
    assert_eq!(id_of(&env, &format!("localhost/foo@{digest}")), id);
    for bad in ["thing", "oo", "nosuch", "foo:2"] {
        assert_eq!(
            env.run(["image", "exists", bad]).status.code(),
            Some(1),
            "{bad}"
        );
    }
    let err = env.fails(125, ["image", "inspect", "nosuch"]);
    assert_eq!(
        err.trim(),
        "Error: inspecting object: nosuch: image not known"
    );
}

#[test]
fn tag_untag_rmi() {
    require_root!();
    let env = TestEnv::new();
    let id = import(&env, "foo");
    env.ok(["tag", "foo", "foo2", "a/b:c"]);
    let names = env.ok(["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert_eq!(
        names.lines().collect::<Vec<_>>(),
        [
            "localhost/foo:latest",
            "localhost/foo2:latest",
            "localhost/a/b:c"
        ]
    );
    let err = env.fails(125, ["tag", "foo", "Bad"]);
    assert!(err.contains("lowercase"), "{err}");
    env.fails(125, ["tag", "nosuch", "x"]);
    let err = env.fails(125, ["untag", "foo", "nosuch:1"]);
    assert!(err.contains("localhost/nosuch:1: tag not known"), "{err}");
    env.ok(["untag", "foo", "a/b:c"]);

    // By ID with several names: refused without -f.
    let err = env.fails(125, ["rmi", &id[..12]]);
    assert!(err.contains("by ID with more than one tag"), "{err}");
    // By name: untag only while other names remain.
    assert_eq!(env.ok(["rmi", "foo2"]), "Untagged: localhost/foo2:latest\n");
    // A missing image is exit 1, the others are still processed.
    let out = env.run(["rmi", "nosuch", "foo"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("Untagged: localhost/foo:latest\nDeleted: {id}\n")
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "Error: nosuch: image not known"
    );
    env.ok(["rmi", "-i", "nosuch"]);
    assert_eq!(env.ok(["images", "-q"]), "");
    // Layers and blobs are gone with the last image.
    assert_eq!(
        std::fs::read_dir(env.root.join("layers")).unwrap().count(),
        0
    );
    assert_eq!(
        std::fs::read_dir(env.root.join("oci/blobs/sha256"))
            .unwrap()
            .count(),
        0
    );
}

#[test]
fn rmi_all_and_force() {
    require_root!();
    let env = TestEnv::new();
    let id = import(&env, "foo");
    env.ok(["tag", "foo", "bar"]);
    let out = env.ok(["rmi", "-f", &id]);
    assert_eq!(
        out,
        format!("Untagged: localhost/foo:latest\nUntagged: localhost/bar:latest\nDeleted: {id}\n")
    );
    import(&env, "a");
    let tar = env.busybox_tar();
    env.ok([
        "import".as_ref(),
        "-c".as_ref(),
        "LABEL x=1".as_ref(),
        tar.as_os_str(),
        "b".as_ref(),
    ]);
    let out = env.ok(["rmi", "-a"]);
    assert_eq!(out.matches("Deleted: ").count(), 2, "{out}");
    env.fails(125, ["rmi"]);
}

#[test]
fn prune_removes_dangling() {
    require_root!();
    let env = TestEnv::new();
    let tar = env.busybox_tar();
    let dangling = env.ok([
        "import".as_ref(),
        "-c".as_ref(),
        "LABEL d=1".as_ref(),
        tar.as_os_str(),
    ]);
    let dangling = dangling.trim().trim_start_matches("sha256:").to_string();
    let named = import(&env, "keep");
    let out = env.ok([
        "images",
        "--filter",
        "dangling=true",
        "--format",
        "{{.ID}} {{.Repository}}",
    ]);
    assert_eq!(out.trim(), format!("{} <none>", &dangling[..12]));
    // Without -f it asks; no answer means no.
    assert!(env
        .ok(["image", "prune"])
        .contains("Are you sure you want to continue? [y/N]"));
    assert_eq!(env.ok(["images", "-q"]).lines().count(), 2);
    assert_eq!(env.ok(["image", "prune", "-f"]), format!("{dangling}\n"));
    assert_eq!(
        env.ok(["images", "-q", "--no-trunc"]).trim(),
        format!("sha256:{named}")
    );
    assert_eq!(
        env.ok(["image", "prune", "-f", "--filter", "label=nothere", "-a"]),
        ""
    );
    assert_eq!(env.ok(["image", "prune", "-af"]), format!("{named}\n"));
    assert_eq!(env.ok(["images", "-q"]), "");
}

#[test]
fn images_flags() {
    require_root!();
    let env = TestEnv::new();
    let tar = env.busybox_tar();
    import(&env, "zeta");
    env.ok(["tag", "zeta", "alpha:v2"]);
    let labelled = env.ok([
        "import".as_ref(),
        "-c".as_ref(),
        "LABEL tier=gold".as_ref(),
        tar.as_os_str(),
        "mid".as_ref(),
    ]);
    let labelled = labelled.trim().trim_start_matches("sha256:");
    let repo_col = |args: &[&str]| -> Vec<String> {
        let mut a = vec!["images", "--format", "{{.Repository}}:{{.Tag}}"];
        a.extend_from_slice(args);
        env.ok(a).lines().map(String::from).collect()
    };
    assert_eq!(
        repo_col(&["--sort", "repository"]),
        [
            "localhost/alpha:v2",
            "localhost/mid:latest",
            "localhost/zeta:latest"
        ]
    );
    assert_eq!(
        repo_col(&["--sort", "tag"])[0],
        "localhost/mid:latest".to_string()
    );
    assert_eq!(
        repo_col(&["--filter", "label=tier=gold"]),
        ["localhost/mid:latest"]
    );
    // Like Podman, a matching image is shown with all its names.
    assert_eq!(
        repo_col(&["--filter", "reference=alpha"]),
        ["localhost/zeta:latest", "localhost/alpha:v2"]
    );
    assert_eq!(
        repo_col(&["--filter", "reference=mid"]),
        ["localhost/mid:latest"]
    );
    assert_eq!(repo_col(&["mid"]), ["localhost/mid:latest"]);
    assert_eq!(
        repo_col(&["--filter", &format!("id={}", &labelled[..6])]),
        ["localhost/mid:latest"]
    );
    let err = env.fails(125, ["images", "--sort", "bogus"]);
    assert!(err.contains("valid options are"), "{err}");
    env.fails(125, ["images", "--filter", "bogus=1"]);
    let out = env.ok(["images", "--noheading"]);
    assert!(!out.contains("REPOSITORY"), "{out}");
    let out = env.ok(["images", "--history"]);
    assert!(out.lines().next().unwrap().ends_with("HISTORY"), "{out}");
    assert!(out.contains("localhost/mid:latest"), "{out}");
    let out = env.ok(["images", "--digests"]);
    assert!(out.lines().next().unwrap().contains("DIGEST"), "{out}");
    let out = env.ok(["images", "--format", "table {{.ID}}\t{{.Size}}"]);
    assert!(out.starts_with("IMAGE ID      SIZE\n"), "{out}");
}

#[test]
fn inspect_and_history() {
    require_root!();
    let env = TestEnv::new();
    let tar = env.busybox_tar();
    let out = env.ok([
        "import".as_ref(),
        "-c".as_ref(),
        "CMD [\"/bin/sh\"]".as_ref(),
        "-c".as_ref(),
        "USER app".as_ref(),
        "-m".as_ref(),
        "hello".as_ref(),
        tar.as_os_str(),
        "insp".as_ref(),
    ]);
    let id = out.trim().trim_start_matches("sha256:").to_string();
    let v = env.ok_json(["image", "inspect", "insp"]);
    let i = &v[0];
    assert_eq!(i["Id"], id.as_str());
    assert_eq!(i["RepoTags"][0], "localhost/insp:latest");
    assert_eq!(i["Comment"], "hello");
    assert_eq!(i["Config"]["Cmd"][0], "/bin/sh");
    assert_eq!(i["User"], "app");
    assert_eq!(i["GraphDriver"]["Name"], "overlay");
    assert_eq!(i["RootFS"]["Type"], "layers");
    assert_eq!(
        i["ManifestType"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    let upper = i["GraphDriver"]["Data"]["UpperDir"].as_str().unwrap();
    assert!(std::path::Path::new(upper).join("bin/busybox").is_file());
    for k in [
        "Digest",
        "RepoDigests",
        "Parent",
        "Created",
        "Version",
        "Author",
        "Architecture",
        "Os",
        "Size",
        "VirtualSize",
        "Labels",
        "Annotations",
        "History",
        "NamesHistory",
    ] {
        assert!(i.get(k).is_some(), "missing {k}");
    }
    let h = env.ok(["history", "insp"]);
    let lines: Vec<&str> = h.lines().collect();
    assert!(lines[0].starts_with("ID            CREATED"), "{h}");
    assert!(
        lines[1].starts_with(&id[..12]) && lines[1].contains("hello"),
        "{h}"
    );
    assert!(lines[1].contains("ADD file:"), "{h}");
    assert_eq!(env.ok(["history", "-q", "insp"]).trim(), &id[..12]);
    assert!(env.ok(["history", "--no-trunc", "insp"]).contains(&id));
    let j = env.ok_json(["history", "--format", "json", "insp"]);
    assert_eq!(j[0]["comment"], "hello");
    assert_eq!(
        env.ok(["image", "history", "--format", "{{.Comment}}", "insp"])
            .trim(),
        "hello"
    );
}

#[test]
fn store_is_an_oci_layout_for_skopeo() {
    require_root!();
    require_programs!("skopeo");
    let env = TestEnv::new();
    let id = import(&env, "foo");
    let image = format!(
        "oci:{}:localhost/foo:latest",
        env.root.join("oci").display()
    );
    let v = common::skopeo_json(["inspect", &image]);
    assert_eq!(v["Layers"].as_array().unwrap().len(), 1);
    let cfg = common::skopeo(["inspect", "--config", "--raw", &image]);
    assert_eq!(common::fixtures::sha256(&cfg), format!("sha256:{id}"));
}

#[test]
fn concurrent_imports_of_one_tar() {
    require_root!();
    let env = TestEnv::new();
    let tar = env.busybox_tar();
    let mut children: Vec<_> = (0..4)
        .map(|i| {
            env.cmd([
                "import".as_ref(),
                tar.as_os_str(),
                format!("same{i}").as_ref(),
            ])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    let ids: Vec<String> = children
        .drain(..)
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            assert!(out.status.success());
            String::from_utf8(out.stdout).unwrap()
        })
        .collect();
    assert!(ids.iter().all(|i| i == &ids[0]), "{ids:?}");
    assert_eq!(env.ok(["images", "-q"]).lines().count(), 1);
    assert_eq!(
        env.ok(["images", "--format", "{{.Repository}}"])
            .lines()
            .count(),
        4
    );
    assert_eq!(
        std::fs::read_dir(env.root.join("layers")).unwrap().count(),
        1
    );
    env.ok(["rmi", "-a", "-f"]);
    assert_eq!(
        std::fs::read_dir(env.root.join("layers")).unwrap().count(),
        0
    );
}

#[test]
fn rmi_racing_import() {
    require_root!();
    let env = TestEnv::new();
    let tar = env.busybox_tar();
    for round in 0..5 {
        import(&env, "race");
        let imp = env
            .cmd(["import".as_ref(), tar.as_os_str(), "race2".as_ref()])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let rm = env.run(["rmi", "-f", "race"]);
        assert!(
            rm.status.success(),
            "round {round}: {}",
            String::from_utf8_lossy(&rm.stderr)
        );
        let out = imp.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "round {round}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Whatever the order, race2 is complete: its layer is there and readable.
        let v = env.ok_json(["image", "inspect", "race2"]);
        let upper = v[0]["GraphDriver"]["Data"]["UpperDir"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            std::path::Path::new(&upper).join("bin/busybox").is_file(),
            "round {round}"
        );
        env.ok(["rmi", "-a", "-f"]);
    }
}

#[test]
fn before_since_and_platform_flags() {
    require_root!();
    let env = TestEnv::new();
    let tar = env.busybox_tar();
    let old = env.dir.path().join("old.tar");
    let new = env.dir.path().join("new.tar");
    std::fs::copy(&tar, &old).unwrap();
    std::fs::copy(&tar, &new).unwrap();
    for (p, t) in [
        (&old, "2020-01-01 00:00:00 UTC"),
        (&new, "2024-01-01 00:00:00 UTC"),
    ] {
        let st = std::process::Command::new("touch")
            .args(["-d", t])
            .arg(p)
            .status()
            .unwrap();
        assert!(st.success());
    }
    env.ok(["import".as_ref(), old.as_os_str(), "old".as_ref()]);
    env.ok([
        "import".as_ref(),
        "--arch".as_ref(),
        "arm64".as_ref(),
        "--variant".as_ref(),
        "v8".as_ref(),
        new.as_os_str(),
        "new".as_ref(),
    ]);
    let repos = |f: &str| env.ok(["images", "--filter", f, "--format", "{{.Repository}}"]);
    assert_eq!(repos("since=old"), "localhost/new\n");
    assert_eq!(repos("before=new"), "localhost/old\n");
    assert_eq!(repos("until=2022-01-01T00:00:00Z"), "localhost/old\n");
    let out = env.ok(["images", "--format", "{{.Repository}} {{.CreatedAt}}"]);
    assert_eq!(
        out,
        "localhost/new 2024-01-01 00:00:00 +0000 UTC\nlocalhost/old 2020-01-01 00:00:00 +0000 UTC\n"
    );
    assert!(env.ok(["images"]).contains(" years ago "));
    assert_eq!(
        env.ok(["image", "inspect", "--format", "{{.Architecture}}", "new"]),
        "arm64\n"
    );
}

#[test]
fn leftovers_of_interrupted_writes_are_swept() {
    require_root!();
    let env = TestEnv::new();
    import(&env, "first");
    // What a killed import or pull leaves: a temp blob, a temp layer dir, and a layer dir that
    // was renamed into place but never recorded.
    let tmp_blob = env.root.join("oci/blobs/.tmp/blob-interrupted");
    std::fs::write(&tmp_blob, b"partial").unwrap();
    // A temp blob still being written (by a pull, which stages blobs without the lock) stays.
    let live_blob = env.root.join("oci/blobs/.tmp/blob-live");
    std::fs::write(&live_blob, b"partial").unwrap();
    // A blob no image refers to: removed once old (crash inside rmi), kept while fresh (a pull
    // about to commit).
    let stale = env.root.join("oci/blobs/sha256").join("cd".repeat(32));
    std::fs::write(&stale, b"stale").unwrap();
    let fresh = env.root.join("oci/blobs/sha256").join("ef".repeat(32));
    std::fs::write(&fresh, b"fresh").unwrap();
    for (p, age) in [(&tmp_blob, "2 hours ago"), (&stale, "2 days ago")] {
        let st = std::process::Command::new("touch")
            .args(["-d", age])
            .arg(p)
            .status()
            .unwrap();
        assert!(st.success());
    }
    let tmp_layer = env.root.join("layers/.tmp-interrupted");
    std::fs::create_dir_all(tmp_layer.join("usr")).unwrap();
    let orphan = env.root.join("layers").join("ab".repeat(32));
    std::fs::create_dir_all(&orphan).unwrap();
    // Layers being unpacked without the lock: kept while their process lives (PID 1 here).
    let live_unpack = env.root.join("layers/.unpack-1-abc");
    std::fs::create_dir_all(&live_unpack).unwrap();
    let dead_unpack = env.root.join("layers/.unpack-99999999-abc");
    std::fs::create_dir_all(&dead_unpack).unwrap();
    env.ok(["tag", "first", "second"]);
    assert!(!tmp_blob.exists());
    assert!(live_blob.exists());
    assert!(!stale.exists());
    assert!(fresh.exists());
    assert!(!tmp_layer.exists());
    assert!(!orphan.exists());
    assert!(live_unpack.exists());
    assert!(!dead_unpack.exists());
    std::fs::remove_dir(&live_unpack).unwrap();
    assert_eq!(
        std::fs::read_dir(env.root.join("layers")).unwrap().count(),
        1
    );
    // Reads never sweep (they take no lock).
    std::fs::write(&tmp_blob, b"partial").unwrap();
    env.ok(["images"]);
    assert!(tmp_blob.exists());
}

#[test]
fn images_in_use_by_containers() {
    require_root!();
    let env = TestEnv::new();
    let id = import(&env, "used");
    let ctr = env.ok(["create", "--name", "c1", "used", "/bin/true"]);
    let ctr = ctr.trim().to_string();
    assert_eq!(
        env.ok(["images", "--format", "{{.Repository}} {{.Containers}}"]),
        "localhost/used 1\n"
    );
    let before = env.store_snapshot();
    let err = env.fails(2, ["rmi", "used"]);
    assert_eq!(
        err.trim(),
        format!("Error: image used by {ctr}: image is in use by a container: consider listing external containers and force-removing image")
    );
    assert_eq!(env.store_snapshot(), before);
    // Prune never removes an image a container uses.
    assert_eq!(env.ok(["image", "prune", "-a", "-f"]), "");
    assert_eq!(
        env.ok(["images", "-q", "--filter", "containers=true"])
            .trim(),
        &id[..12]
    );
    // -f removes the container first, as Podman does.
    assert_eq!(
        env.ok(["rmi", "-f", "used"]),
        format!("Untagged: localhost/used:latest\nDeleted: {id}\n")
    );
    assert_eq!(env.ok(["ps", "-a", "-q"]), "");
}

#[test]
fn tag_moves_a_name_between_images() {
    require_root!();
    let env = TestEnv::new();
    let a = import(&env, "app");
    let tar = env.busybox_tar();
    let b = env.ok([
        "import".as_ref(),
        "-c".as_ref(),
        "LABEL v=2".as_ref(),
        tar.as_os_str(),
        "app:2".as_ref(),
    ]);
    let b = b.trim().trim_start_matches("sha256:").to_string();
    env.ok(["tag", "app:2", "app"]);
    assert_eq!(id_of(&env, "app"), b);
    // The old image lost its only name: it is dangling now.
    let out = env.ok(["images", "--filter", "dangling=true", "-q", "--no-trunc"]);
    assert_eq!(out.trim(), format!("sha256:{a}"));
    let hist = env.ok_json(["image", "inspect", &a]);
    assert_eq!(hist[0]["NamesHistory"][0], "localhost/app:latest");
    // index.json follows: one entry per name, the dangling image without a name.
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(env.root.join("oci/index.json")).unwrap()).unwrap();
    let names: Vec<String> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            m["annotations"]["org.opencontainers.image.ref.name"]
                .as_str()
                .unwrap_or("-")
                .to_string()
        })
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        ["-", "localhost/app:2", "localhost/app:latest"],
        "{names:?}"
    );
}
