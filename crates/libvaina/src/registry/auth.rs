//! Registry authentication: anonymous access, HTTP basic, and the bearer-token flow announced
//! by a `WWW-Authenticate: Bearer realm=...,service=...,scope=...` challenge (a token is fetched
//! from the realm, with the credentials as basic auth when there are any, and cached per scope
//! for the life of the client).

use super::RegistryError;
use base64::Engine as _;
use std::collections::HashMap;
use std::sync::Mutex;

/// A user name and password (or an identity token, with an empty user name as Docker stores it).
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// Parses `--creds user[:password]`.
    pub fn parse(creds: &str) -> Result<Credentials, RegistryError> {
        let (u, p) = creds.split_once(':').unwrap_or((creds, ""));
        if u.is_empty() {
            return Err(RegistryError::InvalidArgument(
                "username can't be empty".into(),
            ));
        }
        Ok(Credentials {
            username: u.to_string(),
            password: p.to_string(),
        })
    }

    /// The value of a basic `Authorization` header.
    pub fn basic_header(&self) -> String {
        let raw = format!("{}:{}", self.username, self.password);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    }
}

/// What a registry asked for in `WWW-Authenticate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    /// No authentication needed (the ping succeeded).
    None,
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
    },
}

impl Challenge {
    /// Parses a `WWW-Authenticate` header value (the first scheme only).
    pub fn parse(header: &str) -> Option<Challenge> {
        let header = header.trim();
        let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
        let params = parse_params(rest);
        match scheme.to_ascii_lowercase().as_str() {
            "basic" => Some(Challenge::Basic),
            "bearer" => Some(Challenge::Bearer {
                realm: params.get("realm")?.clone(),
                service: params.get("service").cloned(),
            }),
            _ => None,
        }
    }
}

/// `key="value", key2=value2` (quoted values may contain commas).
fn parse_params(s: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut rest = s.trim();
    while !rest.is_empty() {
        let Some((key, after)) = rest.split_once('=') else {
            break;
        };
        let key = key
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let after = after.trim_start();
        let (value, next) = if let Some(q) = after.strip_prefix('"') {
            let end = q.find('"').unwrap_or(q.len());
            (&q[..end], q.get(end + 1..).unwrap_or(""))
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim(), &after[end..])
        };
        out.insert(key, value.to_string());
        rest = next.trim_start().trim_start_matches(',').trim_start();
    }
    out
}

/// Bearer tokens cached per scope.
#[derive(Debug, Default)]
pub struct TokenCache {
    tokens: Mutex<HashMap<String, String>>,
}

impl TokenCache {
    pub fn get(&self, scope: &str) -> Option<String> {
        self.tokens.lock().ok()?.get(scope).cloned()
    }

    pub fn put(&self, scope: &str, token: String) {
        if let Ok(mut t) = self.tokens.lock() {
            t.insert(scope.to_string(), token);
        }
    }
}

#[derive(serde::Deserialize)]
struct TokenResponse {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
}

/// Fetches a bearer token from `realm` for `scope` (empty: no scope, as `login` asks).
pub fn fetch_token(
    agent: &ureq::Agent,
    realm: &str,
    service: Option<&str>,
    scope: &str,
    creds: Option<&Credentials>,
) -> Result<String, RegistryError> {
    let mut req = agent.get(realm);
    if let Some(s) = service {
        req = req.query("service", s);
    }
    if !scope.is_empty() {
        req = req.query("scope", scope);
    }
    if let Some(c) = creds {
        req = req.set("Authorization", &c.basic_header());
    }
    let resp = match req.call() {
        Ok(r) => r,
        Err(ureq::Error::Status(401 | 403, _)) => {
            return Err(RegistryError::Unauthorized(if creds.is_some() {
                "invalid username/password".into()
            } else {
                "authentication required".into()
            }))
        }
        Err(ureq::Error::Status(code, r)) => {
            return Err(RegistryError::Http {
                status: code,
                message: format!(
                    "fetching token from {realm}: {}",
                    r.status_text().to_ascii_lowercase()
                ),
            })
        }
        Err(ureq::Error::Transport(t)) => {
            return Err(RegistryError::Transport(format!(
                "fetching token from {realm}: {t}"
            )))
        }
    };
    let mut body = Vec::new();
    use std::io::Read;
    resp.into_reader()
        .take(1 << 20)
        .read_to_end(&mut body)
        .map_err(|e| RegistryError::Transport(format!("reading token from {realm}: {e}")))?;
    let t: TokenResponse = serde_json::from_slice(&body)
        .map_err(|e| RegistryError::BadResponse(format!("token from {realm}: {e}")))?;
    t.token
        .or(t.access_token)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| RegistryError::BadResponse(format!("no token in the answer of {realm}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_challenges() {
        assert_eq!(
            Challenge::parse(
                r#"Bearer realm="https://auth.example/token",service="reg, x",scope="repository:a:pull""#
            ),
            Some(Challenge::Bearer {
                realm: "https://auth.example/token".into(),
                service: Some("reg, x".into())
            })
        );
        assert_eq!(
            Challenge::parse(r#"Basic realm="Registry Realm""#),
            Some(Challenge::Basic)
        );
        assert_eq!(Challenge::parse("Negotiate"), None);
        assert_eq!(Challenge::parse("Bearer service=x"), None);
    }

    #[test]
    fn creds() {
        let c = Credentials::parse("u:p:q").unwrap();
        assert_eq!((c.username.as_str(), c.password.as_str()), ("u", "p:q"));
        assert_eq!(c.basic_header(), "Basic dTpwOnE=");
        assert!(Credentials::parse(":x").is_err());
        assert!(!format!("{c:?}").contains("p:q"));
    }
}
