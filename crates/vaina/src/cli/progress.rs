//! Copy progress as Podman shows it on stderr: plain lines when stderr is not a terminal
//! (`Copying blob sha256:...`), one bar per blob (indicatif) when it is, nothing with `-q`.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use libvaina::digest::Digest;
use libvaina::registry::{BlobKind, PullProgress};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;

/// The CLI's progress sink for pull and push.
pub struct CopyProgress {
    quiet: bool,
    bars: Option<(MultiProgress, Mutex<HashMap<Digest, ProgressBar>>)>,
}

impl CopyProgress {
    pub fn new(quiet: bool) -> Self {
        let bars = (!quiet && std::io::stderr().is_terminal()).then(|| {
            (
                MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
                Mutex::new(HashMap::new()),
            )
        });
        CopyProgress { quiet, bars }
    }

    fn line(&self, msg: &str) {
        if self.quiet {
            return;
        }
        match &self.bars {
            Some((m, _)) => {
                let _ = m.println(msg);
            }
            None => eprintln!("{msg}"),
        }
    }
}

/// `Copying blob 44160a5a31f9` / `Copying config 44160a5a31`: the prefix is cut so every bar
/// starts in the same column, as Podman does.
fn short_prefix(kind: BlobKind, digest: &Digest) -> String {
    let full = format!("Copying {} {}", kind.word(), digest.hex());
    let max = "Copying blob ".len() + 12;
    full[..max.min(full.len())].to_string()
}

impl PullProgress for CopyProgress {
    fn message(&self, msg: &str) {
        self.line(msg);
    }

    fn blob_start(&self, kind: BlobKind, digest: &Digest, size: Option<u64>, skipped: bool) {
        if self.quiet {
            return;
        }
        let Some((m, bars)) = &self.bars else {
            eprintln!("Copying {} {digest}", kind.word());
            return;
        };
        let prefix = short_prefix(kind, digest);
        if skipped {
            let _ = m.println(format!("{prefix} skipped: already exists"));
            return;
        }
        let bar = m.add(ProgressBar::new(size.unwrap_or(0)));
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix} [{bar:30}] {bytes} / {total_bytes} | {bytes_per_sec}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.set_prefix(prefix);
        if let Ok(mut b) = bars.lock() {
            b.insert(digest.clone(), bar);
        }
    }

    fn blob(&self, digest: &Digest, done: u64, _total: Option<u64>) {
        if let Some((_, bars)) = &self.bars {
            if let Some(b) = bars.lock().ok().and_then(|b| b.get(digest).cloned()) {
                b.set_position(done);
            }
        }
    }

    fn blob_done(&self, digest: &Digest) {
        if let Some((m, bars)) = &self.bars {
            if let Some(b) = bars.lock().ok().and_then(|mut b| b.remove(digest)) {
                // A finished bar becomes a plain line above the running ones.
                b.finish_and_clear();
                let _ = m.println(format!("{} done", b.prefix()));
            }
        }
    }
}
