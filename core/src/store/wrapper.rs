//! Wrapping the data key: the store never keeps its data key in the clear. On a phone the
//! wrapper is the Android Keystore (StrongBox where present), reached through a UniFFI callback;
//! on a desktop it is [`SoftwareKeyWrapper`], which is only as safe as the file it reads.

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Why a wrapper could not wrap or unwrap. Carries no key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WrapError {
    /// The wrapping key is gone for good (Android `KeyPermanentlyInvalidatedException`, e.g. after
    /// a lock-screen or biometric change). The wallet's secrets cannot be recovered; start fresh.
    #[error("the wrapping key was permanently invalidated")]
    KeyInvalidated,
    /// The wrapping key exists but cannot be used now (device locked, user not authenticated).
    #[error("the wrapping key is unavailable right now: {0}")]
    Unavailable(String),
    /// Anything else: a corrupt blob, an I/O failure, a Keystore error.
    #[error("key wrapping failed: {0}")]
    Failed(String),
}

/// Encrypts the store's data key under a key the store never sees.
pub trait KeyWrapper: Send + Sync {
    fn wrap(&self, dek: &[u8]) -> Result<Vec<u8>, WrapError>;
    fn unwrap(&self, blob: &[u8]) -> Result<Zeroizing<Vec<u8>>, WrapError>;
}

const KEK_LEN: usize = 32;
const WRAP_AAD: &[u8] = b"walletcore software key wrapper v1";

/// **Desktop and test use only — not for production.** Wraps the data key with AES-256-GCM under
/// a key-encryption key kept in a plain file (mode 0600) next to the database. Anyone who can
/// read that file and the database reads the wallet's secrets; a phone must use the Keystore
/// wrapper instead.
pub struct SoftwareKeyWrapper {
    kek: LessSafeKey,
    path: PathBuf,
}

impl SoftwareKeyWrapper {
    /// The key file a wallet home uses by default.
    pub const FILE_NAME: &'static str = "wallet.kek";

    /// Load the key file at `path`, creating it (32 random bytes, mode 0600) if absent.
    /// Refuses a file that group or others can read, like ssh does with private keys.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, WrapError> {
        let path = path.as_ref().to_path_buf();
        let kek = match fs::File::open(&path) {
            Ok(file) => read_kek(file, &path)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => create_kek(&path)?,
            Err(e) => return Err(io_failed(&path, &e)),
        };
        let unbound = UnboundKey::new(&AES_256_GCM, &kek[..])
            .map_err(|_| WrapError::Failed("key file has the wrong length".into()))?;
        Ok(Self {
            kek: LessSafeKey::new(unbound),
            path,
        })
    }

    /// `<dir>/wallet.kek`.
    pub fn in_dir(dir: impl AsRef<Path>) -> Result<Self, WrapError> {
        Self::open(dir.as_ref().join(Self::FILE_NAME))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn io_failed(path: &Path, e: &std::io::Error) -> WrapError {
    WrapError::Failed(format!("key file {}: {e}", path.display()))
}

fn read_kek(mut file: fs::File, path: &Path) -> Result<Zeroizing<Vec<u8>>, WrapError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = file
            .metadata()
            .map_err(|e| io_failed(path, &e))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(WrapError::Failed(format!(
                "key file {} is accessible by other users (mode {:o}); chmod 600 it",
                path.display(),
                mode & 0o777
            )));
        }
    }
    let mut kek = Zeroizing::new(Vec::with_capacity(KEK_LEN + 1));
    // Read one byte more than a key so a longer file is caught, not silently truncated.
    (&mut file)
        .take(KEK_LEN as u64 + 1)
        .read_to_end(&mut kek)
        .map_err(|e| io_failed(path, &e))?;
    if kek.len() != KEK_LEN {
        return Err(WrapError::Failed(format!(
            "key file {} is not a {KEK_LEN}-byte key",
            path.display()
        )));
    }
    Ok(kek)
}

fn create_kek(path: &Path) -> Result<Zeroizing<Vec<u8>>, WrapError> {
    let mut kek = Zeroizing::new(vec![0u8; KEK_LEN]);
    SystemRandom::new()
        .fill(&mut kek[..])
        .map_err(|_| WrapError::Failed("system random number generator failed".into()))?;
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|e| io_failed(path, &e))?;
    file.write_all(&kek).map_err(|e| io_failed(path, &e))?;
    // The key must reach the disk before any data key is wrapped with it.
    file.sync_all().map_err(|e| io_failed(path, &e))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io_failed(path, &e))?;
    }
    Ok(kek)
}

impl KeyWrapper for SoftwareKeyWrapper {
    fn wrap(&self, dek: &[u8]) -> Result<Vec<u8>, WrapError> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| WrapError::Failed("system random number generator failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(dek);
        let tag = self
            .kek
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(WRAP_AAD),
                &mut out[NONCE_LEN..],
            )
            .map_err(|_| WrapError::Failed("wrap failed".into()))?;
        out.extend_from_slice(tag.as_ref());
        Ok(out)
    }

    fn unwrap(&self, blob: &[u8]) -> Result<Zeroizing<Vec<u8>>, WrapError> {
        let (nonce, body) = blob
            .split_at_checked(NONCE_LEN)
            .ok_or_else(|| WrapError::Failed("wrapped key is too short".into()))?;
        let nonce = Nonce::try_assume_unique_for_key(nonce)
            .map_err(|_| WrapError::Failed("wrapped key is too short".into()))?;
        let mut buf = Zeroizing::new(body.to_vec());
        let len = self
            .kek
            .open_in_place(nonce, Aad::from(WRAP_AAD), &mut buf[..])
            .map_err(|_| WrapError::Failed("wrapped key does not open under this key file".into()))?
            .len();
        buf.truncate(len);
        Ok(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_private_file_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let w = SoftwareKeyWrapper::in_dir(dir.path()).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(w.path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let blob = w.wrap(&[9u8; 32]).unwrap();
        assert!(!blob.windows(32).any(|win| win == [9u8; 32]));
        // A second wrapper on the same file unwraps what the first wrapped.
        let again = SoftwareKeyWrapper::in_dir(dir.path()).unwrap();
        assert_eq!(&again.unwrap(&blob).unwrap()[..], &[9u8; 32]);
        let mut bad = blob.clone();
        bad[20] ^= 1;
        assert!(again.unwrap(&bad).is_err());
        assert!(again.unwrap(&blob[..5]).is_err());
    }

    #[test]
    fn refuses_bad_key_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("short.kek");
        let mut o = fs::OpenOptions::new();
        o.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
        o.open(&path).unwrap().write_all(&[1u8; 31]).unwrap();
        assert!(
            matches!(SoftwareKeyWrapper::open(&path), Err(WrapError::Failed(m)) if m.contains("32-byte"))
        );

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let open = dir.path().join("open.kek");
            fs::write(&open, [1u8; 32]).unwrap();
            fs::set_permissions(&open, fs::Permissions::from_mode(0o644)).unwrap();
            assert!(
                matches!(SoftwareKeyWrapper::open(&open), Err(WrapError::Failed(m)) if m.contains("chmod 600"))
            );
        }
    }
}
