//! `credential_process`: a command whose standard output is the credentials as JSON.
//!
//! <https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-sourcing-external.html>,
//! <https://docs.aws.amazon.com/sdkref/latest/guide/feature-process-credentials.html>.
//!
//! As botocore on POSIX: the value is split into words with shell quoting (`shlex.split`:
//! single quotes, double quotes with `\` escapes, `\` outside quotes) and run without a
//! shell. Its standard error is the user's (a tool may prompt there); a non-zero exit or
//! output that is not the documented JSON is an error that never quotes the output.

use std::io::Read;
use std::process::{Command, Stdio};

use serde::Deserialize;

use super::provider::Expiring;

/// Largest output read.
const MAX_OUTPUT: u64 = 64 * 1024;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Output {
    version: Option<serde_json::Value>,
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
    session_token: Option<String>,
    expiration: Option<String>,
}

/// Splits `command` into words as a POSIX shell would, without expansions.
pub fn split_words(command: &str) -> Result<Vec<String>, &'static str> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = command.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err("an unclosed single quote"),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => word.push(c),
                            Some('\n') => {}
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err("an unclosed double quote"),
                        },
                        Some(c) => word.push(c),
                        None => return Err("an unclosed double quote"),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some('\n') => {}
                    Some(c) => word.push(c),
                    None => return Err("a trailing backslash"),
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// Runs `command` and reads the credentials it prints.
pub fn run(command: &str) -> Result<Expiring, String> {
    let words = split_words(command).map_err(|e| format!("the command has {e}"))?;
    let Some((program, args)) = words.split_first() else {
        return Err("the command is empty".into());
    };
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::inherit())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot run {program:?}: {e}"))?;
    let mut out = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        stdout
            .take(MAX_OUTPUT + 1)
            .read_to_end(&mut out)
            .map_err(|e| format!("cannot read the output of {program:?}: {e}"))?;
    }
    let status = child
        .wait()
        .map_err(|e| format!("cannot wait for {program:?}: {e}"))?;
    if !status.success() {
        let how = match status.code() {
            Some(code) => format!("exited with status {code}"),
            None => "was killed by a signal".to_string(),
        };
        return Err(format!("{program:?} {how}"));
    }
    if out.len() as u64 > MAX_OUTPUT {
        return Err(format!("{program:?} printed more than {MAX_OUTPUT} bytes"));
    }
    parse(&out).map_err(|e| format!("the output of {program:?} {e}"))
}

/// The documented JSON: `Version` 1, `AccessKeyId`, `SecretAccessKey`, optional
/// `SessionToken` and `Expiration` (absent: the credentials do not expire).
pub fn parse(out: &[u8]) -> Result<Expiring, String> {
    let o: Output = serde_json::from_slice(out).map_err(|e| {
        // serde_json's message names a line and column, never the text.
        format!("is not the documented JSON ({e})")
    })?;
    match &o.version {
        Some(v) if v.as_u64() == Some(1) => {}
        Some(_) => return Err("has a Version other than 1".into()),
        None => return Err("has no Version (expected 1)".into()),
    }
    Expiring::from_answer(
        o.access_key_id,
        o.secret_access_key,
        o.session_token,
        o.expiration.as_deref(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_like_shlex() {
        let w = |s: &str| split_words(s).unwrap();
        assert_eq!(w("/bin/get  --a b"), ["/bin/get", "--a", "b"]);
        assert_eq!(
            w(r#"'/opt/my tool' "x y" z\ w"#),
            ["/opt/my tool", "x y", "z w"]
        );
        assert_eq!(w(r#""a\"b\\c\d" '\n'"#), [r#"a"b\c\d"#, r"\n"]);
        assert_eq!(w("a''b \"\""), ["ab", ""]);
        assert_eq!(w("  "), Vec::<String>::new());
        assert_eq!(split_words("'x"), Err("an unclosed single quote"));
        assert_eq!(split_words("\"x"), Err("an unclosed double quote"));
        assert_eq!(split_words("x\\"), Err("a trailing backslash"));
    }

    #[test]
    fn documented_json() {
        let e = parse(br#"{"Version":1,"AccessKeyId":"A","SecretAccessKey":"S","SessionToken":"T","Expiration":"2026-12-01T13:00:00Z"}"#).unwrap();
        assert_eq!(e.credentials.session_token.as_deref(), Some("T"));
        assert!(e.expires.is_some());
        let e = parse(br#"{"Version":1,"AccessKeyId":"A","SecretAccessKey":"S"}"#).unwrap();
        assert_eq!(e.expires, None);
        assert!(
            parse(br#"{"Version":2,"AccessKeyId":"A","SecretAccessKey":"S"}"#)
                .unwrap_err()
                .contains("Version")
        );
        assert!(
            parse(br#"{"AccessKeyId":"A","SecretAccessKey":"S"}"#)
                .unwrap_err()
                .contains("no Version")
        );
        let bad = parse(br#"{"Version":1,"SecretAccessKey":"TOPSECRET" nope"#).unwrap_err();
        assert!(
            bad.contains("documented JSON") && !bad.contains("TOPSECRET"),
            "{bad}"
        );
        assert!(
            parse(br#"{"Version":1,"AccessKeyId":"A","SecretAccessKey":"S","Expiration":"x"}"#)
                .is_err()
        );
    }
}
