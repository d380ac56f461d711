//! `import`: an image made of one tarball (a root filesystem), with Dockerfile-style
//! `--change` instructions applied to its config and an optional `--message`.
//!
//! The tarball (plain, gzip or zstd) is stored uncompressed as the single layer, so its diff ID
//! is its blob digest, as Podman does. The config's creation time is the tarball's modification
//! time when it is a file (Podman's rule, which makes repeated imports give one ID), else now.

use super::manifest::{host_arch, Descriptor, Manifest, OCI_CONFIG, OCI_LAYER_TAR, OCI_MANIFEST};
use super::{normalize_name, ImageError, ImageRecord};
use crate::digest::Digest;
use crate::{Engine, Result};
use serde_json::{json, Map, Value};
use std::io::Read;

/// Options of `import` (Podman's flags).
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// `--change` instructions (`CMD ["sh"]`, `ENV A=b`, ...).
    pub changes: Vec<String>,
    /// `--message`: the history comment.
    pub message: Option<String>,
    /// The name to give the image (normalised: `foo` → `localhost/foo:latest`).
    pub reference: Option<String>,
    /// Creation time; `None` is now.
    pub created: Option<std::time::SystemTime>,
    /// `--os`, `--arch`, `--variant`; `None` is the host's.
    pub os: Option<String>,
    pub arch: Option<String>,
    pub variant: Option<String>,
}

/// Formats a time as Go's RFC 3339 with nanoseconds (trailing zeros trimmed).
pub fn rfc3339_nano(t: chrono::DateTime<chrono::Utc>) -> String {
    let s = t.format("%Y-%m-%dT%H:%M:%S%.9f").to_string();
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}Z")
}

impl Engine {
    /// Imports a root filesystem tarball read from `source` as a new image.
    pub fn import_image(
        &mut self,
        source: &mut dyn Read,
        opts: &ImportOptions,
    ) -> Result<ImageRecord> {
        let names = match &opts.reference {
            Some(r) => vec![normalize_name(r)?],
            None => vec![],
        };
        let mut config = Map::new();
        for c in &opts.changes {
            apply_change(&mut config, c)?;
        }
        let lock = self.lock_images()?;
        let blobs = self.blobs()?;
        let mut stream = super::layers::decompressed(source)
            .map_err(|e| ImageError::Invalid(format!("reading tarball: {e}")))?;
        let (layer, size) = blobs.put_stream(&mut stream)?;
        let created: chrono::DateTime<chrono::Utc> = opts
            .created
            .map(Into::into)
            .unwrap_or_else(chrono::Utc::now);
        let created = rfc3339_nano(created);
        let comment = opts
            .message
            .clone()
            .unwrap_or_else(|| "imported from tarball".to_string());
        let mut cfg = json!({
            "created": created,
            "architecture": opts.arch.as_deref().unwrap_or(host_arch()),
            "os": opts.os.as_deref().unwrap_or("linux"),
            "config": Value::Object(config),
            "rootfs": {"type": "layers", "diff_ids": [layer.to_string()]},
            "history": [{
                "created": created,
                "created_by": format!("/bin/sh -c #(nop) ADD file:{} in /", layer.hex()),
                "comment": comment,
            }],
        });
        if let Some(v) = &opts.variant {
            cfg["variant"] = json!(v);
        }
        let cbytes = serde_json::to_vec(&cfg).map_err(|e| ImageError::Invalid(e.to_string()))?;
        let cdigest = blobs.put_bytes(&cbytes)?;
        let manifest = Manifest {
            schema_version: 2,
            media_type: Some(OCI_MANIFEST.into()),
            config: Descriptor {
                media_type: OCI_CONFIG.into(),
                digest: cdigest.clone(),
                size: cbytes.len() as u64,
                annotations: None,
            },
            layers: vec![Descriptor {
                media_type: OCI_LAYER_TAR.into(),
                digest: layer.clone(),
                size,
                annotations: None,
            }],
            annotations: None,
        };
        let mbytes =
            serde_json::to_vec(&manifest).map_err(|e| ImageError::Invalid(e.to_string()))?;
        let mdigest = blobs.put_bytes(&mbytes)?;
        match self.commit_image_locked(&lock, &mdigest, &names) {
            Ok(r) => Ok(r),
            Err(e) => {
                let staged: [Digest; 3] = [layer, cdigest, mdigest];
                let _ = self.gc_blobs(&lock, &staged);
                Err(e)
            }
        }
    }
}

/// Splits Dockerfile arguments into words, honouring quotes and backslashes.
fn words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, '"') | (None, '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (Some(q), c) if c == q => quote = None,
            (q, '\\') if q != Some('\'') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
                in_word = true;
            }
            (_, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    out
}

/// `key=value` pairs (or the legacy `key value` form) of ENV and LABEL.
fn pairs(instr: &str, args: &str) -> Result<Vec<(String, String)>, ImageError> {
    let w = words(args);
    let Some(first) = w.first() else {
        return Err(ImageError::Change(format!("{instr} {args}")));
    };
    if !first.contains('=') {
        let rest = args.trim_start()[first.len()..].trim();
        let v = words(rest).join(" ");
        return Ok(vec![(first.clone(), v)]);
    }
    w.into_iter()
        .map(|p| match p.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => Err(ImageError::Change(format!("{instr} {args}"))),
        })
        .collect()
}

/// A JSON array of strings (exec form), if `s` is one.
fn json_array(s: &str) -> Option<Vec<String>> {
    let t = s.trim();
    if !t.starts_with('[') {
        return None;
    }
    serde_json::from_str::<Vec<String>>(t).ok()
}

/// Applies one Dockerfile-style instruction to a container config (`Cmd`, `Env`, ...).
pub fn apply_change(config: &mut Map<String, Value>, change: &str) -> Result<(), ImageError> {
    let bad = || ImageError::Change(change.to_string());
    let change = change.trim();
    let (instr, args) = match change.find(|c: char| c.is_whitespace() || c == '=') {
        Some(i) => (&change[..i], change[i + 1..].trim()),
        None => (change, ""),
    };
    let cmd_form = |a: &str| -> Value {
        match json_array(a) {
            Some(v) => json!(v),
            None => json!(["/bin/sh", "-c", a]),
        }
    };
    match instr.to_ascii_uppercase().as_str() {
        "CMD" => {
            config.insert("Cmd".into(), cmd_form(args));
        }
        "ENTRYPOINT" => {
            config.insert("Entrypoint".into(), cmd_form(args));
        }
        "ENV" => {
            let mut env: Vec<String> = config
                .get("Env")
                .and_then(|v| serde_json::from_value(v.clone()).ok())
                .unwrap_or_default();
            for (k, v) in pairs("ENV", args)? {
                env.retain(|e| e.split_once('=').map(|(ek, _)| ek) != Some(k.as_str()));
                env.push(format!("{k}={v}"));
            }
            config.insert("Env".into(), json!(env));
        }
        "LABEL" => {
            let labels = config
                .entry("Labels")
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .ok_or_else(bad)?;
            for (k, v) in pairs("LABEL", args)? {
                labels.insert(k, json!(v));
            }
        }
        "EXPOSE" => {
            let ports = config
                .entry("ExposedPorts")
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .ok_or_else(bad)?;
            for p in words(args) {
                let (num, proto) = p.split_once('/').unwrap_or((p.as_str(), "tcp"));
                let ok_num = !num.is_empty()
                    && num
                        .split('-')
                        .all(|n| !n.is_empty() && n.parse::<u16>().is_ok());
                if !ok_num || !matches!(proto, "tcp" | "udp" | "sctp") {
                    return Err(bad());
                }
                ports.insert(format!("{num}/{proto}"), json!({}));
            }
        }
        "USER" => {
            if args.is_empty() {
                return Err(bad());
            }
            config.insert("User".into(), json!(args));
        }
        "WORKDIR" => {
            if args.is_empty() {
                return Err(bad());
            }
            config.insert("WorkingDir".into(), json!(args));
        }
        "VOLUME" => {
            let vols = json_array(args).unwrap_or_else(|| words(args));
            if vols.is_empty() {
                return Err(bad());
            }
            let map = config
                .entry("Volumes")
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .ok_or_else(bad)?;
            for v in vols {
                map.insert(v, json!({}));
            }
        }
        "STOPSIGNAL" => {
            if args.is_empty() {
                return Err(bad());
            }
            config.insert("StopSignal".into(), json!(args));
        }
        "ONBUILD" => {
            let list = config
                .entry("OnBuild")
                .or_insert_with(|| json!([]))
                .as_array_mut()
                .ok_or_else(bad)?;
            list.push(json!(args));
        }
        _ => return Err(bad()),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(changes: &[&str]) -> Value {
        let mut m = Map::new();
        for c in changes {
            apply_change(&mut m, c).unwrap();
        }
        Value::Object(m)
    }

    #[test]
    fn changes() {
        let c = cfg(&[
            r#"CMD ["/bin/sh","-c","echo hi"]"#,
            "ENTRYPOINT /bin/true",
            "ENV A=b C=\"d e\"",
            "ENV X y z",
            "LABEL x=y",
            "EXPOSE 80 53/udp",
            "USER app",
            "WORKDIR /tmp",
            "VOLUME [\"/data\"]",
        ]);
        assert_eq!(c["Cmd"], json!(["/bin/sh", "-c", "echo hi"]));
        assert_eq!(c["Entrypoint"], json!(["/bin/sh", "-c", "/bin/true"]));
        assert_eq!(c["Env"], json!(["A=b", "C=d e", "X=y z"]));
        assert_eq!(c["Labels"], json!({"x": "y"}));
        assert_eq!(c["ExposedPorts"], json!({"80/tcp": {}, "53/udp": {}}));
        assert_eq!(c["User"], json!("app"));
        assert_eq!(c["WorkingDir"], json!("/tmp"));
        assert_eq!(c["Volumes"], json!({"/data": {}}));
        let mut m = Map::new();
        assert!(apply_change(&mut m, "FROB x").is_err());
        assert!(apply_change(&mut m, "EXPOSE abc").is_err());
        assert!(apply_change(&mut m, "USER").is_err());
    }

    #[test]
    fn times() {
        let t = chrono::DateTime::parse_from_rfc3339("2026-11-29T22:26:06.400025900Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(rfc3339_nano(t), "2026-11-29T22:26:06.4000259Z");
        let t = chrono::DateTime::parse_from_rfc3339("2026-11-29T22:26:06Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(rfc3339_nano(t), "2026-11-29T22:26:06Z");
    }
}
