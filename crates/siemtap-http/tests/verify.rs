//! Checklist N2: certificate verification is always on. A real TLS server (`openssl s_server`,
//! with a certificate from a CA made for the test) is refused by the default client, accepted
//! once that CA is trusted through `ca_file`, and refused again when the trusted CA's
//! certificate names another host.

#![allow(clippy::print_stderr)] // a skipped test says so

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use siemtap_http::{HttpClient, HttpConfig, HttpError, RequestContext, RetryPolicy};

/// A scratch directory removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir = std::env::temp_dir().join(format!(
            "siemtap-verify-{tag}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `openssl s_server`, stopped (by its own pid) on drop.
struct TlsServer {
    child: Child,
    port: u16,
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn have_openssl() -> bool {
    Command::new("openssl")
        .arg("version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn openssl(args: &[&str], dir: &Path) {
    let status = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run openssl");
    assert!(status.success(), "openssl {args:?} failed");
}

/// A test CA (`<name>-ca.crt`) and a server certificate it issued for `san` (e.g.
/// `IP:127.0.0.1`): returns (CA certificate, server certificate, server key).
fn make_cert(dir: &Path, name: &str, san: &str) -> (PathBuf, PathBuf, PathBuf) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let ca = format!("{name}-ca");
    let mut args = vec!["req", "-x509"];
    args.extend(ec);
    args.extend(["-days", "2", "-subj", "/CN=siemtap test CA"]);
    let (ca_key, ca_crt) = (format!("{ca}.key"), format!("{ca}.crt"));
    args.extend(["-keyout", &ca_key, "-out", &ca_crt]);
    openssl(&args, dir);
    let (key, csr, crt, ext) = (
        format!("{name}.key"),
        format!("{name}.csr"),
        format!("{name}.crt"),
        format!("{name}.ext"),
    );
    let mut args = vec!["req"];
    args.extend(ec);
    args.extend([
        "-subj",
        "/CN=siemtap test server",
        "-keyout",
        &key,
        "-out",
        &csr,
    ]);
    openssl(&args, dir);
    std::fs::write(
        dir.join(&ext),
        format!("basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName={san}\n"),
    )
    .unwrap();
    openssl(
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &ca_crt,
            "-CAkey",
            &ca_key,
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            &ext,
            "-out",
            &crt,
        ],
        dir,
    );
    (dir.join(ca_crt), dir.join(crt), dir.join(key))
}

fn start_server(cert: &Path, key: &Path) -> TlsServer {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("openssl")
        .args(["s_server", "-quiet", "-www", "-accept"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("-cert")
        .arg(cert)
        .arg("-key")
        .arg(key)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start openssl s_server");
    let server = TlsServer { child, port };
    let until = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < until, "openssl s_server did not listen");
        std::thread::sleep(Duration::from_millis(20));
    }
    server
}

fn client(ca_file: Option<&Path>) -> HttpClient {
    HttpClient::new(HttpConfig {
        ca_file: ca_file.map(Path::to_path_buf),
        retry: RetryPolicy {
            sleep: false,
            ..RetryPolicy::default()
        },
        ..HttpConfig::default()
    })
    .expect("client")
}

async fn get(client: &HttpClient, port: u16) -> Result<u16, HttpError> {
    let url = format!("https://127.0.0.1:{port}/");
    client
        .send(&RequestContext::new("GET /"), |c| c.get(&url))
        .await
        .map(|r| r.status)
}

#[tokio::test]
async fn an_untrusted_or_misnamed_certificate_is_refused_and_a_trusted_one_accepted() {
    if !have_openssl() {
        eprintln!("openssl is not installed: the certificate verification test is skipped");
        return;
    }
    let dir = Scratch::new("n2");
    let (ca, cert, key) = make_cert(&dir.0, "loopback", "IP:127.0.0.1");
    let server = start_server(&cert, &key);

    // The default client (system roots only) refuses the self-signed certificate.
    let err = get(&client(None), server.port)
        .await
        .expect_err("a certificate from an unknown CA must be refused");
    assert!(matches!(err, HttpError::Connect { .. }), "{err:?}");
    assert!(
        format!("{err}").to_lowercase().contains("certificate"),
        "the error should say it is the certificate: {err}"
    );

    // Trusted through ca_file, the same server is accepted: the refusal above was the
    // verification, not a broken server.
    assert_eq!(get(&client(Some(&ca)), server.port).await.unwrap(), 200);

    // Trusted, but issued for another name: refused (the host name is verified too).
    let (other_ca, other, other_key) = make_cert(&dir.0, "other", "DNS:other.example");
    let misnamed = start_server(&other, &other_key);
    let err = get(&client(Some(&other_ca)), misnamed.port)
        .await
        .expect_err("a certificate for another name must be refused");
    assert!(matches!(err, HttpError::Connect { .. }), "{err:?}");
}
