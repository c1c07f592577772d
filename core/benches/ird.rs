//! IRD validation: one number, and the bulk path the batch and bindings use.
//!
//! Target: no more than 15 ns per number in the bulk path.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nzpir::IrdNumber;
use nzpir::ird::{check_digit, validate_into};

/// A deterministic mix of valid numbers, wrong check digits, human forms and junk.
fn corpus(n: usize) -> Vec<String> {
    let mut out = Vec::with_capacity(n);
    let mut base: u32 = 1_000_003;
    while out.len() < n {
        base = (base.wrapping_mul(48_271) % 14_000_000) + 1_000_000;
        let Some(c) = check_digit(base) else { continue };
        let num = base * 10 + c;
        match out.len() % 10 {
            0 => out.push(format!("{:09}", num - num % 10 + (c + 1) % 10)),
            1 => {
                let d = format!("{num:09}");
                out.push(format!("{}-{}-{}", &d[0..3], &d[3..6], &d[6..9]));
            }
            2 => out.push("not an ird".to_owned()),
            _ => out.push(format!("{num:09}")),
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("ird");
    g.throughput(Throughput::Elements(1));
    g.bench_function("parse_strict_valid", |b| {
        b.iter(|| IrdNumber::parse(black_box("049091850")))
    });
    g.bench_function("parse_lenient_human", |b| {
        b.iter(|| IrdNumber::parse_lenient(black_box("49-091-850")))
    });
    g.finish();

    let inputs = corpus(100_000);
    let mut out = vec![false; inputs.len()];
    let mut g = c.benchmark_group("ird_bulk");
    g.throughput(Throughput::Elements(inputs.len() as u64));
    g.bench_function("validate_into_100k_mixed", |b| {
        b.iter(|| validate_into(black_box(&inputs), black_box(&mut out)))
    });
    let clean: Vec<String> = inputs.iter().filter(|s| s.len() == 9).cloned().collect();
    let mut out = vec![false; clean.len()];
    g.throughput(Throughput::Elements(clean.len() as u64));
    g.bench_function("validate_into_wire_form", |b| {
        b.iter(|| validate_into(black_box(&clean), black_box(&mut out)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
