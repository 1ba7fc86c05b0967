//! `wallet init`, `wallet cards`, `wallet card …`, `wallet unlock`.

use crate::home::Home;
use anyhow::{Context, Result};
use wallet_core::card::Scheme;
use wallet_core::emv::crypto::Key16;
use wallet_core::store::CardStatus;
use wallet_core::wallet::{CardInfo, Wallet};
use wallet_sandbox::issuer::{CardRequest, TEST_IMK_HEX};

pub fn init(home: &Home) -> Result<()> {
    let existed = home.is_initialised();
    home.create()?;
    let wallet = home.open_or_create()?;
    println!(
        "{} wallet in {}",
        if existed {
            "Opened existing"
        } else {
            "Created"
        },
        home.dir.display()
    );
    println!(
        "Key wrapper: SOFTWARE (desktop only: the data key is wrapped by a key file in the \
         wallet directory; on a phone the Android Keystore wraps it)"
    );
    drop(wallet);
    Ok(())
}

/// Personalise a test card from the sandbox issuer and install it.
pub fn add_test(
    home: &Home,
    scheme: Scheme,
    issuer_key: Option<&str>,
    keys: u16,
) -> Result<CardInfo> {
    let wallet = home.open_wallet()?;
    add_test_to(home, &wallet, scheme, issuer_key, keys)
}

pub fn add_test_to(
    home: &Home,
    wallet: &Wallet,
    scheme: Scheme,
    issuer_key: Option<&str>,
    keys: u16,
) -> Result<CardInfo> {
    let mut issuer = home.local_issuer()?;
    if let Some(hex) = issuer_key {
        let key = Key16::from_hex(hex).context("--issuer-key must be 32 hex digits")?;
        issuer.set_master_key(scheme, key);
    }
    let id = new_card_id(scheme);
    let mut req = CardRequest::new(&id, scheme);
    req.key_count = keys;
    let perso = issuer.personalise(&req)?;
    let info = wallet.install_card(perso)?;
    home.save_local_issuer(&issuer)?;
    Ok(info)
}

fn new_card_id(scheme: Scheme) -> String {
    let mut r = [0u8; 4];
    // A collision only makes install_card refuse the card; the id is not a secret.
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut r);
    format!("{}-{}", scheme.name(), hex::encode(r))
}

pub fn print_added(info: &CardInfo, issuer_key: Option<&str>) {
    println!("{}", info.id);
    match issuer_key {
        None => eprintln!(
            "Personalised by the sandbox issuer with the well-known TEST key {TEST_IMK_HEX} \
             (never a production key)."
        ),
        Some(_) => eprintln!("Personalised by the sandbox issuer with the key you gave."),
    }
    eprintln!(
        "{} {} expiry {} — {} single-use keys{}",
        info.scheme.name(),
        info.masked_pan,
        info.expiry,
        info.keys_left,
        if info.is_default {
            " — default card"
        } else {
            ""
        }
    );
}

pub fn list(home: &Home, json: bool) -> Result<()> {
    let wallet = home.open_wallet()?;
    let cards = wallet.cards()?;
    if json {
        let v: Vec<_> = cards.iter().map(card_json).collect();
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    if cards.is_empty() {
        println!("No cards. Add one: wallet card add-test --scheme unionpay");
    }
    for c in &cards {
        println!(
            "{} {:<24} {:<10} {} exp {}  {:<9} keys {:>3}",
            if c.is_default { "*" } else { " " },
            c.id,
            c.scheme.name(),
            c.masked_pan,
            c.expiry,
            c.status.as_str(),
            c.keys_left
        );
    }
    Ok(())
}

pub fn card_json(c: &CardInfo) -> serde_json::Value {
    serde_json::json!({
        "id": c.id,
        "scheme": c.scheme.name(),
        "label": c.label,
        "masked_pan": c.masked_pan,
        "last4": c.last4,
        "expiry": c.expiry,
        "status": c.status.as_str(),
        "is_default": c.is_default,
        "keys_left": c.keys_left,
    })
}

pub fn set_default(home: &Home, id: &str) -> Result<()> {
    home.open_wallet()?.set_default_card(id)?;
    println!("{id} is now the default card");
    Ok(())
}

pub fn set_status(home: &Home, id: &str, status: CardStatus) -> Result<()> {
    let wallet = home.open_wallet()?;
    crate::provision::lifecycle(home, &wallet, id, status)?;
    println!("{id}: {}", status.as_str());
    Ok(())
}

pub fn unlock(home: &Home, seconds: u32) -> Result<()> {
    let wallet = home.open_wallet()?;
    let until = wallet.unlock_for_payment(seconds)?;
    let left = until
        .duration_since(std::time::SystemTime::now())
        .map_or(0, |d| d.as_secs());
    println!(
        "Cardholder verified on the device (CDCVM) for the next {left} s: taps above the CVM \
         limit will be approved without a PIN"
    );
    Ok(())
}
