//! Pod records in the state database: the row type, the pod's stored configuration, and the
//! queries (insert, look up by name or ID prefix as Podman does, list, members, delete).
//!
//! Pods and containers share one name space, as in Podman: a pod cannot take a container's
//! name and a container cannot take a pod's.

use super::PodError;
use rusqlite::{params, Connection, OptionalExtension, Row};
use std::collections::BTreeMap;

/// `--exit-policy`: what happens when the last container (other than infra) exits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExitPolicy {
    /// The pod (its infra container) keeps running.
    #[default]
    Continue,
    /// The pod is stopped.
    Stop,
}

impl ExitPolicy {
    pub fn parse(s: &str) -> Result<Self, PodError> {
        match s {
            "" | "continue" => Ok(ExitPolicy::Continue),
            "stop" => Ok(ExitPolicy::Stop),
            other => Err(PodError::Invalid(format!(
                "running pod create option: invalid pod exit policy: {other:?}"
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ExitPolicy::Continue => "continue",
            ExitPolicy::Stop => "stop",
        }
    }
}

/// What a pod is, as `pod create` described it (Kubernetes' PodSpec level: shared
/// namespaces, hostname, network identity, labels).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct PodConfig {
    pub labels: BTreeMap<String, String>,
    /// `--hostname` (empty: the infra container's default).
    pub hostname: String,
    /// Shared namespace kinds, sorted: `cgroup`, `ipc`, `net`, `pid`, `uts`.
    pub shared: Vec<String>,
    /// Whether the pod has an infra container.
    pub infra: bool,
    pub exit_policy: ExitPolicy,
    /// `--cgroup-parent` as given (empty: the default).
    pub cgroup_parent: String,
    /// The network options given to the infra container (as typed), for `inspect`.
    pub networks: Vec<String>,
    pub publish: Vec<String>,
    pub dns: Vec<String>,
    pub dns_search: Vec<String>,
    pub dns_option: Vec<String>,
    pub add_host: Vec<String>,
    /// The command line that created the pod.
    pub create_command: Vec<String>,
}

impl PodConfig {
    /// Whether the pod's containers share namespace `kind` (`net`, `ipc`, ...) through infra.
    pub fn shares(&self, kind: &str) -> bool {
        self.infra && self.shared.iter().any(|k| k == kind)
    }
}

/// One pod.
#[derive(Debug, Clone)]
pub struct PodRecord {
    pub id: String,
    pub name: String,
    /// Nanoseconds since the epoch.
    pub created: i64,
    /// Full ID of the infra container (empty without one).
    pub infra_id: String,
    pub config: PodConfig,
}

const COLUMNS: &str = "id, name, created, infra_id, config";

fn from_row(r: &Row<'_>) -> rusqlite::Result<PodRecord> {
    let cfg: String = r.get(4)?;
    let config = serde_json::from_str(&cfg).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(4, rusqlite::types::Type::Text, Box::new(e))
    })?;
    Ok(PodRecord {
        id: r.get(0)?,
        name: r.get(1)?,
        created: r.get(2)?,
        infra_id: r.get(3)?,
        config,
    })
}

fn encode(config: &PodConfig) -> Result<String, PodError> {
    serde_json::to_string(config)
        .map_err(|e| PodError::Invalid(format!("encoding pod config: {e}")))
}

/// Inserts a new pod; a name taken by a pod or a container is refused.
pub fn insert(conn: &Connection, p: &PodRecord) -> Result<(), PodError> {
    if name_taken(conn, &p.name)? {
        return Err(PodError::NameInUse(p.name.clone()));
    }
    if crate::container::record::name_taken(conn, &p.name).unwrap_or(false) {
        return Err(PodError::NameUsedByContainer(p.name.clone()));
    }
    match conn.execute(
        &format!("INSERT INTO pods ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5)"),
        params![p.id, p.name, p.created, p.infra_id, encode(&p.config)?],
    ) {
        // A concurrent `pod create` of the same name won the race.
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            Err(PodError::NameInUse(p.name.clone()))
        }
        r => r.map(|_| ()).map_err(Into::into),
    }
}

/// Whether a pod has this name.
pub fn name_taken(conn: &Connection, name: &str) -> Result<bool, PodError> {
    Ok(conn
        .query_row("SELECT 1 FROM pods WHERE name = ?1", [name], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Records the infra container's ID.
pub fn set_infra(conn: &Connection, id: &str, infra_id: &str) -> Result<(), PodError> {
    conn.execute(
        "UPDATE pods SET infra_id = ?2 WHERE id = ?1",
        params![id, infra_id],
    )?;
    Ok(())
}

/// Finds a pod by exact name, full ID or unique ID prefix.
pub fn lookup(conn: &Connection, name_or_id: &str) -> Result<PodRecord, PodError> {
    use crate::store::db::{lookup_name_or_id, NameOrId};
    match lookup_name_or_id(conn, "pods", COLUMNS, name_or_id, from_row)? {
        NameOrId::One(r) => Ok(r),
        NameOrId::Ambiguous => Err(PodError::Invalid(format!(
            "more than one result for pod {name_or_id:?}: pod already exists"
        ))),
        NameOrId::NotFound => Err(PodError::NotFound(name_or_id.to_string())),
    }
}

/// Every pod, newest first.
pub fn list(conn: &Connection) -> Result<Vec<PodRecord>, PodError> {
    let mut st =
        conn.prepare_cached(&format!("SELECT {COLUMNS} FROM pods ORDER BY created DESC"))?;
    let v = st
        .query_map([], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(v)
}

/// Reads one pod by full ID.
pub fn get(conn: &Connection, id: &str) -> Result<Option<PodRecord>, PodError> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM pods WHERE id = ?1"))?
        .query_row([id], from_row)
        .optional()?)
}

/// Full IDs of the containers of pod `id`, oldest first.
pub fn member_ids(conn: &Connection, id: &str) -> Result<Vec<String>, PodError> {
    let mut st = conn.prepare_cached(
        "SELECT id FROM containers WHERE json_extract(config, '$.pod') = ?1 ORDER BY created",
    )?;
    let v = st
        .query_map([id], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(v)
}

/// Deletes a pod record; refused while containers still belong to it.
pub fn delete(conn: &Connection, id: &str) -> Result<(), PodError> {
    let left = member_ids(conn, id)?;
    if let Some(c) = left.first() {
        return Err(PodError::Invalid(format!(
            "pod {id} still has container {c}: pod has containers"
        )));
    }
    conn.execute("DELETE FROM pods WHERE id = ?1", [id])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::db::Db;

    fn pod(id: &str, name: &str) -> PodRecord {
        PodRecord {
            id: id.into(),
            name: name.into(),
            created: crate::container::record::now_nanos(),
            infra_id: String::new(),
            config: PodConfig::default(),
        }
    }

    #[test]
    fn insert_lookup_delete() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("v.db")).unwrap();
        let c = db.conn();
        insert(c, &pod("abc1", "one")).unwrap();
        insert(c, &pod("abd2", "two")).unwrap();
        assert!(matches!(
            insert(c, &pod("fff", "one")),
            Err(PodError::NameInUse(_))
        ));
        assert_eq!(lookup(c, "one").unwrap().id, "abc1");
        assert_eq!(lookup(c, "abd").unwrap().name, "two");
        assert!(lookup(c, "ab").is_err());
        assert!(matches!(lookup(c, "zz"), Err(PodError::NotFound(_))));
        set_infra(c, "abc1", "infra").unwrap();
        assert_eq!(get(c, "abc1").unwrap().unwrap().infra_id, "infra");
        assert!(member_ids(c, "abc1").unwrap().is_empty());
        delete(c, "abc1").unwrap();
        assert_eq!(list(c).unwrap().len(), 1);
    }

    #[test]
    fn exit_policies() {
        assert_eq!(ExitPolicy::parse("stop").unwrap(), ExitPolicy::Stop);
        assert_eq!(ExitPolicy::parse("").unwrap(), ExitPolicy::Continue);
        assert!(ExitPolicy::parse("halt").is_err());
    }
}
