//! The manifest and config documents of an image, parsed leniently enough for both OCI and
//! Docker schema 2 (the two formats registries serve and archives carry).
//!
//! Manifest lists and OCI indexes are recognised and refused here: [`crate::registry`] picks a
//! platform before it commits an image.

use super::ImageError;
use crate::digest::Digest;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Largest manifest accepted (bytes).
pub const MANIFEST_CAP: u64 = 4 << 20;
/// Largest image config accepted (bytes).
pub const CONFIG_CAP: u64 = 8 << 20;

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const OCI_LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";

/// A content descriptor.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Descriptor {
    #[serde(rename = "mediaType", default)]
    pub media_type: String,
    pub digest: Digest,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

/// An image manifest (OCI or Docker schema 2).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    #[serde(rename = "mediaType", default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

impl Manifest {
    /// Parses a manifest, refusing lists, indexes and schema 1.
    pub fn parse(digest: &Digest, bytes: &[u8]) -> Result<Manifest, ImageError> {
        let bad = |reason: String| ImageError::Manifest {
            digest: digest.to_string(),
            reason,
        };
        let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
        let mt = v.get("mediaType").and_then(|m| m.as_str()).unwrap_or("");
        if mt == OCI_INDEX || mt == DOCKER_LIST || v.get("manifests").is_some() {
            return Err(bad("is a manifest list, not an image manifest".into()));
        }
        if !mt.is_empty() && mt != OCI_MANIFEST && mt != DOCKER_MANIFEST {
            return Err(bad(format!("unsupported media type {mt:?}")));
        }
        let m: Manifest = serde_json::from_value(v).map_err(|e| bad(e.to_string()))?;
        if m.schema_version != 2 {
            return Err(bad(format!(
                "unsupported schema version {}",
                m.schema_version
            )));
        }
        Ok(m)
    }

    /// The manifest's media type (OCI when it does not say).
    pub fn kind(&self) -> &str {
        self.media_type.as_deref().unwrap_or(OCI_MANIFEST)
    }
}

/// The parts of an image config the store needs (the whole document stays in its blob).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ConfigSummary {
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub rootfs: RootFs,
    #[serde(default)]
    pub config: Option<ContainerConfigSummary>,
    #[serde(default)]
    pub history: Vec<HistoryEntry>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RootFs {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub diff_ids: Vec<Digest>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ContainerConfigSummary {
    #[serde(rename = "Labels", default)]
    pub labels: Option<BTreeMap<String, String>>,
}

/// One entry of the config's `history`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct HistoryEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub empty_layer: bool,
}

impl ConfigSummary {
    pub fn parse(digest: &Digest, bytes: &[u8]) -> Result<ConfigSummary, ImageError> {
        serde_json::from_slice(bytes).map_err(|e| ImageError::Config {
            digest: digest.to_string(),
            reason: e.to_string(),
        })
    }

    /// Creation time in nanoseconds since the epoch (0 when absent or unreadable).
    pub fn created_ns(&self) -> i64 {
        parse_time_ns(self.created.as_deref())
    }
}

/// Parses an RFC 3339 time into nanoseconds since the epoch (0 when absent or bad).
pub fn parse_time_ns(t: Option<&str>) -> i64 {
    t.and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .and_then(|d| d.timestamp_nanos_opt())
        .unwrap_or(0)
}

/// The chain IDs of a stack of diff IDs (OCI image spec: `chain(n) = sha256(chain(n-1) + " " +
/// diff(n))`).
pub fn chain_ids(diff_ids: &[Digest]) -> Vec<Digest> {
    let mut out: Vec<Digest> = Vec::with_capacity(diff_ids.len());
    for d in diff_ids {
        let next = match out.last() {
            None => d.clone(),
            Some(prev) => Digest::sha256_of(format!("{prev} {d}").as_bytes()),
        };
        out.push(next);
    }
    out
}

/// The Go architecture name of this machine (`amd64`, `arm64`, ...).
pub fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        "arm" => "arm",
        "s390x" => "s390x",
        "riscv64" => "riscv64",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain() {
        let a = Digest::sha256_of(b"a");
        let b = Digest::sha256_of(b"b");
        let c = chain_ids(&[a.clone(), b.clone()]);
        assert_eq!(c[0], a);
        assert_eq!(c[1], Digest::sha256_of(format!("{a} {b}").as_bytes()));
    }

    #[test]
    fn refuses_lists() {
        let d = Digest::sha256_of(b"x");
        let e = Manifest::parse(&d, br#"{"schemaVersion":2,"manifests":[]}"#).unwrap_err();
        assert!(e.to_string().contains("manifest list"), "{e}");
        assert!(Manifest::parse(&d, b"garbage").is_err());
    }
}
