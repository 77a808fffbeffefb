use super::*;
use crate::credentials::test_support::creds_file;

#[test]
fn from_process_reads_real_files() {
    // Only checks that it runs and picks up nothing unexpected from a bogus HOME.
    let env = Env::from_process();
    let _ = env.shared_credentials_path();
    let dir = std::env::temp_dir().join(format!("glacier-verify-cred-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("credentials");
    std::fs::write(&file, creds_file("default", "REAL")).unwrap();
    assert_eq!(
        read_file(&file),
        Some(FileState::Text(creds_file("default", "REAL")))
    );
    assert_eq!(read_file(&dir.join("missing")), None);
    assert!(matches!(read_file(&dir), Some(FileState::Unreadable(_))));
    std::fs::write(&file, [0xff, 0xfe, b'x']).unwrap();
    assert_eq!(
        read_file(&file),
        Some(FileState::Unreadable("not valid UTF-8".into()))
    );
    let big = vec![b'#'; (MAX_FILE_SIZE + 1) as usize];
    std::fs::write(&file, big).unwrap();
    assert!(matches!(read_file(&file), Some(FileState::Unreadable(r)) if r.starts_with("larger")));
    std::fs::remove_dir_all(&dir).unwrap();
}
