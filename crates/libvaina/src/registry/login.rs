//! `login`, `logout` and `search`: credentials checked against the registry (`GET /v2/` and the
//! token flow) and kept in auth.json; search through the registry's `/v2/_catalog`, filtered by
//! the term, since plain distribution registries have no search API.

use super::client::{ClientOptions, RegistryClient};
use super::{Credentials, RegistryError};
use crate::config::AuthFile;
use crate::Engine;
use std::path::PathBuf;

/// Options shared by `login`, `logout` and `search`.
#[derive(Debug, Clone, Default)]
pub struct RegistryAccess {
    pub tls_verify: Option<bool>,
    pub cert_dir: Option<PathBuf>,
    pub authfile: Option<PathBuf>,
    /// `--creds` for search.
    pub creds: Option<String>,
}

/// One search hit, with Podman's JSON field names.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SearchResult {
    pub index: String,
    pub name: String,
    pub description: String,
    pub stars: u64,
    pub official: String,
    pub automated: String,
    pub tag: String,
}

/// `registry[/namespace]` as given to login/logout: scheme and trailing slash dropped,
/// Docker Hub's names folded to `docker.io`.
pub fn normalize_key(registry: &str) -> Result<String, RegistryError> {
    let r = registry
        .trim()
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/');
    let r = r
        .strip_suffix("/v1")
        .or_else(|| r.strip_suffix("/v2"))
        .unwrap_or(r);
    if r.is_empty() || r.contains("//") || r.chars().any(char::is_whitespace) {
        return Err(RegistryError::InvalidArgument(format!(
            "invalid registry {registry:?}"
        )));
    }
    Ok(match r {
        "index.docker.io" | "registry-1.docker.io" => "docker.io".to_string(),
        r => r.to_string(),
    })
}

fn host_of(key: &str) -> &str {
    key.split('/').next().unwrap_or(key)
}

fn client(
    engine: &Engine,
    host: &str,
    access: &RegistryAccess,
    creds: Option<Credentials>,
) -> Result<RegistryClient, RegistryError> {
    let conf_insecure = engine
        .registries_conf()
        .map(|c| c.is_insecure(host))
        .unwrap_or(false);
    RegistryClient::new(
        host,
        ClientOptions {
            insecure: super::insecure_for(host, conf_insecure, access.tls_verify),
            cert_dir: access.cert_dir.clone(),
            creds,
        },
    )
}

impl Engine {
    /// Checks `creds` against `registry` and stores them in the auth file.
    pub fn login(
        &self,
        registry: &str,
        creds: &Credentials,
        access: &RegistryAccess,
    ) -> Result<(), RegistryError> {
        let key = normalize_key(registry)?;
        let ctx = || format!("logging into {key:?}");
        client(self, host_of(&key), access, Some(creds.clone()))
            .and_then(|c| c.check_login())
            .map_err(|e| e.context(ctx()))?;
        let mut file = AuthFile::load(&AuthFile::write_path(access.authfile.as_deref()))?;
        file.set(&key, &creds.username, &creds.password);
        file.save()?;
        Ok(())
    }

    /// The user name stored for `registry` (`login --get-login`).
    pub fn login_username(
        &self,
        registry: &str,
        access: &RegistryAccess,
    ) -> Result<String, RegistryError> {
        let key = normalize_key(registry)?;
        match crate::config::auth::lookup_credentials(access.authfile.as_deref(), &key)? {
            Some((user, _)) => Ok(user),
            None => Err(RegistryError::NotFound(format!("not logged into {key}"))),
        }
    }

    /// Removes the credentials of `registry`, or of every registry with `None`.
    pub fn logout(
        &self,
        registry: Option<&str>,
        access: &RegistryAccess,
    ) -> Result<(), RegistryError> {
        let key = registry.map(normalize_key).transpose()?;
        let mut file = AuthFile::load(&AuthFile::write_path(access.authfile.as_deref()))?;
        match key {
            None => file.remove_all(),
            Some(k) => {
                if !file.remove(&k) {
                    return Err(RegistryError::NotFound(format!("not logged into {k}")));
                }
            }
        }
        file.save()?;
        Ok(())
    }

    /// The tags of repository `reference` (`search --list-tags`), up to `limit` (0: all).
    pub fn search_tags(
        &self,
        reference: &str,
        limit: usize,
        access: &RegistryAccess,
    ) -> Result<Vec<SearchResult>, RegistryError> {
        let r = crate::reference::Reference::parse(reference)
            .map_err(|e| RegistryError::InvalidArgument(e.to_string()))?;
        let Some(host) = r.domain.clone() else {
            return Err(RegistryError::InvalidArgument(format!(
                "reference {reference:?} must include a registry for --list-tags"
            )));
        };
        if r.tag.is_some() || r.digest.is_some() {
            return Err(RegistryError::InvalidArgument(format!(
                "reference {reference:?} must not have a tag for --list-tags"
            )));
        }
        let creds = super::credentials(
            access.creds.as_deref(),
            access.authfile.as_deref(),
            &format!("{host}/{}", r.path),
        )?;
        let tags = client(self, &host, access, creds)?.tags(&r.path)?;
        let limit = if limit == 0 { usize::MAX } else { limit };
        Ok(tags
            .into_iter()
            .take(limit)
            .map(|tag| SearchResult {
                index: host.clone(),
                name: r.name(),
                description: String::new(),
                stars: 0,
                official: String::new(),
                automated: String::new(),
                tag,
            })
            .collect())
    }

    /// Searches `term` (`registry/term`, or `term` in every unqualified-search registry).
    pub fn search(
        &self,
        term: &str,
        limit: usize,
        access: &RegistryAccess,
    ) -> Result<Vec<SearchResult>, RegistryError> {
        let (hosts, needle) = match term.split_once('/') {
            Some((h, rest)) if h.contains('.') || h.contains(':') || h == "localhost" => {
                (vec![h.to_string()], rest.to_string())
            }
            _ => {
                let hosts = self
                    .registries_conf()
                    .map(|c| c.unqualified_search_registries.clone())
                    .unwrap_or_default();
                (hosts, term.to_string())
            }
        };
        if hosts.is_empty() {
            return Err(RegistryError::InvalidArgument(
                "no registries to search: name one (REGISTRY/TERM) or set unqualified-search-registries in registries.conf".into(),
            ));
        }
        let mut out = Vec::new();
        let mut errors = Vec::new();
        for host in hosts {
            let creds =
                super::credentials(access.creds.as_deref(), access.authfile.as_deref(), &host)?;
            let res = client(self, &host, access, creds).and_then(|c| c.catalog(10_000));
            match res {
                Ok(repos) => {
                    let limit = if limit == 0 { usize::MAX } else { limit };
                    for r in repos.into_iter().filter(|r| r.contains(&needle)).take(limit) {
                        out.push(SearchResult {
                            index: host.clone(),
                            name: format!("{host}/{r}"),
                            description: String::new(),
                            stars: 0,
                            official: String::new(),
                            automated: String::new(),
                            tag: String::new(),
                        });
                    }
                }
                Err(e) => errors.push(format!(
                    "couldn't search registry {host:?}: the registry offers no search or catalog ({e})"
                )),
            }
        }
        if out.is_empty() && !errors.is_empty() {
            return Err(if errors.len() == 1 {
                RegistryError::Unsupported(errors.remove(0))
            } else {
                RegistryError::AllFailed(errors)
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert_eq!(normalize_key("https://quay.io/").unwrap(), "quay.io");
        assert_eq!(normalize_key("index.docker.io").unwrap(), "docker.io");
        assert_eq!(
            normalize_key("localhost:5000/ns").unwrap(),
            "localhost:5000/ns"
        );
        assert!(normalize_key("").is_err());
    }
}
