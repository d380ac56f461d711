//! vaina's own pause program for infra containers and the local image that carries it.
//!
//! The program is 91 bytes of x86_64 machine code in a hand-made static ELF (one `PT_LOAD`
//! segment, no libc, no sections): it blocks SIGINT, SIGTERM and SIGCHLD, then waits for them
//! with `rt_sigtimedwait`. SIGCHLD reaps every exited child (it is PID 1 of the pod when the
//! PID namespace is shared); SIGINT or SIGTERM make it exit 0. Waiting explicitly matters: a
//! PID 1 without handlers never receives SIGTERM from inside its namespace, and blocked
//! signals are queued even for an init. Assembly (Intel syntax):
//!
//! ```text
//!     push 0x14002             ; sigset {SIGINT, SIGTERM, SIGCHLD} on the stack
//!     mov eax, 14              ; rt_sigprocmask(SIG_BLOCK, &set, NULL, 8)
//!     xor edi, edi
//!     mov rsi, rsp
//!     xor edx, edx
//!     mov r10d, 8
//!     syscall
//! wait:
//!     mov eax, 128             ; rt_sigtimedwait(&set, NULL, NULL, 8)
//!     mov rdi, rsp
//!     xor esi, esi
//!     xor edx, edx
//!     mov r10d, 8
//!     syscall
//!     cmp eax, 17              ; SIGCHLD: reap
//!     je reap
//!     test eax, eax            ; an error (EINTR): wait again
//!     js wait
//!     mov eax, 231             ; exit_group(0)
//!     xor edi, edi
//!     syscall
//! reap:
//!     mov eax, 61              ; wait4(-1, NULL, WNOHANG, NULL) while it returns a child
//!     mov edi, -1
//!     xor esi, esi
//!     mov edx, 1
//!     xor r10d, r10d
//!     syscall
//!     test eax, eax
//!     jg reap
//!     jmp wait
//! ```
//!
//! On other architectures the image carries catatonit (`-P`) from the host when installed.
//! The image is `localhost/vaina-pause:<vaina version>`, imported on first use from a tar
//! made in memory, dated at the Unix epoch so its ID is the same on every machine.

use crate::image::import::ImportOptions;
use crate::store::lock::FileLock;
use crate::{Engine, Result};

use super::PodError;

/// The x86_64 code above.
const PAUSE_X86_64: &[u8] = &[
    0x68, 0x02, 0x40, 0x01, 0x00, 0xb8, 0x0e, 0x00, 0x00, 0x00, 0x31, 0xff, 0x48, 0x89, 0xe6, 0x31,
    0xd2, 0x41, 0xba, 0x08, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xb8, 0x80, 0x00, 0x00, 0x00, 0x48, 0x89,
    0xe7, 0x31, 0xf6, 0x31, 0xd2, 0x41, 0xba, 0x08, 0x00, 0x00, 0x00, 0x0f, 0x05, 0x83, 0xf8, 0x11,
    0x74, 0x0d, 0x85, 0xc0, 0x78, 0xe3, 0xb8, 0xe7, 0x00, 0x00, 0x00, 0x31, 0xff, 0x0f, 0x05, 0xb8,
    0x3d, 0x00, 0x00, 0x00, 0xbf, 0xff, 0xff, 0xff, 0xff, 0x31, 0xf6, 0xba, 0x01, 0x00, 0x00, 0x00,
    0x45, 0x31, 0xd2, 0x0f, 0x05, 0x85, 0xc0, 0x7f, 0xe6, 0xeb, 0xbe,
];

/// Where the ELF is loaded.
const BASE: u64 = 0x40_0000;
const EHDR: usize = 64;
const PHDR: usize = 56;

/// The name of the pause image of this vaina version.
pub fn image_name() -> String {
    format!("localhost/vaina-pause:{}", env!("CARGO_PKG_VERSION"))
}

/// A static ELF executable (x86_64) whose only segment holds `code`, entered at its start.
pub fn elf_x86_64(code: &[u8]) -> Vec<u8> {
    let total = (EHDR + PHDR + code.len()) as u64;
    let mut v = Vec::with_capacity(total as usize);
    // e_ident: magic, 64-bit, little endian, version 1, System V ABI, padding.
    v.extend_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    v.extend_from_slice(&2u16.to_le_bytes()); // e_type: ET_EXEC
    v.extend_from_slice(&0x3eu16.to_le_bytes()); // e_machine: x86_64
    v.extend_from_slice(&1u32.to_le_bytes()); // e_version
    v.extend_from_slice(&(BASE + (EHDR + PHDR) as u64).to_le_bytes()); // e_entry
    v.extend_from_slice(&(EHDR as u64).to_le_bytes()); // e_phoff
    v.extend_from_slice(&0u64.to_le_bytes()); // e_shoff
    v.extend_from_slice(&0u32.to_le_bytes()); // e_flags
    v.extend_from_slice(&(EHDR as u16).to_le_bytes()); // e_ehsize
    v.extend_from_slice(&(PHDR as u16).to_le_bytes()); // e_phentsize
    v.extend_from_slice(&1u16.to_le_bytes()); // e_phnum
    v.extend_from_slice(&[0; 6]); // e_shentsize, e_shnum, e_shstrndx
    v.extend_from_slice(&1u32.to_le_bytes()); // p_type: PT_LOAD
    v.extend_from_slice(&5u32.to_le_bytes()); // p_flags: R + X
    v.extend_from_slice(&0u64.to_le_bytes()); // p_offset
    v.extend_from_slice(&BASE.to_le_bytes()); // p_vaddr
    v.extend_from_slice(&BASE.to_le_bytes()); // p_paddr
    v.extend_from_slice(&total.to_le_bytes()); // p_filesz
    v.extend_from_slice(&total.to_le_bytes()); // p_memsz
    v.extend_from_slice(&0x1000u64.to_le_bytes()); // p_align
    v.extend_from_slice(code);
    v
}

/// The pause program for this machine and the arguments that run it.
fn program() -> Result<(Vec<u8>, Vec<String>)> {
    if cfg!(target_arch = "x86_64") {
        return Ok((elf_x86_64(PAUSE_X86_64), vec!["/pause".into()]));
    }
    for p in ["/usr/libexec/podman/catatonit", "/usr/bin/catatonit"] {
        if let Ok(bytes) = std::fs::read(p) {
            return Ok((bytes, vec!["/pause".into(), "-P".into()]));
        }
    }
    Err(PodError::Invalid(
        "no pause program for this architecture: install catatonit or create the pod with --infra=false".into(),
    )
    .into())
}

/// A tar holding `/pause` (mode 0755).
fn rootfs_tar(program: &[u8]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(program.len() as u64);
    h.set_mode(0o755);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h.set_entry_type(tar::EntryType::Regular);
    let _ = b.append_data(&mut h, "pause", program);
    b.into_inner().unwrap_or_default()
}

impl Engine {
    /// The pause image's name, importing it first when the store lacks it.
    pub fn ensure_pause_image(&mut self) -> Result<String> {
        let name = image_name();
        if self.lookup_image(&name).is_ok() {
            return Ok(name);
        }
        let _lock = FileLock::exclusive(&self.paths.locks().join("pause-image.lock"))?;
        if self.lookup_image(&name).is_ok() {
            return Ok(name);
        }
        let (bytes, args) = program()?;
        let tar = rootfs_tar(&bytes);
        let cmd = serde_json::to_string(&args).unwrap_or_default();
        let opts = ImportOptions {
            changes: vec![format!("ENTRYPOINT {cmd}")],
            message: Some("vaina pause".into()),
            reference: Some(name.clone()),
            created: Some(std::time::UNIX_EPOCH),
            ..Default::default()
        };
        self.import_image(&mut tar.as_slice(), &opts)?;
        Ok(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elf_header_is_consistent() {
        let elf = elf_x86_64(PAUSE_X86_64);
        assert_eq!(&elf[..4], b"\x7fELF");
        assert_eq!(elf.len(), 64 + 56 + 91);
        let entry = u64::from_le_bytes(elf[24..32].try_into().unwrap());
        assert_eq!(entry, BASE + 120);
        let filesz = u64::from_le_bytes(elf[64 + 32..64 + 40].try_into().unwrap());
        assert_eq!(filesz as usize, elf.len());
    }

    /// Runs the program: it keeps running until SIGTERM, then exits 0.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn pause_waits_for_sigterm_and_exits_zero() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pause");
        std::fs::write(&p, elf_x86_64(PAUSE_X86_64)).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut child = std::process::Command::new(&p).spawn().unwrap();
        // Signal only once it waits in rt_sigtimedwait (128), after blocking its signals;
        // before that SIGTERM would kill it. (While it waits the kernel shows an empty
        // SigBlk: the awaited signals are unblocked for the wait.)
        let syscall_file = format!("/proc/{}/syscall", child.id());
        while !std::fs::read_to_string(&syscall_file)
            .unwrap_or_default()
            .starts_with("128 ")
        {
            std::thread::yield_now();
        }
        assert!(child.try_wait().unwrap().is_none());
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(0));
    }
}
