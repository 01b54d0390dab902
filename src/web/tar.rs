//! A tar archive of small text files, for "export the changed entries": unpacked
//! with `tar xf changed.tar -C knowledge/`, the files land where `kb lint` and git
//! expect them.

/// A ustar archive holding `files` (path, content), with modification time `mtime`
/// (seconds since 1970).
pub fn archive(files: &[(String, String)], mtime: i64) -> Vec<u8> {
    let mut out = Vec::new();
    for (path, content) in files {
        let mut header = [0u8; 512];
        let name = path.as_bytes();
        // Paths here are `entries/ID.LANG.md`; ids are short, but stay within ustar's
        // 100-byte name field whatever happens.
        let n = name.len().min(100);
        header[..n].copy_from_slice(&name[..n]);
        octal(&mut header[100..108], 0o644);
        octal(&mut header[108..116], 0);
        octal(&mut header[116..124], 0);
        octal(&mut header[124..136], content.len() as u64);
        octal(&mut header[136..148], mtime.max(0) as u64);
        header[148..156].copy_from_slice(b"        ");
        header[156] = b'0';
        header[257..263].copy_from_slice(b"ustar\0");
        header[263..265].copy_from_slice(b"00");
        let sum: u32 = header.iter().map(|b| u32::from(*b)).sum();
        let checksum = format!("{sum:06o}\0 ");
        header[148..156].copy_from_slice(checksum.as_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(content.as_bytes());
        let pad = (512 - content.len() % 512) % 512;
        out.extend(std::iter::repeat_n(0u8, pad));
    }
    out.extend(std::iter::repeat_n(0u8, 1024));
    out
}

/// An octal number, zero-padded, NUL-terminated, filling `field`.
fn octal(field: &mut [u8], value: u64) {
    let text = format!("{value:0width$o}\0", width = field.len() - 1);
    field.copy_from_slice(&text.as_bytes()[text.len() - field.len()..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tar_reads_it_back() {
        let dir = tempfile::tempdir().unwrap();
        let data = archive(
            &[
                ("entries/a.nb.md".into(), "hei\n".into()),
                ("entries/b.en.md".into(), "x".repeat(600)),
            ],
            1_700_000_000,
        );
        assert_eq!(data.len() % 512, 0);
        let file = dir.path().join("t.tar");
        std::fs::write(&file, data).unwrap();
        let status = std::process::Command::new("tar")
            .arg("xf")
            .arg(&file)
            .arg("-C")
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(status.success());
        assert_eq!(
            std::fs::read_to_string(dir.path().join("entries/a.nb.md")).unwrap(),
            "hei\n"
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("entries/b.en.md"))
                .unwrap()
                .len(),
            600
        );
    }
}
