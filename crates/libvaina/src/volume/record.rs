//! Volume records in the state database: the row type and its queries (insert, get, list,
//! delete, users, copy-up and mount counters).
//!
//! Times are nanoseconds since the Unix epoch; labels and options are JSON objects.

use super::VolumeError;
use rusqlite::{params, Connection, OptionalExtension, Row};
use std::collections::BTreeMap;

/// One volume as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct VolumeRecord {
    pub name: String,
    pub driver: String,
    /// Nanoseconds since the epoch.
    pub created: i64,
    pub labels: BTreeMap<String, String>,
    /// Driver options (`-o`): `type`, `device`, `o`, `uid`, `gid`, `copy`...
    pub options: BTreeMap<String, String>,
    /// Created for `-v /path` or an image `VOLUME`; removed with the container by `rm -v`.
    pub anonymous: bool,
    /// Still empty and never used: the first container copies the image's content in.
    pub needs_copy_up: bool,
    /// How many running containers have the (mount-backed) volume mounted.
    pub mount_count: u32,
}

const COLUMNS: &str =
    "name, driver, created, labels, options, anonymous, needs_copy_up, mount_count";

fn json_map(r: &Row<'_>, i: usize) -> rusqlite::Result<BTreeMap<String, String>> {
    let s: String = r.get(i)?;
    serde_json::from_str(&s).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<VolumeRecord> {
    Ok(VolumeRecord {
        name: r.get(0)?,
        driver: r.get(1)?,
        created: r.get(2)?,
        labels: json_map(r, 3)?,
        options: json_map(r, 4)?,
        anonymous: r.get(5)?,
        needs_copy_up: r.get(6)?,
        mount_count: r.get(7)?,
    })
}

fn to_json(m: &BTreeMap<String, String>) -> String {
    serde_json::to_string(m).unwrap_or_else(|_| "{}".into())
}

/// Inserts a new volume; `Exists` when the name is taken.
pub fn insert(conn: &Connection, v: &VolumeRecord) -> Result<(), VolumeError> {
    let res = conn.execute(
        &format!("INSERT INTO volumes ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
        params![
            v.name,
            v.driver,
            v.created,
            to_json(&v.labels),
            to_json(&v.options),
            v.anonymous,
            v.needs_copy_up,
            v.mount_count
        ],
    );
    match res {
        Ok(_) => Ok(()),
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            Err(VolumeError::Exists(v.name.clone()))
        }
        Err(e) => Err(e.into()),
    }
}

/// The volume named `name`, if any.
pub fn get(conn: &Connection, name: &str) -> Result<Option<VolumeRecord>, VolumeError> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM volumes WHERE name = ?1"),
            [name],
            from_row,
        )
        .optional()?)
}

/// Every volume, by name.
pub fn list(conn: &Connection) -> Result<Vec<VolumeRecord>, VolumeError> {
    let mut st = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM volumes ORDER BY name"))?;
    let rows = st
        .query_map([], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Deletes the record of a volume and its user rows.
pub fn delete(conn: &Connection, name: &str) -> Result<(), VolumeError> {
    conn.execute("DELETE FROM volume_users WHERE volume = ?1", [name])?;
    conn.execute("DELETE FROM volumes WHERE name = ?1", [name])?;
    Ok(())
}

/// IDs of the existing containers that use the volume.
pub fn users(conn: &Connection, name: &str) -> Result<Vec<String>, VolumeError> {
    let mut st = conn.prepare_cached(
        "SELECT u.container FROM volume_users u JOIN containers c ON c.id = u.container \
         WHERE u.volume = ?1 ORDER BY c.created",
    )?;
    let ids = st
        .query_map([name], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(ids)
}

/// Names of the volumes a container uses.
pub fn volumes_of(conn: &Connection, container: &str) -> Result<Vec<String>, VolumeError> {
    let mut st = conn
        .prepare_cached("SELECT volume FROM volume_users WHERE container = ?1 ORDER BY volume")?;
    let names = st
        .query_map([container], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(names)
}

/// Records that `container` uses `volume`.
pub fn add_user(conn: &Connection, volume: &str, container: &str) -> Result<(), VolumeError> {
    conn.execute(
        "INSERT OR IGNORE INTO volume_users (volume, container) VALUES (?1, ?2)",
        [volume, container],
    )?;
    Ok(())
}

/// Forgets every use by `container`, and rows of containers that no longer exist.
pub fn remove_user(conn: &Connection, container: &str) -> Result<(), VolumeError> {
    conn.execute(
        "DELETE FROM volume_users WHERE container = ?1 \
         OR container NOT IN (SELECT id FROM containers)",
        [container],
    )?;
    Ok(())
}

/// Marks the volume as populated (no more copy-up).
pub fn clear_copy_up(conn: &Connection, name: &str) -> Result<(), VolumeError> {
    conn.execute(
        "UPDATE volumes SET needs_copy_up = 0 WHERE name = ?1",
        [name],
    )?;
    Ok(())
}

/// Adds `delta` to the mount count and returns the new value (never below zero).
pub fn bump_mount_count(conn: &Connection, name: &str, delta: i64) -> Result<u32, VolumeError> {
    conn.execute(
        "UPDATE volumes SET mount_count = MAX(0, mount_count + ?2) WHERE name = ?1",
        params![name, delta],
    )?;
    Ok(conn
        .query_row(
            "SELECT mount_count FROM volumes WHERE name = ?1",
            [name],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0))
}
