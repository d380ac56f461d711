//! policy.json: which images may be pulled or loaded (containers-policy.json(5)).
//!
//! Found at `CONTAINERS_POLICY_JSON` (a vaina extension, used by the test harness and by
//! anyone who wants a private policy), else `$XDG_CONFIG_HOME/containers/policy.json`, else
//! `/etc/containers/policy.json`; missing everywhere is an error, as with Podman. A check looks
//! up the requirements of the most specific scope for the transport (for `docker`: the
//! reference with tag or digest, the repository, each parent namespace, the registry, then
//! `*.domain` wildcards), then the transport's `""` scope, then `default`; every requirement
//! must accept. `insecureAcceptAnything` and `reject` are implemented; `signedBy` and
//! `sigstoreSigned` (signature verification) give a clear "not supported" error when they
//! apply. Called by [`crate::registry`] before a pull and by [`crate::image`] for `load`.

use super::{ConfigError, Env, ProcessEnv};
use crate::reference::Reference;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The system-wide policy.
pub const SYSTEM_POLICY_JSON: &str = "/etc/containers/policy.json";

/// One policy requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    InsecureAcceptAnything,
    Reject,
    /// Signature requirements vaina cannot verify (`signedBy`, `sigstoreSigned`, ...).
    Unsupported(String),
}

/// A parsed policy.json.
#[derive(Debug, Clone)]
pub struct Policy {
    pub path: PathBuf,
    pub default: Vec<Requirement>,
    /// transport → scope → requirements.
    pub transports: BTreeMap<String, BTreeMap<String, Vec<Requirement>>>,
}

#[derive(Deserialize)]
struct RawPolicy {
    default: Option<Vec<RawRequirement>>,
    #[serde(default)]
    transports: BTreeMap<String, BTreeMap<String, Vec<RawRequirement>>>,
}

#[derive(Deserialize)]
struct RawRequirement {
    #[serde(rename = "type")]
    kind: String,
}

impl Policy {
    /// The policy file to use (see the module documentation); `None` when there is none.
    pub fn find() -> Option<PathBuf> {
        Self::find_in(&ProcessEnv)
    }

    pub(crate) fn find_in(env: &dyn Env) -> Option<PathBuf> {
        if let Some(p) = env.var("CONTAINERS_POLICY_JSON") {
            return Some(p);
        }
        let user = env.config_home().join("containers/policy.json");
        if user.exists() {
            return Some(user);
        }
        let sys = PathBuf::from(SYSTEM_POLICY_JSON);
        sys.exists().then_some(sys)
    }

    /// Loads the policy from the standard places; an error when there is none.
    pub fn load() -> Result<Policy, ConfigError> {
        let path = Self::find().unwrap_or_else(|| PathBuf::from(SYSTEM_POLICY_JSON));
        Self::load_from(&path)
    }

    /// Loads the policy at `path` (for `--signature-policy`).
    pub fn load_from(path: &Path) -> Result<Policy, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::io(path, e))?;
        Self::parse(path, &text)
    }

    /// Parses policy text, as if read from `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Policy, ConfigError> {
        let bad = |m: String| {
            ConfigError::Invalid(format!(
                "invalid policy in {:?}: {m}",
                path.display().to_string()
            ))
        };
        let raw: RawPolicy = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        let default = raw
            .default
            .ok_or_else(|| bad("Default policy is missing".into()))?;
        let default = requirements(default).map_err(bad)?;
        let mut transports = BTreeMap::new();
        for (t, scopes) in raw.transports {
            let mut m = BTreeMap::new();
            for (scope, reqs) in scopes {
                m.insert(scope, requirements(reqs).map_err(bad)?);
            }
            transports.insert(t, m);
        }
        Ok(Policy {
            path: path.to_path_buf(),
            default,
            transports,
        })
    }

    /// Whether `r` may be used through `transport` (`docker` for registries).
    pub fn check(&self, transport: &str, r: &Reference) -> Result<(), ConfigError> {
        let identity = match (&r.tag, &r.digest) {
            (_, Some(d)) => format!("{}@{d}", r.name()),
            (Some(t), None) => format!("{}:{t}", r.name()),
            (None, None) => r.name(),
        };
        let image = if transport == "docker" {
            format!("docker://{r}")
        } else {
            format!("{transport}:{r}")
        };
        let mut scopes = vec![identity];
        scopes.extend(docker_namespaces(r));
        self.evaluate(transport, &scopes, &image)
    }

    /// Whether the file-based image at `path` may be used through `transport`
    /// (`docker-archive`, `oci-archive`, `oci`, `dir`): scopes are the path and its parents.
    pub fn check_path(&self, transport: &str, path: &Path) -> Result<(), ConfigError> {
        let mut scopes = Vec::new();
        let mut p = Some(path);
        while let Some(x) = p {
            if x.as_os_str().is_empty() || x == Path::new("/") {
                break;
            }
            scopes.push(x.display().to_string());
            p = x.parent();
        }
        self.evaluate(
            transport,
            &scopes,
            &format!("{transport}:{}", path.display()),
        )
    }

    /// The requirements for the most specific of `scopes` in `transport`.
    pub fn requirements_for(&self, transport: &str, scopes: &[String]) -> &[Requirement] {
        if let Some(t) = self.transports.get(transport) {
            for s in scopes {
                if let Some(r) = t.get(s) {
                    return r;
                }
            }
            if let Some(r) = t.get("") {
                return r;
            }
        }
        &self.default
    }

    fn evaluate(&self, transport: &str, scopes: &[String], image: &str) -> Result<(), ConfigError> {
        for req in self.requirements_for(transport, scopes) {
            match req {
                Requirement::InsecureAcceptAnything => {}
                Requirement::Reject => {
                    return Err(ConfigError::Rejected {
                        image: image.to_string(),
                    })
                }
                Requirement::Unsupported(kind) => {
                    return Err(ConfigError::Unsupported(format!(
                        "policy requirement {kind:?} for {image} is not supported by vaina (signature verification is not implemented); see {}",
                        self.path.display()
                    )))
                }
            }
        }
        Ok(())
    }
}

fn requirements(raw: Vec<RawRequirement>) -> Result<Vec<Requirement>, String> {
    if raw.is_empty() {
        return Err("List of verification policy requirements must not be empty".into());
    }
    raw.into_iter()
        .map(|r| match r.kind.as_str() {
            "insecureAcceptAnything" => Ok(Requirement::InsecureAcceptAnything),
            "reject" => Ok(Requirement::Reject),
            "signedBy" | "sigstoreSigned" | "signedBaseLayer" => {
                Ok(Requirement::Unsupported(r.kind))
            }
            other => Err(format!("Unknown policy requirement type {other:?}")),
        })
        .collect()
}

/// The repository, its parent namespaces, the registry and `*.` wildcards of the registry's
/// host, most specific first (containers-policy.json(5), docker transport).
fn docker_namespaces(r: &Reference) -> Vec<String> {
    let mut out = Vec::new();
    let mut name = r.name();
    loop {
        out.push(name.clone());
        match name.rfind('/') {
            Some(i) => name.truncate(i),
            None => break,
        }
    }
    if let Some(domain) = &r.domain {
        let mut host = domain.split(':').next().unwrap_or(domain);
        while let Some(i) = host.find('.') {
            host = &host[i + 1..];
            out.push(format!("*.{host}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pol(text: &str) -> Policy {
        Policy::parse(Path::new("/p.json"), text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn r(s: &str) -> Reference {
        Reference::parse(s).unwrap()
    }

    #[test]
    fn scopes_most_specific_first() {
        let p = pol(r#"{
  "default": [{"type": "reject"}],
  "transports": {
    "docker": {
      "": [{"type": "reject"}],
      "docker.io": [{"type": "insecureAcceptAnything"}],
      "docker.io/library/bad": [{"type": "reject"}],
      "*.example.com": [{"type": "insecureAcceptAnything"}],
      "quay.io/ns/app:ok": [{"type": "insecureAcceptAnything"}]
    },
    "docker-archive": {"": [{"type": "insecureAcceptAnything"}]}
  }
}"#);
        assert!(p.check("docker", &r("docker.io/busybox:latest")).is_ok());
        let e = p.check("docker", &r("docker.io/bad:latest")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Source image rejected: Running image docker://docker.io/library/bad:latest is rejected by policy."
        );
        assert!(p.check("docker", &r("a.b.example.com:5000/x:1")).is_ok());
        assert!(p.check("docker", &r("quay.io/ns/app:ok")).is_ok());
        assert!(p.check("docker", &r("quay.io/ns/app:other")).is_err());
        assert!(p
            .check_path("docker-archive", Path::new("/tmp/x.tar"))
            .is_ok());
        assert!(p
            .check_path("oci-archive", Path::new("/tmp/x.tar"))
            .is_err());
    }

    #[test]
    fn path_scopes() {
        let p = pol(r#"{"default": [{"type": "insecureAcceptAnything"}],
               "transports": {"oci": {"/srv/blocked": [{"type": "reject"}]}}}"#);
        assert!(p.check_path("oci", Path::new("/srv/blocked/img")).is_err());
        assert!(p.check_path("oci", Path::new("/srv/ok/img")).is_ok());
    }

    #[test]
    fn signatures_not_supported() {
        let p = pol(r#"{"default": [{"type": "insecureAcceptAnything"}],
               "transports": {"docker": {"registry.redhat.io": [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": "/k"}]}}}"#);
        assert!(p.check("docker", &r("quay.io/x")).is_ok());
        let e = p
            .check("docker", &r("registry.redhat.io/ubi9:1"))
            .unwrap_err();
        assert!(e.to_string().contains("\"signedBy\""), "{e}");
        assert!(e.to_string().contains("not supported"), "{e}");
    }

    #[test]
    fn file_precedence() {
        use std::collections::HashMap;
        let d = tempfile::tempdir().unwrap();
        let mut env: HashMap<&str, PathBuf> = HashMap::new();
        env.insert("XDG_CONFIG_HOME", d.path().to_path_buf());
        let user = d.path().join("containers/policy.json");
        std::fs::create_dir_all(user.parent().unwrap()).unwrap();
        std::fs::write(&user, "{}").unwrap();
        assert_eq!(Policy::find_in(&env), Some(user));
        env.insert("CONTAINERS_POLICY_JSON", "/p.json".into());
        assert_eq!(Policy::find_in(&env), Some(PathBuf::from("/p.json")));
        env.clear();
        env.insert("HOME", d.path().join("nohome"));
        let sys = Path::new(SYSTEM_POLICY_JSON);
        assert_eq!(
            Policy::find_in(&env),
            sys.exists().then(|| sys.to_path_buf())
        );
    }

    #[test]
    fn bad_policies() {
        for text in [
            "{",
            "{}",
            r#"{"default": []}"#,
            r#"{"default": [{"type": "maybe"}]}"#,
        ] {
            let e = Policy::parse(Path::new("/p.json"), text)
                .unwrap_err()
                .to_string();
            assert!(e.starts_with("invalid policy in \"/p.json\": "), "{e}");
            assert!(!e.contains('\n'));
        }
        let e = Policy::load_from(Path::new("/nonexistent/policy.json")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "open /nonexistent/policy.json: no such file or directory"
        );
    }
}
