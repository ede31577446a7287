use parking_lot::Mutex;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use watchfire_model::Labels;
use watchfire_promql::Engine;
use watchfire_rules::{
    AlertSender, Clock, Group, MemStorage, OutgoingAlert, RuleOptions, parse_rules,
};
use watchfire_storage::Appendable;

/// A clock the test moves.
#[derive(Debug, Default)]
pub struct FakeClock(pub AtomicI64);

impl Clock for FakeClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// Records what was sent.
#[derive(Debug, Default)]
pub struct Recorder(pub Mutex<Vec<OutgoingAlert>>);

impl AlertSender for Recorder {
    fn send(&self, alerts: Vec<OutgoingAlert>) {
        self.0.lock().extend(alerts);
    }
}

pub struct Env {
    pub store: Arc<MemStorage>,
    pub opts: RuleOptions,
    pub sent: Arc<Recorder>,
    pub clock: Arc<FakeClock>,
}

pub fn env() -> Env {
    let store = Arc::new(MemStorage::new());
    let sent = Arc::new(Recorder::default());
    let clock = Arc::new(FakeClock::default());
    let mut opts = RuleOptions::new(Engine::default(), store.clone(), store.clone());
    opts.sender = Some(sent.clone());
    opts.clock = clock.clone();
    opts.external_url = "http://wf:9090".into();
    Env {
        store,
        opts,
        sent,
        clock,
    }
}

pub fn groups(yaml: &str, opts: &RuleOptions, restore: bool) -> Vec<Group> {
    parse_rules("test.yml", yaml)
        .unwrap()
        .iter()
        .map(|g| Group::new(g, opts, restore))
        .collect()
}

pub fn labels(s: &str) -> Labels {
    watchfire_promqltest::parse_series(&format!("{s} 0"))
        .unwrap()
        .0
}

/// Appends `v` at `t` for series `s`.
pub fn put(store: &MemStorage, s: &str, t: i64, v: f64) {
    let mut app = store.appender();
    app.append(None, &labels(s), t, v).unwrap();
    app.commit().unwrap();
}

pub fn shared_dir() -> Option<PathBuf> {
    let dir = std::env::var("WATCHFIRE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("SKIP: shared test data not found at {}", dir.display());
        None
    }
}

pub const MIN: i64 = 60_000;
