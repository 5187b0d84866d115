//! A small timing harness for the benchmarks in `benches/` (no external framework).
//!
//! Each measurement warms up, picks an iteration count so one sample takes about
//! [`SAMPLE_TARGET`], takes [`SAMPLES`] samples and reports the median time per iteration
//! (with the fastest and slowest sample, to show the noise).

use std::hint::black_box;
use std::time::{Duration, Instant};

/// Samples taken per measurement.
pub const SAMPLES: usize = 11;

/// Wall time one sample aims for; all samples together take about a second.
pub const SAMPLE_TARGET: Duration = Duration::from_millis(90);

/// The result of one measurement.
#[derive(Debug, Clone)]
pub struct Measurement {
    /// What was measured.
    pub name: String,
    /// Iterations per sample.
    pub iterations: u64,
    /// Median nanoseconds per iteration over the samples.
    pub median_ns: f64,
    /// Fastest sample, ns per iteration.
    pub min_ns: f64,
    /// Slowest sample, ns per iteration.
    pub max_ns: f64,
}

impl std::fmt::Display for Measurement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:<52} {:>10.1} ns/op   (min {:.1}, max {:.1}; {} samples x {} iters)",
            self.name, self.median_ns, self.min_ns, self.max_ns, SAMPLES, self.iterations
        )
    }
}

/// Times `routine`, whose return value is passed through [`black_box`].
pub fn measure<T>(name: &str, mut routine: impl FnMut() -> T) -> Measurement {
    // Warm up caches, branch predictors and allocator pools, and estimate the cost.
    let warm_up = Instant::now();
    let mut calls = 0u64;
    while warm_up.elapsed() < SAMPLE_TARGET {
        black_box(routine());
        calls += 1;
    }
    let per_call = warm_up.elapsed().as_secs_f64() / calls as f64;
    let iterations = ((SAMPLE_TARGET.as_secs_f64() / per_call) as u64).max(1);

    let mut samples: Vec<f64> = (0..SAMPLES)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..iterations {
                black_box(routine());
            }
            start.elapsed().as_nanos() as f64 / iterations as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    Measurement {
        name: name.to_owned(),
        iterations,
        median_ns: samples[SAMPLES / 2],
        min_ns: samples[0],
        max_ns: samples[SAMPLES - 1],
    }
}

/// The machine, for the report header: logical CPUs and the CPU model.
pub fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!(
        "{cpus} logical CPUs (nproc), {model}, {}",
        std::env::consts::ARCH
    )
}
