//! Basic command-line behaviour: version, unknown commands.

mod common;

use common::TestEnv;

#[test]
fn version_prints() {
    let env = TestEnv::new();
    let out = env.ok(["version"]);
    assert!(out.contains(env!("CARGO_PKG_VERSION")), "{out}");
}

#[test]
fn unknown_command_is_an_error() {
    let env = TestEnv::new();
    let err = env.fails(125, ["no-such-command"]);
    assert!(err.starts_with("Error: "), "{err}");
    let err = env.fails(125, ["version", "--no-such-flag"]);
    assert!(err.contains("--no-such-flag"), "{err}");
}
