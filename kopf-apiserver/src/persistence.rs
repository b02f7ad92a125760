//! Durable storage of objects with group commit.
//!
//! Objects live in one redb file (`<dir>/objects.redb`): pure Rust, ACID, copy-on-write
//! B-trees with checksummed commit slots, so a crash (even `kill -9` or power loss) leaves
//! either the last committed state or the one before it — never a torn write.
//!
//! Every durable commit costs an fsync (milliseconds). To reach thousands of writes per
//! second, one dedicated writer thread takes *all* batches waiting in its queue, writes them
//! in a single transaction, fsyncs once and then acknowledges each caller ("group commit").
//!
//! After each group it also reports the highest resourceVersion now on disk (see
//! [`Persistence::open_notifying`]): the server publishes writes to watchers only up to that
//! version, so that no watcher ever sees an event a crash could still take back.

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};
use tokio::sync::oneshot;

/// Object JSON by the store's key.
const OBJECTS: TableDefinition<&str, &[u8]> = TableDefinition::new("objects");
/// Counters; only [`RV_KEY`] so far.
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const RV_KEY: &str = "resource_version";
/// The database file inside the data directory.
pub const DB_FILE: &str = "objects.redb";
/// At most this many batches go into one transaction (bounds the memory of one commit).
const MAX_GROUP: usize = 4096;

#[derive(Debug, thiserror::Error)]
pub enum PersistenceError {
    #[error("cannot open the data directory {path}: {message}")]
    Open { path: String, message: String },
    #[error(
        "the data directory {dir} is in use by another server (a `kopf cluster` or a `kopf run --embedded` still running): stop that one, or give this one a directory of its own with --data-dir"
    )]
    InUse { dir: String },
    #[error("cannot write to the data directory: {0}")]
    Write(String),
}

/// Everything stored, as loaded at start.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// The highest resourceVersion ever assigned (the global counter continues from here).
    pub resource_version: u64,
    /// `(key, object JSON)`; keys are the store's own (opaque here).
    pub objects: Vec<(String, Vec<u8>)>,
}

/// One write's changes: objects put (key, JSON) and keys deleted, at resourceVersion `rv`.
#[derive(Debug, Default)]
pub struct WriteBatch {
    pub resource_version: u64,
    /// Each object's JSON; a slice of its watch event's line, so it is serialised once.
    pub puts: Vec<(String, bytes::Bytes)>,
    pub deletes: Vec<String>,
}

/// A queued batch and whom to tell when it is on disk.
type Pending = (WriteBatch, oneshot::Sender<Result<(), PersistenceError>>);

/// Told, by the writer thread, the highest resourceVersion of each group just committed.
pub type OnDurable = Box<dyn Fn(u64) + Send + 'static>;

/// A durable store. `commit` resolves only when the batch is on disk; concurrent
/// commits are grouped into one transaction.
pub struct Persistence {
    db: Arc<Database>,
    path: PathBuf,
    /// `None` only while dropping (closing the queue stops the writer).
    queue: Option<mpsc::Sender<Pending>>,
    writer: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Persistence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Persistence")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Persistence {
    /// Opens (or creates) `<dir>/objects.redb`. Fails if another process has it open.
    pub fn open(dir: &Path) -> Result<Persistence, PersistenceError> {
        Persistence::open_notifying(dir, Box::new(|_| {}))
    }

    /// Like [`Persistence::open`]; `on_durable` is called after every group with the
    /// highest resourceVersion of its batches, once they are on disk and *before* their
    /// callers are acknowledged. Groups are committed in queue order, so every batch queued
    /// before one with that version is durable too. It is called after a failed commit as
    /// well (with the failure logged): the server goes on serving its memory, and readers
    /// waiting for that version must not wait forever.
    pub fn open_notifying(
        dir: &Path,
        on_durable: OnDurable,
    ) -> Result<Persistence, PersistenceError> {
        let path = dir.join(DB_FILE);
        let fail = |message: String| PersistenceError::Open {
            path: path.display().to_string(),
            message,
        };
        std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
        let db = Database::create(&path).map_err(|e| match e {
            redb::DatabaseError::DatabaseAlreadyOpen => PersistenceError::InUse {
                dir: dir.display().to_string(),
            },
            e => fail(e.to_string()),
        })?;
        // Create the tables up front so that `load` on a fresh directory finds them.
        let txn = db.begin_write().map_err(|e| fail(e.to_string()))?;
        {
            txn.open_table(OBJECTS).map_err(|e| fail(e.to_string()))?;
            txn.open_table(META).map_err(|e| fail(e.to_string()))?;
        }
        txn.commit().map_err(|e| fail(e.to_string()))?;

        let db = Arc::new(db);
        let (queue, inbox) = mpsc::channel::<Pending>();
        let writer_db = Arc::clone(&db);
        let writer = std::thread::Builder::new()
            .name("kopf-apiserver-persistence".into())
            .spawn(move || write_loop(&writer_db, &inbox, &on_durable))
            .map_err(|e| fail(e.to_string()))?;
        Ok(Persistence {
            db,
            path,
            queue: Some(queue),
            writer: Some(writer),
        })
    }

    /// Where the database file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The stored counter and all objects, in key order.
    pub fn load(&self) -> Result<Snapshot, PersistenceError> {
        let fail = |e: &dyn std::fmt::Display| PersistenceError::Open {
            path: self.path.display().to_string(),
            message: e.to_string(),
        };
        let txn = self.db.begin_read().map_err(|e| fail(&e))?;
        let meta = txn.open_table(META).map_err(|e| fail(&e))?;
        let resource_version = meta
            .get(RV_KEY)
            .map_err(|e| fail(&e))?
            .map(|v| v.value())
            .unwrap_or(0);
        let table = txn.open_table(OBJECTS).map_err(|e| fail(&e))?;
        let mut objects = Vec::new();
        for entry in table.iter().map_err(|e| fail(&e))? {
            let (key, value) = entry.map_err(|e| fail(&e))?;
            objects.push((key.value().to_string(), value.value().to_vec()));
        }
        Ok(Snapshot {
            resource_version,
            objects,
        })
    }

    /// Queues `batch` *now* (at the call, not at the first poll) and resolves once it is
    /// durable. Batches reach the disk in call order, so a caller that calls `commit` under
    /// its store lock and awaits after releasing it keeps writes ordered without holding the
    /// lock across the fsync.
    pub fn commit(
        &self,
        batch: WriteBatch,
    ) -> impl Future<Output = Result<(), PersistenceError>> + Send + 'static {
        let (ack, done) = oneshot::channel();
        let queued = match &self.queue {
            Some(queue) => queue.send((batch, ack)).is_ok(),
            None => false,
        };
        async move {
            if !queued {
                return Err(PersistenceError::Write(
                    "the persistence writer has stopped".into(),
                ));
            }
            done.await.unwrap_or_else(|_| {
                Err(PersistenceError::Write(
                    "the persistence writer has stopped".into(),
                ))
            })
        }
    }
}

impl Drop for Persistence {
    /// Closes the queue and waits until everything queued is written, so that the same
    /// directory can be reopened right after (redb locks the file while open).
    fn drop(&mut self) {
        self.queue.take();
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

/// The writer thread: block for one batch, take all others already waiting, write them in
/// one transaction, fsync, report the version now durable, acknowledge everybody. Ends when
/// the queue is closed and empty.
fn write_loop(db: &Database, inbox: &mpsc::Receiver<Pending>, on_durable: &OnDurable) {
    while let Ok(first) = inbox.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match inbox.try_recv() {
                Ok(next) => group.push(next),
                Err(_) => break,
            }
        }
        let result = write_group(db, group.iter().map(|(batch, _)| batch));
        if let Err(message) = &result {
            tracing::error!("cannot write to the data directory: {message}");
        }
        let highest = group
            .iter()
            .map(|(batch, _)| batch.resource_version)
            .max()
            .unwrap_or(0);
        on_durable(highest);
        for (_, ack) in group {
            let reply = match &result {
                Ok(()) => Ok(()),
                Err(message) => Err(PersistenceError::Write(message.clone())),
            };
            // The caller may have stopped waiting; the data is written regardless.
            let _ = ack.send(reply);
        }
    }
}

fn write_group<'a>(
    db: &Database,
    batches: impl Iterator<Item = &'a WriteBatch>,
) -> Result<(), String> {
    let txn = db.begin_write().map_err(|e| e.to_string())?;
    {
        let mut objects = txn.open_table(OBJECTS).map_err(|e| e.to_string())?;
        let mut meta = txn.open_table(META).map_err(|e| e.to_string())?;
        let mut rv = meta
            .get(RV_KEY)
            .map_err(|e| e.to_string())?
            .map(|v| v.value())
            .unwrap_or(0);
        for batch in batches {
            for key in &batch.deletes {
                objects.remove(key.as_str()).map_err(|e| e.to_string())?;
            }
            for (key, json) in &batch.puts {
                objects
                    .insert(key.as_str(), &json[..])
                    .map_err(|e| e.to_string())?;
            }
            rv = rv.max(batch.resource_version);
        }
        meta.insert(RV_KEY, rv).map_err(|e| e.to_string())?;
    }
    // Default durability is `Immediate`: `commit` returns after the fsync.
    txn.commit().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir() -> PathBuf {
        std::env::temp_dir().join(format!("kopf-persistence-test-{}", uuid::Uuid::new_v4()))
    }

    fn put(rv: u64, key: &str, json: &str) -> WriteBatch {
        WriteBatch {
            resource_version: rv,
            puts: vec![(
                key.to_string(),
                bytes::Bytes::copy_from_slice(json.as_bytes()),
            )],
            deletes: vec![],
        }
    }

    #[tokio::test]
    async fn fresh_directory_is_empty() {
        let dir = temp_dir();
        let store = Persistence::open(&dir).unwrap();
        let snapshot = store.load().unwrap();
        assert_eq!(snapshot.resource_version, 0);
        assert!(snapshot.objects.is_empty());
        drop(store);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn writes_survive_a_reopen() {
        let dir = temp_dir();
        {
            let store = Persistence::open(&dir).unwrap();
            store.commit(put(1, "a", r#"{"a":1}"#)).await.unwrap();
            store.commit(put(2, "b", r#"{"b":2}"#)).await.unwrap();
            store.commit(put(3, "a", r#"{"a":3}"#)).await.unwrap();
            let batch = WriteBatch {
                resource_version: 4,
                puts: vec![],
                deletes: vec!["b".into()],
            };
            store.commit(batch).await.unwrap();
        }
        let store = Persistence::open(&dir).unwrap();
        let snapshot = store.load().unwrap();
        assert_eq!(snapshot.resource_version, 4);
        assert_eq!(
            snapshot.objects,
            vec![("a".to_string(), br#"{"a":3}"#.to_vec())]
        );
        drop(store);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn second_open_of_the_same_directory_fails() {
        let dir = temp_dir();
        let store = Persistence::open(&dir).unwrap();
        let second = Persistence::open(&dir).err();
        assert!(matches!(second, Some(PersistenceError::InUse { .. })));
        // The message says who holds it and how to get another directory.
        let message = second.map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("is in use by another server"), "{message}");
        assert!(message.contains("--data-dir"), "{message}");
        drop(store);
        assert!(Persistence::open(&dir).is_ok());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_commits_are_all_acknowledged_and_present() {
        let dir = temp_dir();
        let store = Arc::new(Persistence::open(&dir).unwrap());
        let tasks: Vec<_> = (1..=500u64)
            .map(|i| {
                let store = Arc::clone(&store);
                tokio::spawn(async move {
                    store
                        .commit(put(i, &format!("k{i:04}"), &format!("{i}")))
                        .await
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        drop(Arc::into_inner(store).unwrap());
        let store = Persistence::open(&dir).unwrap();
        let snapshot = store.load().unwrap();
        assert_eq!(snapshot.resource_version, 500);
        assert_eq!(snapshot.objects.len(), 500);
        for (key, value) in &snapshot.objects {
            assert_eq!(
                &key[1..],
                format!(
                    "{:04}",
                    String::from_utf8_lossy(value).parse::<u64>().unwrap()
                )
            );
        }
        drop(store);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_durable_version_is_reported_before_the_acknowledgement_and_never_falls() {
        let dir = temp_dir();
        let reported = Arc::new(std::sync::Mutex::new(Vec::<u64>::new()));
        let log = Arc::clone(&reported);
        let store = Arc::new(
            Persistence::open_notifying(&dir, Box::new(move |rv| log.lock().unwrap().push(rv)))
                .unwrap(),
        );
        // Queued in version order (as the server queues under its lock), awaited at once.
        let commits: Vec<_> = (1..=200u64)
            .map(|i| {
                let commit = store.commit(put(i, &format!("k{i}"), "{}"));
                let reported = Arc::clone(&reported);
                tokio::spawn(async move {
                    commit.await.unwrap();
                    // Acknowledged: the writer has already reported this version (or a later one).
                    let highest = reported.lock().unwrap().iter().copied().max().unwrap_or(0);
                    assert!(
                        highest >= i,
                        "acknowledged {i} before reporting it ({highest})"
                    );
                })
            })
            .collect();
        for commit in commits {
            commit.await.unwrap();
        }
        let reported = reported.lock().unwrap().clone();
        assert!(reported.windows(2).all(|w| w[0] < w[1]), "{reported:?}");
        assert_eq!(reported.last(), Some(&200));
        drop(Arc::into_inner(store).unwrap());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn commit_order_is_call_order() {
        let dir = temp_dir();
        let store = Persistence::open(&dir).unwrap();
        // Queue all before awaiting any: the later write of the same key must win.
        let first = store.commit(put(1, "x", "1"));
        let second = store.commit(put(2, "x", "2"));
        second.await.unwrap();
        first.await.unwrap();
        assert_eq!(
            store.load().unwrap().objects,
            vec![("x".to_string(), b"2".to_vec())]
        );
        drop(store);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
