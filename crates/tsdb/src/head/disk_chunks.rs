//! Full head chunks moved out of the heap into memory-mapped files.
//!
//! When a series' open chunk is full it is written here and the series keeps only a
//! small reference, so resident memory follows the number of active series rather
//! than how much history the head holds. Files live in `chunks_head/`, are
//! preallocated to a fixed size, written with positioned writes and read through a
//! read-only mapping (Linux keeps both views coherent through the page cache).
//!
//! These files are a cache: on start the head is rebuilt from the WAL, so they are
//! removed at open. Their record layout is in `docs/format/head_chunks.md`.

use crate::error::{Result, TsdbError};
use memmap2::Mmap;
use parking_lot::Mutex;
use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Bytes before the chunk data: series ref (8), min time (8), max time (8),
/// encoding (1), data length (4).
const RECORD_HEADER: usize = 29;
const RECORD_TRAILER: usize = 4;

/// Where a chunk lives: file sequence number in the high 32 bits, offset of its
/// record in the low 32 bits.
pub(crate) type DiskChunkRef = u64;

/// Marks a reference to a chunk kept on the heap after a failed write.
const IN_MEMORY: u64 = 1 << 63;

struct MappedFile {
    seq: u32,
    map: Mmap,
    /// Largest chunk max time written to the file; lets truncation drop whole files.
    max_time: AtomicI64,
}

struct Inner {
    files: Vec<Arc<MappedFile>>,
    active: Option<(File, u64)>,
}

/// Writes full chunks to mapped files and reads them back.
pub(crate) struct DiskChunks {
    dir: PathBuf,
    file_size: u64,
    inner: Mutex<Inner>,
    /// Chunks that could not be written: (encoding, data).
    in_memory: Mutex<Vec<(u8, Box<[u8]>)>>,
}

impl DiskChunks {
    /// Opens `dir`, discarding whatever an earlier run left there.
    pub(crate) fn open(dir: &Path, file_size: u64) -> Result<Self> {
        if dir.exists() {
            fs::remove_dir_all(dir).map_err(|e| TsdbError::io(dir, e))?;
        }
        fs::create_dir_all(dir).map_err(|e| TsdbError::io(dir, e))?;
        Ok(DiskChunks {
            dir: dir.to_path_buf(),
            file_size: file_size.max(1 << 16),
            inner: Mutex::new(Inner {
                files: Vec::new(),
                active: None,
            }),
            in_memory: Mutex::new(Vec::new()),
        })
    }

    /// Stores a chunk and returns its reference. When the file cannot be written
    /// (disk full, I/O error) the chunk stays on the heap under a reference with
    /// the top bit set, so no data is lost and queries keep working.
    pub(crate) fn write(
        &self,
        series: u64,
        min_time: i64,
        max_time: i64,
        encoding: u8,
        data: &[u8],
    ) -> DiskChunkRef {
        match self.write_to_file(series, min_time, max_time, encoding, data) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "cannot write head chunk to disk; keeping it in memory");
                let mut mem = self.in_memory.lock();
                let r = IN_MEMORY | mem.len() as u64;
                mem.push((encoding, data.to_vec().into_boxed_slice()));
                r
            }
        }
    }

    fn write_to_file(
        &self,
        series: u64,
        min_time: i64,
        max_time: i64,
        encoding: u8,
        data: &[u8],
    ) -> Result<DiskChunkRef> {
        let len = RECORD_HEADER + data.len() + RECORD_TRAILER;
        let mut rec = Vec::with_capacity(len);
        rec.extend_from_slice(&series.to_le_bytes());
        rec.extend_from_slice(&min_time.to_le_bytes());
        rec.extend_from_slice(&max_time.to_le_bytes());
        rec.push(encoding);
        rec.extend_from_slice(&(data.len() as u32).to_le_bytes());
        rec.extend_from_slice(data);
        let crc = crc32c::crc32c(&rec);
        rec.extend_from_slice(&crc.to_le_bytes());

        let mut inner = self.inner.lock();
        let need_new = match &inner.active {
            None => true,
            Some((_, off)) => off + len as u64 > self.file_size,
        };
        if need_new {
            self.cut_file(&mut inner, len as u64)?;
        }
        let seq = inner.files.last().map_or(0, |f| f.seq);
        let (file, off) = inner
            .active
            .as_mut()
            .ok_or_else(|| TsdbError::Invalid("no active head chunk file".into()))?;
        let at = *off;
        file.write_all_at(&rec, at)
            .map_err(|e| TsdbError::io(self.file_path(seq), e))?;
        *off += len as u64;
        if let Some(last) = inner.files.last() {
            last.max_time.fetch_max(max_time, Ordering::Relaxed);
        }
        Ok((u64::from(seq) << 32) | at)
    }

    fn file_path(&self, seq: u32) -> PathBuf {
        self.dir.join(format!("{seq:06}"))
    }

    fn cut_file(&self, inner: &mut Inner, min_len: u64) -> Result<()> {
        let seq = inner.files.last().map_or(1, |f| f.seq + 1);
        let path = self.file_path(seq);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| TsdbError::io(&path, e))?;
        let size = self.file_size.max(min_len);
        file.set_len(size).map_err(|e| TsdbError::io(&path, e))?;
        // SAFETY: the file is private to this process; its length is fixed above and
        // it is never truncated while mapped.
        let map = unsafe { Mmap::map(&file) }.map_err(|e| TsdbError::io(&path, e))?;
        inner.files.push(Arc::new(MappedFile {
            seq,
            map,
            max_time: AtomicI64::new(i64::MIN),
        }));
        inner.active = Some((file, 0));
        Ok(())
    }

    /// Copies a chunk's data out of its file, verifying its checksum.
    pub(crate) fn read(&self, r: DiskChunkRef) -> Result<(u8, Vec<u8>)> {
        if r & IN_MEMORY != 0 {
            let mem = self.in_memory.lock();
            return mem
                .get((r & !IN_MEMORY) as usize)
                .map(|(enc, data)| (*enc, data.to_vec()))
                .ok_or_else(|| TsdbError::Invalid(format!("unknown in-memory head chunk {r:#x}")));
        }
        let seq = (r >> 32) as u32;
        let off = (r & 0xffff_ffff) as usize;
        let file = {
            let inner = self.inner.lock();
            inner.files.iter().find(|f| f.seq == seq).cloned()
        };
        let file = file.ok_or_else(|| TsdbError::Corruption {
            location: self.file_path(seq).display().to_string(),
            detail: "head chunk file no longer exists".into(),
        })?;
        let corrupt = |detail: &str| TsdbError::Corruption {
            location: format!("{} offset {off}", self.file_path(seq).display()),
            detail: detail.into(),
        };
        let map: &[u8] = &file.map;
        let header = map
            .get(off..off + RECORD_HEADER)
            .ok_or_else(|| corrupt("chunk header out of bounds"))?;
        let encoding = header[24];
        let len = u32::from_le_bytes([header[25], header[26], header[27], header[28]]) as usize;
        let end = off + RECORD_HEADER + len;
        let data = map
            .get(off + RECORD_HEADER..end)
            .ok_or_else(|| corrupt("chunk data out of bounds"))?;
        let crc = map
            .get(end..end + 4)
            .ok_or_else(|| corrupt("chunk checksum out of bounds"))?;
        let want = u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]);
        if crc32c::crc32c(&map[off..end]) != want {
            return Err(corrupt("checksum mismatch"));
        }
        Ok((encoding, data.to_vec()))
    }

    /// Deletes files holding only chunks that end before `mint`. The active file is
    /// kept. Mappings held by running queries stay valid until they finish.
    pub(crate) fn truncate_before(&self, mint: i64) -> Result<()> {
        let mut inner = self.inner.lock();
        let active = inner.files.last().map(|f| f.seq);
        let mut doomed = Vec::new();
        inner.files.retain(|f| {
            let drop = Some(f.seq) != active && f.max_time.load(Ordering::Relaxed) < mint;
            if drop {
                doomed.push(f.seq);
            }
            !drop
        });
        drop(inner);
        for seq in doomed {
            let p = self.file_path(seq);
            fs::remove_file(&p).map_err(|e| TsdbError::io(&p, e))?;
        }
        Ok(())
    }

    /// Bytes of the files on disk.
    pub(crate) fn size_bytes(&self) -> u64 {
        let inner = self.inner.lock();
        let full = inner.files.len().saturating_sub(1) as u64 * self.file_size;
        full + inner.active.as_ref().map_or(0, |(_, off)| *off)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_read_and_truncate() {
        let dir = tempfile::tempdir().unwrap();
        let d = DiskChunks::open(&dir.path().join("chunks_head"), 1 << 16).unwrap();
        let mut refs = Vec::new();
        for i in 0..2000i64 {
            let data = vec![i as u8; 100];
            refs.push((i, d.write(i as u64, i * 10, i * 10 + 5, 1, &data)));
        }
        for (i, r) in &refs {
            let (enc, data) = d.read(*r).unwrap();
            assert_eq!(enc, 1);
            assert_eq!(data, vec![*i as u8; 100]);
        }
        d.truncate_before(10_000).unwrap();
        assert!(d.read(refs[0].1).is_err(), "first file dropped");
        assert!(d.read(refs[1999].1).is_ok());
    }
}
