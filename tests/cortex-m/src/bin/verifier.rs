//! The verifier firmware: raw GetJobOutput responses, generated on the fly,
//! streamed through `embedded_io::Read` into `verify_response` with a
//! 512-byte buffer. Reports through semihosting and exits with the verdict.
//!
//! Its image is what run.sh holds to the flash / static-RAM budgets, and it
//! measures its own peak stack per case (painted stack, high-water mark).
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};
use glacier_verify_cortex_m::{CASES, STACK_BUDGET, paint_stack, run_case, stack_peak, stack_size};
use panic_semihosting as _;

#[entry]
fn main() -> ! {
    hprintln!(
        "glacier-verify-core verifier firmware: {} cases, 512-byte buffer",
        CASES.len()
    );
    hprintln!(
        "state sizes: TreeHasher {} B, Verifier {} B, stack available {} B",
        core::mem::size_of::<glacier_verify_core::TreeHasher>(),
        core::mem::size_of::<glacier_verify_core::Verifier>(),
        stack_size()
    );
    let mut failures = 0u32;
    let mut peak_max = 0usize;
    for case in CASES.iter() {
        paint_stack();
        let out = run_case(case);
        let peak = stack_peak();
        match &out.result {
            Ok(v) => hprintln!(
                "{} {}: verified {} bytes at {}, tree hash {}",
                if out.pass { "PASS" } else { "FAIL" },
                case.name,
                v.body_len,
                v.level().as_str(),
                v.tree_hash
            ),
            Err(e) => hprintln!(
                "{} {}: rejected: {}",
                if out.pass { "PASS" } else { "FAIL" },
                case.name,
                e
            ),
        }
        match peak {
            Some(p) => {
                hprintln!("     stack peak {} B", p);
                peak_max = peak_max.max(p);
            }
            None => {
                hprintln!(
                    "FAIL stack measurement overflowed ({} B available)",
                    stack_size()
                );
                failures += 1;
            }
        }
        if !out.pass {
            failures += 1;
        }
    }
    hprintln!("STACK_PEAK_BYTES={}", peak_max);
    if peak_max > STACK_BUDGET {
        // A budget, not a functional failure: run.sh fails the build on it.
        hprintln!(
            "WARNING stack peak {} B over the {} B budget",
            peak_max,
            STACK_BUDGET
        );
    }
    if failures == 0 {
        hprintln!("RESULT: {} passed, 0 failed", CASES.len());
        debug::exit(debug::EXIT_SUCCESS);
    } else {
        hprintln!("RESULT: {} failures", failures);
        debug::exit(debug::EXIT_FAILURE);
    }
    loop {}
}
