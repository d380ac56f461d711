//! Resource limits of the container process: containers.conf `default_ulimits` (Podman's
//! built-in default is nofile and nproc at 1048576) and `--ulimit`.
//!
//! A container never asks for more than the host allows: defaults are clamped silently to
//! the host's ceiling ([`super::HostFacts::rlimit_ceilings`]: the hard limit of this process,
//! or what CAP_SYS_RESOURCE permits), while an explicit `--ulimit` above it is an error up
//! front (Podman passes it on and the runtime fails with "operation not permitted").

use super::{HostFacts, SpecError};
use crate::container::options::parse::show_limit;
use crate::container::options::{CreateOptions, Ulimit};
use crate::Result;
use nix::sys::resource::Resource;
use oci_spec::runtime::{PosixRlimit, PosixRlimitBuilder, PosixRlimitType};
use std::collections::BTreeMap;
use std::str::FromStr;

/// `--ulimit` names and the resources they limit.
pub const RESOURCES: [(&str, Resource); 16] = [
    ("as", Resource::RLIMIT_AS),
    ("core", Resource::RLIMIT_CORE),
    ("cpu", Resource::RLIMIT_CPU),
    ("data", Resource::RLIMIT_DATA),
    ("fsize", Resource::RLIMIT_FSIZE),
    ("locks", Resource::RLIMIT_LOCKS),
    ("memlock", Resource::RLIMIT_MEMLOCK),
    ("msgqueue", Resource::RLIMIT_MSGQUEUE),
    ("nice", Resource::RLIMIT_NICE),
    ("nofile", Resource::RLIMIT_NOFILE),
    ("nproc", Resource::RLIMIT_NPROC),
    ("rss", Resource::RLIMIT_RSS),
    ("rtprio", Resource::RLIMIT_RTPRIO),
    ("rttime", Resource::RLIMIT_RTTIME),
    ("sigpending", Resource::RLIMIT_SIGPENDING),
    ("stack", Resource::RLIMIT_STACK),
];

/// The effective limits: defaults clamped, explicit ones checked, explicit winning by name.
pub fn effective(opts: &CreateOptions, host: &HostFacts) -> Result<Vec<Ulimit>> {
    let ceiling = |name: &str| host.rlimit_ceilings.get(name).copied().unwrap_or(u64::MAX);
    let mut out: BTreeMap<String, Ulimit> = BTreeMap::new();
    for u in &opts.default_ulimits {
        let max = ceiling(&u.name);
        let hard = u.hard.min(max);
        out.insert(u.name.clone(), Ulimit::new(&u.name, u.soft.min(hard), hard));
    }
    for u in &opts.ulimits {
        let max = ceiling(&u.name);
        if u.hard > max {
            return Err(SpecError::Invalid(format!(
                "ulimit option \"{}={}:{}\" exceeds the host's hard limit for RLIMIT_{}: {} > {}",
                u.name,
                show_limit(u.soft),
                show_limit(u.hard),
                u.name.to_ascii_uppercase(),
                show_limit(u.hard),
                show_limit(max)
            ))
            .into());
        }
        out.insert(u.name.clone(), u.clone());
    }
    Ok(out.into_values().collect())
}

/// The `process.rlimits` of the spec.
pub fn build(opts: &CreateOptions, host: &HostFacts) -> Result<Vec<PosixRlimit>> {
    effective(opts, host)?
        .into_iter()
        .map(|u| {
            let typ = PosixRlimitType::from_str(&format!("RLIMIT_{}", u.name.to_ascii_uppercase()))
                .map_err(|_| SpecError::Invalid(format!("invalid ulimit type: {}", u.name)))?;
            Ok(PosixRlimitBuilder::default()
                .typ(typ)
                .soft(u.soft)
                .hard(u.hard)
                .build()
                .map_err(SpecError::from)?)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::options::ContainerDefaults;

    #[test]
    fn defaults_are_clamped_to_the_real_host() {
        let host = HostFacts::probe();
        let opts = CreateOptions::with_defaults(&ContainerDefaults::default());
        let v = effective(&opts, &host).unwrap();
        let nofile = v.iter().find(|u| u.name == "nofile").unwrap();
        let ceiling = host.rlimit_ceilings["nofile"];
        assert_eq!(nofile.hard, ceiling.min(1_048_576));
        assert!(nofile.soft <= nofile.hard);
        // What we ask for is what this very process could set.
        let (_, hard) = nix::sys::resource::getrlimit(Resource::RLIMIT_NOFILE).unwrap();
        let caps = std::fs::read_to_string("/proc/self/status").unwrap();
        let sys_resource = caps
            .lines()
            .find(|l| l.starts_with("CapEff"))
            .and_then(|l| u64::from_str_radix(l.split_whitespace().nth(1)?, 16).ok())
            .is_some_and(|m| m & (1 << 24) != 0);
        if !sys_resource {
            assert!(nofile.hard <= hard, "{} > host hard {hard}", nofile.hard);
        }
        let spec = build(&opts, &host).unwrap();
        assert!(spec
            .iter()
            .any(|r| r.typ() == PosixRlimitType::RlimitNofile));
        assert!(spec.iter().any(|r| r.typ() == PosixRlimitType::RlimitNproc));
    }

    #[test]
    fn explicit_limits_above_the_ceiling_fail() {
        let mut host = HostFacts::probe();
        host.rlimit_ceilings.insert("nofile".into(), 20000);
        let opts = CreateOptions {
            ulimits: vec![Ulimit::new("nofile", 30000, 30000)],
            ..Default::default()
        };
        let e = effective(&opts, &host).unwrap_err().to_string();
        assert_eq!(
            e,
            "ulimit option \"nofile=30000:30000\" exceeds the host's hard limit for RLIMIT_NOFILE: 30000 > 20000"
        );
        let opts = CreateOptions {
            ulimits: vec![Ulimit::new("nofile", 100, 200)],
            default_ulimits: vec![
                Ulimit::new("nofile", 1_048_576, 1_048_576),
                Ulimit::new("nproc", 1_048_576, 1_048_576),
            ],
            ..Default::default()
        };
        host.rlimit_ceilings.insert("nproc".into(), 96365);
        let v = effective(&opts, &host).unwrap();
        assert_eq!(
            v,
            vec![
                Ulimit::new("nofile", 100, 200),
                Ulimit::new("nproc", 96365, 96365)
            ]
        );
    }
}
