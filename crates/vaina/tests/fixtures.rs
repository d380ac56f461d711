//! The test fixtures themselves are valid OCI layouts: skopeo (an independent reader) accepts
//! them. Other test files rely on this.

mod common;

use common::fixtures::{self, Compression, ImageSpec};

/// skopeo is installed by hack/install-deps.sh.
fn skopeo_inspect(arg: &str) -> serde_json::Value {
    common::skopeo_json(["inspect", "--raw", arg])
}

#[test]
fn single_and_multi_layer_layouts_are_valid() {
    let dir = tempfile::tempdir().unwrap();
    let d = fixtures::write_oci_image(dir.path(), "one", &ImageSpec::busybox());
    let d2 = fixtures::write_oci_image(
        dir.path(),
        "wh",
        &ImageSpec::busybox_with_whiteouts(Compression::Zstd),
    );
    let m = skopeo_inspect(&format!("oci:{}:one", dir.path().display()));
    assert_eq!(m["layers"].as_array().unwrap().len(), 1);
    let m2 = skopeo_inspect(&format!("oci:{}:wh", dir.path().display()));
    assert_eq!(m2["layers"].as_array().unwrap().len(), 3);
    assert_ne!(d, d2);
    // The config parses and names the host architecture.
    let cfg = common::skopeo_json([
        "inspect",
        "--config",
        &format!("oci:{}:one", dir.path().display()),
    ]);
    assert_eq!(cfg["architecture"], fixtures::host_arch());
}

#[test]
fn two_platform_index_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    let mut other = ImageSpec::busybox();
    other.architecture = fixtures::other_arch().into();
    fixtures::write_oci_index(dir.path(), "multi", &[ImageSpec::busybox(), other]);
    let idx = skopeo_inspect(&format!("oci:{}:multi", dir.path().display()));
    assert_eq!(idx["manifests"].as_array().unwrap().len(), 2);
}
