fn main() -> std::process::ExitCode {
    anbud::heap::restart_with_huge_pages();
    keep_large_allocations_returnable();
    anbud::cli::main()
}

/// Building the index allocates and frees large buffers (tantivy's indexing arena, the
/// knowledge files' text). glibc raises its mmap threshold each time such a buffer is
/// freed, so later large buffers come from the heap and stay resident after they are
/// freed: 14 MB more peak memory at 10,000 entries. A fixed threshold (glibc's default
/// value, 128 KiB) turns that adjustment off.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn keep_large_allocations_returnable() {
    // SAFETY: `mallopt` only changes a malloc tuning parameter; it is called before any
    // other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn keep_large_allocations_returnable() {}
