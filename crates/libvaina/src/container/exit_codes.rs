//! Exit codes of removed containers, kept for five minutes as Podman keeps them (its
//! database's exit-code table): a `wait` that found a `--rm` container still gets its code
//! when the container exits and is removed before the waiter reads it. Written by
//! [`super::record::delete`]; entries older than [`KEEP`] are pruned on each later removal.

use super::ContainerError;
use rusqlite::{params, Connection, OptionalExtension};

/// Table of the exit codes of removed containers.
pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS container_exit_codes (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    exit_code INTEGER NOT NULL,
    removed INTEGER NOT NULL
);
";

/// How long an exit code outlives its container.
pub const KEEP: std::time::Duration = std::time::Duration::from_secs(300);

/// Saves the exit code of container `id` (if it has exited) as it is removed at `now`
/// (nanoseconds), and prunes the codes older than [`KEEP`].
pub fn save(conn: &Connection, id: &str, now: i64) -> Result<(), ContainerError> {
    conn.execute(
        "DELETE FROM container_exit_codes WHERE removed < ?1",
        [now - KEEP.as_nanos() as i64],
    )?;
    conn.execute(
        "INSERT OR REPLACE INTO container_exit_codes (id, name, exit_code, removed)
         SELECT id, name, exit_code, ?2 FROM containers
         WHERE id = ?1 AND state IN ('exited', 'stopped')",
        params![id, now],
    )?;
    Ok(())
}

/// The kept exit code of the removed container with full ID `id`, if younger than [`KEEP`]
/// at `now`.
pub fn get(conn: &Connection, id: &str, now: i64) -> Result<Option<i32>, ContainerError> {
    Ok(conn
        .query_row(
            "SELECT exit_code FROM container_exit_codes WHERE id = ?1 AND removed >= ?2",
            params![id, now - KEEP.as_nanos() as i64],
            |r| r.get(0),
        )
        .optional()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_then_pruned() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(super::super::SCHEMA).unwrap();
        conn.execute_batch(SCHEMA).unwrap();
        conn.execute(
            "INSERT INTO containers (id, name, image_id, image_name, state, exit_code, created, config)
             VALUES ('a1', 'n', 'i', 'i', 'exited', 3, 0, '{}'),
                    ('b2', 'm', 'i', 'i', 'created', 0, 0, '{}')",
            [],
        )
        .unwrap();
        let t0 = 1_000_000_000_000;
        save(&conn, "a1", t0).unwrap();
        save(&conn, "b2", t0).unwrap();
        assert_eq!(get(&conn, "a1", t0).unwrap(), Some(3));
        assert_eq!(get(&conn, "b2", t0).unwrap(), None, "never exited");
        let later = t0 + KEEP.as_nanos() as i64 + 1;
        assert_eq!(get(&conn, "a1", later).unwrap(), None, "expired");
        save(&conn, "zz", later).unwrap();
        let n: i64 = conn
            .query_row("SELECT count(*) FROM container_exit_codes", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(n, 0, "pruned on a later write");
    }
}
