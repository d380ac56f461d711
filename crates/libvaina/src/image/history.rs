//! `history`: the config's history entries, newest first, each matched with the size of the
//! layer it produced (entries marked `empty_layer` made none).

use super::manifest::parse_time_ns;
use super::{query_column, ImageRecord};
use crate::{Engine, Result};
use serde_json::Value;

/// One step of an image's history.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HistoryItem {
    /// The image ID for the newest step, `None` (`<missing>`) for the others.
    pub id: Option<String>,
    /// The config's creation time of the step (RFC 3339).
    pub created: Option<String>,
    /// The same in ns since the epoch (0 when unknown).
    pub created_ns: i64,
    pub created_by: String,
    pub comment: String,
    /// Uncompressed size of the layer the step made (0 for empty layers).
    pub size: u64,
}

impl Engine {
    /// The image's history, newest first.
    pub fn image_history(&self, image: &ImageRecord) -> Result<Vec<HistoryItem>> {
        let cfg = self.image_config_json(&image.id)?;
        let conn = self.db()?.conn();
        let sizes: Vec<i64> = query_column(
            conn,
            "SELECT l.size FROM image_layers il JOIN layers l ON l.chain_id=il.chain_id
             WHERE il.image_id=?1 ORDER BY il.position",
            [&image.id],
        )?;
        let entries: Vec<Value> = cfg
            .get("history")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let s = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("").to_string();
        let mut layer = 0;
        let mut out = Vec::new();
        for h in &entries {
            let empty = h
                .get("empty_layer")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let size = if empty {
                0
            } else {
                let sz = sizes.get(layer).copied().unwrap_or(0).max(0) as u64;
                layer += 1;
                sz
            };
            let created = h.get("created").and_then(Value::as_str).map(String::from);
            out.push(HistoryItem {
                id: None,
                created_ns: parse_time_ns(created.as_deref()),
                created,
                created_by: s(h.get("created_by")),
                comment: s(h.get("comment")),
                size,
            });
        }
        if out.is_empty() {
            // No history in the config: one line per layer, as Podman shows.
            for sz in &sizes {
                out.push(HistoryItem {
                    id: None,
                    created: None,
                    created_ns: 0,
                    created_by: String::new(),
                    comment: String::new(),
                    size: (*sz).max(0) as u64,
                });
            }
        }
        out.reverse();
        if let Some(first) = out.first_mut() {
            first.id = Some(image.id.clone());
        }
        Ok(out)
    }
}
