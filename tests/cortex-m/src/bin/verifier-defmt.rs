//! The `verifier` workload, logging through defmt over semihosting
//! (`defmt-semihosting`); the host decodes the frames with `defmt-print`.
//! The verdicts and errors are printed with the core's own `defmt::Format`
//! impls (its `defmt` feature). Build with `--features defmt`.
#![no_std]
#![no_main]

use cortex_m as _; // the critical-section implementation defmt-semihosting needs
use cortex_m_rt::entry;
use cortex_m_semihosting::debug;
use defmt_semihosting as _; // the global logger
use glacier_verify_cortex_m::{CASES, STACK_BUDGET, paint_stack, run_case, stack_peak};

fn exit(ok: bool) -> ! {
    debug::exit(if ok {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    #[allow(clippy::empty_loop)]
    loop {}
}

#[defmt::panic_handler]
fn defmt_panic() -> ! {
    exit(false)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    defmt::error!("panic: {}", defmt::Display2Format(info));
    exit(false)
}

#[entry]
fn main() -> ! {
    defmt::info!(
        "glacier-verify-core verifier firmware (defmt): {=usize} cases, 512-byte buffer",
        CASES.len()
    );
    let mut failures = 0u32;
    let mut peak_max = 0usize;
    for case in CASES.iter() {
        paint_stack();
        let out = run_case(case);
        let peak = stack_peak();
        let verdict = if out.pass { "PASS" } else { "FAIL" };
        match &out.result {
            Ok(v) => defmt::info!(
                "{=str} {=str}: verified {=u64} bytes at {=str}, tree hash {=str}",
                verdict,
                case.name,
                v.body_len,
                v.level().as_str(),
                v.tree_hash.to_hex().as_str()
            ),
            Err(e) => defmt::info!("{=str} {=str}: rejected: {}", verdict, case.name, e),
        }
        if let Ok(v) = &out.result {
            defmt::debug!("{}", v);
        }
        match peak {
            Some(p) => peak_max = peak_max.max(p),
            None => {
                defmt::error!("FAIL stack measurement overflowed");
                failures += 1;
            }
        }
        if !out.pass {
            failures += 1;
        }
    }
    defmt::println!("STACK_PEAK_BYTES={=usize}", peak_max);
    if peak_max > STACK_BUDGET {
        // A budget, not a functional failure: run.sh fails the build on it.
        defmt::warn!(
            "stack peak {=usize} B over the {=usize} B budget",
            peak_max,
            STACK_BUDGET
        );
    }
    if failures == 0 {
        defmt::println!("RESULT: {=usize} passed, 0 failed", CASES.len());
    } else {
        defmt::println!("RESULT: {=u32} failures", failures);
    }
    exit(failures == 0)
}
