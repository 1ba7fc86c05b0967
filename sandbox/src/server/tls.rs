//! The sandbox's own PKI: on first start a CA and a server certificate signed by it (SANs
//! 127.0.0.1, localhost and 10.0.2.2 — the host as an Android emulator sees it), kept in the
//! server directory. A wallet pins `ca.pem`; nothing here is trusted by any platform store.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const CA_CERT: &str = "ca.pem";
const CA_KEY: &str = "ca.key";
const SERVER_CERT: &str = "server.pem";
const SERVER_KEY: &str = "server.key";

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("certificate generation: {0}")]
    Rcgen(#[from] rcgen::Error),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}: not a PEM certificate/key this server wrote")]
    Pem(PathBuf),
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> TlsError + '_ {
    move |source| TlsError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Write a secret file readable by the owner only.
fn write_private(path: &Path, contents: &str) -> Result<(), TlsError> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(io_err(path))?;
    f.write_all(contents.as_bytes()).map_err(io_err(path))?;
    f.sync_all().map_err(io_err(path))
}

/// Create the CA and server certificate in `dir` unless they exist; return the CA file path.
pub fn ensure(dir: &Path) -> Result<PathBuf, TlsError> {
    let ca_path = dir.join(CA_CERT);
    if ca_path.exists() && dir.join(SERVER_CERT).exists() && dir.join(SERVER_KEY).exists() {
        return Ok(ca_path);
    }
    let now = time::OffsetDateTime::now_utc();

    let ca_key = KeyPair::generate()?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "walletcore sandbox CA (test only)");
    dn.push(DnType::OrganizationName, "walletcore sandbox");
    ca.distinguished_name = dn;
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca.not_before = now - time::Duration::days(1);
    ca.not_after = now + time::Duration::days(3650);
    let ca_cert = ca.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca, &ca_key);

    let server_key = KeyPair::generate()?;
    let mut leaf = CertificateParams::new(vec![
        "127.0.0.1".to_owned(),
        "localhost".to_owned(),
        "10.0.2.2".to_owned(),
    ])?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "walletcore sandbox token service");
    leaf.distinguished_name = dn;
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf.not_before = now - time::Duration::days(1);
    leaf.not_after = now + time::Duration::days(825);
    leaf.use_authority_key_identifier_extension = true;
    let leaf_cert = leaf.signed_by(&server_key, &issuer)?;

    write_private(&dir.join(CA_KEY), &ca_key.serialize_pem())?;
    write_private(&dir.join(SERVER_KEY), &server_key.serialize_pem())?;
    let chain = format!("{}{}", leaf_cert.pem(), ca_cert.pem());
    std::fs::write(dir.join(SERVER_CERT), chain).map_err(io_err(&dir.join(SERVER_CERT)))?;
    // The CA file last: its presence marks a complete set.
    std::fs::write(&ca_path, ca_cert.pem()).map_err(io_err(&ca_path))?;
    Ok(ca_path)
}

/// rustls server configuration (ring provider, TLS 1.2 and 1.3) from the files in `dir`.
pub fn server_config(dir: &Path) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let cert_path = dir.join(SERVER_CERT);
    let key_path = dir.join(SERVER_KEY);
    let chain = CertificateDer::pem_file_iter(&cert_path)
        .map_err(|_| TlsError::Pem(cert_path.clone()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| TlsError::Pem(cert_path.clone()))?;
    let key =
        PrivateKeyDer::from_pem_file(&key_path).map_err(|_| TlsError::Pem(key_path.clone()))?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
