//! HTTPS on usher's own listener (`tls_cert`/`tls_key`, `--tls-cert`/`--tls-key`): the PEM
//! files read once at start into a rustls server configuration on aws-lc-rs, HTTP/1.1 only (the
//! accept loop speaks HTTP/1). Clerk's SDKs reach a Frontend API without a proxy at
//! `https://<publishable key host>`, so the direct form needs usher itself (or a proxy in front)
//! to speak TLS.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use anyhow::{Context as _, bail};
use tokio_rustls::{
    TlsAcceptor,
    rustls::{
        self,
        pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject as _},
    },
};

/// Where the certificate chain and its private key are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// PEM: the server certificate first, then any intermediates.
    pub cert: PathBuf,
    /// PEM: the private key (PKCS #8, PKCS #1 or SEC1).
    pub key: PathBuf,
}

impl TlsFiles {
    /// Both paths or neither; one alone is a mistake worth refusing to start over.
    pub fn pair(cert: Option<PathBuf>, key: Option<PathBuf>) -> Result<Option<Self>, String> {
        match (cert, key) {
            (Some(cert), Some(key)) => Ok(Some(Self { cert, key })),
            (None, None) => Ok(None),
            (Some(_), None) => Err("`tls_cert` (USHER_TLS_CERT) needs `tls_key` (USHER_TLS_KEY) as well".to_owned()),
            (None, Some(_)) => Err("`tls_key` (USHER_TLS_KEY) needs `tls_cert` (USHER_TLS_CERT) as well".to_owned()),
        }
    }

    /// The acceptor for these files; a missing or unreadable file, a key that does not match
    /// the certificate, or a file of the wrong kind is an error naming the file.
    pub fn acceptor(&self) -> anyhow::Result<TlsAcceptor> {
        let chain = read_chain(&self.cert)?;
        let key = read_key(&self.key)?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .context("the TLS provider offers no protocol version")?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .with_context(|| {
                format!(
                    "{} and {}: the key does not go with the certificate, or neither is usable",
                    self.cert.display(),
                    self.key.display()
                )
            })?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}

fn read_file(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

fn read_chain(path: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let pem = read_file(path)?;
    let chain = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("{}: not a PEM certificate chain", path.display()))?;
    if chain.is_empty() {
        bail!("{}: no CERTIFICATE block in the file", path.display());
    }
    Ok(chain)
}

fn read_key(path: &Path) -> anyhow::Result<PrivateKeyDer<'static>> {
    let pem = read_file(path)?;
    PrivateKeyDer::from_pem_slice(&pem).with_context(|| format!("{}: no PEM private key in the file", path.display()))
}
