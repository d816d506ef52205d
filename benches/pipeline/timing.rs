//! Timing: repetitions of a piece of work on the benchmark thread's CPU clock, and their
//! medians.

use std::hint::black_box;
use std::time::{Duration, Instant};

use super::{EVENTS, Work};

pub(super) struct Measurement {
    /// (log events, CPU seconds, wall seconds) per repetition.
    pub(super) reps: Vec<(u64, f64, f64)>,
    pub(super) log_events: u64,
    pub(super) out_bulk: u64,
    pub(super) out_archive: u64,
}

impl Measurement {
    pub(super) fn cpu_rates(&self) -> Vec<f64> {
        self.reps
            .iter()
            .map(|&(n, cpu, _)| n as f64 / cpu)
            .collect()
    }
    pub(super) fn median_cpu_rate(&self) -> f64 {
        median(self.cpu_rates())
    }
    pub(super) fn median_wall_rate(&self) -> f64 {
        median(
            self.reps
                .iter()
                .map(|&(n, _, wall)| n as f64 / wall)
                .collect(),
        )
    }
}

pub(super) fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Runs `f` on the corpus events (by index) for 0.7 s.
pub(super) fn warm_up(mut f: impl FnMut(usize) -> Work) {
    let start = Instant::now();
    let mut i = 0;
    while start.elapsed() < Duration::from_millis(700) || i < EVENTS {
        black_box(f(i % EVENTS));
        i += 1;
    }
}

/// Whole Kinesis events (`f` of the event's index), cycling through the corpus, until
/// `rep` has passed; `reps` times.
pub(super) fn measure(reps: usize, rep: Duration, mut f: impl FnMut(usize) -> Work) -> Measurement {
    let mut m = Measurement::new(reps);
    let mut i = 0;
    for _ in 0..reps {
        m.repetition(rep, &mut i, &mut f);
    }
    m
}

/// [`measure`] of `a` and of `b` in turn, one repetition of each at a time: a change of
/// the machine's speed during the run (other work on the host) then moves both alike,
/// and [`pair_ratios`] compares them pair by pair.
pub(super) fn measure_pair(
    reps: usize,
    rep: Duration,
    mut a: impl FnMut(usize) -> Work,
    mut b: impl FnMut(usize) -> Work,
) -> (Measurement, Measurement) {
    let (mut ma, mut mb) = (Measurement::new(reps), Measurement::new(reps));
    let (mut ia, mut ib) = (0, 0);
    for _ in 0..reps {
        ma.repetition(rep, &mut ia, &mut a);
        mb.repetition(rep, &mut ib, &mut b);
    }
    (ma, mb)
}

/// The CPU rate of each repetition of `a` over that of the repetition of `b` made next
/// to it ([`measure_pair`]), sorted.
pub(super) fn pair_ratios(a: &Measurement, b: &Measurement) -> Vec<f64> {
    ratios(&a.cpu_rates(), &b.cpu_rates())
}

/// Each rate of `a` over the rate of `b` at the same place, sorted.
pub(super) fn ratios(a: &[f64], b: &[f64]) -> Vec<f64> {
    let mut ratios: Vec<f64> = a.iter().zip(b).map(|(a, b)| a / b).collect();
    ratios.sort_by(f64::total_cmp);
    ratios
}

impl Measurement {
    fn new(reps: usize) -> Self {
        Self {
            reps: Vec::with_capacity(reps),
            log_events: 0,
            out_bulk: 0,
            out_archive: 0,
        }
    }

    /// One repetition: events from the `i`th on, until `rep` has passed.
    fn repetition(&mut self, rep: Duration, i: &mut usize, f: &mut impl FnMut(usize) -> Work) {
        let (cpu0, wall0) = (thread_cpu_seconds(), Instant::now());
        let mut n = 0;
        while wall0.elapsed() < rep {
            let w = f(*i % EVENTS);
            n += w.log_events;
            self.out_bulk += w.bulk_bytes;
            self.out_archive += w.archive_bytes;
            *i += 1;
        }
        let (cpu, wall) = (thread_cpu_seconds() - cpu0, wall0.elapsed().as_secs_f64());
        self.log_events += n;
        self.reps.push((n, cpu, wall));
    }
}

/// CPU time (user + system) of the calling thread.
fn thread_cpu_seconds() -> f64 {
    let ru = rusage(libc::RUSAGE_THREAD);
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

pub(super) fn rusage(who: libc::c_int) -> libc::rusage {
    // SAFETY: getrusage only writes into the struct it is given.
    unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(who, &mut ru), 0, "getrusage failed");
        ru
    }
}
