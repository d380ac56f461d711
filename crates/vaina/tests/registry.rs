//! Pull and push against Debian's docker-registry on loopback and a fake registry for the
//! faults real registries never produce. Blob-level checks use libvaina's client directly;
//! command-level checks run `vaina pull/push/images` and the registry bad inputs of issue 2.
//! Authentication and TLS are in `registry_auth.rs`.

mod common;

use common::fake_registry::{Canned, FakeRegistry};
use common::fixtures::{self, Compression, ImageSpec};
use common::registry::*;
use libvaina::registry::client::ClientOptions;
use libvaina::registry::Platform;

#[test]
fn fetches_verified_blobs_from_a_plain_registry() {
    require_programs!("docker-registry", "skopeo");
    let reg = Registry::start();
    let src = tempfile::tempdir().unwrap();
    fixtures::write_oci_image(src.path(), "one", &ImageSpec::busybox());
    fixtures::write_oci_image(
        src.path(),
        "zstd",
        &ImageSpec::busybox_with_whiteouts(Compression::Zstd),
    );
    reg.push_oci(src.path(), "one", "bb:1");
    reg.push_oci(src.path(), "zstd", "bb:zstd");

    let store = tempfile::tempdir().unwrap();
    let host = Platform::host();
    for tag in ["1", "zstd"] {
        let d = fetch(
            store.path(),
            &format!("{}/bb:{tag}", reg.host),
            insecure(),
            &host,
        )
        .unwrap();
        assert!(blob_exists(store.path(), &d.to_string()));
        for b in manifest_blobs(store.path(), &d.to_string()) {
            assert!(blob_exists(store.path(), &b), "{b} missing after {tag}");
        }
    }
    assert!(tmp_is_empty(store.path()));
    // A pull by digest gets the same manifest.
    let again = tempfile::tempdir().unwrap();
    let d = fetch(
        again.path(),
        &format!("{}/bb:1", reg.host),
        insecure(),
        &host,
    )
    .unwrap();
    let by_digest = fetch(
        again.path(),
        &format!("{}/bb@{d}", reg.host),
        insecure(),
        &host,
    )
    .unwrap();
    assert_eq!(d, by_digest);
    // TLS is verified by default: a plain HTTP registry is refused.
    let err = fetch(
        again.path(),
        &format!("{}/bb:1", reg.host),
        ClientOptions::default(),
        &host,
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("pinging container registry"),
        "{err}"
    );
}

#[test]
fn chooses_the_platform_from_an_index() {
    require_programs!("docker-registry", "skopeo");
    let reg = Registry::start();
    let src = tempfile::tempdir().unwrap();
    let mut other = ImageSpec::busybox();
    other.architecture = fixtures::other_arch().into();
    other.labels = vec![("arch".into(), "other".into())];
    fixtures::write_oci_index(src.path(), "multi", &[ImageSpec::busybox(), other]);
    reg.push_oci(src.path(), "multi", "multi:1");
    let reference = format!("{}/multi:1", reg.host);

    let store = tempfile::tempdir().unwrap();
    let mine = fetch(store.path(), &reference, insecure(), &Platform::host()).unwrap();
    let arch = fixtures::other_arch();
    let theirs = fetch(
        store.path(),
        &reference,
        insecure(),
        &Platform::from_flags(None, None, Some(arch), None).unwrap(),
    )
    .unwrap();
    assert_ne!(mine, theirs);
    let cfg = &manifest_blobs(store.path(), &theirs.to_string())[0];
    let cfg: serde_json::Value = serde_json::from_slice(
        &std::fs::read(store.path().join("blobs/sha256").join(&cfg[7..])).unwrap(),
    )
    .unwrap();
    assert_eq!(cfg["architecture"], arch);
    let err = fetch(
        store.path(),
        &reference,
        insecure(),
        &Platform::from_flags(Some("linux/s390x"), None, None, None).unwrap(),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("no image found in image index for architecture \"s390x\""),
        "{err}"
    );
}

#[test]
fn pull_bad_references_and_hosts() {
    let env = env_for("unqualified-search-registries = []\n");
    let err = env.fails(125, ["pull", "Busy:box::x"]);
    assert!(
        err.starts_with("Error: ") && err.contains("invalid reference format"),
        "{err}"
    );
    assert_pull_fails(
        &env,
        "registry.invalid/app:1",
        &[],
        "pinging container registry registry.invalid",
    );
    let err = env.fails(125, ["pull", "busybox"]);
    assert!(err.contains("short-name \"busybox\""), "{err}");
}

#[test]
fn pull_registry_errors() {
    require_programs!("docker-registry", "skopeo", "openssl", "htpasswd");
    // 404 from a real registry.
    let reg = Registry::start();
    let env = env_for(&reg.insecure_conf());
    assert_pull_fails(
        &env,
        &format!("{}/nosuch:1", reg.host),
        &[],
        "manifest unknown",
    );
    // 401 from a TLS registry without credentials.
    let tls = Registry::start_tls("alice", "s3cret");
    tls.push_image(&ImageSpec::busybox(), "bb:1");
    let cert_dir = format!("--cert-dir={}", tls.cert_dir.as_ref().unwrap().display());
    assert_pull_fails(
        &env,
        &format!("{}/bb:1", tls.host),
        &[&cert_dir],
        "authentication required",
    );
    // Wrong password.
    assert_pull_fails(
        &env,
        &format!("{}/bb:1", tls.host),
        &[&cert_dir, "--creds=alice:nope"],
        "authentication required",
    );
    // 403 and 500 from the fake registry (500 is retried, then reported).
    let fake = FakeRegistry::start(None);
    fake.route("GET", "/v2/denied/manifests/1", Canned::status(403));
    fake.route("GET", "/v2/broken/manifests/1", Canned::status(500));
    let env = env_for(&fake.insecure_conf());
    assert_pull_fails(&env, &format!("{}/denied:1", fake.host), &[], "denied");
    assert_pull_fails(&env, &format!("{}/broken:1", fake.host), &[], "500");
    let tries = fake
        .requests()
        .iter()
        .filter(|r| r.contains("/broken/"))
        .count();
    assert_eq!(tries, 3, "500 is retried 3 times: {:?}", fake.requests());
}

/// A fake registry serving a busybox image as `app:one`, with the paths of its parts.
struct Served {
    fake: FakeRegistry,
    _src: tempfile::TempDir,
    manifest: serde_json::Value,
    manifest_digest: String,
}

fn served() -> Served {
    let src = tempfile::tempdir().unwrap();
    let digest = fixtures::write_oci_image(src.path(), "one", &ImageSpec::busybox());
    let fake = FakeRegistry::start(None);
    fake.serve_layout(src.path(), "one", "app");
    let manifest = serde_json::from_slice(
        &std::fs::read(src.path().join("blobs/sha256").join(&digest[7..])).unwrap(),
    )
    .unwrap();
    Served {
        fake,
        _src: src,
        manifest,
        manifest_digest: digest,
    }
}

impl Served {
    fn image(&self) -> String {
        format!("{}/app:one", self.fake.host)
    }

    fn layer(&self) -> String {
        self.manifest["layers"][0]["digest"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Serves `m` as the manifest of `app:one`.
    fn set_manifest(&self, m: &serde_json::Value) {
        self.fake.route(
            "GET",
            "/v2/app/manifests/one",
            Canned::ok(
                "application/vnd.oci.image.manifest.v1+json",
                serde_json::to_vec(m).unwrap(),
            ),
        );
    }
}

#[test]
fn pull_rejects_bad_content() {
    let s = served();
    let env = env_for(&s.fake.insecure_conf());
    let image = s.image();

    // Layer bytes that do not match the digest.
    let layer = s.layer();
    let path = format!("/v2/app/blobs/{layer}");
    s.fake.route(
        "GET",
        &path,
        Canned::ok("application/octet-stream", b"not the layer".to_vec()),
    );
    assert_pull_fails(&env, &image, &[], "mismatch");
    // A truncated layer (connection closed early).
    let mut full = fixtures::compress(&fixtures::busybox_layer_tar(), Compression::Gzip);
    if fixtures::sha256(&full) != layer {
        full = Vec::new();
    }
    let mut trunc = Canned::ok("application/octet-stream", vec![0; 4096]);
    if !full.is_empty() {
        trunc.body = full;
    }
    trunc.truncate_at = Some(1000);
    s.fake.route("GET", &path, trunc);
    let before = s.fake.requests().len();
    assert_pull_fails(&env, &image, &[], "blob");
    let gets = s.fake.requests()[before..]
        .iter()
        .filter(|r| r.ends_with(&layer))
        .count();
    assert_eq!(gets, 3, "a broken download is tried 3 times");

    // A config whose bytes do not match.
    let s = served();
    let env = env_for(&s.fake.insecure_conf());
    let cfg = s.manifest["config"]["digest"].as_str().unwrap().to_string();
    s.fake.route(
        "GET",
        &format!("/v2/app/blobs/{cfg}"),
        Canned::ok("application/json", b"{}".to_vec()),
    );
    assert_pull_fails(&env, &s.image(), &[], "mismatch");

    // A manifest that does not match the digest asked for.
    let s = served();
    let env = env_for(&s.fake.insecure_conf());
    let wrong = format!("sha256:{}", "0".repeat(64));
    s.fake.route(
        "GET",
        &format!("/v2/app/manifests/{wrong}"),
        Canned::ok(
            "application/vnd.oci.image.manifest.v1+json",
            serde_json::to_vec(&s.manifest).unwrap(),
        ),
    );
    assert_pull_fails(
        &env,
        &format!("{}/app@{wrong}", s.fake.host),
        &[],
        "digest mismatch for manifest",
    );
    let _ = &s.manifest_digest;

    // Unknown layer media type, unknown manifest media type.
    let mut m = s.manifest.clone();
    m["layers"][0]["mediaType"] = "application/x-mystery".into();
    s.set_manifest(&m);
    assert_pull_fails(&env, &s.image(), &[], "unsupported layer media type");
    let mut m = s.manifest.clone();
    m["mediaType"] = "application/x-mystery+json".into();
    s.fake.route(
        "GET",
        "/v2/app/manifests/one",
        Canned::ok(
            "application/x-mystery+json",
            serde_json::to_vec(&m).unwrap(),
        ),
    );
    assert_pull_fails(&env, &s.image(), &[], "unsupported manifest media type");

    // Over the size caps: a 5 MiB manifest, a config announced at 5 MiB.
    let mut m = s.manifest.clone();
    m["annotations"] = serde_json::json!({"pad": "x".repeat(5 << 20)});
    s.set_manifest(&m);
    assert_pull_fails(&env, &s.image(), &[], "too large");
    let mut m = s.manifest.clone();
    m["config"]["size"] = (5u64 << 20).into();
    s.set_manifest(&m);
    assert_pull_fails(&env, &s.image(), &[], "too large");
    // Not JSON at all.
    s.fake.route(
        "GET",
        "/v2/app/manifests/one",
        Canned::ok(
            "application/vnd.oci.image.manifest.v1+json",
            b"<html>".to_vec(),
        ),
    );
    assert_pull_fails(&env, &s.image(), &[], "invalid manifest");
}

#[test]
fn pull_progress_lines_like_podman() {
    let s = served();
    let env = env_for(&s.fake.insecure_conf());
    let out = env.run(["pull", &s.image()]);
    let err = String::from_utf8_lossy(&out.stderr);
    let layer = s.layer();
    let cfg = s.manifest["config"]["digest"].as_str().unwrap();
    let expect = [
        format!("Trying to pull {}...", s.image()),
        "Getting image source signatures".to_string(),
        format!("Copying blob {layer}"),
        format!("Copying config {cfg}"),
        "Writing manifest to image destination".to_string(),
    ];
    for e in &expect {
        assert!(err.lines().any(|l| l == e), "missing {e:?} in:\n{err}");
    }
}

#[test]
fn pull_then_images_and_push_back() {
    require_programs!("docker-registry", "skopeo");
    let reg = Registry::start();
    reg.push_image(
        &ImageSpec::busybox_with_whiteouts(Compression::Gzip),
        "bb:1",
    );
    let env = env_for(&reg.insecure_conf());
    let image = format!("{}/bb:1", reg.host);
    let id = env.ok_trim(["pull", "-q", &image]);
    assert_eq!(id.len(), 64, "{id}");
    assert_eq!(
        images_list(&env),
        vec![format!("{}/bb:1 {}", reg.host, &id[..12])]
    );
    // The store is an OCI layout skopeo reads.
    common::skopeo([
        "inspect",
        "--raw",
        &format!("oci:{}", env.root.join("oci").display()),
    ]);
    // Pulling again reuses every blob and gives the same ID (`docker://` is accepted).
    assert_eq!(
        env.ok(["pull", "-q", &format!("docker://{image}")]).trim(),
        id
    );

    // Push as is (the manifest keeps its digest), then recompressed and converted.
    let digestfile = env.dir.path().join("digest");
    env.ok([
        "push",
        "-q",
        "--digestfile",
        digestfile.to_str().unwrap(),
        &image,
        &format!("{}/copy:same", reg.host),
    ]);
    let inspect = |name: &str| -> serde_json::Value {
        common::skopeo_json([
            "inspect",
            "--raw",
            "--tls-verify=false",
            &format!("docker://{}/{name}", reg.host),
        ])
    };
    let same = inspect("copy:same");
    let orig = inspect("bb:1");
    assert_eq!(same, orig);
    let d = std::fs::read_to_string(&digestfile).unwrap();
    assert!(d.starts_with("sha256:"), "{d}");
    env.ok([
        "push",
        "-q",
        "--compression-format=zstd",
        &image,
        &format!("{}/copy:zstd", reg.host),
    ]);
    let z = inspect("copy:zstd");
    assert!(z["layers"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["mediaType"] == "application/vnd.oci.image.layer.v1.tar+zstd"));
    env.ok([
        "push",
        "-q",
        "--format=v2s2",
        &image,
        &format!("{}/copy:v2s2", reg.host),
    ]);
    let v2 = inspect("copy:v2s2");
    assert_eq!(
        v2["mediaType"],
        "application/vnd.docker.distribution.manifest.v2+json"
    );
    assert_eq!(
        v2["config"]["mediaType"],
        "application/vnd.docker.container.image.v1+json"
    );
    // zstd cannot go into a v2s2 manifest.
    let err = env.fails(
        125,
        [
            "push",
            "--format=v2s2",
            "--compression-format=zstd",
            &image,
            &format!("{}/copy:bad", reg.host),
        ],
    );
    assert!(err.contains("v2s2"), "{err}");
    // The recompressed image pulls back into a fresh store with the same ID.
    let env2 = env_for(&reg.insecure_conf());
    assert_eq!(
        env2.ok(["pull", "-q", &format!("{}/copy:zstd", reg.host)])
            .trim(),
        id
    );
}

#[test]
fn pull_with_credentials_mirrors_and_all_tags() {
    require_programs!("docker-registry", "skopeo", "openssl", "htpasswd");
    let tls = Registry::start_tls("alice", "s3cret");
    let src = tempfile::tempdir().unwrap();
    fixtures::write_oci_image(src.path(), "one", &ImageSpec::busybox());
    tls.push_oci(src.path(), "one", "bb:1");
    let env = env_for("unqualified-search-registries = []\n");
    let cert_dir = format!("--cert-dir={}", tls.cert_dir.as_ref().unwrap().display());
    let image = format!("{}/bb:1", tls.host);
    // --creds, then credentials from auth.json after login.
    env.ok(["pull", "-q", &cert_dir, "--creds=alice:s3cret", &image]);
    env.ok(["login", &cert_dir, "-u", "alice", "-p", "s3cret", &tls.host]);
    env.ok(["pull", "-q", &cert_dir, &image]);

    // A mirror is tried before the location: the location here does not exist.
    let mirror = Registry::start();
    mirror.push_oci(src.path(), "one", "lib/bb:1");
    mirror.push_oci(src.path(), "one", "lib/bb:2");
    let env = env_for(&format!(
        "unqualified-search-registries = [\"example.invalid\"]\n[[registry]]\nprefix = \"example.invalid/lib\"\nlocation = \"example.invalid/lib\"\n[[registry.mirror]]\nlocation = \"{}/lib\"\ninsecure = true\n",
        mirror.host
    ));
    let out = common::checked_output(&mut env.cmd(["pull", "lib/bb:1"]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Trying to pull example.invalid/lib/bb:1..."),
        "{err}"
    );
    assert_eq!(
        images_list(&env)[0].split(' ').next().unwrap(),
        "example.invalid/lib/bb:1"
    );
    // --all-tags pulls every tag of the repository.
    let env = env_for(&mirror.insecure_conf());
    let out = env.ok([
        "pull",
        "-q",
        "--all-tags",
        &format!("{}/lib/bb", mirror.host),
    ]);
    assert_eq!(out.lines().count(), 2, "{out}");
    let err = env.fails(
        125,
        ["pull", "--all-tags", &format!("{}/lib/bb:1", mirror.host)],
    );
    assert!(err.contains("tag can't be used with --all-tags"), "{err}");
}

#[test]
fn pull_reports_every_candidate() {
    let fake = FakeRegistry::start(None);
    let env = env_for(&format!(
        "unqualified-search-registries = [\"{}\", \"nowhere.invalid\"]\nshort-name-mode = \"permissive\"\n[[registry]]\nlocation = \"{}\"\ninsecure = true\n",
        fake.host, fake.host
    ));
    let err = env.fails(125, ["pull", "-q", "nosuch"]);
    assert!(
        err.starts_with("Error: 2 errors occurred while pulling:"),
        "{err}"
    );
    assert!(err.contains(&format!(" * initializing source docker://{}/nosuch:latest: reading manifest latest in {}/nosuch: manifest unknown", fake.host, fake.host)), "{err}");
    assert!(err.contains(" * initializing source docker://nowhere.invalid/nosuch:latest: pinging container registry nowhere.invalid"), "{err}");
}

#[test]
fn corrupt_gzip_layer_leaves_the_store_unchanged() {
    // The digest matches (the registry is honest), the content is not gzip: unpacking fails.
    let src = tempfile::tempdir().unwrap();
    let mut spec = ImageSpec::busybox();
    spec.layers = vec![(b"this is not gzip at all".to_vec(), Compression::None)];
    let digest = fixtures::write_oci_image(src.path(), "one", &spec);
    let layout = src.path();
    let mpath = layout.join("blobs/sha256").join(&digest[7..]);
    let mut m: serde_json::Value = serde_json::from_slice(&std::fs::read(&mpath).unwrap()).unwrap();
    m["layers"][0]["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip".into();
    let fake = FakeRegistry::start(None);
    fake.serve_layout(layout, "one", "app");
    fake.route(
        "GET",
        "/v2/app/manifests/one",
        Canned::ok(
            "application/vnd.oci.image.manifest.v1+json",
            serde_json::to_vec(&m).unwrap(),
        ),
    );
    let env = env_for(&fake.insecure_conf());
    let before = env.store_snapshot();
    let err = env.fails(125, ["pull", "-q", &format!("{}/app:one", fake.host)]);
    assert!(
        err.starts_with("Error: ") && err.lines().count() == 1,
        "{err}"
    );
    let blobs_after: Vec<String> = env
        .store_snapshot()
        .into_iter()
        .filter(|p| p.starts_with("oci/blobs"))
        .collect();
    let blobs_before: Vec<String> = before
        .into_iter()
        .filter(|p| p.starts_with("oci/blobs"))
        .collect();
    assert_eq!(blobs_before, blobs_after);
    assert!(tmp_is_empty(&env.root.join("oci")));
    assert!(images_list(&env).is_empty());
}

/// The image ID (config digest) of the `arch` entry of index `tag` in an OCI layout.
fn config_id_for_arch(layout: &std::path::Path, tag: &str, arch: &str) -> String {
    let read = |d: &str| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(layout.join("blobs/sha256").join(&d[7..])).unwrap())
            .unwrap()
    };
    let top: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let idx = top["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["annotations"]["org.opencontainers.image.ref.name"] == tag)
        .unwrap()["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let entry = read(&idx)["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["platform"]["architecture"] == arch)
        .unwrap()["digest"]
        .as_str()
        .unwrap()
        .to_string();
    read(&entry)["config"]["digest"].as_str().unwrap()[7..].to_string()
}

#[test]
fn pull_platform_flags() {
    require_programs!("docker-registry", "skopeo");
    let reg = Registry::start();
    let src = tempfile::tempdir().unwrap();
    let mut other = ImageSpec::busybox();
    other.architecture = fixtures::other_arch().into();
    fixtures::write_oci_index(src.path(), "multi", &[ImageSpec::busybox(), other]);
    reg.push_oci(src.path(), "multi", "multi:1");
    let image = format!("{}/multi:1", reg.host);
    let env = env_for(&reg.insecure_conf());
    let host_id = config_id_for_arch(src.path(), "multi", fixtures::host_arch());
    let other_id = config_id_for_arch(src.path(), "multi", fixtures::other_arch());
    assert_eq!(env.ok(["pull", "-q", &image]).trim(), host_id);
    let arch = format!("--arch={}", fixtures::other_arch());
    assert_eq!(env.ok(["pull", "-q", &arch, &image]).trim(), other_id);
    let platform = format!("--platform=linux/{}", fixtures::host_arch());
    assert_eq!(env.ok(["pull", "-q", &platform, &image]).trim(), host_id);
    assert_pull_fails(
        &env,
        &image,
        &["--platform=linux/s390x"],
        "no image found in image index",
    );
    let err = env.fails(125, ["pull", "--platform=linux", &image]);
    assert!(err.contains("invalid platform"), "{err}");
}

#[test]
fn concurrent_pulls_of_one_image() {
    require_programs!("docker-registry", "skopeo");
    let reg = Registry::start();
    reg.push_image(
        &ImageSpec::busybox_with_whiteouts(Compression::Zstd),
        "bb:1",
    );
    let env = env_for(&reg.insecure_conf());
    let image = format!("{}/bb:1", reg.host);
    let children: Vec<_> = (0..3)
        .map(|_| {
            env.cmd(["pull", "-q", &image])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let ids: Vec<String> = children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).unwrap().trim().to_string()
        })
        .collect();
    assert!(ids.iter().all(|i| i == &ids[0]), "{ids:?}");
    assert_eq!(images_list(&env).len(), 1);
    assert!(tmp_is_empty(&env.root.join("oci")));
}

#[test]
fn pull_honours_policy_and_blocked_registries() {
    let s = served();
    let env = env_for(&format!(
        "unqualified-search-registries = []\n[[registry]]\nlocation = \"{}\"\ninsecure = true\n[[registry]]\nlocation = \"blocked.example.com\"\nblocked = true\n",
        s.fake.host
    ));
    assert_pull_fails(&env, "blocked.example.com/app:1", &[], "blocked");
    std::fs::write(
        env.config.join("policy.json"),
        format!(
            r#"{{"default":[{{"type":"insecureAcceptAnything"}}],"transports":{{"docker":{{"{}":[{{"type":"reject"}}]}}}}}}"#,
            s.fake.host
        ),
    )
    .unwrap();
    let before = s.fake.requests().len();
    assert_pull_fails(&env, &s.image(), &[], "rejected by policy");
    assert_eq!(
        s.fake.requests().len(),
        before,
        "nothing fetched from a rejected registry"
    );
}
