//! `save` and `load` in the three formats, multi-layer images with whiteouts and opaque
//! directories in gzip, zstd and plain layers, layer sharing, and the bad inputs of issue 2:
//! archives that are no image, layer tars that try to escape, corrupt and truncated layers.

mod common;

use common::fixtures::{self, Compression, ImageSpec};
use common::TestEnv;
use serde_json::json;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

fn import(env: &TestEnv, name: &str, label: &str) -> String {
    let tar = env.busybox_tar();
    let out = env.ok([
        "import".as_ref(),
        "-c".as_ref(),
        format!("LABEL l={label}").as_ref(),
        tar.as_os_str(),
        name.as_ref(),
    ]);
    out.trim().trim_start_matches("sha256:").to_string()
}

fn inspect(env: &TestEnv, name: &str) -> serde_json::Value {
    let v = env.ok_json(["image", "inspect", name]);
    v[0].clone()
}

fn layer_count(env: &TestEnv) -> usize {
    std::fs::read_dir(env.root.join("layers")).map_or(0, |d| d.count())
}

#[test]
fn save_and_load_round_trip() {
    require_root!();
    let env = TestEnv::new();
    let a = import(&env, "foo", "a");
    let b = import(&env, "bar:v1", "b");
    let d = env.dir.path();
    let docker = d.join("d.tar");
    env.ok(["save", "-o", docker.to_str().unwrap(), "foo", "bar:v1"]);
    let oci = d.join("o.tar");
    env.ok([
        "save",
        "--format",
        "oci-archive",
        "-o",
        oci.to_str().unwrap(),
        "foo",
    ]);
    let ocidir = d.join("odir");
    env.ok([
        "image",
        "save",
        "--format",
        "oci-dir",
        "-o",
        ocidir.to_str().unwrap(),
        "bar:v1",
    ]);
    // To stdout.
    let out = env
        .cmd(["save", "foo"])
        .stdout(std::process::Stdio::piped())
        .output()
        .unwrap();
    assert!(out.status.success());
    let gz = d.join("d.tar.gz");
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut e, &out.stdout).unwrap();
    std::fs::write(&gz, e.finish().unwrap()).unwrap();

    env.ok(["rmi", "-a"]);
    assert_eq!(layer_count(&env), 0);
    assert_eq!(
        env.ok(["load", "-i", docker.to_str().unwrap()]),
        "Loaded image: localhost/foo:latest\nLoaded image: localhost/bar:v1\n"
    );
    assert_eq!(inspect(&env, "foo")["Id"], a.as_str());
    assert_eq!(inspect(&env, "bar:v1")["Id"], b.as_str());
    assert_eq!(layer_count(&env), 1, "the shared layer is unpacked once");
    env.ok(["rmi", "-a"]);
    let out = env
        .cmd(["load"])
        .stdin(std::fs::File::open(&oci).unwrap())
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Loaded image: localhost/foo:latest\n"
    );
    assert_eq!(inspect(&env, "foo")["Id"], a.as_str());
    assert_eq!(
        env.ok(["image", "load", "-i", ocidir.to_str().unwrap()]),
        "Loaded image: localhost/bar:v1\n"
    );
    env.ok(["rmi", "-a"]);
    env.ok(["load", "-q", "-i", gz.to_str().unwrap()]);
    assert_eq!(inspect(&env, "foo")["Id"], a.as_str());
    // Errors.
    let err = env.fails(125, ["save", "--format", "bogus", "-o", "/tmp/x", "foo"]);
    assert!(err.contains("unsupported format"), "{err}");
    let err = env.fails(
        125,
        ["save", "-o", d.join("n.tar").to_str().unwrap(), "nosuch"],
    );
    assert_eq!(err.trim(), "Error: nosuch: image not known");
    assert!(!d.join("n.tar").exists());
}

#[test]
fn skopeo_reads_saved_archives() {
    require_root!();
    let env = TestEnv::new();
    import(&env, "foo", "a");
    let d = env.dir.path();
    env.ok(["save", "-o", d.join("d.tar").to_str().unwrap(), "foo"]);
    env.ok([
        "save",
        "--format",
        "oci-archive",
        "-o",
        d.join("o.tar").to_str().unwrap(),
        "foo",
    ]);
    for r in [
        format!("docker-archive:{}", d.join("d.tar").display()),
        format!("oci-archive:{}", d.join("o.tar").display()),
    ] {
        common::skopeo(["inspect", &r]);
    }
}

/// Mounts the image's layers read-only with overlay and returns what `check` says.
fn with_overlay(env: &TestEnv, image: &serde_json::Value, check: impl FnOnce(&Path)) {
    let data = &image["GraphDriver"]["Data"];
    let upper = data["UpperDir"].as_str().unwrap();
    let lower = data["LowerDir"].as_str().unwrap();
    let mnt = env.dir.path().join("mnt");
    std::fs::create_dir_all(&mnt).unwrap();
    let st = std::process::Command::new("mount")
        .args(["-t", "overlay", "overlay", "-o"])
        .arg(format!("lowerdir={upper}:{lower}"))
        .arg(&mnt)
        .status()
        .unwrap();
    assert!(st.success());
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&mnt)));
    let _ = std::process::Command::new("umount").arg(&mnt).status();
    if let Err(p) = r {
        std::panic::resume_unwind(p);
    }
}

#[test]
fn multi_layer_whiteouts_in_every_compression() {
    require_root!();
    for c in [Compression::Gzip, Compression::Zstd, Compression::None] {
        let env = TestEnv::new();
        let layout = env.dir.path().join("layout");
        fixtures::write_oci_image(
            &layout,
            "localhost/wh:1",
            &ImageSpec::busybox_with_whiteouts(c),
        );
        assert_eq!(
            env.ok(["load", "-i", layout.to_str().unwrap()]),
            "Loaded image: localhost/wh:1\n"
        );
        let img = inspect(&env, "wh:1");
        assert_eq!(img["RootFS"]["Layers"].as_array().unwrap().len(), 3);
        let top = PathBuf::from(img["GraphDriver"]["Data"]["UpperDir"].as_str().unwrap());
        let m = std::fs::symlink_metadata(top.join("data/a")).unwrap();
        assert!(
            m.file_type().is_char_device(),
            "{c:?}: whiteout is a char device"
        );
        assert!(std::fs::symlink_metadata(top.join("etc/removed"))
            .unwrap()
            .file_type()
            .is_char_device());
        assert_eq!(
            xattr::get(top.join("data/keep"), "trusted.overlay.opaque").unwrap(),
            Some(b"y".to_vec())
        );
        with_overlay(&env, &img, |root| {
            assert!(root.join("bin/busybox").is_file());
            assert!(!root.join("data/a").exists());
            assert!(root.join("data/b").is_file());
            assert!(!root.join("data/keep/x").exists());
            assert_eq!(std::fs::read(root.join("data/keep/y")).unwrap(), b"y\n");
            assert!(!root.join("etc/removed").exists());
        });
    }
}

#[test]
fn layers_are_shared_and_refcounted() {
    require_root!();
    let env = TestEnv::new();
    let layout = env.dir.path().join("layout");
    fixtures::write_oci_image(&layout, "localhost/base:1", &ImageSpec::busybox());
    fixtures::write_oci_image(
        &layout,
        "localhost/wh:1",
        &ImageSpec::busybox_with_whiteouts(Compression::Gzip),
    );
    let out = env.ok(["load", "-i", layout.to_str().unwrap()]);
    assert_eq!(out.lines().count(), 2, "{out}");
    assert_eq!(layer_count(&env), 3, "the base layer is unpacked once");
    env.ok(["rmi", "wh:1"]);
    assert_eq!(layer_count(&env), 1);
    let base = inspect(&env, "base:1");
    let upper = base["GraphDriver"]["Data"]["UpperDir"].as_str().unwrap();
    assert!(Path::new(upper).join("bin/busybox").is_file());
    env.ok(["rmi", "base:1"]);
    assert_eq!(layer_count(&env), 0);
}

#[test]
fn load_picks_the_host_platform_and_reads_oci_archives() {
    require_root!();
    let env = TestEnv::new();
    let layout = env.dir.path().join("layout");
    let mut other = ImageSpec::busybox();
    other.architecture = fixtures::other_arch().into();
    other.labels = vec![("arch".into(), "other".into())];
    let mut host = ImageSpec::busybox();
    host.labels = vec![("arch".into(), "host".into())];
    fixtures::write_oci_index(&layout, "localhost/multi:1", &[other, host]);
    let archive = env.dir.path().join("multi.tar");
    fixtures::oci_archive(&layout, &archive);
    env.ok(["load", "-i", archive.to_str().unwrap()]);
    let img = inspect(&env, "multi:1");
    assert_eq!(img["Labels"]["arch"], "host");
    assert_eq!(img["Architecture"], fixtures::host_arch());
}

/// A tar made of raw headers (so names like `../x` survive).
struct RawTar(Vec<u8>);

impl RawTar {
    fn new() -> Self {
        RawTar(Vec::new())
    }
    fn entry(mut self, kind: tar::EntryType, name: &str, link: &str, data: &[u8]) -> Self {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(1_700_000_000);
        h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        h.as_old_mut().linkname[..link.len()].copy_from_slice(link.as_bytes());
        if matches!(kind, tar::EntryType::Char | tar::EntryType::Block) {
            h.set_device_major(1).unwrap();
            h.set_device_minor(3).unwrap();
        }
        h.set_cksum();
        self.0.extend_from_slice(h.as_bytes());
        self.0.extend_from_slice(data);
        let pad = (512 - data.len() % 512) % 512;
        self.0.extend(std::iter::repeat_n(0u8, pad));
        self
    }
    fn finish(mut self) -> Vec<u8> {
        self.0.extend(std::iter::repeat_n(0u8, 1024));
        self.0
    }
}

/// Writes an OCI layout with one image made of raw layer blobs and the given diff IDs.
fn raw_layout(dir: &Path, name: &str, layers: &[(Vec<u8>, String)]) {
    let put = |data: &[u8]| -> serde_json::Value {
        let d = fixtures::sha256(data);
        let p = dir.join("blobs/sha256").join(&d[7..]);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
        json!({"digest": d, "size": data.len()})
    };
    let mut descs = Vec::new();
    for (blob, _) in layers {
        let mut d = put(blob);
        d["mediaType"] = json!("application/vnd.oci.image.layer.v1.tar+gzip");
        descs.push(d);
    }
    let diff_ids: Vec<&String> = layers.iter().map(|(_, d)| d).collect();
    let config = serde_json::to_vec(&json!({
        "architecture": fixtures::host_arch(), "os": "linux", "config": {},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .unwrap();
    let mut c = put(&config);
    c["mediaType"] = json!("application/vnd.oci.image.config.v1+json");
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": c, "layers": descs,
    }))
    .unwrap();
    let mut m = put(&manifest);
    m["mediaType"] = json!("application/vnd.oci.image.manifest.v1+json");
    m["annotations"] = json!({"org.opencontainers.image.ref.name": name});
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    std::fs::write(
        dir.join("index.json"),
        serde_json::to_vec(&json!({"schemaVersion": 2, "manifests": [m]})).unwrap(),
    )
    .unwrap();
}

fn gzip(data: &[u8]) -> Vec<u8> {
    fixtures::compress(data, Compression::Gzip)
}

/// Loads `layers` as an image and expects a one-line error containing `want`, an unchanged
/// store and nothing written to `outside`.
fn expect_refused(
    env: &TestEnv,
    outside: &Path,
    case: &str,
    layers: &[(Vec<u8>, String)],
    want: &str,
) {
    let before = env.store_snapshot();
    let layout = env.dir.path().join(format!("bad-{case}"));
    raw_layout(&layout, "localhost/bad:1", layers);
    let err = env.fails(125, ["load", "-i", layout.to_str().unwrap()]);
    assert!(
        err.starts_with("Error: ") && err.lines().count() == 1,
        "{case}: {err}"
    );
    assert!(err.contains(want), "{case}: {err}");
    assert_eq!(env.store_snapshot(), before, "{case}: store changed");
    assert_eq!(
        std::fs::read_dir(outside).unwrap().count(),
        0,
        "{case}: something was written outside the layer"
    );
    assert_eq!(env.run(["image", "exists", "bad:1"]).status.code(), Some(1));
}

#[test]
fn escaping_layers_are_refused() {
    require_root!();
    let env = TestEnv::new();
    import(&env, "ok", "x");
    let outside = tempfile::tempdir().unwrap();
    let o = outside.path().to_str().unwrap().to_string();
    use tar::EntryType as T;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "dotdot",
            RawTar::new()
                .entry(T::Regular, "../../../../../../../tmp/evil", "", b"x")
                .finish(),
            "escape the layer root",
        ),
        (
            "absolute",
            RawTar::new()
                .entry(T::Regular, &format!("{o}/abs"), "", b"x")
                .finish(),
            "absolute paths",
        ),
        (
            "symlink-write",
            RawTar::new()
                .entry(T::Symlink, "link", &o, b"")
                .entry(T::Regular, "link/through", "", b"x")
                .finish(),
            "symbolic link",
        ),
        (
            "symlink-dir-write",
            RawTar::new()
                .entry(T::Symlink, "etc", &o, b"")
                .entry(T::Directory, "etc/sub/", "", b"")
                .finish(),
            "symbolic link",
        ),
        (
            "hardlink-out",
            RawTar::new()
                .entry(T::Link, "h", "../../../../etc/passwd", b"")
                .finish(),
            "hard link points outside",
        ),
        (
            "hardlink-abs",
            RawTar::new()
                .entry(T::Link, "h", "/etc/passwd", b"")
                .finish(),
            "hard link points outside",
        ),
        (
            "chardev",
            RawTar::new().entry(T::Char, "dev/null", "", b"").finish(),
            "device nodes are not allowed",
        ),
        (
            "blockdev",
            RawTar::new().entry(T::Block, "dev/sda", "", b"").finish(),
            "device nodes are not allowed",
        ),
    ];
    for (case, tar, want) in cases {
        let diff = fixtures::sha256(&tar);
        expect_refused(&env, outside.path(), case, &[(gzip(&tar), diff)], want);
    }
    assert!(!Path::new("/tmp/evil").exists());
}

#[test]
fn corrupt_truncated_and_mismatched_layers_are_refused() {
    require_root!();
    let env = TestEnv::new();
    import(&env, "ok", "x");
    let outside = tempfile::tempdir().unwrap();
    let tar = fixtures::busybox_layer_tar();
    let diff = fixtures::sha256(&tar);
    let good = gzip(&tar);
    let mut corrupt = good.clone();
    let mid = corrupt.len() / 2;
    for b in &mut corrupt[mid..mid + 64] {
        *b ^= 0x5a;
    }
    expect_refused(
        &env,
        outside.path(),
        "corrupt-gzip",
        &[(corrupt, diff.clone())],
        "layer sha256:",
    );
    let truncated = good[..good.len() / 2].to_vec();
    expect_refused(
        &env,
        outside.path(),
        "truncated",
        &[(truncated, diff.clone())],
        "layer sha256:",
    );
    let other = fixtures::sha256(b"not this layer");
    expect_refused(
        &env,
        outside.path(),
        "diff-id",
        &[(good.clone(), other)],
        "diff ID mismatch",
    );
    // A blob whose content does not match its digest in the manifest.
    let layout = env.dir.path().join("tampered");
    raw_layout(&layout, "localhost/bad:1", &[(good.clone(), diff)]);
    let p = layout
        .join("blobs/sha256")
        .join(&fixtures::sha256(&good)[7..]);
    let mut bytes = std::fs::read(&p).unwrap();
    bytes[100] ^= 1;
    std::fs::write(&p, bytes).unwrap();
    let before = env.store_snapshot();
    let err = env.fails(125, ["load", "-i", layout.to_str().unwrap()]);
    assert!(err.contains("digest mismatch"), "{err}");
    assert_eq!(env.store_snapshot(), before);
}

#[test]
fn archives_that_are_no_image_are_refused() {
    require_root!();
    let env = TestEnv::new();
    import(&env, "ok", "x");
    let before = env.store_snapshot();
    let d = env.dir.path();
    let garbage = d.join("garbage");
    std::fs::write(&garbage, b"this is not an archive at all\n").unwrap();
    let plain_tar = env.busybox_tar();
    let empty = d.join("empty");
    std::fs::write(&empty, b"").unwrap();
    for p in [&garbage, &plain_tar, &empty] {
        let err = env.fails(125, ["load", "-i", p.to_str().unwrap()]);
        assert_eq!(
            err.trim(),
            "Error: payload does not match any of the supported image formats (oci-archive, docker-archive, oci-dir)",
            "{}",
            p.display()
        );
        assert_eq!(env.store_snapshot(), before);
    }
    let err = env.fails(125, ["load", "-i", "/nonexistent"]);
    assert!(err.contains("/nonexistent"), "{err}");
    // A docker-archive whose manifest points outside the archive.
    let bad = d.join("bad-docker.tar");
    let mut b = tar::Builder::new(std::fs::File::create(&bad).unwrap());
    let m = br#"[{"Config":"../../etc/passwd","RepoTags":["x:1"],"Layers":[]}]"#;
    let mut h = tar::Header::new_gnu();
    h.set_size(m.len() as u64);
    h.set_mode(0o644);
    b.append_data(&mut h, "manifest.json", &m[..]).unwrap();
    b.finish().unwrap();
    drop(b);
    let err = env.fails(125, ["load", "-i", bad.to_str().unwrap()]);
    assert!(err.contains("leaves the archive"), "{err}");
    assert_eq!(env.store_snapshot(), before);
}

#[test]
fn oversized_config_is_refused() {
    require_root!();
    let env = TestEnv::new();
    import(&env, "ok", "x");
    let before = env.store_snapshot();
    let layout = env.dir.path().join("big");
    let tar = fixtures::busybox_layer_tar();
    raw_layout(
        &layout,
        "localhost/big:1",
        &[(gzip(&tar), fixtures::sha256(&tar))],
    );
    // Replace the config by a 9 MiB document and point the manifest at it.
    let big = serde_json::to_vec(&json!({"architecture": "amd64", "os": "linux",
        "pad": "x".repeat(9 << 20), "rootfs": {"type": "layers", "diff_ids": []}}))
    .unwrap();
    let d = fixtures::sha256(&big);
    std::fs::write(layout.join("blobs/sha256").join(&d[7..]), &big).unwrap();
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let mdigest = index["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let mpath = layout.join("blobs/sha256").join(&mdigest[7..]);
    let mut m: serde_json::Value = serde_json::from_slice(&std::fs::read(&mpath).unwrap()).unwrap();
    m["config"]["digest"] = json!(d);
    m["config"]["size"] = json!(big.len());
    let mbytes = serde_json::to_vec(&m).unwrap();
    let nd = fixtures::sha256(&mbytes);
    std::fs::write(layout.join("blobs/sha256").join(&nd[7..]), &mbytes).unwrap();
    let mut index = index;
    index["manifests"][0]["digest"] = json!(nd);
    index["manifests"][0]["size"] = json!(mbytes.len());
    std::fs::write(
        layout.join("index.json"),
        serde_json::to_vec(&index).unwrap(),
    )
    .unwrap();
    let err = env.fails(125, ["load", "-i", layout.to_str().unwrap()]);
    assert!(err.contains("more than the 8 MiB limit"), "{err}");
    assert_eq!(env.store_snapshot(), before);
}

#[test]
fn containers_see_the_merged_layers() {
    require_root!();
    require_programs!("runc");
    let env = TestEnv::new();
    let layout = env.dir.path().join("layout");
    fixtures::write_oci_image(
        &layout,
        "localhost/wh:1",
        &ImageSpec::busybox_with_whiteouts(Compression::Zstd),
    );
    env.ok(["load", "-i", layout.to_str().unwrap()]);
    let out = env.ok([
        "run",
        "--rm",
        "--network",
        "none",
        "wh:1",
        "/bin/sh",
        "-c",
        "ls /data /data/keep; test -e /etc/removed || echo removed-is-gone",
    ]);
    assert_eq!(out, "/data:\nb\nkeep\n\n/data/keep:\ny\nremoved-is-gone\n");
}
