//! `wallet demo`: a self-contained tour in a temporary wallet.

use crate::home::Home;
use crate::tap::{TapArgs, tap};
use crate::{cards, qr};
use anyhow::Result;
use wallet_core::card::Scheme;
use wallet_core::qr as core_qr;
use wallet_core::wallet::Wallet;

pub fn run() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let home = Home::new(dir.path().join("wallet"));
    home.create()?;
    let wallet = home.open_or_create()?;
    println!(
        "walletcore demo — a temporary wallet in {}",
        home.dir.display()
    );
    println!("(software key wrapper: desktop only; a phone wraps the data key in the Keystore)\n");

    println!("== 1. Personalise one test card per scheme (sandbox issuer, well-known test key)");
    let mut ids = Vec::new();
    for scheme in [Scheme::UnionPay, Scheme::Visa, Scheme::Mastercard] {
        let info = cards::add_test_to(&home, &wallet, scheme, None, 10)?;
        println!(
            "   {:<10} {}  {}  {} keys{}",
            scheme.name(),
            info.masked_pan,
            info.id,
            info.keys_left,
            if info.is_default { "  (default)" } else { "" }
        );
        ids.push(info.id);
    }

    println!(
        "\n== 2. Tap the default card (UnionPay qPBOC) for 12.34 CNY — the full APDU exchange"
    );
    let r = tap(&home, &wallet, &args(None, "12.34", 156, 156))?;
    crate::tap::print_human(&r);

    println!("\n== 3. Visa for 88.00 CNY, above the 50.00 CVM limit, phone not unlocked");
    let r = tap(&home, &wallet, &args(Some(&ids[1]), "88.00", 156, 156))?;
    summary(&r);
    println!("   -> unlock_for_payment(30) (BiometricPrompt on a phone), tap again");
    wallet.unlock_for_payment(30)?;
    let r = tap(&home, &wallet, &args(Some(&ids[1]), "88.00", 156, 156))?;
    summary(&r);
    wallet.lock()?;

    println!("\n== 4. Mastercard M/Chip for 25.00 USD at a US terminal (GENERATE AC)");
    let r = tap(&home, &wallet, &args(Some(&ids[2]), "25.00", 840, 840))?;
    summary(&r);

    println!("\n== 5. Show a payment code (EMVCo CPM) and read it back");
    let code = wallet.present_qr(None)?;
    let symbol = core_qr::render::QrSymbol::encode(
        code.payload.as_bytes(),
        core_qr::render::RenderOptions::default(),
    )?;
    print!("{}", symbol.terminal(true));
    let report = core_qr::scan_str(&code.payload)?;
    qr::print_report(&report);

    println!("\n== 6. Scan codes: an EMVCo merchant code, WeChat Pay and Alipay URLs");
    let merchant = merchant_code()?;
    for payload in [
        merchant.as_str(),
        "wxp://f2f0abcdefghijklmnopqrstuvwxyz",
        "HTTPS://QR.ALIPAY.COM/FKX01234ABCDEFGHIJ",
    ] {
        println!("   {payload}");
        qr::parse(payload, false)?;
    }

    println!("\n== 7. The whole life of a tokenized card, against the sandbox token service");
    token_service_life(&dir.path().join("server"))?;

    println!("\n== 8. History and this month's totals (the test-card wallet)");
    print_history(&wallet)?;
    Ok(())
}

/// Provision (with OTP), pay by tap and by QR, suspend, resume, sync, delete — over HTTPS on
/// loopback with the CA pinned, the server started in this process.
fn token_service_life(server_dir: &std::path::Path) -> Result<()> {
    use crate::provision::{ProvisionArgs, provision};
    use clap::Parser;
    use wallet_core::store::CardStatus;

    let server =
        wallet_sandbox::server::start(wallet_sandbox::server::Config::ephemeral(server_dir))?;
    println!(
        "   token service at {} (CA {})",
        server.url,
        server.ca_path.display()
    );
    let home = Home::new(server_dir.with_file_name("tokenized-wallet"));
    home.create()?;
    // A test card whose issuer asks for an SMS OTP (see `wallet-sandbox test-cards`).
    #[derive(Parser)]
    struct Wrap {
        #[command(flatten)]
        args: ProvisionArgs,
    }
    let wrap = Wrap::try_parse_from([
        "provision",
        "--server",
        &server.url,
        "--ca",
        &server.ca_path.to_string_lossy(),
        "--pan",
        "6212340000000019",
        "--expiry",
        "12/35",
        "--name",
        "WANG FANG",
        "--otp-from-sandbox",
        &server_dir.to_string_lossy(),
    ])?;
    provision(&home, &wrap.args)?;
    let wallet = home.open_wallet()?;
    let card = wallet.cards()?.remove(0);
    println!(
        "   provisioned {} {} — token PAN, never the card number",
        card.id, card.masked_pan
    );

    let r = tap(&home, &wallet, &args(None, "36.50", 156, 156))?;
    print!("   tap 36.50 CNY:");
    summary(&r);
    let code = merchant_code()?;
    let paid = wallet.pay_merchant_qr(&code, None, None)?;
    println!(
        "   scanned Lucky Noodles' code, paid 25.00 CNY: {} ({})",
        if paid.approved {
            "approved"
        } else {
            "declined"
        },
        paid.response_code
    );
    wallet.set_card_status(&card.id, CardStatus::Suspended)?;
    println!(
        "   suspended: keys wiped ({} left); a tap now finds no card",
        wallet.card(&card.id)?.keys_left
    );
    wallet.set_card_status(&card.id, CardStatus::Active)?;
    println!(
        "   resumed: {} fresh keys",
        wallet.card(&card.id)?.keys_left
    );
    let report = wallet.sync()?;
    println!(
        "   sync: {} events, {} statuses updated, {} keys added",
        report.events_applied, report.statuses_updated, report.keys_added
    );
    print_history(&wallet)?;
    wallet.set_card_status(&card.id, CardStatus::Deleted)?;
    println!("   deleted: the token is gone at the service; history keeps its records");
    server.shutdown();
    Ok(())
}

/// A dynamic UnionPay merchant code (reserved network ID 15), as a Shanghai noodle shop's
/// cashier would show it.
fn merchant_code() -> Result<String> {
    use core_qr::mpm::{Account, Initiation, MerchantPayload};
    Ok(MerchantPayload {
        initiation: Initiation::Dynamic,
        accounts: vec![Account::Network {
            id: 15,
            value: "6233000000000000001".into(),
        }],
        mcc: "5812".into(),
        currency: "156".into(),
        amount: Some("25.00".into()),
        tip: None,
        country: "CN".into(),
        name: "Lucky Noodles".into(),
        city: "Shanghai".into(),
        postal_code: None,
        additional: vec![(5, "ORDER-1024".into())],
        language: None,
        unreserved: vec![],
    }
    .build()?)
}

fn args(card: Option<&str>, amount: &str, currency: u16, country: u16) -> TapArgs {
    TapArgs {
        card: card.map(str::to_owned),
        amount: amount.into(),
        currency,
        country,
        json: false,
    }
}

fn summary(r: &crate::tap::TapReport) {
    let o = &r.outcome;
    println!(
        "   {} APDUs, outcome {}{}{}",
        o.apdus.len(),
        o.outcome.as_str(),
        o.atc.map_or(String::new(), |a| format!(", ATC {a}")),
        r.verdict
            .as_ref()
            .map_or(String::new(), |v| format!(", issuer: {v}")),
    );
}

fn print_history(wallet: &Wallet) -> Result<()> {
    let page = wallet.history(&Default::default(), 20, None)?;
    for rec in &page.records {
        println!(
            "   #{:<3} {:<12} {:>10} {:<4} {:<9} ATC {}",
            rec.id,
            rec.channel.as_str(),
            rec.amount_minor
                .zip(rec.currency)
                .map(|(a, c)| wallet_core::money::format_amount(a, c))
                .unwrap_or_else(|| "-".into()),
            rec.currency
                .map(wallet_core::money::currency_label)
                .unwrap_or_default(),
            rec.status.as_str(),
            rec.atc
        );
    }
    // Unused payment codes carry no amount: nothing was spent with them.
    for t in wallet
        .history_stats(&Default::default())?
        .into_iter()
        .filter(|t| t.currency.is_some())
    {
        println!(
            "   {} {:<4}: {} payments, {} spent",
            t.month,
            t.currency
                .map(wallet_core::money::currency_label)
                .unwrap_or("-".into()),
            t.spent().count,
            wallet_core::money::format_amount(t.spent().total_minor, t.currency.unwrap_or(0))
        );
    }
    Ok(())
}
