//! How many bytes an xz file will decompress to, found without decompressing.
//!
//! lzma-rs decodes each xz block whole, into memory, before it writes any
//! of it, so metering its output comes too late: a small xz bomb would
//! already have taken the memory. But LZMA2 data is a sequence of chunks
//! whose headers state the chunk's unpacked size and let its packed bytes
//! be skipped, and the decoder produces exactly what those headers say.
//! So the archive is scanned first, and refused before a byte is decoded
//! when the total is over the limit. Only what lzma-rs can decode is
//! accepted: one stream, blocks with the LZMA2 filter alone.

use std::io::{self, BufRead, Read};

const MAGIC: [u8; 6] = [0xFD, b'7', b'z', b'X', b'Z', 0x00];

/// The sum of the LZMA2 chunk sizes of the first stream in `r`.
pub fn unpacked_size(r: &mut impl BufRead) -> Result<u64, String> {
    let mut header = [0u8; 12];
    r.read_exact(&mut header).map_err(short)?;
    if header[..6] != MAGIC {
        return Err("not an xz file".into());
    }
    let check = check_size(header[7])?;
    let mut total: u64 = 0;
    loop {
        let size_byte = byte(r)?;
        if size_byte == 0 {
            // The index: every block has been seen.
            return Ok(total);
        }
        let mut block_header = vec![0u8; (usize::from(size_byte) + 1) * 4 - 1];
        r.read_exact(&mut block_header).map_err(short)?;
        if block_header[0] & 0x03 != 0 {
            return Err("an xz block with more than one filter".into());
        }
        let (unpacked, packed) = lzma2_chunks(r)?;
        total = total.saturating_add(unpacked);
        let padding = (4 - packed % 4) % 4;
        skip(r, padding + check)?;
    }
}

/// (unpacked, packed) bytes of one block's LZMA2 data, up to its end marker.
fn lzma2_chunks(r: &mut impl BufRead) -> Result<(u64, u64), String> {
    let (mut unpacked, mut packed) = (0u64, 0u64);
    loop {
        let control = byte(r)?;
        packed += 1;
        match control {
            0x00 => return Ok((unpacked, packed)),
            0x01 | 0x02 => {
                let size = u64::from(u16_be(r)?) + 1;
                skip(r, size)?;
                unpacked += size;
                packed += 2 + size;
            }
            0x80..=0xFF => {
                let low = u64::from(u16_be(r)?);
                let size = ((u64::from(control & 0x1F) << 16) | low) + 1;
                let data = u64::from(u16_be(r)?) + 1;
                let props = u64::from(control >= 0xC0);
                skip(r, props + data)?;
                unpacked += size;
                packed += 4 + props + data;
            }
            other => return Err(format!("invalid LZMA2 chunk 0x{other:02x}")),
        }
    }
}

/// Bytes of the check after each block, by the stream's check type.
fn check_size(flags: u8) -> Result<u64, String> {
    match flags {
        0x00 => Ok(0),
        0x01 => Ok(4),
        0x04 => Ok(8),
        0x0A => Ok(32),
        other => Err(format!("unsupported xz check type 0x{other:02x}")),
    }
}

fn byte(r: &mut impl BufRead) -> Result<u8, String> {
    let mut b = [0u8; 1];
    r.read_exact(&mut b).map_err(short)?;
    Ok(b[0])
}

fn u16_be(r: &mut impl BufRead) -> Result<u16, String> {
    let mut b = [0u8; 2];
    r.read_exact(&mut b).map_err(short)?;
    Ok(u16::from_be_bytes(b))
}

fn skip(r: &mut impl BufRead, n: u64) -> Result<(), String> {
    let got = io::copy(&mut r.take(n), &mut io::sink()).map_err(|e| e.to_string())?;
    if got != n {
        return Err(short(io::ErrorKind::UnexpectedEof.into()));
    }
    Ok(())
}

fn short(e: io::Error) -> String {
    format!("truncated xz file: {e}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xz(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        lzma_rs::xz_compress(&mut io::Cursor::new(data), &mut out).unwrap();
        out
    }

    #[test]
    fn the_scan_matches_what_decoding_gives() {
        for data in [
            Vec::new(),
            b"hello".to_vec(),
            vec![0u8; 5 << 20],
            (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect(),
        ] {
            let packed = xz(&data);
            let n = unpacked_size(&mut io::Cursor::new(&packed)).unwrap();
            assert_eq!(n, data.len() as u64);
        }
    }

    /// What the xz tool itself writes (compressed LZMA2 chunks, a CRC64
    /// check): 1 MiB of zeros and 4000 bytes of text, in 292 bytes.
    const REAL_XZ: &[&str] = &[
        "fd377a585a000004e6d6b4460200210116000000742fe5a3f00f9f00e35d00006ffdffffa3b7ff47",
        "3e481572396151b89228e6a38607f9eee41e82d32fc53a3c014bb17ec98a8a4d2fa30dd97fa6e38c",
        "231153e05918c5758ae277f8b6947f0c6ac0de744964e2e95c53b204d8f7440cab5f0d6d46e9e5c3",
        "7688b79657acb64de1691d6ffb4b88106c42cb883f5c008fd04eaf262894711f3d8f24e1709ea723",
        "5fec28cb85d195988a7e2a91f22775f719c006984d98fdd8afd5900fc42553f8f591363105a5b0ee",
        "6fc1704d470cd19111aaad601dbaceb127185c5986e9665258bee976ac59e4e55b0508f9c7daadfc",
        "fb522af7e4cf2bb1da2f193af2b4f52500000000716853707936fdf50001ff01a09f40006cffac51",
        "b1c467fb020000000004595a",
    ];

    #[test]
    fn compressed_chunks_of_a_real_xz_file_are_counted() {
        let packed = hex::decode(REAL_XZ.concat()).unwrap();
        let n = unpacked_size(&mut io::Cursor::new(&packed)).unwrap();
        assert_eq!(n, (1 << 20) + 4000);
        let mut out = Vec::new();
        lzma_rs::xz_decompress(&mut io::Cursor::new(&packed), &mut out).unwrap();
        assert_eq!(out.len() as u64, n);
    }

    #[test]
    fn garbage_and_truncation_are_errors() {
        assert!(unpacked_size(&mut io::Cursor::new(b"PK\x03\x04")).is_err());
        let packed = xz(&vec![1u8; 100_000]);
        let cut = &packed[..packed.len() / 2];
        assert!(unpacked_size(&mut io::Cursor::new(cut)).is_err());
    }
}
