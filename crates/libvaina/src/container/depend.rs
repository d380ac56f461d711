//! Dependencies between containers, as Podman keeps them: a container created with
//! `--pid/--ipc/--uts/--network container:NAME` depends on NAME (its full ID is stored in the
//! dependent's config). A container with dependents cannot be removed, even with `--force`;
//! `rm --depend` removes the dependents first, deepest first, then the container itself.

use super::record;
use crate::{Engine, Result};

impl Engine {
    /// Full IDs of the containers that depend directly on container `id`, oldest first.
    pub fn container_dependents(&self, id: &str) -> Result<Vec<String>> {
        let mut all = record::list(self.db()?.conn())?;
        all.reverse();
        Ok(all
            .into_iter()
            .filter(|r| r.config.dependencies.iter().any(|d| d == id))
            .map(|r| r.id)
            .collect())
    }

    /// The full IDs `rm --depend name_or_id` removes, in removal order: every container that
    /// depends on it, directly or not, each after its own dependents, and the container last.
    pub fn container_removal_order(&mut self, name_or_id: &str) -> Result<Vec<String>> {
        let rec = self.lookup_container(name_or_id)?;
        let mut order = Vec::new();
        self.push_dependents_first(&rec.id, &mut order)?;
        Ok(order)
    }

    fn push_dependents_first(&self, id: &str, order: &mut Vec<String>) -> Result<()> {
        if order.iter().any(|o| o == id) {
            return Ok(());
        }
        for dep in self.container_dependents(id)? {
            self.push_dependents_first(&dep, order)?;
        }
        if !order.iter().any(|o| o == id) {
            order.push(id.to_string());
        }
        Ok(())
    }
}
