//! Third-party servers the transport tests start on 127.0.0.1: Debian's
//! nginx as a TLS reverse proxy and tinyproxy as a forward proxy, each with
//! a generated configuration in the test's directory, stopped on drop.
//!
//! A test that needs one and cannot find it prints why and passes, unless
//! `GV_REQUIRE_NGINX=1` / `GV_REQUIRE_TINYPROXY=1` is set (as `.ci/run`
//! does after installing them): then a missing binary fails the test.

#![allow(dead_code)]

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The binary `name` in the usual places, or `None` after saying why the
/// test is skipped; panics instead when `require_var` is `1`.
pub fn find(name: &str, require_var: &str) -> Option<PathBuf> {
    let found = ["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"]
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file());
    if found.is_none() {
        let reason = format!("{name} not found (apt-get install {name})");
        if std::env::var(require_var).as_deref() == Ok("1") {
            panic!("{reason}, and {require_var}=1 requires it");
        }
        // Straight to stderr: the test harness captures only print macros.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: {reason}; the test that needs it passes without running"
        );
    }
    found
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until something accepts connections on `port`.
fn wait_listening(child: &mut Child, port: u16, what: &str, log: &Path) {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "{what} exited ({status}) before listening on {port}:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        assert!(
            Instant::now() < deadline,
            "{what} is not listening on {port}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A running server, killed and reaped on drop.
pub struct Daemon {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// Its log (tinyproxy's log, nginx's access log).
    pub log: PathBuf,
}

impl Daemon {
    /// The log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `http://127.0.0.1:PORT`, or with `user:password@`.
    pub fn url(&self, userinfo: Option<&str>) -> String {
        match userinfo {
            Some(u) => format!("http://{u}@127.0.0.1:{}", self.port),
            None => format!("http://127.0.0.1:{}", self.port),
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// tinyproxy on 127.0.0.1 with its config, log and pid file in `dir`;
/// `basic_auth` requires those credentials (tinyproxy's `BasicAuth`).
pub fn tinyproxy(bin: &Path, dir: &Path, basic_auth: Option<(&str, &str)>) -> Daemon {
    let port = free_port();
    let log = dir.join("tinyproxy.log");
    let auth = basic_auth
        .map(|(u, p)| format!("BasicAuth {u} {p}\n"))
        .unwrap_or_default();
    // No ConnectPort line: CONNECT to any port (the endpoints' are random).
    let conf = format!(
        "Port {port}\nListen 127.0.0.1\nTimeout 30\nMaxClients 16\nAllow 127.0.0.1\n\
         LogFile \"{}\"\nLogLevel Info\nPidFile \"{}\"\nDisableViaHeader Yes\n{auth}",
        log.display(),
        dir.join("tinyproxy.pid").display()
    );
    let conf_path = dir.join("tinyproxy.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let stderr = dir.join("tinyproxy.stderr");
    let mut child = Command::new(bin)
        .arg("-d")
        .arg("-c")
        .arg(&conf_path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .expect("start tinyproxy");
    wait_listening(&mut child, port, "tinyproxy", &stderr);
    Daemon { child, port, log }
}

/// nginx on 127.0.0.1 terminating TLS with `dir/server.pem` and
/// `dir/server.key` and passing every request to `upstream` unchanged
/// (the `Host` header too: SigV4 signs it), without buffering.
pub fn nginx_tls_front(bin: &Path, dir: &Path, upstream: SocketAddr) -> Daemon {
    let port = free_port();
    let root = dir.join("nginx");
    std::fs::create_dir_all(root.join("tmp")).unwrap();
    let log = root.join("access.log");
    let tmp = root.join("tmp");
    let conf = format!(
        r#"daemon off;
master_process off;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log {log};
    client_body_temp_path {tmp};
    proxy_temp_path {tmp};
    fastcgi_temp_path {tmp};
    uwsgi_temp_path {tmp};
    scgi_temp_path {tmp};
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {dir}/server.pem;
        ssl_certificate_key {dir}/server.key;
        location / {{
            proxy_pass http://{upstream};
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_set_header Connection "";
            proxy_buffering off;
            proxy_request_buffering off;
        }}
    }}
}}
"#,
        root = root.display(),
        log = log.display(),
        tmp = tmp.display(),
        dir = dir.display(),
    );
    let conf_path = root.join("nginx.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let error_log = root.join("error.log");
    let mut child = Command::new(bin)
        .arg("-p")
        .arg(&root)
        .arg("-e")
        .arg(&error_log)
        .arg("-c")
        .arg(&conf_path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start nginx");
    wait_listening(&mut child, port, "nginx", &error_log);
    Daemon { child, port, log }
}
