//! `wallet tap`: the sandbox POS terminal pays with the wallet's card, then the issuer decides.

use crate::decode;
use crate::home::Home;
use anyhow::{Context, Result, bail};
use std::sync::Arc;
use wallet_core::card::mask_pan;
use wallet_core::history::Status;
use wallet_core::money::{currency_label, format_amount, parse_amount};
use wallet_core::wallet::Wallet;
use wallet_sandbox::terminal::{Outcome, TapOutcome, Terminal, TerminalConfig, Transaction};

pub struct TapArgs {
    pub card: Option<String>,
    pub amount: String,
    pub currency: u16,
    pub country: u16,
    pub json: bool,
}

/// What one tap produced, for printing and for the demo.
pub struct TapReport {
    pub outcome: TapOutcome,
    pub verdict: Option<String>,
    pub amount_minor: u64,
    pub currency: u16,
}

pub fn run(home: &Home, args: &TapArgs) -> Result<()> {
    let wallet = home.open_wallet()?;
    let report = tap(home, &wallet, args)?;
    if args.json {
        let mut json = report.outcome.to_json();
        json["issuer_verdict"] = serde_json::json!(report.verdict);
        json["amount_minor"] = serde_json::json!(report.amount_minor);
        json["currency"] = serde_json::json!(report.currency);
        println!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        print_human(&report);
    }
    Ok(())
}

/// Run the terminal against the wallet, authorise with the issuer and settle the history.
pub fn tap(home: &Home, wallet: &Arc<Wallet>, args: &TapArgs) -> Result<TapReport> {
    let amount_minor = parse_amount(&args.amount, args.currency)?;
    if let Some(card) = &args.card {
        // The pay screen's "pay with this card": only that card answers the next tap.
        wallet.select_card_for_payment(Some(card))?;
    }
    let terminal = Terminal::new(TerminalConfig {
        country: args.country,
        ..TerminalConfig::default()
    });
    let txn = Transaction::purchase(amount_minor, args.currency);
    let outcome = terminal.tap(&txn, &mut |c| wallet.process_apdu(c));
    wallet.deactivate();
    wallet.select_card_for_payment(None)?;

    let verdict = match (&outcome.outcome, &outcome.auth) {
        (Outcome::OnlineRequest, Some(auth)) => {
            let card_id = wallet
                .card_id_for_pan(&auth.pan, auth.psn)?
                .context("the terminal read a PAN this wallet does not hold")?;
            let (approved, verdict) = if wallet.is_token_card(&card_id)? {
                let (approved, reason) = crate::provision::authorise_remote(home, auth)?;
                (
                    approved,
                    format!(
                        "{} (token service)",
                        if approved { "approved" } else { "declined" }
                    ) + &format!(": {reason}"),
                )
            } else {
                let mut issuer = home.local_issuer()?;
                let verdict = issuer.authorise(auth);
                home.save_local_issuer(&issuer)?;
                (verdict.is_approved(), verdict.as_str().to_owned())
            };
            let status = if approved {
                Status::Approved
            } else {
                Status::Declined
            };
            wallet.settle(&card_id, auth.input.atc, status)?;
            Some(verdict)
        }
        _ => None,
    };
    Ok(TapReport {
        verdict,
        outcome,
        amount_minor,
        currency: args.currency,
    })
}

pub fn print_human(report: &TapReport) {
    let o = &report.outcome;
    println!(
        "Terminal: purchase {} {}",
        format_amount(report.amount_minor, report.currency),
        currency_label(report.currency)
    );
    for (c, r) in &o.apdus {
        println!(
            "  > {:<28} {}",
            decode::command_name(c),
            hex::encode_upper(c)
        );
        println!("  < {}", hex::encode_upper(r));
        print!("{}", decode::response_tree(r, "      "));
    }
    let scheme = o.scheme.map_or("?", |s| s.name());
    println!(
        "Card: {scheme} {} {} PSN {:02} ATC {} CVN {}",
        hex::encode_upper(&o.aid),
        o.pan.as_deref().map(mask_pan).unwrap_or_default(),
        o.psn.unwrap_or(0),
        o.atc.map_or("-".into(), |a| format!("{a:04X}")),
        o.cvn.map_or("-".into(), |c| format!("{:02X}", c.byte())),
    );
    match &o.outcome {
        Outcome::EndApplication(reason) => println!("Outcome: end application ({reason})"),
        Outcome::SeePhone => {
            println!("Outcome: see phone — verify on the phone (`wallet unlock`), then tap again")
        }
        other => println!("Outcome: {}", other.as_str()),
    }
    if let Some(v) = &report.verdict {
        println!("Issuer: {v}");
    }
}

/// Parse `--currency` / `--country` as ISO numeric codes.
pub fn numeric_code(s: &str) -> Result<u16> {
    match s.parse::<u16>() {
        Ok(n) if n <= 999 => Ok(n),
        _ => bail!("'{s}' is not an ISO numeric code (e.g. 156 for CNY/China)"),
    }
}
