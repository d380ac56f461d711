//! The terminal side of short-name resolution: when registries.conf's `short-name-mode`
//! asks for a choice among several search registries, `pull` (and `run`, `create`) ask on a
//! terminal; without one, enforcing mode fails with Podman's message and permissive mode
//! tries every candidate. The library never prompts ([`libvaina::reference::Resolution`]).

use libvaina::config::ConfigError;
use libvaina::reference::{Reference, Resolution};
use std::io::{BufRead, IsTerminal, Write};

/// The candidates to try, in order, and whether the user picked one at a prompt (then the
/// caller records the alias after a successful pull: [`record_choice`]).
pub struct Choice {
    pub candidates: Vec<Reference>,
    pub prompted: bool,
}

/// Decides the candidates for `res`, asking on the terminal when the mode wants a choice and
/// stdin and stdout are terminals.
pub fn choose(res: &Resolution) -> anyhow::Result<Choice> {
    let tty = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    if tty && (res.needs_choice || res.may_prompt) {
        let stdin = std::io::stdin();
        let mut input = stdin.lock();
        let mut out = std::io::stdout().lock();
        let picked = prompt(res, &mut input, &mut out)?;
        return Ok(Choice {
            candidates: vec![picked],
            prompted: true,
        });
    }
    Ok(Choice {
        candidates: res
            .without_prompt()
            .map_err(libvaina::Error::from)?
            .to_vec(),
        prompted: false,
    })
}

/// Asks which candidate to use; an empty answer takes the first.
pub fn prompt(
    res: &Resolution,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> anyhow::Result<Reference> {
    writeln!(out, "? Please select an image:")?;
    for (i, c) in res.candidates.iter().enumerate() {
        writeln!(out, "  {}) {c}", i + 1)?;
    }
    loop {
        write!(out, "Enter a number [1]: ")?;
        out.flush()?;
        let mut line = String::new();
        if input.read_line(&mut line)? == 0 {
            return Err(libvaina::Error::from(ConfigError::CannotPrompt).into());
        }
        let line = line.trim();
        if line.is_empty() {
            return Ok(res.candidates[0].clone());
        }
        match line.parse::<usize>() {
            Ok(n) if n >= 1 && n <= res.candidates.len() => {
                return Ok(res.candidates[n - 1].clone())
            }
            _ => writeln!(
                out,
                "Please enter a number from 1 to {}",
                res.candidates.len()
            )?,
        }
    }
}

/// After a successful pull of a candidate chosen at a prompt, remembers the choice in the
/// alias cache so the next pull of the same short name does not ask.
pub fn record_choice(
    engine: &libvaina::Engine,
    res: &Resolution,
    choice: &Choice,
    pulled: &Reference,
) -> anyhow::Result<()> {
    if choice.prompted && res.records_choice() {
        engine.record_short_name_alias(&res.short_name, pulled)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use libvaina::config::RegistriesConf;
    use libvaina::reference::{resolve, AliasCache};
    use std::path::Path;

    fn resolution(mode: &str) -> Resolution {
        let mut c = RegistriesConf::default();
        c.merge_file(
            Path::new("/r.conf"),
            &format!("unqualified-search-registries = [\"a.io\", \"b.io\"]\nshort-name-mode = \"{mode}\"\n"),
        )
        .unwrap();
        resolve(&c, &AliasCache::default(), &Reference::parse("x").unwrap()).unwrap()
    }

    #[test]
    fn prompt_picks_by_number() {
        let r = resolution("enforcing");
        let mut out = Vec::new();
        let got = prompt(&r, &mut &b"7\n2\n"[..], &mut out).unwrap();
        assert_eq!(got.to_string(), "b.io/x:latest");
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("1) a.io/x:latest"), "{text}");
        assert!(text.contains("from 1 to 2"), "{text}");
        let got = prompt(&r, &mut &b"\n"[..], &mut Vec::new()).unwrap();
        assert_eq!(got.to_string(), "a.io/x:latest");
        assert!(prompt(&r, &mut &b""[..], &mut Vec::new()).is_err());
    }

    #[test]
    fn no_terminal() {
        // `cargo test` runs without a terminal on stdin in CI; skip when one is attached.
        if std::io::stdin().is_terminal() && std::io::stdout().is_terminal() {
            eprintln!("skipped: needs a non-terminal stdin/stdout");
            return;
        }
        let e = choose(&resolution("enforcing")).err().unwrap().to_string();
        assert_eq!(
            e,
            "short-name resolution enforced but cannot prompt without a TTY"
        );
        let c = choose(&resolution("permissive")).unwrap();
        assert_eq!(c.candidates.len(), 2);
        assert!(!c.prompted);
    }
}
