//! `image prune`: removes dangling images (no names), or with `all` every image no container
//! uses, further narrowed by `--filter`. Returns the IDs it removed.

use super::list::ImageSummary;
use crate::{Engine, Result};

impl Engine {
    /// Removes unused images; `all` includes named ones. Returns the removed IDs.
    pub fn prune_images(&mut self, all: bool, filters: &[String]) -> Result<Vec<String>> {
        let images = self.list_images()?;
        let images: Vec<ImageSummary> = self.filter_images(images, filters)?;
        let lock = self.lock_images()?;
        let mut removed = Vec::new();
        for img in images {
            if img.containers > 0 || (!all && !img.names.is_empty()) {
                continue;
            }
            // Re-check under the lock: the image may have changed since the listing.
            let Some(now) = self.image_record(&img.id)? else {
                continue;
            };
            if !all && !now.names.is_empty() {
                continue;
            }
            if !crate::container::containers_using_image(self.db()?, &img.id)?.is_empty() {
                continue;
            }
            self.delete_image(&lock, &img.id)?;
            removed.push(img.id);
        }
        self.write_index(&lock)?;
        Ok(removed)
    }
}
