//! Volumes (later issue): named and anonymous volumes with the local driver.
