//! A pod's state, derived from its containers' states (infra included) by Podman's rule:
//! all running is Running, some running is Degraded, all paused is Paused, all exited is
//! Exited, some exited is Stopped, anything odd is Error, otherwise (or no containers)
//! Created.

use crate::container::ContainerState;

/// Podman's pod states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodState {
    Created,
    Running,
    Degraded,
    Paused,
    Exited,
    Stopped,
    Error,
}

impl PodState {
    /// Podman's spelling (`pod ps` STATUS, `pod inspect` State).
    pub fn as_str(self) -> &'static str {
        match self {
            PodState::Created => "Created",
            PodState::Running => "Running",
            PodState::Degraded => "Degraded",
            PodState::Paused => "Paused",
            PodState::Exited => "Exited",
            PodState::Stopped => "Stopped",
            PodState::Error => "Error",
        }
    }

    /// The state of a pod whose containers are in `states`.
    pub fn derive(states: &[ContainerState]) -> PodState {
        let n = states.len();
        if n == 0 {
            return PodState::Created;
        }
        let count = |f: &dyn Fn(ContainerState) -> bool| states.iter().filter(|s| f(**s)).count();
        let running = count(&|s| s == ContainerState::Running);
        let paused = count(&|s| s == ContainerState::Paused);
        let exited = count(&|s| s == ContainerState::Exited);
        // vaina's transient `initialized` counts as created; `stopping` is neither (Podman
        // counts it as an error state too).
        let errored = count(&|s| s == ContainerState::Stopping);
        if running == n {
            PodState::Running
        } else if running > 0 {
            PodState::Degraded
        } else if paused == n {
            PodState::Paused
        } else if exited == n {
            PodState::Exited
        } else if exited > 0 {
            PodState::Stopped
        } else if errored > 0 {
            PodState::Error
        } else {
            PodState::Created
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ContainerState::*;

    #[test]
    fn podman_rule() {
        assert_eq!(PodState::derive(&[]), PodState::Created);
        assert_eq!(PodState::derive(&[Running, Running]), PodState::Running);
        assert_eq!(PodState::derive(&[Running, Exited]), PodState::Degraded);
        assert_eq!(PodState::derive(&[Running, Created]), PodState::Degraded);
        assert_eq!(PodState::derive(&[Paused, Paused]), PodState::Paused);
        assert_eq!(PodState::derive(&[Exited, Exited]), PodState::Exited);
        assert_eq!(PodState::derive(&[Exited, Created]), PodState::Stopped);
        assert_eq!(PodState::derive(&[Created, Initialized]), PodState::Created);
        assert_eq!(PodState::derive(&[Stopping, Created]), PodState::Error);
    }
}
