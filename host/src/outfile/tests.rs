use super::*;

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("gv-outfile-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn one_run_holds_the_lock_and_a_released_lock_is_free_again() {
    let d = dir("lock");
    let paths = OutputPaths::for_target(&d.join("out.bin"));
    let lock = OutputLock::acquire(&paths.lock).unwrap();
    let busy = OutputLock::acquire(&paths.lock).unwrap_err();
    assert!(matches!(busy, HostError::Busy { .. }), "{busy}");
    assert_eq!(busy.exit_code(), crate::error::exit::BUSY);
    lock.release();
    assert!(!paths.lock.exists());
    OutputLock::acquire(&paths.lock).unwrap().release();
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn targets_that_cannot_be_written_are_refused_up_front() {
    let d = dir("targets");
    assert!(
        check_target(&d)
            .unwrap_err()
            .to_string()
            .contains("is a directory")
    );
    let missing = d.join("no-such-dir").join("out.bin");
    assert!(
        check_target(&missing)
            .unwrap_err()
            .to_string()
            .contains("does not exist")
    );
    check_target(&d.join("out.bin")).unwrap();
    let paths = OutputPaths::for_target(&d.join("out.bin"));
    check_space(&paths, 1 << 20).unwrap();
    let e = check_space(&paths, u64::MAX / 2).unwrap_err();
    assert!(e.to_string().contains("not enough space"), "{e}");
    assert_eq!(e.exit_code(), crate::error::exit::IO);
    std::fs::remove_dir_all(&d).unwrap();
}
