//! Dependencies between containers (issue 3): a container that joined another's namespaces
//! depends on it, so `rm` (even `-f`) of the other is refused with Podman's wording and
//! leaves the store unchanged, and `rm --depend` removes the dependents first, deepest first.
//! Also `ps --filter health=`, which with no healthchecks selects everything for `none` only.

mod common;

use common::TestEnv;

fn id_of(env: &TestEnv, name: &str) -> String {
    env.ok_trim(["inspect", "--format", "{{.Id}}", name])
}

#[test]
fn rm_refuses_dependencies_and_depend_removes_dependents_first() {
    require_root!();
    let (env, img) = TestEnv::with_busybox();
    env.ok(["run", "-d", "--name", "a", img, "sleep", "1000"]);
    env.ok([
        "run",
        "-d",
        "--name",
        "b",
        "--pid",
        "container:a",
        img,
        "sleep",
        "1000",
    ]);
    env.ok(["create", "--name", "c", "--uts", "container:b", img, "true"]);
    let (a, b, c) = (id_of(&env, "a"), id_of(&env, "b"), id_of(&env, "c"));
    let deps = |n: &str| -> Vec<String> {
        let out = env.ok(["inspect", n]);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        serde_json::from_value(v[0]["Dependencies"].clone()).unwrap()
    };
    assert_eq!(deps("b"), vec![a.clone()]);
    assert_eq!(deps("c"), vec![b.clone()]);
    assert!(deps("a").is_empty());

    let before = env.store_snapshot();
    for args in [
        vec!["rm", "a"],
        vec!["rm", "-f", "a"],
        vec!["rm", "-f", "b"],
    ] {
        let err = env.fails(125, &args);
        let (who, dependent) = if args.last() == Some(&"a") {
            (&a, &b)
        } else {
            (&b, &c)
        };
        assert_eq!(
            err.trim(),
            format!(
                "Error: container {who} has dependent containers which must be removed \
                 before it: {dependent}: container already exists"
            )
        );
    }
    assert_eq!(before, env.store_snapshot(), "store unchanged");
    assert_eq!(env.ok(["ps", "-q"]).lines().count(), 2);

    let out = env.ok(["rm", "-f", "--depend", "a"]);
    assert_eq!(out.lines().collect::<Vec<_>>(), [&c, &b, &a]);
    assert_eq!(env.ok(["ps", "-a", "-q"]), "");
}

#[test]
fn rm_depend_of_a_leaf_removes_only_it() {
    require_root!();
    let (env, img) = TestEnv::with_busybox();
    env.ok(["run", "-d", "--name", "a", img, "sleep", "1000"]);
    env.ok(["create", "--name", "b", "--ipc", "container:a", img, "true"]);
    let b = id_of(&env, "b");
    assert_eq!(env.ok(["rm", "--depend", "b"]).trim(), b);
    // With its dependent gone, the container is removable as usual.
    env.ok(["rm", "-f", "a"]);
    assert_eq!(env.ok(["ps", "-a", "-q"]), "");
}

#[test]
fn ps_filter_health() {
    require_root!();
    let (env, img) = TestEnv::with_busybox();
    env.ok(["create", "--name", "x", img, "true"]);
    let names = |v: &str| env.ok(["ps", "-a", "--filter", v, "--format", "{{.Names}}"]);
    assert_eq!(names("health=none").trim(), "x");
    for v in ["healthy", "unhealthy", "starting", "bogus"] {
        assert_eq!(names(&format!("health={v}")), "", "health={v}");
    }
    env.ok(["rm", "x"]);
}
