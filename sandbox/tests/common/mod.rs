//! Test helpers: a small blocking HTTPS client (rustls over std's TcpStream,
//! with keep-alive) and JWT minting with the sandbox's generated keys.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use nzpir_sandbox::{Manifest, Profile, Sandbox, SandboxOptions};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use serde_json::Value;

pub fn start(profile: Profile) -> Sandbox {
    Sandbox::start(SandboxOptions::default().profile(profile)).expect("sandbox starts")
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Which client certificate a connection presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identity {
    Registered,
    Unregistered,
    None,
}

pub fn client_config(m: &Manifest, identity: Identity) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(&m.ca_cert).expect("CA PEM"))
        .expect("CA added");
    let builder = ClientConfig::builder_with_provider(nzpir_sandbox::ir_crypto_provider())
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots);
    let load = |cert: &Path, key: &Path| {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
            .expect("cert PEM")
            .collect::<Result<_, _>>()
            .expect("certs");
        let key = PrivateKeyDer::from_pem_file(key).expect("key PEM");
        (certs, key)
    };
    let config = match identity {
        Identity::Registered => {
            let (c, k) = load(&m.client_cert, &m.client_key);
            builder.with_client_auth_cert(c, k).expect("client auth")
        }
        Identity::Unregistered => {
            let (c, k) = load(&m.unregistered_client_cert, &m.unregistered_client_key);
            builder.with_client_auth_cert(c, k).expect("client auth")
        }
        Identity::None => builder.with_no_client_auth(),
    };
    Arc::new(config)
}

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// The first IR error code, if the body is IR's error body.
    pub fn code(&self) -> Option<String> {
        let v: Value = serde_json::from_slice(&self.body).ok()?;
        v["errors"][0]["code"].as_str().map(str::to_owned)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One TLS connection, reused for several requests (keep-alive).
pub struct Conn {
    stream: StreamOwned<ClientConnection, TcpStream>,
    host: String,
    buf: Vec<u8>,
}

impl Conn {
    pub fn open(m: &Manifest, identity: Identity) -> std::io::Result<Conn> {
        Conn::open_with(m, client_config(m, identity))
    }

    pub fn open_with(m: &Manifest, config: Arc<ClientConfig>) -> std::io::Result<Conn> {
        Conn::open_url(&m.url, config)
    }

    /// A connection to `url` (`https://host:port`).
    pub fn open_url(url: &str, config: Arc<ClientConfig>) -> std::io::Result<Conn> {
        let host = url.trim_start_matches("https://").to_owned();
        let tcp = TcpStream::connect(&host)?;
        tcp.set_read_timeout(Some(Duration::from_secs(20)))?;
        tcp.set_nodelay(true)?;
        let name = ServerName::try_from("localhost").expect("server name");
        let conn = ClientConnection::new(config, name).map_err(std::io::Error::other)?;
        let mut stream = StreamOwned::new(conn, tcp);
        // Finish the handshake now so TLS failures show here.
        while stream.conn.is_handshaking() {
            stream.conn.complete_io(&mut stream.sock)?;
        }
        Ok(Conn {
            stream,
            host,
            buf: Vec::new(),
        })
    }

    /// Sends raw bytes (a whole request, possibly broken on purpose).
    pub fn send_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes)?;
        self.stream.flush()
    }

    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> std::io::Result<Response> {
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.host);
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        if !body.is_empty() || method == "POST" || method == "PUT" {
            head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        let mut all = head.into_bytes();
        all.extend_from_slice(body);
        // A server may answer (413) and close before it has read everything:
        // the answer still counts.
        match self.send_raw(&all) {
            Ok(()) => self.read_response(method == "HEAD"),
            Err(e) => self.read_response(method == "HEAD").map_err(|_| e),
        }
    }

    /// Reads raw bytes from the connection (after any buffered ones).
    pub fn read_raw(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if !self.buf.is_empty() {
            let n = buf.len().min(self.buf.len());
            buf[..n].copy_from_slice(&self.buf[..n]);
            self.buf.drain(..n);
            return Ok(n);
        }
        self.stream.read(buf)
    }

    fn fill(&mut self) -> std::io::Result<usize> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk)?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    pub fn read_response(&mut self, head_only: bool) -> std::io::Result<Response> {
        let end = loop {
            if let Some(i) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i;
            }
            if self.fill()? == 0 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "connection closed before a response",
                ));
            }
        };
        let head = String::from_utf8_lossy(&self.buf[..end]).into_owned();
        self.buf.drain(..end + 4);
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let status: u16 = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("bad status line {status_line:?}")))?;
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect();
        let len = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse::<usize>().ok());
        assert!(
            !headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("transfer-encoding")),
            "the sandbox always sends Content-Length"
        );
        let len = if head_only { 0 } else { len.unwrap_or(0) };
        while self.buf.len() < len {
            if self.fill()? == 0 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "body cut short",
                ));
            }
        }
        let body = self.buf.drain(..len).collect();
        Ok(Response {
            status,
            headers,
            body,
        })
    }
}

/// One request on a fresh connection with the registered certificate.
pub fn call(
    m: &Manifest,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    Conn::open(m, Identity::Registered)
        .and_then(|mut c| c.request(method, path, headers, body))
        .expect("request answered")
}

/// `POST /gateway/calculators/pir` with an optional Authorization value.
pub fn pir(m: &Manifest, auth: Option<&str>, body: &str) -> Response {
    let mut headers = vec![("Content-Type", "application/json; charset=utf-8")];
    if let Some(a) = auth {
        headers.push(("Authorization", a));
    }
    call(
        m,
        "POST",
        "/gateway/calculators/pir",
        &headers,
        body.as_bytes(),
    )
}

/// JWT claims to mint.
#[derive(Debug, Clone)]
pub struct Claims {
    pub sub: Option<String>,
    pub iss: Option<String>,
    pub start_logon: Option<String>,
    pub iat: i64,
    pub exp: i64,
}

pub enum Signer {
    Rs256,
    Ec,
}

impl Claims {
    /// Fresh claims for a credential (sub = its thumbprint), living 5 minutes.
    pub fn for_cred(m: &Manifest, signer: &Signer) -> Claims {
        let name = match signer {
            Signer::Rs256 => "jwt_rs256",
            Signer::Ec => "jwt_ec",
        };
        let now = now();
        Claims {
            sub: m.thumbprints.get(name).cloned(),
            iss: Some("Test Issuer".to_owned()),
            start_logon: None,
            iat: now,
            exp: now + 300,
        }
    }

    pub fn logon(mut self, logon: &str) -> Claims {
        self.start_logon = Some(logon.to_owned());
        self
    }

    fn to_json(&self) -> Value {
        let mut v = serde_json::json!({ "iat": self.iat, "exp": self.exp });
        if let Some(s) = &self.sub {
            v["sub"] = Value::from(s.clone());
        }
        if let Some(s) = &self.iss {
            v["iss"] = Value::from(s.clone());
        }
        v["startLogon"] = match &self.start_logon {
            Some(s) => Value::from(s.clone()),
            None => Value::Null,
        };
        v
    }
}

pub fn sign(m: &Manifest, signer: &Signer, alg: Algorithm, claims: &Claims) -> String {
    let mut header = Header::new(alg);
    header.kid = Some("M2M".to_owned());
    header.typ = Some("JWT".to_owned());
    sign_with_header(m, signer, &header, claims)
}

pub fn sign_with_header(m: &Manifest, signer: &Signer, header: &Header, claims: &Claims) -> String {
    let key = match signer {
        Signer::Rs256 => {
            EncodingKey::from_rsa_pem(&std::fs::read(&m.jwt_rs256_key).expect("RSA key"))
                .expect("RSA key parses")
        }
        Signer::Ec => EncodingKey::from_ec_pem(&std::fs::read(&m.jwt_ec_key).expect("EC key"))
            .expect("EC key parses"),
    };
    jsonwebtoken::encode(header, &claims.to_json(), &key).expect("JWT signs")
}

/// A valid JWT by the RS256 credential (kowhai-kiwisaver), optionally with a startLogon.
pub fn rs256(m: &Manifest, logon: Option<&str>) -> String {
    let mut c = Claims::for_cred(m, &Signer::Rs256);
    if let Some(l) = logon {
        c = c.logon(l);
    }
    sign(m, &Signer::Rs256, Algorithm::RS256, &c)
}

/// A valid JWT by the EC credential (harakeke-admin), optionally with a startLogon.
pub fn es256(m: &Manifest, logon: Option<&str>) -> String {
    let mut c = Claims::for_cred(m, &Signer::Ec);
    if let Some(l) = logon {
        c = c.logon(l);
    }
    sign(m, &Signer::Ec, Algorithm::ES256, &c)
}

/// Runs the OAuth code flow for `client_id` (PKCE S256) and returns the token answer.
pub fn oauth_tokens(m: &Manifest, client_id: &str) -> Value {
    let client = m
        .oauth
        .clients
        .iter()
        .find(|c| c.client_id == client_id)
        .expect("client in the fixture");
    let verifier = "a-verifier-of-sufficient-length-0123456789-abcdefghijkl";
    let challenge = pkce_challenge(verifier);
    let redirect = "http://127.0.0.1/callback";
    let q = format!(
        "client_id={client_id}&redirect_uri={}&scope=MYIR.Services&response_type=code&state=xyz&code_challenge={challenge}&code_challenge_method=S256",
        urlenc(redirect)
    );
    let r = call(
        m,
        "GET",
        &format!("/gateway3/oauth/authorize?{q}"),
        &[],
        b"",
    );
    assert_eq!(r.status, 302, "{}", r.text());
    let location = r.header("location").expect("Location");
    let url = url::Url::parse(location).expect("redirect URL");
    let code = url
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("code");
    let form = format!(
        "grant_type=authorization_code&code={}&redirect_uri={}&code_verifier={verifier}",
        urlenc(&code),
        urlenc(redirect)
    );
    let r = token_request(m, &client.client_id, &client.client_secret, &form);
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

pub fn token_request(m: &Manifest, id: &str, secret: &str, form: &str) -> Response {
    use base64::Engine as _;
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    );
    call(
        m,
        "POST",
        "/gateway3/oauth/token",
        &[
            ("Authorization", &basic),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        form.as_bytes(),
    )
}

pub fn pkce_challenge(verifier: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        verifier.as_bytes(),
    ))
}

pub fn urlenc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The PieIRD of a party of the fixture.
pub fn pie(m: &Manifest, id: &str) -> String {
    m.parties
        .iter()
        .find(|p| p.id == id)
        .map(|p| p.ird.clone())
        .expect("party in the fixture")
}
