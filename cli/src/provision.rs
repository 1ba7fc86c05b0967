//! Provisioning, lifecycle, sync and QR payment through the token service.

use crate::home::Home;
use anyhow::{Result, bail};
use wallet_core::store::CardStatus;
use wallet_core::wallet::Wallet;

#[derive(clap::Args)]
pub struct ProvisionArgs {}

pub fn provision(_home: &Home, _args: &ProvisionArgs) -> Result<()> {
    bail!("provisioning lands with the token service")
}

pub fn sync(_home: &Home, _json: bool) -> Result<()> {
    bail!("sync lands with the token service")
}

pub fn qr_pay(
    _home: &Home,
    _payload: &str,
    _amount: Option<&str>,
    _card: Option<&str>,
    _json: bool,
) -> Result<()> {
    bail!("QR pay lands with the token service")
}

/// Suspend, resume or delete a card.
pub fn lifecycle(_home: &Home, wallet: &Wallet, id: &str, status: CardStatus) -> Result<()> {
    wallet.set_card_status(id, status)?;
    Ok(())
}
