//! `settings.persistence`: what the operator keeps on the objects and where — kopf's
//! finalizer name, its progress storages and its diff-base storages, as typed choices with
//! kopf's class names and defaults. How each one reads, writes and purges is in `storage/`.

use std::time::Duration;

/// The prefix of kopf's own annotations.
pub const DEFAULT_PREFIX: &str = "kopf.zalando.org";
/// kopf's finalizer.
pub const DEFAULT_FINALIZER: &str = "kopf.zalando.org/KopfFinalizerMarker";

/// `settings.persistence`: what is kept on the objects.
#[derive(Clone, Debug, PartialEq)]
pub struct PersistenceSettings {
    /// The finalizer that blocks a deletion until the deletion handlers are done
    /// (kopf: `kopf.zalando.org/KopfFinalizerMarker`).
    pub finalizer: String,
    /// Where the handlers' progress is kept between cycles (kopf: `SmartProgressStorage()`).
    pub progress_storage: ProgressStorage,
    /// Where the last-handled essence is kept (kopf: `AnnotationsDiffBaseStorage()`).
    pub diffbase_storage: DiffBaseStorage,
    /// Wait at most this long for our own patch's resourceVersion to arrive (kopf: 5 s).
    pub consistency_timeout: Duration,
}

impl Default for PersistenceSettings {
    fn default() -> Self {
        PersistenceSettings {
            finalizer: DEFAULT_FINALIZER.to_string(),
            progress_storage: ProgressStorage::default(),
            diffbase_storage: DiffBaseStorage::default(),
            consistency_timeout: Duration::from_secs(5),
        }
    }
}

impl PersistenceSettings {
    /// Whether an annotations prefix leaves too little of an annotation key's 253
    /// characters for a handler's name (kopf warns about it at start).
    pub fn prefix_too_long(&self) -> bool {
        [
            self.progress_storage.prefix(),
            self.diffbase_storage.prefix(),
        ]
        .into_iter()
        .flatten()
        .any(|p| p.chars().count() > 253 - 63 - 1)
    }

    /// What kopf refuses when its storages are built: an annotations storage without a prefix.
    pub fn validate(&self) -> Result<(), String> {
        let prefixes = [
            self.progress_storage.prefix(),
            self.diffbase_storage.prefix(),
        ];
        if prefixes.iter().any(|p| p.is_some_and(str::is_empty)) {
            return Err("Annotations storages must be prefixed.".to_string());
        }
        Ok(())
    }
}

/// kopf's `ProgressStorage`: where each handler's progress record lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProgressStorage {
    /// One JSON annotation per handler: `<prefix>/<id>`.
    Annotations(AnnotationsProgressStorage),
    /// One object per handler under a status field: `status.kopf.progress.<id>`.
    Status(StatusProgressStorage),
    /// kopf's default: written to annotations; read from annotations, then from the status
    /// field (the pre-2020 place); purged from both.
    Smart(SmartProgressStorage),
}

impl Default for ProgressStorage {
    fn default() -> Self {
        ProgressStorage::Smart(SmartProgressStorage::default())
    }
}

impl ProgressStorage {
    /// The annotations' prefix, if this storage uses annotations.
    pub fn prefix(&self) -> Option<&str> {
        match self {
            ProgressStorage::Annotations(s) => Some(&s.prefix),
            ProgressStorage::Smart(s) => Some(&s.prefix),
            ProgressStorage::Status(_) => None,
        }
    }
}

/// kopf's `AnnotationsProgressStorage(prefix=…, touch_key=…, verbose=…, v1=…)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnnotationsProgressStorage {
    /// The annotations' prefix (kopf: `kopf.zalando.org`); a prefix not starting with
    /// `kopf.` is marked with `<prefix>/kopf-managed: "yes"`.
    pub prefix: String,
    /// The name of the annotation that wakes a sleeping object up (kopf: `touch-dummy`).
    pub touch_key: String,
    /// Keep the records' `null` fields (kopf: false).
    pub verbose: bool,
    /// Also write the "V1" key (whole key cut to 63 characters) where it differs (kopf: true).
    pub v1: bool,
}

impl Default for AnnotationsProgressStorage {
    fn default() -> Self {
        AnnotationsProgressStorage {
            prefix: DEFAULT_PREFIX.to_string(),
            touch_key: "touch-dummy".to_string(),
            verbose: false,
            v1: true,
        }
    }
}

impl AnnotationsProgressStorage {
    /// The annotations storage under this prefix, otherwise as kopf's defaults.
    pub fn with_prefix(prefix: impl Into<String>) -> Self {
        AnnotationsProgressStorage {
            prefix: prefix.into(),
            ..Self::default()
        }
    }
}

/// kopf's `StatusProgressStorage(field=…, touch_field=…)`; fields are dotted paths.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusProgressStorage {
    /// Where the records live, one key per handler id (kopf: `status.kopf.progress`).
    pub field: String,
    /// The field that wakes a sleeping object up (kopf: `status.kopf.dummy`).
    pub touch_field: String,
}

impl Default for StatusProgressStorage {
    fn default() -> Self {
        StatusProgressStorage {
            field: "status.kopf.progress".to_string(),
            touch_field: "status.kopf.dummy".to_string(),
        }
    }
}

impl StatusProgressStorage {
    /// The status storage at this dotted field, otherwise as kopf's defaults.
    pub fn with_field(field: impl Into<String>) -> Self {
        StatusProgressStorage {
            field: field.into(),
            ..Self::default()
        }
    }
}

/// kopf's `SmartProgressStorage(prefix=…, field=…, touch_key=…, touch_field=…, verbose=…, v1=…)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmartProgressStorage {
    pub prefix: String,
    /// Read and purged, never written.
    pub field: String,
    pub touch_key: String,
    /// Never written: touching goes to the annotations.
    pub touch_field: String,
    pub verbose: bool,
    pub v1: bool,
}

impl Default for SmartProgressStorage {
    fn default() -> Self {
        let annotations = AnnotationsProgressStorage::default();
        let status = StatusProgressStorage::default();
        SmartProgressStorage {
            prefix: annotations.prefix,
            field: status.field,
            touch_key: annotations.touch_key,
            touch_field: status.touch_field,
            verbose: annotations.verbose,
            v1: annotations.v1,
        }
    }
}

impl SmartProgressStorage {
    /// The smart storage under this prefix, otherwise as kopf's defaults.
    pub fn with_prefix(prefix: impl Into<String>) -> Self {
        SmartProgressStorage {
            prefix: prefix.into(),
            ..Self::default()
        }
    }

    /// Its two parts: the annotations it writes, and the status field it only reads and purges.
    pub fn parts(&self) -> (AnnotationsProgressStorage, StatusProgressStorage) {
        (
            AnnotationsProgressStorage {
                prefix: self.prefix.clone(),
                touch_key: self.touch_key.clone(),
                verbose: self.verbose,
                v1: self.v1,
            },
            StatusProgressStorage {
                field: self.field.clone(),
                touch_field: self.touch_field.clone(),
            },
        )
    }
}

/// kopf's `DiffBaseStorage`: where the last-handled essence lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DiffBaseStorage {
    /// Compact JSON plus a newline in `<prefix>/<key>` (kopf's default).
    Annotations(AnnotationsDiffBaseStorage),
    /// Compact JSON (no newline) as a string in a status field.
    Status(StatusDiffBaseStorage),
}

impl Default for DiffBaseStorage {
    fn default() -> Self {
        DiffBaseStorage::Annotations(AnnotationsDiffBaseStorage::default())
    }
}

impl DiffBaseStorage {
    /// The annotations' prefix, if this storage uses annotations.
    pub fn prefix(&self) -> Option<&str> {
        match self {
            DiffBaseStorage::Annotations(s) => Some(&s.prefix),
            DiffBaseStorage::Status(_) => None,
        }
    }

    /// Dotted fields left out of the essence (kopf's `ignored_fields`).
    pub fn ignored_fields(&self) -> &[String] {
        match self {
            DiffBaseStorage::Annotations(s) => &s.ignored_fields,
            DiffBaseStorage::Status(s) => &s.ignored_fields,
        }
    }
}

/// kopf's `AnnotationsDiffBaseStorage(prefix=…, key=…, ignored_fields=…, v1=…)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnnotationsDiffBaseStorage {
    /// kopf: `kopf.zalando.org`.
    pub prefix: String,
    /// kopf: `last-handled-configuration`.
    pub key: String,
    /// Dotted fields left out of the essence, so that their changes are not reacted to.
    pub ignored_fields: Vec<String>,
    pub v1: bool,
}

impl Default for AnnotationsDiffBaseStorage {
    fn default() -> Self {
        AnnotationsDiffBaseStorage {
            prefix: DEFAULT_PREFIX.to_string(),
            key: "last-handled-configuration".to_string(),
            ignored_fields: Vec::new(),
            v1: true,
        }
    }
}

impl AnnotationsDiffBaseStorage {
    /// The annotations storage under this prefix, otherwise as kopf's defaults.
    pub fn with_prefix(prefix: impl Into<String>) -> Self {
        AnnotationsDiffBaseStorage {
            prefix: prefix.into(),
            ..Self::default()
        }
    }
}

/// kopf's `StatusDiffBaseStorage(field=…, ignored_fields=…)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusDiffBaseStorage {
    /// kopf: `status.kopf.last-handled-configuration`.
    pub field: String,
    pub ignored_fields: Vec<String>,
}

impl Default for StatusDiffBaseStorage {
    fn default() -> Self {
        StatusDiffBaseStorage {
            field: "status.kopf.last-handled-configuration".to_string(),
            ignored_fields: Vec::new(),
        }
    }
}

impl StatusDiffBaseStorage {
    /// The status storage at this dotted field, otherwise as kopf's defaults.
    pub fn with_field(field: impl Into<String>) -> Self {
        StatusDiffBaseStorage {
            field: field.into(),
            ..Self::default()
        }
    }
}

macro_rules! choices {
    ($($part:ident => $whole:ident :: $variant:ident),* $(,)?) => {$(
        impl From<$part> for $whole {
            fn from(storage: $part) -> Self {
                $whole::$variant(storage)
            }
        }
    )*};
}

choices! {
    AnnotationsProgressStorage => ProgressStorage::Annotations,
    StatusProgressStorage => ProgressStorage::Status,
    SmartProgressStorage => ProgressStorage::Smart,
    AnnotationsDiffBaseStorage => DiffBaseStorage::Annotations,
    StatusDiffBaseStorage => DiffBaseStorage::Status,
}
