//! Platform choice: `--platform os/arch[/variant]`, `--os`, `--arch`, `--variant`, the host's
//! platform as the default (in OCI/Go names: `amd64`, `arm64`, ...), and the pick of one entry
//! from an OCI index or Docker manifest list.

use super::manifest::{Descriptor, ImageIndex};
use super::RegistryError;

/// An OS/architecture/variant triple in Go's names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub arch: String,
    pub variant: Option<String>,
}

impl Platform {
    /// The platform of the running host.
    pub fn host() -> Platform {
        let (arch, variant) = match std::env::consts::ARCH {
            "x86_64" => ("amd64", None),
            "x86" => ("386", None),
            "aarch64" => ("arm64", Some("v8")),
            "arm" => ("arm", Some("v7")),
            "powerpc64" if cfg!(target_endian = "little") => ("ppc64le", None),
            "powerpc64" => ("ppc64", None),
            "loongarch64" => ("loong64", None),
            other => (other, None),
        };
        Platform {
            os: std::env::consts::OS.to_string(),
            arch: arch.to_string(),
            variant: variant.map(str::to_string),
        }
    }

    /// The platform from the pull flags: `--platform` first, then `--os/--arch/--variant`,
    /// each missing part from the host. A variant is only kept from the host when the
    /// architecture is the host's.
    pub fn from_flags(
        platform: Option<&str>,
        os: Option<&str>,
        arch: Option<&str>,
        variant: Option<&str>,
    ) -> Result<Platform, RegistryError> {
        let host = Platform::host();
        let (mut os, mut arch, mut variant) = (
            os.map(str::to_string),
            arch.map(str::to_string),
            variant.map(str::to_string),
        );
        if let Some(p) = platform.filter(|p| !p.is_empty()) {
            let parts: Vec<&str> = p.split('/').collect();
            if parts.len() < 2 || parts.len() > 3 || parts.iter().any(|s| s.is_empty()) {
                return Err(RegistryError::InvalidPlatform(p.to_string()));
            }
            os = Some(parts[0].to_string());
            arch = Some(parts[1].to_string());
            variant = parts.get(2).map(|s| s.to_string());
        }
        let arch = arch.filter(|a| !a.is_empty());
        let same_arch = arch.as_deref().is_none_or(|a| a == host.arch);
        Ok(Platform {
            os: os.filter(|o| !o.is_empty()).unwrap_or(host.os),
            variant: variant.filter(|v| !v.is_empty()).or(if same_arch {
                host.variant
            } else {
                None
            }),
            arch: arch.unwrap_or(host.arch),
        })
    }

    /// Picks the entry of `index` for this platform: OS and architecture must match; the
    /// variant must match when the entry names one (arm64's `v8` is the default variant).
    pub fn choose<'a>(&self, index: &'a ImageIndex) -> Result<&'a Descriptor, RegistryError> {
        let norm = |arch: &str, v: Option<&str>| -> Option<String> {
            match (arch, v) {
                ("arm64", None | Some("")) => Some("v8".into()),
                (_, None | Some("")) => None,
                (_, Some(v)) => Some(v.to_string()),
            }
        };
        let want = norm(&self.arch, self.variant.as_deref());
        let mut fallback = None;
        for d in &index.manifests {
            let Some(p) = &d.platform else { continue };
            if p.os != self.os || p.architecture != self.arch {
                continue;
            }
            let have = norm(&p.architecture, p.variant.as_deref());
            if have == want {
                return Ok(d);
            }
            if have.is_none() && fallback.is_none() {
                fallback = Some(d);
            }
        }
        fallback.ok_or_else(|| RegistryError::NoPlatform {
            os: self.os.clone(),
            arch: self.arch.clone(),
            variant: self.variant.clone().unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::manifest::PlatformSpec;

    fn entry(os: &str, arch: &str, variant: Option<&str>, c: char) -> Descriptor {
        Descriptor {
            media_type: String::new(),
            digest: format!("sha256:{}", c.to_string().repeat(64))
                .parse()
                .unwrap(),
            size: 1,
            platform: Some(PlatformSpec {
                architecture: arch.into(),
                os: os.into(),
                variant: variant.map(Into::into),
            }),
            urls: None,
            annotations: None,
        }
    }

    #[test]
    fn flags_and_choice() {
        let p = Platform::from_flags(Some("linux/arm/v6"), None, None, None).unwrap();
        assert_eq!(
            (p.os.as_str(), p.arch.as_str(), p.variant.as_deref()),
            ("linux", "arm", Some("v6"))
        );
        assert!(Platform::from_flags(Some("linux"), None, None, None).is_err());
        let p = Platform::from_flags(None, None, Some("s390x"), None).unwrap();
        assert_eq!((p.arch.as_str(), p.variant), ("s390x", None));
        let idx = ImageIndex {
            schema_version: 2,
            media_type: None,
            manifests: vec![
                entry("linux", "amd64", None, 'a'),
                entry("linux", "arm", Some("v6"), 'b'),
                entry("linux", "arm", Some("v7"), 'c'),
                entry("linux", "arm64", Some("v8"), 'd'),
            ],
        };
        let pick = |s: &str| {
            Platform::from_flags(Some(s), None, None, None)
                .unwrap()
                .choose(&idx)
                .map(|d| d.digest.hex()[..1].to_string())
        };
        assert_eq!(pick("linux/amd64").unwrap(), "a");
        assert_eq!(pick("linux/arm/v7").unwrap(), "c");
        assert_eq!(pick("linux/arm64").unwrap(), "d");
        assert!(pick("linux/ppc64le").is_err());
        assert!(pick("windows/amd64").is_err());
    }
}
