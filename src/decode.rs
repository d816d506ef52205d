//! One Kinesis record's data → the CloudWatch Logs subscription envelope.
//!
//! base64 → gunzip (hard cap on decompressed bytes) → UTF-8 check → JSON envelope.
//! Every failure is a [`DecodeError`]: permanent for that record only. Nothing here
//! panics on input, and memory is bounded by the cap.
//!
//! The envelope is read by [`reader`], by hand, in the shape CloudWatch Logs writes it;
//! anything else is read by serde_json, which gives the same answer or the error. The
//! messages are JSON strings dense with `\"`, and unescaping them was half of decode
//! through serde_json (BENCHMARKS.md, "Eighteenth round").
//!
//! base64 is decoded with SIMD where the data is valid, and by the `base64` crate, which
//! gives the error, where it is not ([`base64_data`]).
//!
//! gunzip is libdeflate's (through the `libdeflate-sys` bindings, [`Inflater`]): a
//! whole-buffer decompressor, about half the instructions of a streaming one on these
//! records (BENCHMARKS.md, "Fourth round").

use std::borrow::Cow;
use std::fmt;
use std::ptr::NonNull;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use thiserror::Error;

pub mod base64_data;
pub mod reader;
#[cfg(test)]
mod reader_tests;
mod string;

/// `messageType` of the health checks CloudWatch Logs sends to a new destination.
pub const CONTROL_MESSAGE: &str = "CONTROL_MESSAGE";

/// Default cap on one record's gunzipped size: far above what CloudWatch Logs puts in
/// one subscription record (about 1 MiB of events), far below 128 MB of Lambda memory.
pub use crate::config::DEFAULT_MAX_DECOMPRESSED_BYTES;

pub const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Why a record could not be decoded. Always permanent: retrying gives the same answer.
#[derive(Debug, Error)]
pub enum DecodeError {
    #[error("record data is not valid base64: {0}")]
    Base64(#[from] base64::DecodeError),
    #[error("record data is not gzip (no gzip header)")]
    NotGzip,
    #[error("gzip data is truncated or corrupt: {0}")]
    Gzip(std::io::Error),
    #[error("gunzipped record exceeds the cap of {cap} bytes (gzip bomb or oversized record)")]
    TooLarge { cap: usize },
    #[error("gunzipped record is not valid UTF-8 (first bad byte at offset {offset})")]
    Utf8 { offset: usize },
    #[error("record is not a CloudWatch Logs subscription message: {0}")]
    Envelope(#[from] serde_json::Error),
}

impl DecodeError {
    /// A short stable name for metrics and dead-letter reasons.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Base64(_) => "bad_base64",
            Self::NotGzip => "not_gzip",
            Self::Gzip(_) => "bad_gzip",
            Self::TooLarge { .. } => "too_large",
            Self::Utf8 { .. } => "invalid_utf8",
            Self::Envelope(_) => "bad_envelope",
        }
    }
}

/// The CloudWatch Logs subscription message, borrowing from the gunzipped buffer.
/// Unknown fields (e.g. `policyLevel` of account-level subscriptions) are ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope<'a> {
    #[serde(borrow)]
    pub message_type: Cow<'a, str>,
    #[serde(borrow)]
    pub owner: Cow<'a, str>,
    #[serde(borrow)]
    pub log_group: Cow<'a, str>,
    #[serde(borrow)]
    pub log_stream: Cow<'a, str>,
    #[serde(borrow, default)]
    pub subscription_filters: Vec<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub log_events: Vec<LogEvent<'a>>,
}

impl Envelope<'_> {
    pub fn is_control_message(&self) -> bool {
        self.message_type == CONTROL_MESSAGE
    }
}

/// One log event. `id` arrives as a string from AWS and as an integer from emulators.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogEvent<'a> {
    #[serde(borrow, deserialize_with = "string_or_integer")]
    pub id: Cow<'a, str>,
    pub timestamp: i64,
    #[serde(borrow)]
    pub message: Cow<'a, str>,
}

fn string_or_integer<'de, D: Deserializer<'de>>(d: D) -> Result<Cow<'de, str>, D::Error> {
    struct IdVisitor;
    impl<'de> Visitor<'de> for IdVisitor {
        type Value = Cow<'de, str>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a log event id (string or integer)")
        }
        fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
            Ok(Cow::Borrowed(v))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Cow::Owned(v.to_owned()))
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
            Ok(Cow::Owned(v))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Cow::Owned(v.to_string()))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Cow::Owned(v.to_string()))
        }
    }
    d.deserialize_any(IdVisitor)
}

/// The most working space the envelope reader keeps from one record to the next (a
/// record's longest escaped string, usually a few KB).
const SCRATCH_KEPT: usize = 1 << 20;

/// Decodes records one at a time, reusing its buffers (and gunzip state) between records.
#[derive(Debug)]
pub struct Decoder {
    max_decompressed_bytes: usize,
    compressed: Vec<u8>,
    plain: Vec<u8>,
    /// The envelope reader's working space for escaped strings.
    scratch: Vec<u8>,
    inflater: Option<Inflater>,
}

impl Decoder {
    pub fn new(max_decompressed_bytes: usize) -> Self {
        Self {
            max_decompressed_bytes,
            compressed: Vec::new(),
            plain: Vec::new(),
            scratch: Vec::new(),
            inflater: None,
        }
    }

    /// Decodes one record's `data` (base64 text as Kinesis events carry it). The
    /// envelope borrows from this decoder until the next call.
    pub fn decode(&mut self, data_base64: &str) -> Result<Envelope<'_>, DecodeError> {
        self.compressed.clear();
        base64_data::decode_into(data_base64.trim_ascii().as_bytes(), &mut self.compressed)?;
        let inflater = match &mut self.inflater {
            Some(inflater) => inflater,
            none => none.insert(Inflater::new()?),
        };
        let text = inflater.gunzip_capped(
            &self.compressed,
            self.max_decompressed_bytes,
            &mut self.plain,
        )?;
        if self.scratch.capacity() > SCRATCH_KEPT {
            self.scratch = Vec::new();
        }
        match reader::read(text, &mut self.scratch) {
            Some(envelope) => Ok(envelope),
            None => Ok(serde_json::from_str(text)?),
        }
    }
}

/// Gunzips `gz` into `out` (cleared first), reading at most `cap` bytes, and checks that
/// the result is UTF-8. Concatenated gzip members are accepted.
pub fn gunzip_capped<'o>(
    gz: &[u8],
    cap: usize,
    out: &'o mut Vec<u8>,
) -> Result<&'o str, DecodeError> {
    Inflater::new()?.gunzip_capped(gz, cap, out)
}

/// libdeflate's gzip decompressor, through the `libdeflate-sys` bindings: one gzip
/// member at a time into a buffer sized up front (`libdeflater`, the safe wrapper, reads
/// one member and does not say where it ended, so concatenated members need this).
struct Inflater(NonNull<libdeflate_sys::libdeflate_decompressor>);

// SAFETY: the decompressor is heap memory owned by this value alone and used only
// through `&mut self`; libdeflate keeps no global or thread-local state for it.
unsafe impl Send for Inflater {}
// SAFETY: as above: nothing is reachable through `&self`.
unsafe impl Sync for Inflater {}

impl fmt::Debug for Inflater {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Inflater")
    }
}

impl Drop for Inflater {
    fn drop(&mut self) {
        // SAFETY: allocated by `libdeflate_alloc_decompressor`, freed once, here.
        unsafe { libdeflate_sys::libdeflate_free_decompressor(self.0.as_ptr()) }
    }
}

/// Why one gzip member did not decompress.
enum MemberError {
    /// The output buffer is too small for it.
    NoRoom,
    /// Not gzip, truncated, or a bad checksum.
    BadData,
}

impl Inflater {
    fn new() -> Result<Self, DecodeError> {
        // SAFETY: no arguments; returns a fresh decompressor or NULL (out of memory).
        let p = unsafe { libdeflate_sys::libdeflate_alloc_decompressor() };
        NonNull::new(p)
            .map(Self)
            .ok_or_else(|| DecodeError::Gzip(std::io::Error::from(std::io::ErrorKind::OutOfMemory)))
    }

    /// The gzip member at the start of `input` into the start of `out`: (bytes read,
    /// bytes written). Checks the member's CRC-32 and size.
    fn member(&mut self, input: &[u8], out: &mut [u8]) -> Result<(usize, usize), MemberError> {
        let (mut read, mut written) = (0usize, 0usize);
        // SAFETY: both pointers and lengths come from live slices; libdeflate reads at
        // most `input.len()` bytes, writes at most `out.len()` bytes, and sets the two
        // counts it is given on success.
        let status = unsafe {
            libdeflate_sys::libdeflate_gzip_decompress_ex(
                self.0.as_ptr(),
                input.as_ptr().cast(),
                input.len(),
                out.as_mut_ptr().cast(),
                out.len(),
                &mut read,
                &mut written,
            )
        };
        match status {
            libdeflate_sys::libdeflate_result_LIBDEFLATE_SUCCESS
                if read > 0 && read <= input.len() && written <= out.len() =>
            {
                Ok((read, written))
            }
            libdeflate_sys::libdeflate_result_LIBDEFLATE_INSUFFICIENT_SPACE => {
                Err(MemberError::NoRoom)
            }
            _ => Err(MemberError::BadData),
        }
    }

    /// [`gunzip_capped`] with this decompressor. `out` is sized from the last member's
    /// ISIZE (the whole size when there is one member), never past `cap + 1` bytes, and
    /// doubled (up to that) when a member does not fit: memory stays bounded by the cap
    /// whatever the header claims.
    fn gunzip_capped<'o>(
        &mut self,
        gz: &[u8],
        cap: usize,
        out: &'o mut Vec<u8>,
    ) -> Result<&'o str, DecodeError> {
        if !gz.starts_with(&GZIP_MAGIC) {
            return Err(DecodeError::NotGzip);
        }
        // One byte past the cap, so "exactly at the cap" and "over it" differ.
        let limit = cap.saturating_add(1);
        // What `out` holds from the last record is written over, not zeroed again: only
        // the part it grows by is.
        out.truncate(limit);
        let last_size = gz
            .len()
            .checked_sub(4)
            .and_then(|at| gz.get(at..))
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map_or(0, |b| u32::from_le_bytes(b) as usize);
        let mut avail = last_size.max(4096).min(limit).max(out.len());
        let (mut read, mut written) = (0, 0);
        while read < gz.len() {
            if out.len() < avail {
                out.resize(avail, 0);
            }
            match self.member(&gz[read..], &mut out[written..]) {
                Ok((r, w)) => {
                    read += r;
                    written += w;
                }
                Err(MemberError::NoRoom) if avail < limit => {
                    avail = avail.saturating_mul(2).min(limit);
                }
                Err(MemberError::NoRoom) => {
                    out.clear();
                    return Err(DecodeError::TooLarge { cap });
                }
                Err(MemberError::BadData) => {
                    out.clear();
                    return Err(DecodeError::Gzip(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        "not a whole, valid gzip stream",
                    )));
                }
            }
        }
        out.truncate(written);
        if out.len() > cap {
            return Err(DecodeError::TooLarge { cap });
        }
        crate::utf8::as_str(out).map_err(|e| DecodeError::Utf8 {
            offset: e.valid_up_to(),
        })
    }
}

/// The inverse of [`Decoder::decode`]: an envelope as CloudWatch Logs puts it in a
/// Kinesis record (gzip, then base64). For tests, benchmarks and the fuzz corpus.
///
/// gzip at zlib's default level (6), what gzip tools and Java's `GZIPOutputStream`
/// write: level 1 of the zlib-rs backend uses static Huffman codes only, a stream shape
/// real CloudWatch Logs payloads do not have (and slower to inflate).
pub fn encode(envelope: &Envelope<'_>) -> String {
    use std::io::Write as _;
    let json = serde_json::to_vec(envelope).unwrap_or_default();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing into a Vec cannot fail.
    let _ = gz.write_all(&json);
    STANDARD.encode(gz.finish().unwrap_or_default())
}
