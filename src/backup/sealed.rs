//! The encrypted backup file format: a database copy sealed in chunks with AES-256-GCM under
//! the [`FileKey`] derived from the master key. Streaming, so a large database never has to fit
//! in memory, and authenticated end to end: a changed, reordered, truncated or extended file
//! fails to open.
//!
//! ```text
//! offset  size  field
//! 0       8     magic "VXBACKUP"
//! 8       1     format version (1)
//! 9       4     chunk size in bytes, big-endian (65536 when written by this version)
//! 13      8     key id: which master key sealed the file (a derivation, not the key)
//! 21      7     nonce prefix, random per file
//! 28      …     chunks
//! ```
//!
//! Every chunk is the AES-256-GCM ciphertext of `chunk size` plaintext bytes followed by its
//! 16-byte tag, except the last, which holds fewer bytes (possibly none) so that the end of the
//! file is authenticated too. Chunk `i` uses the nonce `prefix ‖ i (u32, big-endian) ‖ last`
//! (`last` = 1 for the final chunk, else 0) and the 28 header bytes as associated data (the
//! STREAM construction), so chunks cannot be moved between positions or files.

use crate::crypto::FileKey;
use aes_gcm::aead::{Aead, Payload};
use aes_gcm::Nonce;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};

pub const MAGIC: &[u8; 8] = b"VXBACKUP";
const VERSION: u8 = 1;
const HEADER_LEN: usize = 28;
const TAG_LEN: usize = 16;
pub const CHUNK_SIZE: u32 = 64 * 1024;
/// Bounds on a header's chunk size, so a hostile header cannot ask for a huge buffer.
const CHUNK_RANGE: std::ops::RangeInclusive<u32> = 1024..=(16 * 1024 * 1024);

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("not an encrypted Voxanne backup")]
    NotSealed,
    #[error(
        "encrypted with a newer backup format (version {0}); use a newer voxanne to restore it"
    )]
    UnsupportedVersion(u8),
    #[error("this backup was encrypted with a different master key")]
    WrongKey,
    #[error("the encrypted backup is damaged or incomplete ({0})")]
    Corrupt(&'static str),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// SHA-256 of the plaintext that went in or came out, to compare a sealed copy with its source.
pub type Digest32 = [u8; 32];

/// What a sealed file's header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub chunk_size: u32,
    pub key_id: [u8; 8],
    nonce_prefix: [u8; 7],
    raw: [u8; HEADER_LEN],
}

impl Header {
    fn new(key: &FileKey) -> Self {
        let mut nonce_prefix = [0u8; 7];
        rand::rngs::OsRng.fill_bytes(&mut nonce_prefix);
        let mut raw = [0u8; HEADER_LEN];
        raw[..8].copy_from_slice(MAGIC);
        raw[8] = VERSION;
        raw[9..13].copy_from_slice(&CHUNK_SIZE.to_be_bytes());
        raw[13..21].copy_from_slice(&key.id());
        raw[21..28].copy_from_slice(&nonce_prefix);
        Self {
            chunk_size: CHUNK_SIZE,
            key_id: key.id(),
            nonce_prefix,
            raw,
        }
    }

    fn nonce(&self, counter: u32, last: bool) -> [u8; 12] {
        let mut n = [0u8; 12];
        n[..7].copy_from_slice(&self.nonce_prefix);
        n[7..11].copy_from_slice(&counter.to_be_bytes());
        n[11] = u8::from(last);
        n
    }
}

/// Reads and checks the header (not the key).
pub fn read_header(input: &mut impl Read) -> Result<Header, SealError> {
    let mut raw = [0u8; HEADER_LEN];
    if read_full(input, &mut raw)? < 8 || &raw[..8] != MAGIC {
        return Err(SealError::NotSealed);
    }
    if raw[8] != VERSION {
        return Err(SealError::UnsupportedVersion(raw[8]));
    }
    let mut chunk = [0u8; 4];
    chunk.copy_from_slice(&raw[9..13]);
    let chunk_size = u32::from_be_bytes(chunk);
    if !CHUNK_RANGE.contains(&chunk_size) {
        return Err(SealError::Corrupt("impossible chunk size"));
    }
    let mut key_id = [0u8; 8];
    key_id.copy_from_slice(&raw[13..21]);
    let mut nonce_prefix = [0u8; 7];
    nonce_prefix.copy_from_slice(&raw[21..28]);
    Ok(Header {
        chunk_size,
        key_id,
        nonce_prefix,
        raw,
    })
}

/// True when the file at `path` starts with the sealed format's magic.
pub fn is_sealed(path: &std::path::Path) -> std::io::Result<bool> {
    let mut start = [0u8; 8];
    let n = read_full(&mut std::fs::File::open(path)?, &mut start)?;
    Ok(n == 8 && &start == MAGIC)
}

/// Encrypts everything `input` yields into `output`; returns the plaintext's SHA-256.
pub fn seal(
    key: &FileKey,
    mut input: impl Read,
    mut output: impl Write,
) -> Result<Digest32, SealError> {
    let header = Header::new(key);
    output.write_all(&header.raw)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK_SIZE as usize];
    let mut counter: u32 = 0;
    loop {
        let n = read_full(&mut input, &mut buf)?;
        let last = n < buf.len();
        let sealed = key
            .cipher()
            .encrypt(
                Nonce::from_slice(&header.nonce(counter, last)),
                Payload {
                    msg: &buf[..n],
                    aad: &header.raw,
                },
            )
            .map_err(|_| SealError::Corrupt("encryption failed"))?;
        output.write_all(&sealed)?;
        hasher.update(&buf[..n]);
        if last {
            break;
        }
        counter = counter
            .checked_add(1)
            .ok_or(SealError::Corrupt("file too large for the format"))?;
    }
    output.flush()?;
    Ok(hasher.finalize().into())
}

/// Decrypts a sealed stream into `output`; returns the plaintext's SHA-256. Fails without
/// writing anything when the key is not the one that sealed the file; on a damaged file the
/// output holds a prefix and must be discarded.
pub fn open(
    key: &FileKey,
    mut input: impl Read,
    mut output: impl Write,
) -> Result<Digest32, SealError> {
    let header = read_header(&mut input)?;
    if header.key_id != key.id() {
        return Err(SealError::WrongKey);
    }
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; header.chunk_size as usize + TAG_LEN];
    let mut counter: u32 = 0;
    loop {
        let n = read_full(&mut input, &mut buf)?;
        if n < TAG_LEN {
            return Err(SealError::Corrupt("truncated"));
        }
        // Only the final chunk is shorter than a full one.
        let last = n < buf.len();
        let plain = key
            .cipher()
            .decrypt(
                Nonce::from_slice(&header.nonce(counter, last)),
                Payload {
                    msg: &buf[..n],
                    aad: &header.raw,
                },
            )
            .map_err(|_| SealError::Corrupt("a chunk failed authentication"))?;
        output.write_all(&plain)?;
        hasher.update(&plain);
        if last {
            break;
        }
        counter = counter
            .checked_add(1)
            .ok_or(SealError::Corrupt("too many chunks"))?;
    }
    output.flush()?;
    Ok(hasher.finalize().into())
}

/// Reads until `buf` is full or the input ends; returns how many bytes were read.
fn read_full(input: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> FileKey {
        FileKey::from_master(&[byte; 32])
    }

    fn sealed(plain: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        seal(&key(1), plain, &mut out).unwrap();
        out
    }

    fn opened(data: &[u8], k: &FileKey) -> Result<Vec<u8>, SealError> {
        let mut out = Vec::new();
        open(k, data, &mut out).map(|_| out)
    }

    #[test]
    fn round_trips_at_every_chunk_boundary() {
        let chunk = CHUNK_SIZE as usize;
        for len in [0, 1, chunk - 1, chunk, chunk + 1, 2 * chunk, 3 * chunk + 17] {
            let plain: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            let data = sealed(&plain);
            assert_eq!(&data[..8], MAGIC);
            let full_chunks = len / chunk;
            assert_eq!(data.len(), HEADER_LEN + len + (full_chunks + 1) * TAG_LEN);
            assert_eq!(opened(&data, &key(1)).unwrap(), plain, "length {len}");
        }
    }

    #[test]
    fn digest_is_of_the_plaintext_both_ways() {
        let plain = b"SQLite format 3\0 and more".repeat(5000);
        let mut out = Vec::new();
        let d1 = seal(&key(1), plain.as_slice(), &mut out).unwrap();
        let d2 = open(&key(1), out.as_slice(), std::io::sink()).unwrap();
        assert_eq!(d1, d2);
        assert_eq!(d1, <[u8; 32]>::from(Sha256::digest(&plain)));
    }

    #[test]
    fn holds_no_plaintext_and_differs_each_time() {
        let plain = b"patient Jane Example 555-0100 ".repeat(4000);
        let a = sealed(&plain);
        let b = sealed(&plain);
        assert_ne!(a, b, "a fresh nonce prefix per file");
        assert!(!a.windows(12).any(|w| w == b"Jane Example"));
    }

    #[test]
    fn wrong_key_is_named_before_decrypting() {
        let data = sealed(b"secret rows");
        assert!(matches!(opened(&data, &key(2)), Err(SealError::WrongKey)));
    }

    #[test]
    fn tampering_truncation_and_extension_fail() {
        let plain = vec![42u8; CHUNK_SIZE as usize * 2 + 100];
        let data = sealed(&plain);
        let mut flipped = data.clone();
        flipped[HEADER_LEN + 5] ^= 1;
        assert!(matches!(
            opened(&flipped, &key(1)),
            Err(SealError::Corrupt(_))
        ));
        let mut header_changed = data.clone();
        header_changed[22] ^= 1;
        assert!(opened(&header_changed, &key(1)).is_err());
        // Cut exactly after the full chunks: the missing final chunk is noticed.
        let cut = HEADER_LEN + 2 * (CHUNK_SIZE as usize + TAG_LEN);
        assert!(matches!(
            opened(&data[..cut], &key(1)),
            Err(SealError::Corrupt(_))
        ));
        assert!(opened(&data[..data.len() - 1], &key(1)).is_err());
        let mut longer = data.clone();
        longer.extend_from_slice(&[0u8; 40]);
        assert!(opened(&longer, &key(1)).is_err());
    }

    #[test]
    fn other_files_are_not_sealed() {
        assert!(matches!(
            opened(b"SQLite format 3\0", &key(1)),
            Err(SealError::NotSealed)
        ));
        assert!(matches!(opened(b"", &key(1)), Err(SealError::NotSealed)));
        let mut newer = sealed(b"x");
        newer[8] = 9;
        assert!(matches!(
            opened(&newer, &key(1)),
            Err(SealError::UnsupportedVersion(9))
        ));
    }
}
