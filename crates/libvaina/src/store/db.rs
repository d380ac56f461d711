//! The transactional state database (SQLite in WAL mode with a busy timeout).
//!
//! Each domain module owns its tables and contributes its `CREATE TABLE IF NOT EXISTS` text to
//! [`SCHEMAS`]; they are applied in order every time the database is opened (cheap when they
//! exist). Multi-step changes run in one transaction ([`Db::transaction`]), so a crash leaves
//! either the old or the new state, never half of one.

use super::StoreError;
use rusqlite::Connection;
use std::path::Path;
use std::time::Duration;

/// Schema fragments, one per domain, applied in this order.
pub const SCHEMAS: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
    crate::image::SCHEMA,
    crate::container::SCHEMA,
    crate::container::exit_codes::SCHEMA,
    crate::network::SCHEMA,
    crate::volume::SCHEMA,
    crate::pod::SCHEMA,
];

/// An open state database.
pub struct Db {
    conn: Connection,
}

impl Db {
    /// Opens (creating if needed) the database at `path` and applies the schema.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let wrap = |source| StoreError::Database {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
        }
        let conn = Connection::open(path).map_err(wrap)?;
        conn.busy_timeout(Duration::from_secs(60)).map_err(wrap)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(wrap)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(wrap)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(wrap)?;
        let db = Db { conn };
        db.apply_schema().map_err(wrap)?;
        Ok(db)
    }

    fn apply_schema(&self) -> rusqlite::Result<()> {
        let version: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let wanted = schema_version();
        if version != wanted {
            self.conn.execute_batch(&SCHEMAS.concat())?;
            self.conn.pragma_update(None, "user_version", wanted)?;
        }
        Ok(())
    }

    /// The underlying connection, for reads.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Runs `f` inside an immediate (write-locked) transaction, committing when it returns Ok.
    pub fn transaction<T, E>(
        &mut self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<rusqlite::Error>,
    {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }
}

/// A cheap fingerprint of the schema text, so a changed schema is re-applied once.
fn schema_version() -> i64 {
    let text = SCHEMAS.concat();
    let mut h: u32 = 2166136261;
    for b in text.bytes() {
        h ^= b as u32;
        h = h.wrapping_mul(16777619);
    }
    (h & 0x7fff_ffff) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_twice_and_transacts() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("v.db");
        let mut db = Db::open(&p).unwrap();
        db.transaction(|tx| {
            tx.execute("INSERT INTO meta(key, value) VALUES ('a', 'b')", [])
                .map(|_| ())
        })
        .unwrap();
        let db2 = Db::open(&p).unwrap();
        let v: String = db2
            .conn()
            .query_row("SELECT value FROM meta WHERE key='a'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, "b");
    }
}

/// How a name or ID matched the rows of a table with `id` and `name` columns.
#[derive(Debug)]
pub enum NameOrId<T> {
    One(T),
    /// An ID prefix shared by more than one row.
    Ambiguous,
    NotFound,
}

/// Podman's lookup order: exact ID, exact name, then a unique ID prefix (hex only). `columns`
/// is the select list `from_row` reads.
pub fn lookup_name_or_id<T>(
    conn: &Connection,
    table: &str,
    columns: &str,
    name_or_id: &str,
    from_row: fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<NameOrId<T>> {
    use rusqlite::OptionalExtension;
    if name_or_id.is_empty() {
        return Ok(NameOrId::NotFound);
    }
    for key in ["id", "name"] {
        let found = conn
            .prepare_cached(&format!("SELECT {columns} FROM {table} WHERE {key} = ?1"))?
            .query_row([name_or_id], from_row)
            .optional()?;
        if let Some(row) = found {
            return Ok(NameOrId::One(row));
        }
    }
    if name_or_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        let mut found = conn
            .prepare_cached(&format!(
                "SELECT {columns} FROM {table} WHERE substr(id, 1, length(?1)) = ?1 LIMIT 2"
            ))?
            .query_map([name_or_id.to_ascii_lowercase()], from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        match found.len() {
            1 => return Ok(NameOrId::One(found.remove(0))),
            2 => return Ok(NameOrId::Ambiguous),
            _ => {}
        }
    }
    Ok(NameOrId::NotFound)
}
