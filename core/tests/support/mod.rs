//! Test support: a throwaway PKI (rcgen), a small HTTPS/1.1 server on loopback
//! with scripted answers and counters, an `openssl s_server` runner, log
//! capture (`logs`) and helpers for tests against a live sandbox (`sandbox`).
#![allow(dead_code)]

pub mod logs;
pub mod sandbox;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};

/// A test CA that issues server and client certificates, and a folder for files.
pub struct Pki {
    pub ca_pem: String,
    issuer: Issuer<'static, KeyPair>,
    pub dir: tempfile::TempDir,
}

pub struct Issued {
    pub cert_pem: String,
    pub key_pem: String,
}

impl Pki {
    pub fn new() -> Pki {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("ca key");
        let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
        // Unique names: webpki picks an anchor by subject name.
        static SERIAL: AtomicUsize = AtomicUsize::new(0);
        let n = SERIAL.fetch_add(1, Ordering::SeqCst);
        p.distinguished_name.push(
            DnType::CommonName,
            format!("nzpir test CA {} {n}", std::process::id()),
        );
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = p.self_signed(&key).expect("ca");
        Pki {
            ca_pem: ca.pem(),
            issuer: Issuer::new(p, key),
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn issue(&self, names: &[&str], eku: ExtendedKeyUsagePurpose) -> Issued {
        self.issue_with(
            KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("key"),
            names,
            eku,
        )
    }

    fn issue_with(&self, key: KeyPair, names: &[&str], eku: ExtendedKeyUsagePurpose) -> Issued {
        let mut p = CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .expect("params");
        p.distinguished_name.push(DnType::CommonName, names[0]);
        p.extended_key_usages = vec![eku];
        let cert = p.signed_by(&key, &self.issuer).expect("signed");
        Issued {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }

    pub fn server(&self, names: &[&str]) -> Issued {
        self.issue(names, ExtendedKeyUsagePurpose::ServerAuth)
    }

    /// A server certificate with an RSA 2048 key (for ECDHE-RSA and static-RSA peers).
    pub fn server_rsa(&self, names: &[&str]) -> Issued {
        let key = KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
            .expect("rsa key");
        self.issue_with(key, names, ExtendedKeyUsagePurpose::ServerAuth)
    }

    pub fn client(&self) -> Issued {
        self.issue(&["client.nzpir.test"], ExtendedKeyUsagePurpose::ClientAuth)
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).expect("write");
        p
    }
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What the server does with a request.
pub enum Reply {
    /// A full answer.
    Http {
        status: u16,
        body: Vec<u8>,
        headers: Vec<(String, String)>,
    },
    /// Close the connection without answering.
    Close,
    /// Never answer (until the server is dropped).
    Hang,
    /// Claim `claimed` bytes of body, send `body`, then close.
    Truncated {
        status: u16,
        body: Vec<u8>,
        claimed: usize,
    },
}

impl Reply {
    pub fn json(status: u16, body: &str) -> Reply {
        Reply::Http {
            status,
            body: body.as_bytes().to_vec(),
            headers: vec![("Content-Type".into(), "application/json".into())],
        }
    }

    pub fn text(status: u16, body: &str) -> Reply {
        Reply::Http {
            status,
            body: body.as_bytes().to_vec(),
            headers: vec![("Content-Type".into(), "text/plain".into())],
        }
    }

    pub fn ir_error(status: u16, code: &str) -> Reply {
        Reply::json(
            status,
            &format!(
                r#"{{"errors":[{{"code":"{code}","type":"validation","message":"IR says {code}"}}]}}"#
            ),
        )
    }
}

pub type Handler = Arc<dyn Fn(usize, &Seen) -> Reply + Send + Sync>;

/// An HTTPS/1.1 server on 127.0.0.1 with keep-alive, scripted answers and counters.
pub struct TestServer {
    pub addr: SocketAddr,
    pub requests: Arc<Mutex<Vec<Seen>>>,
    pub connections: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl TestServer {
    /// Serves `cert` for TLS; when `client_ca` is given, a client certificate
    /// signed by it is required (mutual TLS).
    pub fn start(cert: &Issued, client_ca: Option<&str>, handler: Handler) -> TestServer {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .expect("versions");
        let builder = match client_ca {
            Some(ca) => {
                let mut roots = rustls::RootCertStore::empty();
                for c in CertificateDer::pem_slice_iter(ca.as_bytes()) {
                    roots.add(c.expect("ca")).expect("root");
                }
                let v = rustls::server::WebPkiClientVerifier::builder_with_provider(
                    Arc::new(roots),
                    provider,
                )
                .build()
                .expect("verifier");
                builder.with_client_cert_verifier(v)
            }
            None => builder.with_no_client_auth(),
        };
        let chain: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(cert.cert_pem.as_bytes())
                .map(|c| c.expect("cert"))
                .collect();
        let key = PrivateKeyDer::from_pem_slice(cert.key_pem.as_bytes()).expect("key");
        let config = Arc::new(builder.with_single_cert(chain, key).expect("server config"));

        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let counter = Arc::new(AtomicUsize::new(0));
        {
            let (requests, connections, stop) =
                (requests.clone(), connections.clone(), stop.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    connections.fetch_add(1, Ordering::SeqCst);
                    let (config, handler, requests, counter, stop) = (
                        config.clone(),
                        handler.clone(),
                        requests.clone(),
                        counter.clone(),
                        stop.clone(),
                    );
                    std::thread::spawn(move || {
                        serve(stream, config, handler, requests, counter, stop);
                    });
                }
            });
        }
        TestServer {
            addr,
            requests,
            connections,
            stop,
        }
    }

    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.addr.port())
    }

    pub fn request_count(&self) -> usize {
        self.requests.lock().expect("lock").len()
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.requests.lock().expect("lock").clone()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve(
    tcp: TcpStream,
    config: Arc<rustls::ServerConfig>,
    handler: Handler,
    requests: Arc<Mutex<Vec<Seen>>>,
    counter: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
) {
    let Ok(conn) = rustls::ServerConnection::new(config) else {
        return;
    };
    let tls = rustls::StreamOwned::new(conn, tcp);
    let mut reader = BufReader::new(tls);
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_owned();
        let path = parts.next().unwrap_or_default().to_owned();
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.push((k.trim().to_owned(), v.trim().to_owned()));
            }
        }
        let len = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse::<usize>().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let seen = Seen {
            method,
            path,
            headers,
            body,
        };
        let index = counter.fetch_add(1, Ordering::SeqCst);
        requests.lock().expect("lock").push(seen.clone());
        let stream = reader.get_mut();
        match handler(index, &seen) {
            Reply::Http {
                status,
                body,
                headers,
            } => {
                let mut out = format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\n", body.len());
                for (k, v) in headers {
                    out.push_str(&format!("{k}: {v}\r\n"));
                }
                out.push_str("\r\n");
                let mut bytes = out.into_bytes();
                bytes.extend(body);
                if stream
                    .write_all(&bytes)
                    .and_then(|_| stream.flush())
                    .is_err()
                {
                    return;
                }
            }
            Reply::Close => {
                stream.conn.send_close_notify();
                let _ = stream.flush();
                return;
            }
            Reply::Hang => {
                while !stop.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(50));
                }
                return;
            }
            Reply::Truncated {
                status,
                body,
                claimed,
            } => {
                let mut bytes = format!("HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {claimed}\r\n\r\n").into_bytes();
                bytes.extend(body);
                let _ = stream.write_all(&bytes);
                let _ = stream.flush();
                stream.conn.send_close_notify();
                let _ = stream.flush();
                return;
            }
        }
    }
}

/// A free loopback port (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// `openssl s_server` on loopback; killed on drop.
pub struct SServer {
    child: Child,
    pub port: u16,
}

impl SServer {
    pub fn start(cert: &PathBuf, key: &PathBuf, args: &[&str]) -> SServer {
        // Port 0: s_server picks a free port and prints it ("ACCEPT
        // 127.0.0.1:PORT"), so parallel tests never race for one.
        let mut child = Command::new("openssl")
            .args(["s_server", "-accept", "127.0.0.1:0"])
            .arg("-cert")
            .arg(cert)
            .arg("-key")
            .arg(key)
            .args(args)
            .arg("-www")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl s_server");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            let mut tx = Some(tx);
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(port) = line
                    .strip_prefix("ACCEPT ")
                    .and_then(|a| a.rsplit(':').next())
                    .and_then(|p| p.trim().parse::<u16>().ok())
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(port);
                }
                // Keep draining so s_server never blocks on a full pipe.
            }
        });
        let port = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("s_server did not start");
        SServer { child, port }
    }

    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }
}

impl Drop for SServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `openssl` with `args` and returns stdout, asserting success.
pub fn openssl(args: &[&str]) -> String {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Reads lines of a file (for assertions on logs and such).
pub fn lines(text: &str) -> Vec<&str> {
    text.lines().collect()
}

pub fn read_to_string(r: impl Read) -> String {
    let mut s = String::new();
    let mut r = r;
    let _ = r.read_to_string(&mut s);
    s
}
