//! Windows integrated authentication for the AdminService from a machine that is not in the
//! domain: NTLMv2 (MS-NLMP) over HTTP, as the SMS Provider's web service takes it under `NTLM` or
//! `Negotiate`. Three messages on one connection: NEGOTIATE → the server's CHALLENGE (in a 401)
//! → AUTHENTICATE with the NTLMv2 response. The password comes from a file or the environment.

use hmac::{Hmac, Mac};
use md5::Md5;

type HmacMd5 = Hmac<Md5>;

/// An account as `DOMAIN\user` (or `user@domain`).
#[derive(Clone, Debug)]
pub struct Account {
    pub domain: String,
    pub user: String,
    pub password: String,
}

impl Account {
    pub fn parse(account: &str, password: String) -> Result<Account, String> {
        let (domain, user) = if let Some((d, u)) = account.split_once('\\') {
            (d.to_string(), u.to_string())
        } else if let Some((u, d)) = account.split_once('@') {
            (d.to_string(), u.to_string())
        } else {
            return Err(format!("{account:?}: an account as DOMAIN\\user or user@domain"));
        };
        if domain.is_empty() || user.is_empty() {
            return Err(format!("{account:?}: an account as DOMAIN\\user or user@domain"));
        }
        Ok(Account { domain, user, password })
    }
}

const NEGOTIATE_UNICODE: u32 = 0x0000_0001;
const REQUEST_TARGET: u32 = 0x0000_0004;
const NEGOTIATE_NTLM: u32 = 0x0000_0200;
const NEGOTIATE_ALWAYS_SIGN: u32 = 0x0000_8000;
const NEGOTIATE_EXTENDED_SESSIONSECURITY: u32 = 0x0008_0000;
const NEGOTIATE_TARGET_INFO: u32 = 0x0080_0000;
const NEGOTIATE_128: u32 = 0x2000_0000;
const FLAGS: u32 = NEGOTIATE_UNICODE
    | REQUEST_TARGET
    | NEGOTIATE_NTLM
    | NEGOTIATE_ALWAYS_SIGN
    | NEGOTIATE_EXTENDED_SESSIONSECURITY
    | NEGOTIATE_TARGET_INFO
    | NEGOTIATE_128;

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

fn hmac_md5(key: &[u8], parts: &[&[u8]]) -> [u8; 16] {
    let mut mac = HmacMd5::new_from_slice(key).expect("HMAC takes any key");
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// NTOWFv1: MD4 of the password in UTF-16LE.
pub fn nt_hash(password: &str) -> [u8; 16] {
    use md4::{Digest, Md4};
    Md4::digest(utf16(password)).into()
}

/// NTOWFv2: HMAC-MD5 keyed by the NT hash over upper-case user + domain (UTF-16LE).
pub fn ntowf_v2(account: &Account) -> [u8; 16] {
    hmac_md5(&nt_hash(&account.password), &[&utf16(&account.user.to_uppercase()), &utf16(&account.domain)])
}

/// The first message.
pub fn negotiate() -> Vec<u8> {
    let mut m = Vec::with_capacity(32);
    m.extend_from_slice(b"NTLMSSP\0");
    m.extend_from_slice(&1u32.to_le_bytes());
    m.extend_from_slice(&FLAGS.to_le_bytes());
    m.extend_from_slice(&[0u8; 16]); // no domain, no workstation
    m
}

/// What the server's CHALLENGE says.
#[derive(Debug, PartialEq)]
pub struct Challenge {
    pub server_challenge: [u8; 8],
    pub target_info: Vec<u8>,
    pub flags: u32,
}

fn buffer(msg: &[u8], at: usize) -> Option<&[u8]> {
    let len = u16::from_le_bytes(msg.get(at..at + 2)?.try_into().ok()?) as usize;
    let offset = u32::from_le_bytes(msg.get(at + 4..at + 8)?.try_into().ok()?) as usize;
    msg.get(offset..offset.checked_add(len)?)
}

/// Reads a CHALLENGE message (None if it is not one).
pub fn read_challenge(msg: &[u8]) -> Option<Challenge> {
    if msg.get(..8)? != b"NTLMSSP\0" || u32::from_le_bytes(msg.get(8..12)?.try_into().ok()?) != 2 {
        return None;
    }
    let flags = u32::from_le_bytes(msg.get(20..24)?.try_into().ok()?);
    let server_challenge: [u8; 8] = msg.get(24..32)?.try_into().ok()?;
    let target_info = if msg.len() >= 48 { buffer(msg, 40)?.to_vec() } else { Vec::new() };
    Some(Challenge { server_challenge, target_info, flags })
}

/// The NTLMv2 response (NTProofStr + the client's blob) for a challenge.
pub fn ntlmv2_response(account: &Account, challenge: &Challenge, client_challenge: [u8; 8], timestamp: u64) -> Vec<u8> {
    let mut blob = Vec::with_capacity(32 + challenge.target_info.len());
    blob.extend_from_slice(&[1, 1, 0, 0, 0, 0, 0, 0]);
    blob.extend_from_slice(&timestamp.to_le_bytes());
    blob.extend_from_slice(&client_challenge);
    blob.extend_from_slice(&[0u8; 4]);
    blob.extend_from_slice(&challenge.target_info);
    blob.extend_from_slice(&[0u8; 4]);
    let proof = hmac_md5(&ntowf_v2(account), &[&challenge.server_challenge, &blob]);
    let mut response = proof.to_vec();
    response.extend_from_slice(&blob);
    response
}

/// The server's time from the target info (MsvAvTimestamp), if it sent one.
fn server_time(target_info: &[u8]) -> Option<u64> {
    let mut at = 0;
    while at + 4 <= target_info.len() {
        let id = u16::from_le_bytes([target_info[at], target_info[at + 1]]);
        let len = u16::from_le_bytes([target_info[at + 2], target_info[at + 3]]) as usize;
        let value = target_info.get(at + 4..at + 4 + len)?;
        match id {
            0 => return None,
            7 if len == 8 => return Some(u64::from_le_bytes(value.try_into().ok()?)),
            _ => {}
        }
        at += 4 + len;
    }
    None
}

/// Windows time now: 100-nanosecond intervals since 1601-01-01.
fn filetime_now() -> u64 {
    let unix = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    (unix.as_secs() + 11_644_473_600) * 10_000_000 + u64::from(unix.subsec_nanos() / 100)
}

/// The third message, answering `challenge`.
pub fn authenticate(account: &Account, challenge: &Challenge, workstation: &str) -> Vec<u8> {
    let mut client_challenge = [0u8; 8];
    getrandom::getrandom(&mut client_challenge).expect("random bytes");
    let timestamp = server_time(&challenge.target_info).unwrap_or_else(filetime_now);
    let nt = ntlmv2_response(account, challenge, client_challenge, timestamp);
    // With a server timestamp the LM response is zeros (MS-NLMP 3.3.2); else LMv2.
    let lm = if server_time(&challenge.target_info).is_some() {
        vec![0u8; 24]
    } else {
        let mut lm = hmac_md5(&ntowf_v2(account), &[&challenge.server_challenge, &client_challenge]).to_vec();
        lm.extend_from_slice(&client_challenge);
        lm
    };
    let domain = utf16(&account.domain);
    let user = utf16(&account.user);
    let host = utf16(workstation);
    let header_len = 64u32;
    let mut payload = Vec::new();
    let mut fields = Vec::new();
    for part in [&lm, &nt, &domain, &user, &host, &Vec::new()] {
        fields.push((part.len() as u16, header_len + payload.len() as u32));
        payload.extend_from_slice(part);
    }
    let mut m = Vec::with_capacity(64 + payload.len());
    m.extend_from_slice(b"NTLMSSP\0");
    m.extend_from_slice(&3u32.to_le_bytes());
    for (len, offset) in &fields {
        m.extend_from_slice(&len.to_le_bytes());
        m.extend_from_slice(&len.to_le_bytes());
        m.extend_from_slice(&offset.to_le_bytes());
    }
    m.extend_from_slice(&(FLAGS & challenge.flags | NEGOTIATE_UNICODE | NEGOTIATE_NTLM).to_le_bytes());
    m.extend_from_slice(&payload);
    m
}

/// Checks an AUTHENTICATE message the way a server does, for the tests' stand-in AdminService:
/// Some(user) when its NTLMv2 response proves the password.
pub fn verify(msg: &[u8], server_challenge: [u8; 8], domain: &str, user: &str, password: &str) -> Option<String> {
    if msg.get(..8)? != b"NTLMSSP\0" || u32::from_le_bytes(msg.get(8..12)?.try_into().ok()?) != 3 {
        return None;
    }
    let nt = buffer(msg, 20)?;
    let sent_user = String::from_utf16(&buffer(msg, 36)?.chunks(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect::<Vec<_>>()).ok()?;
    if nt.len() < 16 + 28 || !sent_user.eq_ignore_ascii_case(user) {
        return None;
    }
    let account = Account { domain: domain.into(), user: sent_user.clone(), password: password.into() };
    let proof = hmac_md5(&ntowf_v2(&account), &[&server_challenge, &nt[16..]]);
    (proof[..] == nt[..16]).then_some(sent_user)
}

#[cfg(test)]
mod tests {
    use super::*;

    // MS-NLMP 4.2.1 / 4.2.4: User "User", UserDom "Domain", Password "Password".
    fn spec_account() -> Account {
        Account { domain: "Domain".into(), user: "User".into(), password: "Password".into() }
    }

    #[test]
    fn the_documented_hashes() {
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        assert_eq!(hex(&nt_hash("Password")), "a4f49c406510bdcab6824ee7c30fd852");
        assert_eq!(hex(&ntowf_v2(&spec_account())), "0c868a403bfd7a93a3001ef22ef02e3f");
    }

    #[test]
    fn a_challenge_is_read_and_answered_so_that_the_server_can_check_it() {
        let info = [2u16.to_le_bytes(), 12u16.to_le_bytes()].concat();
        let mut target_info = info.clone();
        target_info.extend_from_slice(&utf16("Domain"));
        target_info.extend_from_slice(&[0, 0, 0, 0]);
        let mut msg = b"NTLMSSP\0".to_vec();
        msg.extend_from_slice(&2u32.to_le_bytes());
        msg.extend_from_slice(&[0, 0, 0, 0, 48, 0, 0, 0]); // empty target name
        msg.extend_from_slice(&FLAGS.to_le_bytes());
        msg.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        msg.extend_from_slice(&[0u8; 8]);
        msg.extend_from_slice(&(target_info.len() as u16).to_le_bytes());
        msg.extend_from_slice(&(target_info.len() as u16).to_le_bytes());
        msg.extend_from_slice(&48u32.to_le_bytes());
        msg.extend_from_slice(&target_info);
        let challenge = read_challenge(&msg).unwrap();
        assert_eq!(challenge.server_challenge, [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(challenge.target_info, target_info);
        let answer = authenticate(&spec_account(), &challenge, "TENANTSCOPE");
        assert_eq!(verify(&answer, challenge.server_challenge, "Domain", "User", "Password").as_deref(), Some("User"));
        assert_eq!(verify(&answer, challenge.server_challenge, "Domain", "User", "password"), None);
        assert_eq!(verify(&answer, [0; 8], "Domain", "User", "Password"), None);
        assert!(read_challenge(b"NTLMSSP\0\x01\0\0\0").is_none());
        assert!(read_challenge(b"garbage").is_none());
        assert!(Account::parse("CORP\\svc-tenantscope", String::new()).is_ok());
        assert!(Account::parse("svc@corp.contoso.com", String::new()).is_ok());
        assert!(Account::parse("svc", String::new()).is_err());
    }
}

/// One HTTP/1.1 connection to the AdminService, signed in with NTLM once and kept: HTTP.sys holds
/// the authentication for the connection, so the pages that follow need no handshake. (A pooled
/// client may hand the handshake's third message to another connection, which the server refuses.)
pub struct Connection {
    account: Account,
    roots: std::sync::Arc<rustls::ClientConfig>,
    sender: Option<hyper::client::conn::http1::SendRequest<http_body_util::Empty<bytes::Bytes>>>,
    /// scheme, host, port of the open connection.
    peer: Option<(String, String, u16)>,
    pub requests: u64,
}

/// An answer: status, `WWW-Authenticate` values, body.
pub struct Answer {
    pub status: u16,
    pub body: bytes::Bytes,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl Connection {
    /// `ca_bundle`: PEM certificates trusted besides the public roots.
    pub fn new(account: Account, ca_bundle: Option<&[u8]>) -> Result<Connection, BoxError> {
        let mut roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        if let Some(pem) = ca_bundle {
            use rustls_pki_types::pem::PemObject;
            for cert in rustls_pki_types::CertificateDer::pem_slice_iter(pem) {
                roots.add(cert.map_err(|e| format!("--ca-bundle: {e}"))?).map_err(|e| format!("--ca-bundle: {e}"))?;
            }
        }
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Connection { account, roots: std::sync::Arc::new(config), sender: None, peer: None, requests: 0 })
    }

    async fn connect(&mut self, scheme: &str, host: &str, port: u16) -> Result<(), BoxError> {
        let tcp = tokio::net::TcpStream::connect((host, port)).await?;
        let sender = if scheme == "https" {
            let name = rustls_pki_types::ServerName::try_from(host.to_string())?;
            let tls = tokio_rustls::TlsConnector::from(self.roots.clone()).connect(name, tcp).await?;
            let (sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tls)).await?;
            tokio::spawn(async move {
                let _ = conn.await;
            });
            sender
        } else {
            let (sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp)).await?;
            tokio::spawn(async move {
                let _ = conn.await;
            });
            sender
        };
        self.sender = Some(sender);
        self.peer = Some((scheme.to_string(), host.to_string(), port));
        Ok(())
    }

    async fn send(&mut self, url: &reqwest::Url, authorization: Option<String>) -> Result<(Answer, Vec<String>), BoxError> {
        use http_body_util::BodyExt;
        let host = url.host_str().ok_or("no host")?.to_string();
        let port = url.port_or_known_default().ok_or("no port")?;
        let peer = (url.scheme().to_string(), host.clone(), port);
        let reusable = self.peer.as_ref() == Some(&peer) && self.sender.as_ref().is_some_and(|s| !s.is_closed());
        if !reusable {
            self.connect(url.scheme(), &host, port).await?;
        }
        let sender = self.sender.as_mut().expect("connected");
        sender.ready().await?;
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        let mut request = hyper::Request::get(path)
            .header("host", if url.port().is_some() { format!("{host}:{port}") } else { host })
            .header("accept", "application/json")
            .header("user-agent", concat!("tenantscope/", env!("CARGO_PKG_VERSION")));
        if let Some(auth) = authorization {
            request = request.header("authorization", auth);
        }
        self.requests += 1;
        let response = sender.send_request(request.body(http_body_util::Empty::new())?).await?;
        let status = response.status().as_u16();
        let challenges: Vec<String> =
            response.headers().get_all("www-authenticate").iter().filter_map(|v| v.to_str().ok().map(str::to_string)).collect();
        let body = response.into_body().collect().await?.to_bytes();
        Ok((Answer { status, body }, challenges))
    }

    /// A GET as the account: the handshake when the connection is new (or the server asks again).
    pub async fn get(&mut self, url: &str) -> Result<Answer, BoxError> {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD;
        let url = reqwest::Url::parse(url)?;
        let (answer, offered) = self.send(&url, None).await?;
        if answer.status != 401 {
            return Ok(answer);
        }
        let scheme = if offered.iter().any(|c| c.starts_with("NTLM")) { "NTLM" } else { "Negotiate" };
        let (first, challenges) = self.send(&url, Some(format!("{scheme} {}", b64.encode(negotiate())))).await?;
        if first.status != 401 {
            return Ok(first);
        }
        let challenge = challenges
            .iter()
            .filter_map(|v| v.strip_prefix(scheme).map(str::trim))
            .find_map(|token| b64.decode(token).ok().and_then(|bytes| read_challenge(&bytes)));
        let Some(challenge) = challenge else { return Ok(first) };
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "TENANTSCOPE".into()).to_uppercase();
        let (answer, _) = self.send(&url, Some(format!("{scheme} {}", b64.encode(authenticate(&self.account, &challenge, &host))))).await?;
        Ok(answer)
    }
}
