//! Registry authentication and TLS, end to end: docker-registry over TLS with htpasswd basic
//! auth, docker-registry behind a JWT token server, and the fake registry's bearer flow;
//! `vaina login/logout` and `search`.

mod common;

use common::fake_registry::{BearerAuth, FakeRegistry};
use common::fixtures::{self, ImageSpec};
use common::registry::*;
use common::TestEnv;
use libvaina::registry::client::ClientOptions;
use libvaina::registry::{Credentials, Platform, RegistryError};
use std::path::Path;

#[test]
fn tls_registry_with_basic_auth() {
    require_programs!("docker-registry", "skopeo", "openssl", "htpasswd");
    let reg = Registry::start_tls("alice", "s3cret");
    let src = tempfile::tempdir().unwrap();
    fixtures::write_oci_image(src.path(), "one", &ImageSpec::busybox());
    reg.push_oci(src.path(), "one", "private/bb:1");
    let reference = format!("{}/private/bb:1", reg.host);
    let host = Platform::host();
    let store = tempfile::tempdir().unwrap();
    let good = Credentials::parse("alice:s3cret").unwrap();

    // Verified with the CA from --cert-dir and the right password.
    let opts = ClientOptions {
        insecure: false,
        cert_dir: reg.cert_dir.clone(),
        creds: Some(good.clone()),
    };
    fetch(store.path(), &reference, opts.clone(), &host).unwrap();
    // Without credentials: 401.
    let err = fetch(
        store.path(),
        &reference,
        ClientOptions {
            creds: None,
            ..opts.clone()
        },
        &host,
    )
    .unwrap_err();
    assert!(
        matches!(err.root(), RegistryError::Unauthorized(_)),
        "{err}"
    );
    // Without the CA the certificate is refused; insecure accepts it.
    let err = fetch(
        store.path(),
        &reference,
        ClientOptions {
            cert_dir: Some(store.path().join("no-certs")),
            ..opts.clone()
        },
        &host,
    )
    .unwrap_err();
    assert!(
        err.to_string().to_lowercase().contains("certificate"),
        "{err}"
    );
    fetch(
        store.path(),
        &reference,
        ClientOptions {
            insecure: true,
            cert_dir: None,
            creds: Some(good),
        },
        &host,
    )
    .unwrap();
}

fn bearer_fake(src: &Path) -> FakeRegistry {
    let fake = FakeRegistry::start(Some(BearerAuth {
        user: "bob".into(),
        password: "pw".into(),
        token: "tok-123".into(),
    }));
    fake.serve_layout(src, "one", "app");
    fake
}

#[test]
fn bearer_token_flow() {
    let src = tempfile::tempdir().unwrap();
    fixtures::write_oci_image(src.path(), "one", &ImageSpec::busybox());
    let fake = bearer_fake(src.path());
    let reference = format!("{}/app:one", fake.host);
    let store = tempfile::tempdir().unwrap();
    let opts = |creds: Option<&str>| ClientOptions {
        insecure: true,
        cert_dir: None,
        creds: creds.map(|c| Credentials::parse(c).unwrap()),
    };
    fetch(
        store.path(),
        &reference,
        opts(Some("bob:pw")),
        &Platform::host(),
    )
    .unwrap();
    // One token for the whole pull (cached per scope).
    let tokens = fake
        .requests()
        .iter()
        .filter(|r| r.starts_with("GET /token"))
        .count();
    assert_eq!(tokens, 1, "{:?}", fake.requests());
    assert!(fake
        .requests()
        .iter()
        .any(|r| r.contains("scope=repository%3Aapp%3Apull")
            || r.contains("scope=repository:app:pull")));
    let err = fetch(
        store.path(),
        &reference,
        opts(Some("bob:wrong")),
        &Platform::host(),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("invalid username/password"),
        "{err}"
    );
}

#[test]
fn login_logout_against_tls_registry() {
    require_programs!("docker-registry", "openssl", "htpasswd");
    let reg = Registry::start_tls("alice", "s3cret");
    let env = TestEnv::new();
    let cert_dir = format!("--cert-dir={}", reg.cert_dir.as_ref().unwrap().display());
    let authfile = env.config.join("auth.json");

    let err = env.fails(
        125,
        ["login", &cert_dir, "-u", "alice", "-p", "wrong", &reg.host],
    );
    assert!(
        err.contains(&format!("logging into \"{}\"", reg.host))
            && err.contains("invalid username/password"),
        "{err}"
    );
    assert!(!authfile.exists());

    let out = env.ok(["login", &cert_dir, "-u", "alice", "-p", "s3cret", &reg.host]);
    assert_eq!(out, "Login Succeeded!\n");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&authfile).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let auth: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&authfile).unwrap()).unwrap();
    assert_eq!(auth["auths"][&reg.host]["auth"], "YWxpY2U6czNjcmV0");
    assert_eq!(env.ok(["login", "--get-login", &reg.host]), "alice\n");

    // --password-stdin
    let mut c = env.cmd([
        "login",
        &cert_dir,
        "-u",
        "alice",
        "--password-stdin",
        &reg.host,
    ]);
    c.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"s3cret\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    assert_eq!(
        env.ok(["logout", &reg.host]),
        format!("Removed login credentials for {}\n", reg.host)
    );
    let err = env.fails(125, ["logout", &reg.host]);
    assert!(
        err.contains(&format!("not logged into {}", reg.host)),
        "{err}"
    );
    let err = env.fails(125, ["login", "--get-login", &reg.host]);
    assert!(err.contains("not logged into"), "{err}");
    assert_eq!(
        env.ok(["logout", "-a"]),
        "Removed login credentials for all registries\n"
    );
}

#[test]
fn login_with_bearer_token() {
    let src = tempfile::tempdir().unwrap();
    fixtures::write_oci_image(src.path(), "one", &ImageSpec::busybox());
    let fake = bearer_fake(src.path());
    let env = TestEnv::new();
    env.set_registries_conf(&fake.insecure_conf());
    assert_eq!(
        env.ok(["login", "-u", "bob", "-p", "pw", &fake.host]),
        "Login Succeeded!\n"
    );
    let err = env.fails(125, ["login", "-u", "bob", "-p", "bad", &fake.host]);
    assert!(err.contains("invalid username/password"), "{err}");
}

#[test]
fn search_uses_the_catalog() {
    require_programs!("docker-registry", "skopeo");
    let reg = Registry::start();
    let src = tempfile::tempdir().unwrap();
    fixtures::write_oci_image(src.path(), "one", &ImageSpec::busybox());
    reg.push_oci(src.path(), "one", "tools/busybox:1");
    reg.push_oci(src.path(), "one", "other:1");
    let env = TestEnv::new();
    let out = env.ok([
        "search",
        "--tls-verify=false",
        &format!("{}/busy", reg.host),
    ]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with("NAME") && lines[0].contains("DESCRIPTION"),
        "{out}"
    );
    assert!(
        lines[1].starts_with(&format!("{}/tools/busybox", reg.host)),
        "{out}"
    );
    let json = env.ok([
        "search",
        "--tls-verify=false",
        "--format=json",
        &format!("{}/o", reg.host),
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let names: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["Name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{json}");
    let tags = env.ok([
        "search",
        "--tls-verify=false",
        "--list-tags",
        &format!("{}/tools/busybox", reg.host),
    ]);
    assert_eq!(
        tags.lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .collect::<Vec<_>>(),
        vec![
            vec!["NAME", "TAG"],
            vec![&format!("{}/tools/busybox", reg.host), "1"]
        ]
    );
    // A registry without a catalog: a clear message.
    let fake = FakeRegistry::start(None);
    let err = env.fails(
        125,
        ["search", "--tls-verify=false", &format!("{}/x", fake.host)],
    );
    assert!(err.contains("couldn't search registry"), "{err}");
}

#[test]
fn bearer_tokens_from_a_token_server_with_docker_registry() {
    require_programs!("docker-registry", "skopeo", "openssl");
    let reg = Registry::start_token("carol", "tok-pw");
    let src = tempfile::tempdir().unwrap();
    fixtures::write_oci_image(src.path(), "one", &ImageSpec::busybox());
    reg.push_oci(src.path(), "one", "team/bb:1");
    let env = env_for(&reg.insecure_conf());
    let image = format!("{}/team/bb:1", reg.host);
    // Anonymous: the token server refuses, the pull fails cleanly.
    assert_pull_fails(&env, &image, &[], "authentication required");
    // login checks the credentials through the token flow, then pull and push use auth.json.
    let err = env.fails(125, ["login", "-u", "carol", "-p", "nope", &reg.host]);
    assert!(err.contains("invalid username/password"), "{err}");
    assert_eq!(
        env.ok(["login", "-u", "carol", "-p", "tok-pw", &reg.host]),
        "Login Succeeded!\n"
    );
    let id = env.ok(["pull", "-q", &image]);
    assert_eq!(id.trim().len(), 64);
    env.ok(["push", "-q", &image, &format!("{}/team/copy:1", reg.host)]);
    let env2 = env_for(&reg.insecure_conf());
    let id2 = env2.ok([
        "pull",
        "-q",
        "--creds=carol:tok-pw",
        &format!("{}/team/copy:1", reg.host),
    ]);
    assert_eq!(id, id2);
}
