//! The image tables of the state database.
//!
//! - `images`: one row per image (ID = hex of the config digest), with what `images` needs to
//!   list without opening blobs: creation time, size, labels, the manifest type.
//! - `image_manifests`: the manifest digests an image was stored from (for `RepoDigests`).
//! - `image_names`: every full name (`registry/path:tag` or `registry/path@digest`) points at
//!   exactly one image; tagging moves a name, an image without names is dangling.
//! - `layers`: unpacked layers by chain ID with their diff ID, blob and a reference count (the
//!   number of images using them); a layer directory is removed when the count drops to zero.
//! - `image_layers`: the layer stack of each image, lowest first.

/// Tables owned by the image module (applied by [`crate::store::db::Db::open`]).
pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS images (
    id TEXT PRIMARY KEY,
    config_digest TEXT NOT NULL,
    manifest_digest TEXT NOT NULL,
    manifest_type TEXT NOT NULL,
    created_ns INTEGER NOT NULL,
    added_ns INTEGER NOT NULL,
    size INTEGER NOT NULL,
    labels TEXT NOT NULL DEFAULT '{}',
    top_layer TEXT,
    names_history TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS image_manifests (
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    digest TEXT NOT NULL,
    size INTEGER NOT NULL,
    media_type TEXT NOT NULL,
    PRIMARY KEY (image_id, digest)
);
CREATE TABLE IF NOT EXISTS image_names (
    name TEXT PRIMARY KEY,
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS image_names_by_image ON image_names(image_id);
CREATE TABLE IF NOT EXISTS layers (
    chain_id TEXT PRIMARY KEY,
    diff_id TEXT NOT NULL,
    parent TEXT,
    blob_digest TEXT NOT NULL,
    media_type TEXT NOT NULL,
    blob_size INTEGER NOT NULL,
    size INTEGER NOT NULL,
    refs INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS image_layers (
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    chain_id TEXT NOT NULL REFERENCES layers(chain_id),
    PRIMARY KEY (image_id, position)
);
CREATE INDEX IF NOT EXISTS image_layers_by_chain ON image_layers(chain_id);
";
