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
//! The aarch64 program is the same, instruction for instruction (`PAUSE_AARCH64`, syscalls
//! 135, 137, 260 and 94 through `svc #0`). On other architectures the image carries
//! catatonit (`-P`) from the host when installed.
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

/// The aarch64 code (assembled with binutils, tested under qemu-aarch64):
///
/// ```text
///     sub sp, sp, #16
///     mov x0, #0x4002 ; movk x0, #0x1, lsl #16 ; str x0, [sp]
///     mov x0, #0 ; mov x1, sp ; mov x2, #0 ; mov x3, #8 ; mov x8, #135 ; svc #0
/// wait:
///     mov x0, sp ; mov x1, #0 ; mov x2, #0 ; mov x3, #8 ; mov x8, #137 ; svc #0
///     cmp x0, #17 ; b.eq reap
///     cmp x0, #0 ; b.lt wait
///     mov x0, #0 ; mov x8, #94 ; svc #0
/// reap:
///     mov x0, #-1 ; mov x1, #0 ; mov x2, #1 ; mov x3, #0 ; mov x8, #260 ; svc #0
///     cmp x0, #0 ; b.gt reap
///     b wait
/// ```
const PAUSE_AARCH64: &[u8] = &[
    0xff, 0x43, 0x00, 0xd1, 0x40, 0x00, 0x88, 0xd2, 0x20, 0x00, 0xa0, 0xf2, 0xe0, 0x03, 0x00, 0xf9,
    0x00, 0x00, 0x80, 0xd2, 0xe1, 0x03, 0x00, 0x91, 0x02, 0x00, 0x80, 0xd2, 0x03, 0x01, 0x80, 0xd2,
    0xe8, 0x10, 0x80, 0xd2, 0x01, 0x00, 0x00, 0xd4, 0xe0, 0x03, 0x00, 0x91, 0x01, 0x00, 0x80, 0xd2,
    0x02, 0x00, 0x80, 0xd2, 0x03, 0x01, 0x80, 0xd2, 0x28, 0x11, 0x80, 0xd2, 0x01, 0x00, 0x00, 0xd4,
    0x1f, 0x44, 0x00, 0xf1, 0xc0, 0x00, 0x00, 0x54, 0x1f, 0x00, 0x00, 0xf1, 0xeb, 0xfe, 0xff, 0x54,
    0x00, 0x00, 0x80, 0xd2, 0xc8, 0x0b, 0x80, 0xd2, 0x01, 0x00, 0x00, 0xd4, 0x00, 0x00, 0x80, 0x92,
    0x01, 0x00, 0x80, 0xd2, 0x22, 0x00, 0x80, 0xd2, 0x03, 0x00, 0x80, 0xd2, 0x88, 0x20, 0x80, 0xd2,
    0x01, 0x00, 0x00, 0xd4, 0x1f, 0x00, 0x00, 0xf1, 0x2c, 0xff, 0xff, 0x54, 0xeb, 0xff, 0xff, 0x17,
];

/// ELF machine numbers.
const EM_X86_64: u16 = 0x3e;
const EM_AARCH64: u16 = 0xb7;

/// Where the ELF is loaded.
const BASE: u64 = 0x40_0000;
const EHDR: usize = 64;
const PHDR: usize = 56;

/// The name of the pause image of this vaina version.
pub fn image_name() -> String {
    format!("localhost/vaina-pause:{}", env!("CARGO_PKG_VERSION"))
}

/// A static x86_64 ELF executable whose only segment holds `code`, entered at its start.
pub fn elf_x86_64(code: &[u8]) -> Vec<u8> {
    elf(EM_X86_64, 0x1000, code)
}

/// The same for aarch64 (64 KiB segment alignment, the largest page size there).
pub fn elf_aarch64(code: &[u8]) -> Vec<u8> {
    elf(EM_AARCH64, 0x1_0000, code)
}

fn elf(machine: u16, align: u64, code: &[u8]) -> Vec<u8> {
    let total = (EHDR + PHDR + code.len()) as u64;
    let mut v = Vec::with_capacity(total as usize);
    // e_ident: magic, 64-bit, little endian, version 1, System V ABI, padding.
    v.extend_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    v.extend_from_slice(&2u16.to_le_bytes()); // e_type: ET_EXEC
    v.extend_from_slice(&machine.to_le_bytes()); // e_machine
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
    v.extend_from_slice(&align.to_le_bytes()); // p_align
    v.extend_from_slice(code);
    v
}

/// The pause program for this machine and the arguments that run it.
fn program() -> Result<(Vec<u8>, Vec<String>)> {
    if cfg!(target_arch = "x86_64") {
        return Ok((elf_x86_64(PAUSE_X86_64), vec!["/pause".into()]));
    }
    if cfg!(target_arch = "aarch64") {
        return Ok((elf_aarch64(PAUSE_AARCH64), vec!["/pause".into()]));
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

    /// The aarch64 program under qemu-aarch64 (when installed): SIGTERM ends it with 0.
    #[test]
    fn aarch64_pause_under_qemu() {
        use std::os::unix::fs::PermissionsExt;
        let Some(qemu) = ["/usr/bin/qemu-aarch64", "/usr/bin/qemu-aarch64-static"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
        else {
            eprintln!("skipped: qemu-aarch64 is not installed");
            return;
        };
        assert_eq!(PAUSE_AARCH64.len() % 4, 0);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pause");
        std::fs::write(&p, elf_aarch64(PAUSE_AARCH64)).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut child = std::process::Command::new(qemu).arg(&p).spawn().unwrap();
        // qemu runs the guest on a thread of its own; wait until one of them waits for
        // signals (the guest's rt_sigtimedwait), then signal.
        let task_dir = format!("/proc/{}/task", child.id());
        'outer: loop {
            for t in std::fs::read_dir(&task_dir).unwrap().flatten() {
                let sc = std::fs::read_to_string(t.path().join("syscall")).unwrap_or_default();
                if sc.starts_with("128 ") {
                    break 'outer;
                }
            }
            assert!(child.try_wait().unwrap().is_none(), "exited early");
            std::thread::yield_now();
        }
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
        assert_eq!(child.wait().unwrap().code(), Some(0));
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
