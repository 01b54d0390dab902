//! Transparent huge pages for the heap.
//!
//! Answering reads the data of a few dozen entries anywhere in memory: their terms and
//! example questions, the per-document scores of a search, the term tables. With the
//! kernel's 4 KiB pages most of those reads also miss the processor's cache of address
//! translations. With 2 MiB pages under the heap, answering at 10,000 entries took 5 %
//! less time and at 50,000 entries 7 % less, and peak memory grew by under 1 MB
//! (docs/performance.md, "Eighth pass").
//!
//! glibc's malloc asks the kernel for such pages only when `glibc.malloc.hugetlb=1` is in
//! `GLIBC_TUNABLES` as the process starts: glibc reads it before `main`. So `main` starts
//! the program again, in the same process, with it set ([`restart_with_huge_pages`]).
//! Setting `GLIBC_TUNABLES` yourself, even to nothing, leaves the heap as it is; do so
//! when running the program under valgrind or a similar tool, which the restart would
//! leave (the new program would run without it). The kernel must allow huge pages
//! (`/sys/kernel/mm/transparent_hugepage/enabled` is `madvise` or `always`); where it
//! does not, the setting changes nothing.

/// The environment variable glibc reads its tunables from.
pub const TUNABLES: &str = "GLIBC_TUNABLES";
/// The tunable that makes malloc advise the kernel to back its memory with huge pages.
pub const HUGE_PAGES: &str = "glibc.malloc.hugetlb=1";

/// Whether this process started with malloc asking for huge pages.
pub fn huge_pages_asked() -> bool {
    std::env::var(TUNABLES).is_ok_and(|tunables| asks_huge_pages(&tunables))
}

/// Whether a `GLIBC_TUNABLES` value (tunables separated by `:`) holds [`HUGE_PAGES`].
fn asks_huge_pages(tunables: &str) -> bool {
    tunables.split(':').any(|tunable| tunable == HUGE_PAGES)
}

/// Start this program again in this process (`exec`: the same process id, arguments,
/// open files and the rest of the environment) with [`HUGE_PAGES`] in `GLIBC_TUNABLES`,
/// unless `GLIBC_TUNABLES` is set already. Call it first thing in `main`, before any
/// thread is started or file opened.
///
/// Returns when the program is not started again: `GLIBC_TUNABLES` is set (so it is
/// started at most once), it is not Linux with glibc, or starting failed (the program's
/// file is gone, say); the program then runs with the heap as it is.
pub fn restart_with_huge_pages() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::unix::process::CommandExt;
        if std::env::var_os(TUNABLES).is_some() {
            return;
        }
        let Ok(program) = std::env::current_exe() else {
            return;
        };
        let mut args = std::env::args_os();
        let mut command = std::process::Command::new(program);
        if let Some(name) = args.next() {
            command.arg0(name);
        }
        // `exec` returns only when it fails; the program then goes on as it is.
        let _failed = command.args(args).env(TUNABLES, HUGE_PAGES).exec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_pages_are_recognised_among_other_tunables() {
        for (tunables, asked) in [
            ("glibc.malloc.hugetlb=1", true),
            ("glibc.malloc.check=0:glibc.malloc.hugetlb=1", true),
            ("glibc.malloc.hugetlb=0", false),
            ("glibc.malloc.hugetlb=10", false),
            ("", false),
        ] {
            assert_eq!(asks_huge_pages(tunables), asked, "{tunables}");
        }
    }
}
