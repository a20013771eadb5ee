//! A zip archive with its files stored uncompressed: how the page hands over a folder (a model
//! exported in the Hugging Face format) as one download. Weights do not compress much, and a
//! stored archive is a few headers around the bytes (PKWARE APPNOTE 6.3: local file headers,
//! then the central directory and its end record; no zip64, so under 4 GiB).

use crate::error::{Error, Result};

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), as zip checks each file.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut table = [0u32; 256];
    for (n, entry) in table.iter_mut().enumerate() {
        let mut c = n as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
        *entry = c;
    }
    !bytes.iter().fold(!0u32, |c, &b| {
        table[((c ^ b as u32) & 0xFF) as usize] ^ (c >> 8)
    })
}

/// The archive of `files` (name, bytes), in that order, each stored under `folder/name`.
pub fn stored(folder: &str, files: &[(&str, Vec<u8>)]) -> Result<Vec<u8>> {
    let total: usize = files
        .iter()
        .map(|(n, b)| b.len() + 2 * (folder.len() + n.len()) + 100)
        .sum();
    if total >= u32::MAX as usize || files.len() >= u16::MAX as usize {
        return Err(Error::new(
            "export: the files are too large for a zip archive (4 GiB)",
        ));
    }
    let (mut out, mut central) = (Vec::with_capacity(total), Vec::new());
    let u16le = |v: &mut Vec<u8>, x: u16| v.extend_from_slice(&x.to_le_bytes());
    let u32le = |v: &mut Vec<u8>, x: u32| v.extend_from_slice(&x.to_le_bytes());
    for (name, bytes) in files {
        let path = format!("{folder}/{name}");
        let (crc, size, offset) = (crc32(bytes), bytes.len() as u32, out.len() as u32);
        // Local file header: version 2.0, no flags, stored, no time stamp (1980-01-01).
        u32le(&mut out, 0x0403_4B50);
        for x in [20, 0, 0, 0, 0x21] {
            u16le(&mut out, x);
        }
        for x in [crc, size, size] {
            u32le(&mut out, x);
        }
        u16le(&mut out, path.len() as u16);
        u16le(&mut out, 0);
        out.extend_from_slice(path.as_bytes());
        out.extend_from_slice(bytes);
        // Its central directory entry.
        u32le(&mut central, 0x0201_4B50);
        for x in [20, 20, 0, 0, 0, 0x21] {
            u16le(&mut central, x);
        }
        for x in [crc, size, size] {
            u32le(&mut central, x);
        }
        for x in [path.len() as u16, 0, 0, 0, 0] {
            u16le(&mut central, x);
        }
        u32le(&mut central, 0);
        u32le(&mut central, offset);
        central.extend_from_slice(path.as_bytes());
    }
    let (at, len) = (out.len() as u32, central.len() as u32);
    out.extend_from_slice(&central);
    u32le(&mut out, 0x0605_4B50);
    for x in [0, 0, files.len() as u16, files.len() as u16] {
        u16le(&mut out, x);
    }
    u32le(&mut out, len);
    u32le(&mut out, at);
    u16le(&mut out, 0);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_of_known_strings() {
        // The check value of CRC-32/ISO-HDLC, and the empty string.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn a_stored_archive_lists_its_files() {
        let zip = stored(
            "m",
            &[("a.txt", b"hello".to_vec()), ("b.bin", vec![0, 1, 2])],
        )
        .unwrap();
        // Local header, name, data, then the central directory and the end record.
        assert_eq!(&zip[..4], &[0x50, 0x4B, 3, 4]);
        assert_eq!(&zip[30..37], b"m/a.txt");
        assert_eq!(&zip[37..42], b"hello");
        let end = &zip[zip.len() - 22..];
        assert_eq!(&end[..4], &[0x50, 0x4B, 5, 6]);
        assert_eq!(u16::from_le_bytes([end[10], end[11]]), 2);
    }
}
