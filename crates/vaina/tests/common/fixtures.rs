//! Test image fixtures written as OCI image layouts (the format skopeo reads as `oci:DIR:TAG`),
//! built from busybox-static: single layer, several layers with whiteouts and opaque
//! directories, gzip/zstd/uncompressed layers, and two-platform indexes.
//!
//! Push one into a test registry with `skopeo copy oci:DIR:TAG docker://HOST/NAME:TAG`, or load
//! it with `vaina load -i DIR` (oci-dir) after `skopeo copy` into another format.

#![allow(dead_code)]

use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};
use std::io::Write;
use std::path::Path;

/// How a layer blob is compressed (the engine's enum; the fixtures write the blobs themselves).
pub use libvaina::registry::manifest::Compression;

/// The OCI media type of a layer blob compressed with `c` (spelled out here, independently of
/// the engine's own table).
fn media_type(c: Compression) -> &'static str {
    match c {
        Compression::None => "application/vnd.oci.image.layer.v1.tar",
        Compression::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
        Compression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
    }
}

/// One entry of a layer tar.
#[derive(Debug, Clone)]
pub enum Entry {
    Dir(String),
    File(String, Vec<u8>),
    Symlink(String, String),
    /// Deletes `path` from lower layers (written as `dir/.wh.name`).
    Whiteout(String),
    /// Hides everything below `dir` in lower layers (written as `dir/.wh..wh..opq`).
    Opaque(String),
}

/// The uncompressed tar of a layer made of `entries`.
pub fn layer_tar(entries: &[Entry]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = tar::Header::new_gnu();
        h.set_mtime(1_700_000_000);
        h.set_uid(0);
        h.set_gid(0);
        match e {
            Entry::Dir(p) => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_mode(0o755);
                h.set_size(0);
                b.append_data(&mut h, p, std::io::empty()).unwrap();
            }
            Entry::File(p, data) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(0o644);
                h.set_size(data.len() as u64);
                b.append_data(&mut h, p, &data[..]).unwrap();
            }
            Entry::Symlink(p, target) => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_mode(0o777);
                h.set_size(0);
                b.append_link(&mut h, p, target).unwrap();
            }
            Entry::Whiteout(p) => {
                let path = Path::new(p);
                let name = path.file_name().unwrap().to_string_lossy();
                let wh = match path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    Some(d) => format!("{}/.wh.{name}", d.display()),
                    None => format!(".wh.{name}"),
                };
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(0o644);
                h.set_size(0);
                b.append_data(&mut h, wh, std::io::empty()).unwrap();
            }
            Entry::Opaque(d) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(0o644);
                h.set_size(0);
                b.append_data(&mut h, format!("{d}/.wh..wh..opq"), std::io::empty())
                    .unwrap();
            }
        }
    }
    b.into_inner().unwrap()
}

/// The uncompressed tar of a busybox root filesystem (see `make_busybox_rootfs`).
pub fn busybox_layer_tar() -> Vec<u8> {
    let staging = tempfile::tempdir().unwrap();
    super::make_busybox_rootfs(staging.path());
    let mut b = tar::Builder::new(Vec::new());
    b.follow_symlinks(false);
    b.mode(tar::HeaderMode::Deterministic);
    b.append_dir_all(".", staging.path()).unwrap();
    b.into_inner().unwrap()
}

/// Compresses a layer tar.
pub fn compress(tar: &[u8], c: Compression) -> Vec<u8> {
    match c {
        Compression::None => tar.to_vec(),
        Compression::Gzip => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(tar).unwrap();
            e.finish().unwrap()
        }
        Compression::Zstd => zstd::encode_all(tar, 3).unwrap(),
    }
}

/// `sha256:<hex>` of `data`.
pub fn sha256(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

/// An image to write: layers (uncompressed tar + how to compress it) and config fields.
#[derive(Debug, Clone)]
pub struct ImageSpec {
    pub layers: Vec<(Vec<u8>, Compression)>,
    pub architecture: String,
    pub os: String,
    pub variant: Option<String>,
    pub cmd: Vec<String>,
    pub entrypoint: Vec<String>,
    pub env: Vec<String>,
    pub labels: Vec<(String, String)>,
    pub created: String,
}

impl ImageSpec {
    /// A one-layer busybox image for the host architecture, CMD ["/bin/sh"].
    pub fn busybox() -> Self {
        ImageSpec {
            layers: vec![(busybox_layer_tar(), Compression::Gzip)],
            architecture: host_arch().into(),
            os: "linux".into(),
            variant: None,
            cmd: vec!["/bin/sh".into()],
            entrypoint: vec![],
            env: vec!["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into()],
            labels: vec![],
            created: "2026-01-01T00:00:00Z".into(),
        }
    }

    /// busybox plus layers that exercise whiteouts and opaque directories:
    /// layer 2 adds /data/{a,b,keep/x} and /etc/removed; layer 3 deletes /data/a and
    /// /etc/removed and makes /data/keep opaque with a new file y.
    pub fn busybox_with_whiteouts(c: Compression) -> Self {
        let mut s = ImageSpec::busybox();
        s.layers[0].1 = c;
        s.layers.push((
            layer_tar(&[
                Entry::Dir("data".into()),
                Entry::File("data/a".into(), b"a\n".to_vec()),
                Entry::File("data/b".into(), b"b\n".to_vec()),
                Entry::Dir("data/keep".into()),
                Entry::File("data/keep/x".into(), b"x\n".to_vec()),
                Entry::File("etc/removed".into(), b"gone\n".to_vec()),
            ]),
            c,
        ));
        s.layers.push((
            layer_tar(&[
                Entry::Whiteout("data/a".into()),
                Entry::Whiteout("etc/removed".into()),
                Entry::Dir("data/keep".into()),
                Entry::Opaque("data/keep".into()),
                Entry::File("data/keep/y".into(), b"y\n".to_vec()),
            ]),
            c,
        ));
        s
    }

    fn config_json(&self, diff_ids: &[String]) -> Value {
        let mut config = json!({
            "Env": self.env,
            "Cmd": self.cmd,
        });
        if !self.entrypoint.is_empty() {
            config["Entrypoint"] = json!(self.entrypoint);
        }
        if !self.labels.is_empty() {
            let m: serde_json::Map<String, Value> = self
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect();
            config["Labels"] = Value::Object(m);
        }
        let mut c = json!({
            "created": self.created,
            "architecture": self.architecture,
            "os": self.os,
            "config": config,
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": diff_ids.iter().map(|_| json!({"created": self.created, "created_by": "vaina test fixture"})).collect::<Vec<_>>(),
        });
        if let Some(v) = &self.variant {
            c["variant"] = json!(v);
        }
        c
    }
}

/// The host architecture in OCI terms.
pub fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// A written blob: digest, size and media type, as a descriptor.
fn descriptor(media_type: &str, data: &[u8]) -> Value {
    json!({"mediaType": media_type, "digest": sha256(data), "size": data.len()})
}

fn put_blob(layout: &Path, data: &[u8]) -> String {
    let d = sha256(data);
    let p = layout.join("blobs/sha256").join(&d[7..]);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, data).unwrap();
    d
}

fn init_layout(layout: &Path) -> Value {
    std::fs::create_dir_all(layout.join("blobs/sha256")).unwrap();
    std::fs::write(
        layout.join("oci-layout"),
        r#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
    match std::fs::read(layout.join("index.json")) {
        Ok(b) => serde_json::from_slice(&b).unwrap(),
        Err(_) => {
            json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": []})
        }
    }
}

fn add_to_index(layout: &Path, mut index: Value, mut desc: Value, tag: &str) {
    desc["annotations"] = json!({"org.opencontainers.image.ref.name": tag});
    let list = index["manifests"].as_array_mut().unwrap();
    list.retain(|d| d["annotations"]["org.opencontainers.image.ref.name"] != json!(tag));
    list.push(desc);
    std::fs::write(
        layout.join("index.json"),
        serde_json::to_vec(&index).unwrap(),
    )
    .unwrap();
}

/// Writes the image's blobs into `layout` and returns (manifest bytes, config bytes).
fn write_image_blobs(layout: &Path, spec: &ImageSpec) -> (Vec<u8>, Vec<u8>) {
    let mut layer_descs = Vec::new();
    let mut diff_ids = Vec::new();
    for (tar, c) in &spec.layers {
        diff_ids.push(sha256(tar));
        let blob = compress(tar, *c);
        put_blob(layout, &blob);
        layer_descs.push(descriptor(media_type(*c), &blob));
    }
    let config = serde_json::to_vec(&spec.config_json(&diff_ids)).unwrap();
    put_blob(layout, &config);
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": descriptor("application/vnd.oci.image.config.v1+json", &config),
        "layers": layer_descs,
    }))
    .unwrap();
    put_blob(layout, &manifest);
    (manifest, config)
}

/// Writes `spec` into the OCI layout at `layout` under `tag`; returns the manifest digest.
pub fn write_oci_image(layout: &Path, tag: &str, spec: &ImageSpec) -> String {
    let index = init_layout(layout);
    let (manifest, _) = write_image_blobs(layout, spec);
    add_to_index(
        layout,
        index,
        descriptor("application/vnd.oci.image.manifest.v1+json", &manifest),
        tag,
    );
    sha256(&manifest)
}

/// Writes an OCI index holding one image per spec (different platforms) under `tag`; returns
/// the index digest.
pub fn write_oci_index(layout: &Path, tag: &str, specs: &[ImageSpec]) -> String {
    let index = init_layout(layout);
    let mut manifests = Vec::new();
    for s in specs {
        let (manifest, _) = write_image_blobs(layout, s);
        let mut d = descriptor("application/vnd.oci.image.manifest.v1+json", &manifest);
        let mut platform = json!({"architecture": s.architecture, "os": s.os});
        if let Some(v) = &s.variant {
            platform["variant"] = json!(v);
        }
        d["platform"] = platform;
        manifests.push(d);
    }
    let image_index = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": manifests,
    }))
    .unwrap();
    put_blob(layout, &image_index);
    add_to_index(
        layout,
        index,
        descriptor("application/vnd.oci.image.index.v1+json", &image_index),
        tag,
    );
    sha256(&image_index)
}

/// Makes an uncompressed tar of an OCI layout directory (an `oci-archive`).
pub fn oci_archive(layout: &Path, out: &Path) {
    let f = std::fs::File::create(out).unwrap();
    let mut b = tar::Builder::new(f);
    b.follow_symlinks(false);
    b.append_dir_all(".", layout).unwrap();
    b.finish().unwrap();
}

/// A second architecture for two-platform indexes (not the host's).
pub fn other_arch() -> &'static str {
    if host_arch() == "arm64" {
        "amd64"
    } else {
        "arm64"
    }
}
