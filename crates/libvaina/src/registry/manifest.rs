//! Manifests as registries serve them: OCI image manifests and indexes, Docker v2 schema 2
//! manifests and manifest lists, their media types, size caps, and the layer compressions the
//! store accepts.
//!
//! The raw bytes are kept next to the parsed form: a manifest is stored exactly as received
//! (its digest is the image's manifest digest), and parsing never re-serialises it.

use super::RegistryError;
use crate::digest::Digest;
use serde::{Deserialize, Serialize};

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";

pub const OCI_LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const OCI_LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
pub const DOCKER_FOREIGN_GZIP: &str = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

/// The `Accept` header of a manifest request: every format vaina understands.
pub const ACCEPT_MANIFESTS: &str = "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json";

/// Largest manifest or index accepted (as containers/image does).
pub const MAX_MANIFEST_SIZE: u64 = 4 << 20;
/// Largest image config accepted.
pub const MAX_CONFIG_SIZE: u64 = 4 << 20;

/// A content descriptor (OCI and Docker share the shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    #[serde(default)]
    pub media_type: String,
    pub digest: Digest,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<PlatformSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urls: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<serde_json::Map<String, serde_json::Value>>,
}

/// The `platform` of an index entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PlatformSpec {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

/// An image manifest (OCI or Docker v2s2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageManifest {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub config: Descriptor,
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<serde_json::Map<String, serde_json::Value>>,
}

/// An OCI index or Docker manifest list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageIndex {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub manifests: Vec<Descriptor>,
}

/// A parsed manifest of either kind.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // short-lived, one per fetch
pub enum Manifest {
    Image(ImageManifest),
    Index(ImageIndex),
}

/// How a layer blob is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    /// The compression of a stream, from its first bytes.
    pub fn sniff(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    /// Podman's names (`gzip`, `zstd`, `uncompressed`).
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "uncompressed",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

/// The compression of a layer with `media_type`; an unknown media type is an error.
pub fn layer_compression(media_type: &str) -> Result<Compression, RegistryError> {
    match media_type {
        OCI_LAYER_TAR | "application/vnd.oci.image.layer.nondistributable.v1.tar" => {
            Ok(Compression::None)
        }
        OCI_LAYER_GZIP
        | DOCKER_LAYER_GZIP
        | DOCKER_FOREIGN_GZIP
        | "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip" => Ok(Compression::Gzip),
        OCI_LAYER_ZSTD | "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd" => {
            Ok(Compression::Zstd)
        }
        other => Err(RegistryError::UnknownMediaType(format!(
            "layer media type {other:?}"
        ))),
    }
}

/// Parses manifest bytes; `content_type` is the registry's `Content-Type` (may be empty or a
/// generic JSON type, then the document's own `mediaType` or its shape decides).
pub fn parse(bytes: &[u8], content_type: &str) -> Result<Manifest, RegistryError> {
    let bad = |e: serde_json::Error| RegistryError::BadManifest(e.to_string());
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(bad)?;
    let declared = value
        .get("mediaType")
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .to_string();
    let declared = declared.as_str();
    let schema = value
        .get("schemaVersion")
        .and_then(|v| v.as_u64())
        .unwrap_or(0);
    if schema == 1 {
        return Err(RegistryError::BadManifest(
            "docker schema 1 manifests are not supported".into(),
        ));
    }
    let ct = content_type.split(';').next().unwrap_or("").trim();
    let kind = match (ct, declared) {
        (OCI_MANIFEST | DOCKER_MANIFEST, _) => ct,
        (OCI_INDEX | DOCKER_LIST, _) => ct,
        (_, OCI_MANIFEST | DOCKER_MANIFEST | OCI_INDEX | DOCKER_LIST) => declared,
        (_, "") if value.get("manifests").is_some() => OCI_INDEX,
        (_, "") if value.get("config").is_some() => OCI_MANIFEST,
        (_, "") => {
            return Err(RegistryError::UnknownMediaType(format!(
                "manifest media type {:?}",
                if ct.is_empty() { "none" } else { ct }
            )))
        }
        (_, d) => {
            return Err(RegistryError::UnknownMediaType(format!(
                "manifest media type {d:?}"
            )))
        }
    };
    if schema != 2 {
        return Err(RegistryError::BadManifest(format!(
            "unsupported schemaVersion {schema}"
        )));
    }
    let kind = kind.to_string();
    match kind.as_str() {
        OCI_INDEX | DOCKER_LIST => Ok(Manifest::Index(serde_json::from_value(value).map_err(bad)?)),
        _ => {
            let m: ImageManifest = serde_json::from_value(value).map_err(bad)?;
            let mut m = m;
            if m.media_type.is_none() {
                m.media_type = Some(kind.clone());
            }
            Ok(Manifest::Image(m))
        }
    }
}

impl ImageManifest {
    /// The manifest's media type (declared, or OCI by default).
    pub fn kind(&self) -> &str {
        self.media_type.as_deref().unwrap_or(OCI_MANIFEST)
    }

    /// Checks config and layer media types and sizes against the caps.
    pub fn validate(&self) -> Result<(), RegistryError> {
        match self.config.media_type.as_str() {
            OCI_CONFIG | DOCKER_CONFIG | "" => {}
            other => {
                return Err(RegistryError::UnknownMediaType(format!(
                    "config media type {other:?}"
                )));
            }
        }
        if self.config.size > MAX_CONFIG_SIZE {
            return Err(RegistryError::TooLarge {
                what: format!("config {}", self.config.digest),
                size: self.config.size,
                cap: MAX_CONFIG_SIZE,
            });
        }
        for l in &self.layers {
            layer_compression(&l.media_type)?;
        }
        Ok(())
    }
}

/// The Docker media type for an OCI one (and back), for `push --format`.
pub fn convert_media_type(media_type: &str, to_docker: bool) -> Result<String, RegistryError> {
    let out = if to_docker {
        match media_type {
            OCI_MANIFEST | DOCKER_MANIFEST => DOCKER_MANIFEST,
            OCI_CONFIG | DOCKER_CONFIG => DOCKER_CONFIG,
            OCI_LAYER_GZIP | DOCKER_LAYER_GZIP => DOCKER_LAYER_GZIP,
            DOCKER_FOREIGN_GZIP => DOCKER_FOREIGN_GZIP,
            OCI_LAYER_ZSTD | OCI_LAYER_TAR => {
                return Err(RegistryError::Unsupported(format!(
                    "layer type {media_type} cannot be stored in a docker v2s2 manifest (use gzip)"
                )))
            }
            other => {
                return Err(RegistryError::UnknownMediaType(format!(
                    "media type {other:?}"
                )))
            }
        }
    } else {
        match media_type {
            OCI_MANIFEST | DOCKER_MANIFEST => OCI_MANIFEST,
            OCI_CONFIG | DOCKER_CONFIG => OCI_CONFIG,
            OCI_LAYER_GZIP | DOCKER_LAYER_GZIP | DOCKER_FOREIGN_GZIP => OCI_LAYER_GZIP,
            OCI_LAYER_ZSTD => OCI_LAYER_ZSTD,
            OCI_LAYER_TAR => OCI_LAYER_TAR,
            other => {
                return Err(RegistryError::UnknownMediaType(format!(
                    "media type {other:?}"
                )))
            }
        }
    };
    Ok(out.to_string())
}

/// The layer media type for `compression` in the OCI or Docker family.
pub fn layer_media_type(compression: Compression, docker: bool) -> &'static str {
    match (compression, docker) {
        (Compression::Gzip, true) => DOCKER_LAYER_GZIP,
        (Compression::Gzip, false) => OCI_LAYER_GZIP,
        (Compression::Zstd, _) => OCI_LAYER_ZSTD,
        (Compression::None, _) => OCI_LAYER_TAR,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(c: char) -> String {
        format!("sha256:{}", c.to_string().repeat(64))
    }

    #[test]
    fn parses_by_header_field_or_shape() {
        let m = format!(
            r#"{{"schemaVersion":2,"config":{{"mediaType":"{OCI_CONFIG}","digest":"{}","size":2}},"layers":[{{"mediaType":"{OCI_LAYER_GZIP}","digest":"{}","size":3}}]}}"#,
            d('a'),
            d('b')
        );
        let Manifest::Image(im) = parse(m.as_bytes(), "").unwrap() else {
            panic!("not an image manifest")
        };
        assert_eq!(im.kind(), OCI_MANIFEST);
        im.validate().unwrap();
        let Manifest::Image(im) = parse(m.as_bytes(), DOCKER_MANIFEST).unwrap() else {
            panic!()
        };
        assert_eq!(im.kind(), DOCKER_MANIFEST);
        let idx = format!(
            r#"{{"schemaVersion":2,"mediaType":"{DOCKER_LIST}","manifests":[{{"digest":"{}","size":1,"platform":{{"architecture":"amd64","os":"linux"}}}}]}}"#,
            d('c')
        );
        assert!(matches!(
            parse(idx.as_bytes(), "application/json").unwrap(),
            Manifest::Index(_)
        ));
    }

    #[test]
    fn rejects_unknown_types() {
        assert!(parse(br#"{"schemaVersion":1,"fsLayers":[]}"#, "").is_err());
        assert!(parse(br#"{"schemaVersion":2,"mediaType":"text/x"}"#, "").is_err());
        assert!(parse(b"not json", "").is_err());
        assert!(layer_compression("application/x-foo").is_err());
        assert_eq!(
            layer_compression(OCI_LAYER_ZSTD).unwrap(),
            Compression::Zstd
        );
        assert!(convert_media_type(OCI_LAYER_ZSTD, true).is_err());
        assert_eq!(
            convert_media_type(DOCKER_LAYER_GZIP, false).unwrap(),
            OCI_LAYER_GZIP
        );
    }
}
