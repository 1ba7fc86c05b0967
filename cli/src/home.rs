//! The wallet's home directory on a desktop: the wallet database, the desktop-only software key
//! wrapper, the CLI's settings, and — for test cards — the sandbox issuer's state.

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use wallet_core::store::SoftwareKeyWrapper;
use wallet_core::wallet::{ServerConfig, Wallet, WalletConfig};
use wallet_sandbox::issuer::{Issuer, IssuerState};

const SETTINGS_FILE: &str = "cli-settings.json";
/// The sandbox issuer of test cards added with `card add-test`. Issuer-side secrets: they live
/// beside the wallet only because this is a desktop test bench, and the name says so.
const LOCAL_ISSUER_FILE: &str = "sandbox-issuer.json";

/// What the CLI remembers between runs (not secrets).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Settings {
    /// Token service base URL, once the wallet provisioned from one.
    pub server_url: Option<String>,
    /// Path of the pinned CA certificate (PEM).
    pub server_ca: Option<PathBuf>,
}

pub struct Home {
    pub dir: PathBuf,
}

impl Home {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    /// `--home`, else `$WALLET_HOME`, else `~/.walletcore`.
    pub fn resolve(arg: Option<PathBuf>) -> Result<Self> {
        if let Some(dir) = arg.or_else(|| std::env::var_os("WALLET_HOME").map(PathBuf::from)) {
            return Ok(Self::new(dir));
        }
        let home = std::env::var_os("HOME").context("no --home, $WALLET_HOME or $HOME")?;
        Ok(Self::new(Path::new(&home).join(".walletcore")))
    }

    pub fn is_initialised(&self) -> bool {
        self.dir.join("wallet.db").exists()
    }

    /// Create the directory (0700 on Unix: it holds the software KEK).
    pub fn create(&self) -> Result<()> {
        std::fs::create_dir_all(&self.dir)
            .with_context(|| format!("cannot create {}", self.dir.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&self.dir, std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(())
    }

    pub fn settings(&self) -> Result<Settings> {
        read_json(&self.dir.join(SETTINGS_FILE)).map(Option::unwrap_or_default)
    }

    pub fn save_settings(&self, s: &Settings) -> Result<()> {
        write_json(&self.dir.join(SETTINGS_FILE), s)
    }

    /// Open the wallet with the desktop software key wrapper.
    pub fn open_wallet(&self) -> Result<Arc<Wallet>> {
        if !self.is_initialised() {
            bail!(
                "no wallet in {} — run `wallet --home {} init` first",
                self.dir.display(),
                self.dir.display()
            );
        }
        self.open_or_create()
    }

    pub fn open_or_create(&self) -> Result<Arc<Wallet>> {
        let wrapper = SoftwareKeyWrapper::in_dir(&self.dir)
            .with_context(|| format!("software key wrapper in {}", self.dir.display()))?;
        let mut config = WalletConfig::new(&self.dir);
        let settings = self.settings()?;
        if let (Some(url), Some(ca)) = (settings.server_url, settings.server_ca) {
            let ca_pem = std::fs::read_to_string(&ca)
                .with_context(|| format!("pinned CA {}", ca.display()))?;
            config.server = Some(ServerConfig { url, ca_pem });
        }
        let wallet = Wallet::open(config, Arc::new(wrapper))?;
        Ok(Arc::new(wallet))
    }

    /// The sandbox issuer that personalised this wallet's test cards (well-known test keys
    /// until a card is added with another key).
    pub fn local_issuer(&self) -> Result<Issuer> {
        match read_json::<IssuerState>(&self.dir.join(LOCAL_ISSUER_FILE))? {
            Some(state) => Issuer::from_state(&state).context("sandbox-issuer.json is invalid"),
            None => Ok(Issuer::with_test_keys()),
        }
    }

    pub fn save_local_issuer(&self, issuer: &Issuer) -> Result<()> {
        write_json(&self.dir.join(LOCAL_ISSUER_FILE), &issuer.state())
    }
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Option<T>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(
            serde_json::from_slice(&bytes).with_context(|| format!("{}", path.display()))?,
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("{}", path.display())),
    }
}

/// Write via a temporary file and rename, so a crash never leaves half a file.
fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(value)?)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
    }
    std::fs::rename(&tmp, path)?;
    Ok(())
}
