//! What the mock keeps per API key (SPEC §16), beside what the key owns: a clock offset of its
//! own (`POST /__admin/clock/advance` with `"api_key"`), and, for a flow or organisation key
//! with a `seed`, a generator of its own, so that what the mock makes up for its sessions repeats
//! run after run whatever other keys do meanwhile. Most runs keep nothing here, and then nothing
//! is looked up (one atomic read a call).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use sha2::Digest as _;

use crate::session::Generator;

/// One key's own time and generator.
pub(crate) struct Scope {
    /// How far the key's time runs ahead of the mock's, in milliseconds.
    offset_ms: AtomicI64,
    /// The key's seed, when it has one, and the generator it started.
    seeded: Option<(u64, Mutex<Generator>)>,
}

impl Scope {
    pub(crate) fn offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::Relaxed)
    }

    /// The key's own generator, when it has a seed.
    pub(crate) fn generator(&self) -> Option<&Mutex<Generator>> {
        self.seeded.as_ref().map(|(_, generator)| generator)
    }
}

#[derive(Default)]
pub(crate) struct Scopes {
    /// Whether any key has a scope: when none has, nothing is looked up.
    any: AtomicBool,
    keys: RwLock<HashMap<String, Arc<Scope>>>,
}

/// The generator of a key with a seed: started from the seed and the key together, so that two
/// keys with the same seed never draw the same values (session ids above all).
fn seeded(seed: u64, key: &str) -> Generator {
    let mut hash = sha2::Sha256::new();
    hash.update(seed.to_le_bytes());
    hash.update(key.as_bytes());
    Generator::from_seed(hash.finalize().into())
}

/// The key of a flow or backend key with `seed` and `name` made without one.
pub(crate) fn seeded_key(seed: u64, name: &str) -> crate::domain::ApiKey {
    seeded(seed, &format!("the key of {name}")).api_key()
}

impl Scopes {
    /// The scope of `key`, if it has one.
    pub(crate) fn get(&self, key: &str) -> Option<Arc<Scope>> {
        if !self.any.load(Ordering::Relaxed) {
            return None;
        }
        self.keys.read().unwrap_or_else(PoisonError::into_inner).get(key).cloned()
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Arc<Scope>>> {
        self.keys.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Notes whether any key has a scope left, with the map's lock held.
    fn settle(&self, keys: &HashMap<String, Arc<Scope>>) {
        self.any.store(!keys.is_empty(), Ordering::Relaxed);
    }

    /// `key` starts drawing from `seed` (none: from the mock's generator), from the beginning;
    /// its own time stays as it is.
    pub(crate) fn seed(&self, key: &str, seed: Option<u64>) {
        let mut keys = self.write();
        let offset_ms = keys.get(key).map_or(0, |s| s.offset_ms());
        if offset_ms == 0 && seed.is_none() {
            keys.remove(key);
        } else {
            let seeded = seed.map(|seed| (seed, Mutex::new(seeded(seed, key))));
            keys.insert(key.to_owned(), Arc::new(Scope { offset_ms: AtomicI64::new(offset_ms), seeded }));
        }
        self.settle(&keys);
    }

    /// Moves `key`'s time `ms` milliseconds further ahead, unless `fits` refuses the new offset.
    pub(crate) fn advance<E>(&self, key: &str, ms: i64, fits: impl FnOnce(i64) -> Result<(), E>) -> Result<(), E> {
        let mut keys = self.write();
        let scope = keys
            .entry(key.to_owned())
            .or_insert_with(|| Arc::new(Scope { offset_ms: AtomicI64::new(0), seeded: None }));
        let after = scope.offset_ms().checked_add(ms).unwrap_or(i64::MAX);
        let fits = fits(after);
        if fits.is_ok() {
            scope.offset_ms.store(after, Ordering::Relaxed);
        } else if scope.offset_ms() == 0 && scope.seeded.is_none() {
            keys.remove(key);
        }
        self.settle(&keys);
        fits
    }

    /// `key` back to its start: its own time gone, its seed's values from the beginning again.
    pub(crate) fn restart(&self, key: &str) {
        let mut keys = self.write();
        let Some(scope) = keys.get(key) else { return };
        scope.offset_ms.store(0, Ordering::Relaxed);
        if let Some((seed, generator)) = &scope.seeded {
            *generator.lock().unwrap_or_else(PoisonError::into_inner) = seeded(*seed, key);
        } else {
            keys.remove(key);
        }
        self.settle(&keys);
    }

    /// `key` has nothing of its own any more (its flow or backend key was purged).
    pub(crate) fn forget(&self, key: &str) {
        let mut keys = self.write();
        keys.remove(key);
        self.settle(&keys);
    }

    /// Every key's scope gone (the whole mock's reset).
    pub(crate) fn clear(&self) {
        let mut keys = self.write();
        keys.clear();
        self.settle(&keys);
    }
}
