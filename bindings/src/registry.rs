//! The one place both FFI paths find the open wallet.
//!
//! The app opens a wallet through UniFFI (`Wallet(config, keyWrapper)`); the HCE service, which
//! may run in a process a tap started before the app, opens it through JNI
//! (`NativeHce.attach`). Both must reach the same `wallet_core::wallet::Wallet`: two instances
//! on one database would each keep their own card session and CDCVM window. So every open goes
//! through here, keyed by the canonical wallet directory:
//!
//! - a wallet opened through UniFFI is held by its Kotlin handles; the registry keeps only a weak
//!   reference, so `close()` on the last handle closes the database;
//! - `attach` pins the wallet (a strong reference for the rest of the process): the service has
//!   no other owner, and taps must keep working when the app's screens close;
//! - taps (`NativeHce.processApdu`) go to the wallet most recently opened or attached.

use crate::error::WalletError;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, Weak};
use wallet_core::emv::apdu::StatusWord;
use wallet_core::wallet::{Wallet as CoreWallet, WalletConfig};

struct Entry {
    wallet: Weak<CoreWallet>,
    /// Set by `attach`: keeps the wallet open for the life of the process.
    pinned: Option<Arc<CoreWallet>>,
}

#[derive(Default)]
struct Registry {
    wallets: HashMap<PathBuf, Entry>,
    /// Where taps go: the home most recently opened or attached.
    hce_home: Option<PathBuf>,
}

static REGISTRY: LazyLock<Mutex<Registry>> = LazyLock::new(Mutex::default);

/// Serialises opening, so two threads opening one home cannot create two instances. Separate
/// from [`REGISTRY`] because opening may wait on the Keystore, and taps must not wait for it.
static OPENING: Mutex<()> = Mutex::new(());

fn registry() -> MutexGuard<'static, Registry> {
    // Nothing below can leave the map half-updated, so a poisoned lock is still consistent.
    REGISTRY.lock().unwrap_or_else(|p| p.into_inner())
}

/// The key a home is registered under: its canonical path, so `dir` and `dir/../dir` are one
/// wallet.
fn key(home: &Path) -> PathBuf {
    std::fs::canonicalize(home).unwrap_or_else(|_| home.to_path_buf())
}

/// Which existing instance an open may reuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reuse {
    /// Only one opened with an equal configuration (the app's `Wallet(config, …)`): a changed
    /// server address must take effect.
    SameConfig,
    /// Any (the HCE service's `attach`: it needs the card, not the server).
    AnyConfig,
}

/// Open the wallet in `config.home`, or return the instance already open there. `open` runs
/// only when no instance can be reused. With `pin`, the registry keeps the wallet open for the
/// rest of the process.
pub fn open(
    config: WalletConfig,
    reuse: Reuse,
    pin: bool,
    open: impl FnOnce(WalletConfig) -> Result<CoreWallet, WalletError>,
) -> Result<Arc<CoreWallet>, WalletError> {
    let _opening = OPENING.lock().unwrap_or_else(|p| p.into_inner());
    let home = key(&config.home);
    let existing = {
        let mut reg = registry();
        reg.wallets
            .retain(|_, e| e.pinned.is_some() || e.wallet.strong_count() > 0);
        reg.wallets.get(&home).and_then(|e| e.wallet.upgrade())
    };
    let wallet = match existing {
        Some(w) if reuse == Reuse::AnyConfig || same_config(w.config(), &config) => w,
        stale => {
            if stale.is_some() {
                log::info!(
                    "wallet: reopening {} with a new configuration",
                    home.display()
                );
            }
            Arc::new(open(config)?)
        }
    };
    let mut reg = registry();
    let was_pinned = reg.wallets.get(&home).is_some_and(|e| e.pinned.is_some());
    reg.wallets.insert(
        home.clone(),
        Entry {
            wallet: Arc::downgrade(&wallet),
            // An instance replaced by a reconfigured one hands its pin over.
            pinned: (pin || was_pinned).then(|| Arc::clone(&wallet)),
        },
    );
    reg.hce_home = Some(home);
    Ok(wallet)
}

fn same_config(a: &WalletConfig, b: &WalletConfig) -> bool {
    let server = |c: &WalletConfig| c.server.as_ref().map(|s| (s.url.clone(), s.ca_pem.clone()));
    server(a) == server(b)
        && a.replenish_threshold == b.replenish_threshold
        && a.qr_validity == b.qr_validity
}

/// The wallet taps go to, if it is still open.
pub fn hce_wallet() -> Option<Arc<CoreWallet>> {
    let reg = registry();
    let home = reg.hce_home.as_ref()?;
    reg.wallets.get(home)?.wallet.upgrade()
}

/// Answer one command APDU with the wallet taps go to.
pub fn process_apdu(command: &[u8]) -> Vec<u8> {
    match hce_wallet() {
        Some(wallet) => wallet.process_apdu(command),
        None => {
            log::warn!("NativeHce: no wallet attached; answering 6985");
            StatusWord::CONDITIONS_NOT_SATISFIED.to_bytes().to_vec()
        }
    }
}

/// The reader went away (`HostApduService.onDeactivated`).
pub fn deactivate(reason: i32) {
    log::debug!("NativeHce: deactivated (reason {reason})");
    if let Some(wallet) = hce_wallet() {
        wallet.deactivate();
    }
}
