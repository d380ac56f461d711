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

#[test]
fn missing_arguments_are_named_on_one_line() {
    let env = TestEnv::new();
    let err = env.fails(125, ["cp"]);
    let first = err.lines().next().unwrap();
    assert_eq!(
        first,
        "Error: the following required arguments were not provided: <SRC_PATH>, <DEST_PATH>"
    );
    let err = env.fails(125, ["export"]);
    assert!(
        err.lines().next().unwrap().ends_with("<CONTAINER>"),
        "{err}"
    );
}

#[test]
fn command_group_without_command_is_an_error() {
    let env = TestEnv::new();
    let err = env.fails(125, ["pod"]);
    assert_eq!(err.trim(), "Error: missing command 'vaina pod COMMAND'");
    let err = env.fails(125, ["network", "--log-level", "warn"]);
    assert_eq!(err.trim(), "Error: missing command 'vaina network COMMAND'");
}
