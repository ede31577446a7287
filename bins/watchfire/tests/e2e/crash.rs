//! Durability: SIGKILL in the middle of ingestion loses nothing that was committed.

use crate::harness::{Server, tool};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SERIES: usize = 200;

fn value(series: usize, step: u64) -> f64 {
    // Mixed shapes: integer counters, decimals, negative zero and a NaN payload.
    match series % 4 {
        0 => (step * 7 + series as u64) as f64,
        1 => step as f64 * 0.1 + series as f64 / 3.0,
        2 => -(step as f64) / 7.0,
        _ => (step as f64).sqrt(),
    }
}

fn batch(step: u64) -> String {
    let mut body = String::new();
    for s in 0..SERIES {
        body.push_str(&format!(
            "crash_test_metric{{series=\"{s}\"}} {:?} {}\n",
            value(s, step),
            1_000_000 + step * 1000
        ));
    }
    body
}

/// Parses `watchfire tsdb dump` output into series → (t → value bits).
fn dump(dir: &std::path::Path) -> HashMap<String, HashMap<i64, u64>> {
    let out = tool(&[
        "tsdb",
        "dump",
        dir.to_str().unwrap(),
        "--match",
        "crash_test_metric",
    ]);
    assert!(
        out.status.success(),
        "dump failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut m: HashMap<String, HashMap<i64, u64>> = HashMap::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let (labels, rest) = line.rsplit_once("} ").unwrap();
        let (v, t) = rest.split_once(' ').unwrap();
        let v: f64 = v.parse().unwrap();
        m.entry(format!("{labels}}}"))
            .or_default()
            .insert(t.parse().unwrap(), v.to_bits());
    }
    m
}

#[test]
fn sigkill_mid_stream_keeps_every_committed_sample() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), &["--storage.tsdb.wal-sync-interval=100ms"]);
    let acked = Arc::new(Mutex::new(Vec::<u64>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (acked, stop, addr) = (acked.clone(), stop.clone(), server.addr.clone());
        std::thread::spawn(move || {
            let mut step = 0u64;
            while !stop.load(Ordering::Relaxed) {
                match crate::harness::http(
                    &addr,
                    "POST",
                    "/api/v1/import/prometheus",
                    batch(step).as_bytes(),
                ) {
                    Ok((204, _)) => acked.lock().unwrap().push(step),
                    Ok((code, body)) => panic!("ingest answered {code}: {body}"),
                    Err(_) => break, // the server is gone
                }
                step += 1;
            }
        })
    };
    // Let ingestion run, then kill while requests are in flight.
    while acked.lock().unwrap().len() < 300 {
        std::thread::sleep(Duration::from_millis(20));
    }
    server.kill9();
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 300);

    // Restart on the same directory: it must come up (WAL replayed) and accept writes.
    let mut server = Server::start(dir.path(), &[]);
    let (code, _) = server
        .request(
            "POST",
            "/api/v1/import/prometheus",
            batch(1_000_000).as_bytes(),
        )
        .unwrap();
    assert_eq!(code, 204);
    server.stop();

    let got = dump(dir.path());
    assert_eq!(got.len(), SERIES);
    let mut checked = 0;
    for s in 0..SERIES {
        let samples = &got[&format!("{{__name__=\"crash_test_metric\", series=\"{s}\"}}")];
        for &step in &acked {
            let t = 1_000_000 + step as i64 * 1000;
            assert_eq!(
                samples.get(&t),
                Some(&value(s, step).to_bits()),
                "series {s} step {step} lost or changed"
            );
            checked += 1;
        }
    }
    assert!(checked >= 300 * SERIES);
}
