//! `image inspect`: the JSON document Podman prints for an image, built from the database, the
//! manifest and the config blob.

use super::list::repo_digests;
use super::manifest::{Manifest, MANIFEST_CAP};
use super::{query_column, ImageError, ImageRecord};
use crate::{Engine, Result};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Podman's image inspect document (field names and order as Podman prints them).
#[derive(Debug, Clone, Serialize)]
pub struct ImageInspect {
    #[serde(rename = "Id")]
    pub id: String,
    #[serde(rename = "Digest")]
    pub digest: String,
    #[serde(rename = "RepoTags")]
    pub repo_tags: Vec<String>,
    #[serde(rename = "RepoDigests")]
    pub repo_digests: Vec<String>,
    #[serde(rename = "Parent")]
    pub parent: String,
    #[serde(rename = "Comment")]
    pub comment: String,
    #[serde(rename = "Created")]
    pub created: Option<String>,
    #[serde(rename = "Config")]
    pub config: Value,
    #[serde(rename = "Version")]
    pub version: String,
    #[serde(rename = "Author")]
    pub author: String,
    #[serde(rename = "Architecture")]
    pub architecture: String,
    #[serde(rename = "Os")]
    pub os: String,
    #[serde(rename = "Size")]
    pub size: u64,
    #[serde(rename = "VirtualSize")]
    pub virtual_size: u64,
    #[serde(rename = "GraphDriver")]
    pub graph_driver: GraphDriver,
    #[serde(rename = "RootFS")]
    pub root_fs: RootFsInspect,
    #[serde(rename = "Labels")]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(rename = "Annotations")]
    pub annotations: BTreeMap<String, String>,
    #[serde(rename = "ManifestType")]
    pub manifest_type: String,
    #[serde(rename = "User")]
    pub user: String,
    #[serde(rename = "History")]
    pub history: Vec<Value>,
    #[serde(rename = "NamesHistory")]
    pub names_history: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GraphDriver {
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(rename = "Data")]
    pub data: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RootFsInspect {
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(rename = "Layers")]
    pub layers: Vec<String>,
}

/// The keys of an OCI image config's `config` object, in the order Podman prints them.
const CONFIG_KEYS: &[&str] = &[
    "User",
    "ExposedPorts",
    "Env",
    "Entrypoint",
    "Cmd",
    "Volumes",
    "WorkingDir",
    "Labels",
    "StopSignal",
];

impl Engine {
    /// The image's config document as stored (JSON).
    pub fn image_config_json(&self, id: &str) -> Result<Value> {
        self.read_image_config(id)
    }

    /// The inspect document of an image.
    pub fn inspect_image(&self, image: &ImageRecord) -> Result<ImageInspect> {
        let cfg = self.image_config_json(&image.id)?;
        let mbytes = self
            .blobs()?
            .read_blob(&image.manifest_digest, MANIFEST_CAP)
            .map_err(ImageError::from)?;
        let manifest = Manifest::parse(&image.manifest_digest, &mbytes)?;
        let conn = self.db()?.conn();
        let (size, hist, mtype): (i64, String, String) = conn
            .query_row(
                "SELECT size, names_history, manifest_type FROM images WHERE id=?1",
                [&image.id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .map_err(ImageError::from)?;
        let digests: Vec<String> = query_column(
            conn,
            "SELECT digest FROM image_manifests WHERE image_id=?1 ORDER BY rowid",
            [&image.id],
        )?;
        let s = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("").to_string();
        let inner = cfg.get("config").and_then(Value::as_object);
        let mut config = Map::new();
        if let Some(inner) = inner {
            for k in CONFIG_KEYS {
                if let Some(v) = inner.get(*k).filter(|v| !v.is_null()) {
                    config.insert((*k).to_string(), v.clone());
                }
            }
        }
        let labels: Option<BTreeMap<String, String>> = inner
            .and_then(|i| i.get("Labels"))
            .and_then(|l| serde_json::from_value(l.clone()).ok());
        let history: Vec<Value> = cfg
            .get("history")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let comment = match cfg.get("comment").and_then(Value::as_str) {
            Some(c) => c.to_string(),
            None => history
                .first()
                .map(|h| s(h.get("comment")))
                .unwrap_or_default(),
        };
        let layers: Vec<String> = cfg
            .get("rootfs")
            .and_then(|r| r.get("diff_ids"))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|d| d.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        let chains = self.image_chain_ids(&image.id)?;
        let mut data = BTreeMap::new();
        if let Some((top, lower)) = chains.split_last() {
            let top_dir = self.layer_dir(top);
            if !lower.is_empty() {
                let l: Vec<String> = lower
                    .iter()
                    .rev()
                    .map(|c| self.layer_dir(c).display().to_string())
                    .collect();
                data.insert("LowerDir".to_string(), l.join(":"));
            }
            data.insert("UpperDir".to_string(), top_dir.display().to_string());
            data.insert(
                "WorkDir".to_string(),
                self.paths
                    .layers()
                    .join(format!("{top}.work"))
                    .display()
                    .to_string(),
            );
        }
        Ok(ImageInspect {
            id: image.id.clone(),
            digest: image.manifest_digest.to_string(),
            repo_tags: image
                .names
                .iter()
                .filter(|n| !n.contains('@'))
                .cloned()
                .collect(),
            repo_digests: repo_digests(&image.names, &digests),
            parent: String::new(),
            comment,
            created: cfg.get("created").and_then(Value::as_str).map(String::from),
            config: Value::Object(config),
            version: s(cfg.get("docker_version")),
            author: s(cfg.get("author")),
            architecture: s(cfg.get("architecture")),
            os: s(cfg.get("os")),
            size: size.max(0) as u64,
            virtual_size: size.max(0) as u64,
            graph_driver: GraphDriver {
                // Images are unpacked layers under either driver; the name is the store's.
                name: crate::store::driver::recorded(&self.paths)
                    .unwrap_or_else(|| "overlay".into()),
                data,
            },
            root_fs: RootFsInspect {
                kind: "layers".into(),
                layers,
            },
            labels,
            annotations: manifest.annotations.clone().unwrap_or_default(),
            manifest_type: mtype,
            user: inner
                .and_then(|i| i.get("User"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            history,
            names_history: serde_json::from_str(&hist).unwrap_or_default(),
        })
    }
}
