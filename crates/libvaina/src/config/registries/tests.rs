//! Unit tests of registries.conf loading, merging, matching and rewriting.

use super::*;

fn conf(text: &str) -> RegistriesConf {
    let mut c = RegistriesConf::default();
    c.merge_file(Path::new("/t/registries.conf"), text)
        .unwrap_or_else(|e| panic!("{e}"));
    c
}

fn refr(s: &str) -> Reference {
    Reference::parse(s).unwrap()
}

#[test]
fn prefix_matching() {
    assert_eq!(
        prefix_match_len("example.com/a/b:t", "example.com"),
        Some(11)
    );
    assert_eq!(
        prefix_match_len("example.com/a/b:t", "example.com/a"),
        Some(13)
    );
    assert_eq!(prefix_match_len("example.com/ab", "example.com/a"), None);
    assert_eq!(prefix_match_len("example.community/x", "example.com"), None);
    assert_eq!(prefix_match_len("example.com", "example.com"), Some(11));
    assert_eq!(
        prefix_match_len("a.example.com/x", "*.example.com"),
        Some(13)
    );
    assert_eq!(
        prefix_match_len("a.b.example.com:5000/x", "*.example.com"),
        Some(15)
    );
    assert_eq!(prefix_match_len("example.com/x", "*.example.com"), None);
    assert_eq!(
        prefix_match_len("x.com/a.example.com", "*.example.com"),
        None
    );
}

#[test]
fn longest_prefix_wins_and_rewrites() {
    let c = conf(
        r#"
[[registry]]
location = "example.com"
insecure = true

[[registry]]
prefix = "example.com/foo"
location = "internal:5000/bar"

[[registry.mirror]]
location = "mirror.local/m"
insecure = true

[[registry.mirror]]
location = "digests.local"
pull-from-mirror = "digest-only"
"#,
    );
    let src = c.pull_sources(&refr("example.com/foo/app:1")).unwrap();
    let got: Vec<_> = src
        .iter()
        .map(|s| (s.reference.to_string(), s.insecure, s.mirror))
        .collect();
    assert_eq!(
        got,
        [
            ("mirror.local/m/app:1".to_string(), true, true),
            ("internal:5000/bar/app:1".to_string(), false, false),
        ]
    );
    let d = format!("example.com/foo/app@sha256:{}", "a".repeat(64));
    let src = c.pull_sources(&refr(&d)).unwrap();
    assert_eq!(src.len(), 3);
    assert!(src[1]
        .reference
        .to_string()
        .starts_with("digests.local/app@"));
    let src = c.pull_sources(&refr("example.com/other:2")).unwrap();
    assert_eq!(src.len(), 1);
    assert!(src[0].insecure);
    assert_eq!(src[0].reference.to_string(), "example.com/other:2");
    assert!(c.is_insecure("example.com"));
    assert!(!c.is_insecure("example.org"));
    let src = c.pull_sources(&refr("quay.io/x")).unwrap();
    assert_eq!(src[0].reference, refr("quay.io/x"));
}

#[test]
fn blocked_and_wildcards() {
    let c = conf(
        r#"
[[registry]]
prefix = "*.blocked.io"
blocked = true

[[registry]]
location = "localhost:5000"
insecure = true
"#,
    );
    let e = c.pull_sources(&refr("a.blocked.io/x:1")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "initializing source docker://a.blocked.io/x:1: registry *.blocked.io is blocked in "
    );
    assert!(c.is_insecure("localhost:5000"));
    assert!(!c.is_insecure("localhost"));
    assert!(c.pull_sources(&refr("busybox")).is_err());
}

#[test]
fn docker_io_library_prefix() {
    let c =
        conf("[[registry]]\nprefix = \"docker.io/library\"\nlocation = \"127.0.0.1:5000/hub\"\n");
    let s = c.pull_sources(&refr("docker.io/busybox")).unwrap();
    assert_eq!(s[0].reference.to_string(), "127.0.0.1:5000/hub/busybox");
}

#[test]
fn drop_ins_override() {
    let d = tempfile::tempdir().unwrap();
    let main = d.path().join("registries.conf");
    let dir = d.path().join("registries.conf.d");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(
        &main,
        r#"unqualified-search-registries = ["a.io", "b.io"]
short-name-mode = "enforcing"
[aliases]
"x" = "a.io/x"
"y" = "a.io/y"
[[registry]]
location = "a.io"
insecure = true
"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("20-late.conf"),
        "unqualified-search-registries = [\"c.io\"]\n[aliases]\n\"y\" = \"\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("10-early.conf"),
        "short-name-mode = \"disabled\"\n[aliases]\n\"x\" = \"b.io/x\"\n[[registry]]\nlocation = \"a.io\"\n",
    )
    .unwrap();
    let c = RegistriesConf::load_from(&main, true, std::slice::from_ref(&dir)).unwrap();
    assert_eq!(c.unqualified_search_registries, ["c.io"]);
    assert_eq!(c.search_origin, dir.join("20-late.conf"));
    assert_eq!(c.short_name_mode, ShortNameMode::Disabled);
    assert_eq!(c.aliases["x"].value.to_string(), "b.io/x");
    assert!(!c.aliases.contains_key("y"));
    assert!(!c.is_insecure("a.io"));
    assert_eq!(c.files.len(), 3);
}

#[test]
fn file_locations() {
    use std::collections::HashMap;
    let d = tempfile::tempdir().unwrap();
    let mut env: HashMap<&str, PathBuf> = HashMap::new();
    env.insert("XDG_CONFIG_HOME", d.path().to_path_buf());
    let sys = PathBuf::from(SYSTEM_REGISTRIES_CONF);
    let sys_dir = PathBuf::from(SYSTEM_REGISTRIES_CONF_DIR);
    let user_dir = d.path().join("containers/registries.conf.d");
    assert_eq!(
        RegistriesConf::locations(&env),
        (sys.clone(), false, vec![sys_dir.clone(), user_dir.clone()])
    );
    // A per-user main file replaces the system one and its drop-ins.
    let user_main = d.path().join("containers/registries.conf");
    std::fs::create_dir_all(user_main.parent().unwrap()).unwrap();
    std::fs::write(&user_main, "").unwrap();
    assert_eq!(
        RegistriesConf::locations(&env),
        (user_main, false, vec![user_dir.clone()])
    );
    env.insert("CONTAINERS_REGISTRIES_CONF", "/x/r.conf".into());
    assert_eq!(
        RegistriesConf::locations(&env),
        ("/x/r.conf".into(), true, vec![sys_dir, user_dir])
    );
    env.insert("CONTAINERS_REGISTRIES_CONF_DIR", "/x/d".into());
    assert_eq!(RegistriesConf::locations(&env).2, [PathBuf::from("/x/d")]);
}

#[test]
fn missing_files() {
    let d = tempfile::tempdir().unwrap();
    let main = d.path().join("nope.conf");
    let c = RegistriesConf::load_from(&main, false, &[]).unwrap();
    assert!(c.unqualified_search_registries.is_empty());
    assert_eq!(c.short_name_mode, ShortNameMode::Permissive);
    let e = RegistriesConf::load_from(&main, true, &[]).unwrap_err();
    assert!(e.to_string().contains("no such file"), "{e}");
}

#[test]
fn v1_format() {
    let c = conf(
        "[registries.search]\nregistries = [\"a.io\"]\n[registries.insecure]\nregistries = [\"b.io:5000\"]\n[registries.block]\nregistries = [\"c.io\"]\n",
    );
    assert_eq!(c.unqualified_search_registries, ["a.io"]);
    assert!(c.is_insecure("b.io:5000"));
    assert!(c.is_blocked("c.io"));
}

#[test]
fn bad_files() {
    let mut c = RegistriesConf::default();
    for text in [
        "short-name-mode = \"sometimes\"",
        "[[registry]]\nprefix = \"x.io\"\n",
        "[[registry]]\nprefix = \"*.x.io\"\nlocation = \"y.io\"\n",
        "[aliases]\n\"a.io/x\" = \"a.io/x\"\n",
        "[aliases]\n\"x\" = \"x\"\n",
        "[aliases]\n\"x:1\" = \"a.io/x\"\n",
        "[[registry]]\nlocation = \"a.io\"\n[[registry]]\nlocation = \"a.io\"\n",
        "unqualified-search-registries = \"a.io\"",
        "[[registry]\n",
    ] {
        let e = c
            .merge_file(Path::new("/t/r.conf"), text)
            .expect_err(text)
            .to_string();
        assert!(
            e.starts_with("loading registries configuration \"/t/r.conf\": "),
            "{e}"
        );
        assert!(!e.contains('\n'), "{e}");
    }
}
