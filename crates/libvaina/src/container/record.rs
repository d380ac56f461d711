//! Container records in the state database: the row type, its states, and the queries
//! (insert, look up by name or ID prefix as Podman does, list, state updates, rename, delete).
//!
//! Times are stored as nanoseconds since the Unix epoch (0 = never).

use super::{ContainerConfig, ContainerError};
use rusqlite::{params, Connection, OptionalExtension, Row};

/// Podman's container states (the ones vaina uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ContainerState {
    /// Created in the store, never started (or reset after an exit was cleaned up).
    Created,
    /// The runtime created it (the monitor runs) but it has not been started.
    Initialized,
    Running,
    Paused,
    /// `stop` sent the stop signal and waits.
    Stopping,
    Exited,
}

impl ContainerState {
    pub fn as_str(self) -> &'static str {
        match self {
            ContainerState::Created => "created",
            ContainerState::Initialized => "initialized",
            ContainerState::Running => "running",
            ContainerState::Paused => "paused",
            ContainerState::Stopping => "stopping",
            ContainerState::Exited => "exited",
        }
    }

    pub fn parse(s: &str) -> ContainerState {
        match s {
            "initialized" => ContainerState::Initialized,
            "running" => ContainerState::Running,
            "paused" => ContainerState::Paused,
            "stopping" => ContainerState::Stopping,
            "exited" | "stopped" => ContainerState::Exited,
            _ => ContainerState::Created,
        }
    }

    /// Whether a monitor is supposed to be alive in this state.
    pub fn has_monitor(self) -> bool {
        matches!(
            self,
            ContainerState::Initialized
                | ContainerState::Running
                | ContainerState::Paused
                | ContainerState::Stopping
        )
    }

    /// Running or paused (what `rm` without `-f` refuses).
    pub fn is_active(self) -> bool {
        matches!(
            self,
            ContainerState::Running | ContainerState::Paused | ContainerState::Stopping
        )
    }
}

/// One container.
#[derive(Debug, Clone)]
pub struct ContainerRecord {
    pub id: String,
    pub name: String,
    pub image_id: String,
    pub image_name: String,
    pub state: ContainerState,
    pub pid: i64,
    pub exit_code: i32,
    /// Nanoseconds since the epoch.
    pub created: i64,
    pub started: i64,
    pub finished: i64,
    pub restart_count: u32,
    pub config: ContainerConfig,
}

const COLUMNS: &str = "id, name, image_id, image_name, state, pid, exit_code, created, started, finished, restart_count, config";

fn from_row(r: &Row<'_>) -> rusqlite::Result<ContainerRecord> {
    let cfg: String = r.get(11)?;
    let config = serde_json::from_str(&cfg).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(11, rusqlite::types::Type::Text, Box::new(e))
    })?;
    Ok(ContainerRecord {
        id: r.get(0)?,
        name: r.get(1)?,
        image_id: r.get(2)?,
        image_name: r.get(3)?,
        state: ContainerState::parse(&r.get::<_, String>(4)?),
        pid: r.get(5)?,
        exit_code: r.get(6)?,
        created: r.get(7)?,
        started: r.get(8)?,
        finished: r.get(9)?,
        restart_count: r.get(10)?,
        config,
    })
}

/// Nanoseconds since the epoch, now.
pub fn now_nanos() -> i64 {
    chrono::Utc::now().timestamp_nanos_opt().unwrap_or(i64::MAX)
}

/// Inserts a new record; a taken name is [`ContainerError::NameInUse`].
pub fn insert(conn: &Connection, c: &ContainerRecord) -> Result<(), ContainerError> {
    if let Some(id) = conn
        .query_row(
            "SELECT id FROM containers WHERE name = ?1",
            [&c.name],
            |r| r.get::<_, String>(0),
        )
        .optional()?
    {
        return Err(ContainerError::NameInUse {
            name: c.name.clone(),
            id,
        });
    }
    let cfg = serde_json::to_string(&c.config)
        .map_err(|e| ContainerError::Invalid(format!("encoding container config: {e}")))?;
    conn.execute(
        &format!("INSERT INTO containers ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"),
        params![
            c.id,
            c.name,
            c.image_id,
            c.image_name,
            c.state.as_str(),
            c.pid,
            c.exit_code,
            c.created,
            c.started,
            c.finished,
            c.restart_count,
            cfg
        ],
    )?;
    Ok(())
}

/// Finds a container by exact name, full ID or unique ID prefix, as Podman does.
pub fn lookup(conn: &Connection, name_or_id: &str) -> Result<ContainerRecord, ContainerError> {
    use crate::store::db::{lookup_name_or_id, NameOrId};
    match lookup_name_or_id(conn, "containers", COLUMNS, name_or_id, from_row)? {
        NameOrId::One(r) => Ok(r),
        NameOrId::Ambiguous => Err(ContainerError::Invalid(format!(
            "more than one result for container {name_or_id:?}: container already exists"
        ))),
        NameOrId::NotFound => Err(ContainerError::NotFound(name_or_id.to_string())),
    }
}

/// Every container, newest first.
pub fn list(conn: &Connection) -> Result<Vec<ContainerRecord>, ContainerError> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM containers ORDER BY created DESC"
    ))?;
    let v = st
        .query_map([], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(v)
}

/// Reads one container by full ID (None when it is gone).
pub fn get(conn: &Connection, id: &str) -> Result<Option<ContainerRecord>, ContainerError> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM containers WHERE id = ?1"))?
        .query_row([id], from_row)
        .optional()?)
}

/// Sets state and pid.
pub fn set_state(
    conn: &Connection,
    id: &str,
    state: ContainerState,
    pid: i64,
) -> Result<(), ContainerError> {
    conn.execute(
        "UPDATE containers SET state = ?2, pid = ?3 WHERE id = ?1",
        params![id, state.as_str(), pid],
    )?;
    Ok(())
}

/// Marks a container running (only when it is still initialized: the monitor may already
/// have recorded its exit). Returns whether the row changed.
pub fn set_running(conn: &Connection, id: &str, started: i64) -> Result<bool, ContainerError> {
    let n = conn.execute(
        "UPDATE containers SET state = 'running', started = ?2 WHERE id = ?1 AND state = 'initialized'",
        params![id, started],
    )?;
    Ok(n == 1)
}

/// Records an exit.
pub fn set_exited(
    conn: &Connection,
    id: &str,
    code: i32,
    finished: i64,
) -> Result<(), ContainerError> {
    conn.execute(
        "UPDATE containers SET state = 'exited', pid = 0, exit_code = ?2, finished = ?3,
         started = CASE WHEN started = 0 THEN ?3 ELSE started END WHERE id = ?1",
        params![id, code, finished],
    )?;
    Ok(())
}

/// Replaces the stored config.
pub fn set_config(
    conn: &Connection,
    id: &str,
    config: &ContainerConfig,
) -> Result<(), ContainerError> {
    let cfg = serde_json::to_string(config)
        .map_err(|e| ContainerError::Invalid(format!("encoding container config: {e}")))?;
    conn.execute(
        "UPDATE containers SET config = ?2 WHERE id = ?1",
        params![id, cfg],
    )?;
    Ok(())
}

/// Counts one more restart.
pub fn bump_restart(conn: &Connection, id: &str) -> Result<(), ContainerError> {
    conn.execute(
        "UPDATE containers SET restart_count = restart_count + 1 WHERE id = ?1",
        [id],
    )?;
    Ok(())
}

/// Renames; a taken name is [`ContainerError::NameInUse`].
pub fn rename(conn: &Connection, id: &str, name: &str) -> Result<(), ContainerError> {
    if let Some(other) = conn
        .query_row("SELECT id FROM containers WHERE name = ?1", [name], |r| {
            r.get::<_, String>(0)
        })
        .optional()?
    {
        return Err(ContainerError::NameInUse {
            name: name.to_string(),
            id: other,
        });
    }
    conn.execute(
        "UPDATE containers SET name = ?2 WHERE id = ?1",
        params![id, name],
    )?;
    Ok(())
}

/// Deletes a record, keeping its exit code for a while ([`super::exit_codes`]).
pub fn delete(conn: &Connection, id: &str) -> Result<(), ContainerError> {
    super::exit_codes::save(conn, id, now_nanos())?;
    conn.execute("DELETE FROM containers WHERE id = ?1", [id])?;
    Ok(())
}

/// Whether a name is taken.
pub fn name_taken(conn: &Connection, name: &str) -> Result<bool, ContainerError> {
    Ok(conn
        .query_row("SELECT 1 FROM containers WHERE name = ?1", [name], |_| {
            Ok(())
        })
        .optional()?
        .is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::db::Db;

    fn rec(id: &str, name: &str) -> ContainerRecord {
        ContainerRecord {
            id: id.into(),
            name: name.into(),
            image_id: "img".into(),
            image_name: "localhost/bb:latest".into(),
            state: ContainerState::Created,
            pid: 0,
            exit_code: 0,
            created: now_nanos(),
            started: 0,
            finished: 0,
            restart_count: 0,
            config: ContainerConfig::default(),
        }
    }

    #[test]
    fn insert_lookup_rename_delete() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("v.db")).unwrap();
        let c = db.conn();
        insert(c, &rec("abc123", "one")).unwrap();
        insert(c, &rec("abd456", "two")).unwrap();
        assert!(matches!(
            insert(c, &rec("fff", "one")),
            Err(ContainerError::NameInUse { .. })
        ));
        assert_eq!(lookup(c, "one").unwrap().id, "abc123");
        assert_eq!(lookup(c, "abd").unwrap().name, "two");
        assert!(lookup(c, "ab").is_err());
        assert!(matches!(lookup(c, "zzz"), Err(ContainerError::NotFound(_))));
        rename(c, "abc123", "uno").unwrap();
        assert!(rename(c, "abd456", "uno").is_err());
        assert!(name_taken(c, "uno").unwrap());
        set_state(c, "abc123", ContainerState::Initialized, 42).unwrap();
        set_exited(c, "abc123", 3, 100).unwrap();
        assert!(!set_running(c, "abc123", 5).unwrap());
        let r = get(c, "abc123").unwrap().unwrap();
        assert_eq!(
            (r.state, r.exit_code, r.started),
            (ContainerState::Exited, 3, 100)
        );
        delete(c, "abc123").unwrap();
        assert_eq!(list(c).unwrap().len(), 1);
        assert_eq!(
            crate::container::containers_using_image(&db, "img").unwrap(),
            vec!["abd456".to_string()]
        );
    }
}
