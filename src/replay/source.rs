//! Where replayed objects come from: S3 (`s3://bucket/prefix`) or a local file or
//! directory, behind one small trait ([`ObjectStore`]) with a real adapter ([`S3Store`])
//! and a local one ([`LocalStore`]).
//!
//! Keys are listed lazily, in lexicographic order (as S3 lists them), a page at a time;
//! objects are read as streams, gunzipped on the fly when they start with the gzip
//! magic bytes. Nothing here holds more than one listing page or one buffer per object.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::pin::Pin;

use async_trait::async_trait;
use aws_sdk_s3::error::DisplayErrorContext;
use futures::stream::{self, BoxStream, StreamExt as _};
use thiserror::Error;
use tokio::io::{AsyncBufRead, AsyncBufReadExt as _, BufReader};

use crate::decode::GZIP_MAGIC;

/// Where objects that were replayed are moved to (under the same root or bucket).
pub const REPLAYED_PREFIX: &str = "replayed/";

/// Keys per listing page.
const PAGE: usize = 1000;

/// An object's bytes, gunzipped when they were gzip.
pub type ObjectReader = Pin<Box<dyn AsyncBufRead + Send>>;

#[derive(Debug, Error)]
pub enum SourceError {
    #[error("{what}: {message}")]
    S3 { what: String, message: String },
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}: no such object")]
    Missing(String),
    #[error("location {0:?} is neither s3://bucket[/prefix] nor an existing file or directory")]
    Location(String),
}

/// A place objects are listed and read from.
#[async_trait]
pub trait ObjectStore: Send + Sync {
    /// How a key is shown to people: `s3://bucket/key` or the file path.
    fn display(&self, key: &str) -> String;
    /// Keys under `prefix`, after `after` when given, in lexicographic order. Objects
    /// already moved under [`REPLAYED_PREFIX`] are not listed.
    fn keys<'a>(
        &'a self,
        prefix: &'a str,
        after: Option<&'a str>,
    ) -> BoxStream<'a, Result<String, SourceError>>;
    /// The object's raw bytes as a stream.
    async fn open_raw(&self, key: &str) -> Result<ObjectReader, SourceError>;
    /// Moves the object to `REPLAYED_PREFIX` + `key`.
    async fn move_replayed(&self, key: &str) -> Result<(), SourceError>;
    /// Deletes the object.
    async fn delete(&self, key: &str) -> Result<(), SourceError>;
}

/// The object's content, gunzipped (all members) when it starts with the gzip magic.
pub async fn open(store: &dyn ObjectStore, key: &str) -> Result<ObjectReader, SourceError> {
    let mut raw = store.open_raw(key).await?;
    let head = raw.fill_buf().await.map_err(|source| SourceError::Io {
        what: store.display(key),
        source,
    })?;
    if head.starts_with(&GZIP_MAGIC) {
        let mut gz = async_compression::tokio::bufread::GzipDecoder::new(raw);
        gz.multiple_members(true);
        Ok(Box::pin(BufReader::new(gz)))
    } else {
        Ok(raw)
    }
}

/// A location given on the command line: a store and the prefix (or key) in it.
pub struct Location {
    pub store: Box<dyn ObjectStore>,
    /// The key prefix listed, or the one key when `single`.
    pub prefix: String,
    /// A single file named on the command line (not listed).
    pub single: bool,
}

/// Parses `s3://bucket/prefix`, a local directory or a local file. The S3 client is
/// built by `s3` only when an S3 location is given.
pub async fn location<F, Fut>(text: &str, s3: F) -> Result<Location, SourceError>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = aws_sdk_s3::Client>,
{
    if let Some(rest) = text.strip_prefix("s3://") {
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(SourceError::Location(text.to_owned()));
        }
        return Ok(Location {
            store: Box::new(S3Store::new(s3().await, bucket)),
            prefix: prefix.to_owned(),
            single: false,
        });
    }
    let path = Path::new(text);
    if path.is_dir() {
        Ok(Location {
            store: Box::new(LocalStore::new(path)),
            prefix: String::new(),
            single: false,
        })
    } else if path.is_file() {
        let parent = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| Path::new("."));
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(Location {
            store: Box::new(LocalStore::new(parent)),
            prefix: name,
            single: true,
        })
    } else {
        Err(SourceError::Location(text.to_owned()))
    }
}

/// Objects in one S3 bucket.
#[derive(Debug, Clone)]
pub struct S3Store {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3Store {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
        }
    }

    /// The S3 client for the shared AWS configuration (buckets addressed by path with a
    /// custom endpoint, e.g. an emulator).
    pub fn client(sdk: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
        let conf = aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(sdk.endpoint_url().is_some())
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    fn error(&self, key: &str, err: impl std::error::Error) -> SourceError {
        SourceError::S3 {
            what: self.display(key),
            message: DisplayErrorContext(err).to_string(),
        }
    }
}

struct S3Listing {
    pending: VecDeque<String>,
    token: Option<String>,
    done: bool,
}

#[async_trait]
impl ObjectStore for S3Store {
    fn display(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }

    fn keys<'a>(
        &'a self,
        prefix: &'a str,
        after: Option<&'a str>,
    ) -> BoxStream<'a, Result<String, SourceError>> {
        let start = S3Listing {
            pending: VecDeque::new(),
            token: None,
            done: false,
        };
        stream::unfold(start, move |mut state| async move {
            loop {
                if let Some(key) = state.pending.pop_front() {
                    return Some((Ok(key), state));
                }
                if state.done {
                    return None;
                }
                let page = self
                    .client
                    .list_objects_v2()
                    .bucket(&self.bucket)
                    .prefix(prefix)
                    .max_keys(PAGE as i32)
                    .set_start_after(after.map(str::to_owned))
                    .set_continuation_token(state.token.take())
                    .send()
                    .await;
                match page {
                    Ok(page) => {
                        state.token = page.next_continuation_token().map(str::to_owned);
                        state.done = state.token.is_none();
                        state.pending.extend(
                            page.contents()
                                .iter()
                                .filter_map(|o| o.key())
                                .filter(|k| !k.starts_with(REPLAYED_PREFIX) && !k.ends_with('/'))
                                .map(str::to_owned),
                        );
                    }
                    Err(err) => {
                        state.done = true;
                        return Some((Err(self.error(prefix, err)), state));
                    }
                }
            }
        })
        .boxed()
    }

    async fn open_raw(&self, key: &str) -> Result<ObjectReader, SourceError> {
        let object = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| match e.as_service_error() {
                Some(err) if err.is_no_such_key() => SourceError::Missing(self.display(key)),
                _ => self.error(key, e),
            })?;
        Ok(Box::pin(BufReader::new(object.body.into_async_read())))
    }

    async fn move_replayed(&self, key: &str) -> Result<(), SourceError> {
        let source = format!(
            "{}/{}",
            self.bucket,
            percent_encoding::utf8_percent_encode(key, COPY_SOURCE)
        );
        self.client
            .copy_object()
            .bucket(&self.bucket)
            .key(format!("{REPLAYED_PREFIX}{key}"))
            .copy_source(source)
            .send()
            .await
            .map_err(|e| self.error(key, e))?;
        self.delete(key).await
    }

    async fn delete(&self, key: &str) -> Result<(), SourceError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.error(key, e))
    }
}

/// What `x-amz-copy-source` escapes in a key (everything but unreserved characters and `/`).
const COPY_SOURCE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

/// Objects as files under a directory; keys are `/`-separated relative paths.
#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    fn path(&self, key: &str) -> PathBuf {
        self.root.join(key)
    }

    fn io(&self, key: &str, source: std::io::Error) -> SourceError {
        SourceError::Io {
            what: self.display(key),
            source,
        }
    }
}

/// A depth-first walk in name order: one sorted directory listing per level is held.
struct Walk {
    /// Per open directory: its key prefix and the entries left, sorted.
    stack: Vec<(String, VecDeque<(String, bool)>)>,
}

impl Walk {
    fn entries(dir: &Path) -> std::io::Result<VecDeque<(String, bool)>> {
        let mut entries = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            // Hidden files include the local sinks' half-written `.name.tmp`.
            if name.starts_with('.') {
                continue;
            }
            entries.push((name, entry.file_type()?.is_dir()));
        }
        // Directories sort as `name/`, so the walk yields keys in S3 order.
        entries.sort_by(|a, b| {
            let key = |(n, d): &(String, bool)| format!("{n}{}", if *d { "/" } else { "" });
            key(a).cmp(&key(b))
        });
        Ok(entries.into())
    }

    fn next(&mut self, root: &Path) -> Option<std::io::Result<String>> {
        loop {
            let (prefix, entries) = self.stack.last_mut()?;
            let Some((name, is_dir)) = entries.pop_front() else {
                self.stack.pop();
                continue;
            };
            let key = format!("{prefix}{name}");
            if !is_dir {
                return Some(Ok(key));
            }
            if key == REPLAYED_PREFIX.trim_end_matches('/') {
                continue;
            }
            match Self::entries(&root.join(&key)) {
                Ok(children) => self.stack.push((format!("{key}/"), children)),
                Err(err) => return Some(Err(err)),
            }
        }
    }
}

#[async_trait]
impl ObjectStore for LocalStore {
    fn display(&self, key: &str) -> String {
        self.path(key).display().to_string()
    }

    fn keys<'a>(
        &'a self,
        prefix: &'a str,
        after: Option<&'a str>,
    ) -> BoxStream<'a, Result<String, SourceError>> {
        let root = self.root.clone();
        let walk = match Walk::entries(&root) {
            Ok(entries) => Walk {
                stack: vec![(String::new(), entries)],
            },
            Err(err) => return stream::iter([Err(self.io("", err))]).boxed(),
        };
        stream::unfold(walk, move |mut walk| {
            let root = root.clone();
            async move {
                loop {
                    match walk.next(&root)? {
                        Ok(key) => {
                            if !key.starts_with(prefix) || after.is_some_and(|a| key.as_str() <= a)
                            {
                                continue;
                            }
                            return Some((Ok(key), walk));
                        }
                        Err(err) => {
                            let what = root.display().to_string();
                            return Some((Err(SourceError::Io { what, source: err }), walk));
                        }
                    }
                }
            }
        })
        .boxed()
    }

    async fn open_raw(&self, key: &str) -> Result<ObjectReader, SourceError> {
        let file = tokio::fs::File::open(self.path(key))
            .await
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => SourceError::Missing(self.display(key)),
                _ => self.io(key, e),
            })?;
        Ok(Box::pin(BufReader::new(file)))
    }

    async fn move_replayed(&self, key: &str) -> Result<(), SourceError> {
        let to = self.path(&format!("{REPLAYED_PREFIX}{key}"));
        if let Some(dir) = to.parent() {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|e| self.io(key, e))?;
        }
        tokio::fs::rename(self.path(key), &to)
            .await
            .map_err(|e| self.io(key, e))
    }

    async fn delete(&self, key: &str) -> Result<(), SourceError> {
        tokio::fs::remove_file(self.path(key))
            .await
            .map_err(|e| self.io(key, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    async fn all_keys(store: &dyn ObjectStore, prefix: &str, after: Option<&str>) -> Vec<String> {
        store
            .keys(prefix, after)
            .map(|k| k.expect("key"))
            .collect()
            .await
    }

    #[tokio::test]
    async fn local_keys_are_listed_in_s3_order_without_replayed_or_hidden_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        for key in [
            "b/2.json",
            "b/1.json",
            "a.json",
            "b-c.json",
            "replayed/x.json",
            ".t.tmp",
        ] {
            let path = dir.path().join(key);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(&path, b"{}").expect("write");
        }
        let store = LocalStore::new(dir.path());
        assert_eq!(
            all_keys(&store, "", None).await,
            ["a.json", "b-c.json", "b/1.json", "b/2.json"]
        );
        assert_eq!(all_keys(&store, "b/", None).await, ["b/1.json", "b/2.json"]);
        assert_eq!(
            all_keys(&store, "", Some("b-c.json")).await,
            ["b/1.json", "b/2.json"]
        );
        store.move_replayed("b/1.json").await.expect("move");
        assert!(dir.path().join("replayed/b/1.json").is_file());
        assert_eq!(
            all_keys(&store, "", None).await,
            ["a.json", "b-c.json", "b/2.json"]
        );
    }

    #[tokio::test]
    async fn gzip_objects_are_read_gunzipped_plain_ones_as_they_are() {
        use tokio::io::AsyncReadExt as _;
        let dir = tempfile::tempdir().expect("tempdir");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"{\"a\":1}\n").expect("gzip");
        let mut two = gz.finish().expect("gzip");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"{\"b\":2}\n").expect("gzip");
        two.extend(gz.finish().expect("gzip"));
        std::fs::write(dir.path().join("x.gz"), &two).expect("write");
        std::fs::write(dir.path().join("y.json"), b"{\"c\":3}\n").expect("write");
        let store = LocalStore::new(dir.path());
        let mut text = String::new();
        open(&store, "x.gz")
            .await
            .expect("open")
            .read_to_string(&mut text)
            .await
            .expect("read");
        assert_eq!(text, "{\"a\":1}\n{\"b\":2}\n");
        text.clear();
        open(&store, "y.json")
            .await
            .expect("open")
            .read_to_string(&mut text)
            .await
            .expect("read");
        assert_eq!(text, "{\"c\":3}\n");
    }
}
