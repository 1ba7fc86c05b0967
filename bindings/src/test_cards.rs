//! `Wallet.addTestCard`: cards personalised in-process by the sandbox issuer, for desktop demos
//! and the JVM tests. Compiled in only with the `sandbox-issuer` feature, so the Android library
//! carries no issuer code and no test keys.

use crate::error::WalletError;
use crate::types::CardInfo;
use wallet_core::card::Scheme;
use wallet_core::wallet::Wallet as CoreWallet;

#[cfg(feature = "sandbox-issuer")]
pub fn add(
    wallet: &CoreWallet,
    scheme: Scheme,
    issuer_key_hex: Option<&str>,
    keys: u16,
) -> Result<CardInfo, WalletError> {
    use wallet_core::emv::crypto::Key16;
    use wallet_sandbox::issuer::{CardRequest, Issuer};

    let mut issuer = Issuer::with_test_keys();
    if let Some(hex) = issuer_key_hex {
        let key = Key16::from_hex(hex).ok_or_else(|| WalletError::InvalidInput {
            reason: "issuer_key_hex must be 32 hex digits".into(),
        })?;
        issuer.set_master_key(scheme, key);
    }
    let mut request = CardRequest::new(new_card_id(scheme)?, scheme);
    request.key_count = keys;
    let perso = issuer
        .personalise(&request)
        .map_err(|e| WalletError::InvalidInput {
            reason: e.to_string(),
        })?;
    Ok(wallet.install_card(perso)?.into())
}

#[cfg(feature = "sandbox-issuer")]
fn new_card_id(scheme: Scheme) -> Result<String, WalletError> {
    use ring::rand::{SecureRandom, SystemRandom};
    let mut r = [0u8; 4];
    SystemRandom::new()
        .fill(&mut r)
        .map_err(|_| WalletError::Internal {
            reason: "system random number generator failed".into(),
        })?;
    Ok(format!("{}-{}", scheme.name(), hex::encode(r)))
}

#[cfg(not(feature = "sandbox-issuer"))]
pub fn add(
    _wallet: &CoreWallet,
    _scheme: Scheme,
    _issuer_key_hex: Option<&str>,
    _keys: u16,
) -> Result<CardInfo, WalletError> {
    Err(WalletError::NotConfigured {
        what: "test cards need the sandbox issuer, which this build leaves out \
               (wallet-ffi feature `sandbox-issuer`)"
            .into(),
    })
}
