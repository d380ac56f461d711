//! Container names: validation of `--name` (Podman's rule) and generated `adjective_noun`
//! names for containers created without one. The word lists are vaina's own: adjectives of
//! character and nouns from rivers, boats and the sea.

use super::ContainerError;
use rand::Rng;

const ADJECTIVES: &[&str] = &[
    "agile",
    "amber",
    "ancient",
    "bold",
    "brave",
    "breezy",
    "bright",
    "calm",
    "candid",
    "careful",
    "cheerful",
    "clever",
    "cosy",
    "crisp",
    "curious",
    "daring",
    "dazzling",
    "eager",
    "earnest",
    "elegant",
    "fearless",
    "fierce",
    "fond",
    "frosty",
    "gallant",
    "gentle",
    "gifted",
    "glad",
    "golden",
    "graceful",
    "hardy",
    "hearty",
    "honest",
    "humble",
    "jolly",
    "keen",
    "kind",
    "lively",
    "loyal",
    "lucid",
    "merry",
    "mellow",
    "mighty",
    "modest",
    "nimble",
    "noble",
    "patient",
    "peaceful",
    "playful",
    "polite",
    "proud",
    "quick",
    "quiet",
    "radiant",
    "rapid",
    "restless",
    "rustic",
    "serene",
    "sharp",
    "shy",
    "silent",
    "sleepy",
    "smooth",
    "snowy",
    "sober",
    "solid",
    "spry",
    "steady",
    "stoic",
    "sturdy",
    "sunny",
    "swift",
    "tender",
    "tidy",
    "tranquil",
    "trusty",
    "upbeat",
    "valiant",
    "vivid",
    "wandering",
    "warm",
    "wary",
    "wise",
    "witty",
    "zealous",
];

const NOUNS: &[&str] = &[
    "anchor",
    "barge",
    "beacon",
    "breakwater",
    "buoy",
    "canal",
    "canoe",
    "cape",
    "channel",
    "compass",
    "coral",
    "cove",
    "current",
    "delta",
    "dinghy",
    "dock",
    "estuary",
    "ferry",
    "fjord",
    "galley",
    "gull",
    "harbour",
    "heron",
    "inlet",
    "island",
    "jetty",
    "kayak",
    "keel",
    "lagoon",
    "lighthouse",
    "mast",
    "meander",
    "mooring",
    "narrows",
    "oar",
    "otter",
    "paddle",
    "pelican",
    "pier",
    "punt",
    "quay",
    "raft",
    "rapids",
    "reed",
    "reef",
    "rudder",
    "sail",
    "sandbar",
    "schooner",
    "seal",
    "shoal",
    "skiff",
    "sloop",
    "spring",
    "starling",
    "stern",
    "strait",
    "stream",
    "tern",
    "tide",
    "tributary",
    "tugboat",
    "wave",
    "weir",
    "wharf",
    "yacht",
    "yawl",
];

/// A random `adjective_noun` name; from the tenth `attempt` on a random number is appended,
/// with more digits as attempts grow, so a store that has used every plain pair still gets
/// a free name quickly.
pub fn generate(attempt: u32) -> String {
    let mut rng = rand::rng();
    let mut name = format!(
        "{}_{}",
        ADJECTIVES[rng.random_range(0..ADJECTIVES.len())],
        NOUNS[rng.random_range(0..NOUNS.len())]
    );
    if attempt >= 10 {
        let digits = (attempt / 10).min(9);
        name.push_str(&rng.random_range(0..10u64.pow(digits)).to_string());
    }
    name
}

/// Podman's rule for names: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`.
pub fn validate(name: &str) -> Result<(), ContainerError> {
    let mut chars = name.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(())
    } else {
        Err(ContainerError::Invalid(
            "names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: invalid argument".to_string(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_names_are_valid() {
        for attempt in 0..50 {
            let n = generate(attempt);
            validate(&n).unwrap();
            assert_eq!(n.matches('_').count(), 1);
        }
        assert!(generate(35).ends_with(|c: char| c.is_ascii_digit()));
    }

    #[test]
    fn validation() {
        assert!(validate("web-1.a_b").is_ok());
        assert!(validate("").is_err());
        assert!(validate("-x").is_err());
        assert!(validate("a b").is_err());
    }
}
