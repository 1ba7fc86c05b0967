//! Provisioning, lifecycle, sync and QR payment through the token service.

use crate::home::{Home, Settings};
use anyhow::{Context, Result, bail};
use std::path::PathBuf;
use wallet_core::money::{currency_label, format_amount};
use wallet_core::store::CardStatus;
use wallet_core::token::client::{ClientOptions, TokenClient};
use wallet_core::token::{Provisioning, ProvisioningState};
use wallet_core::wallet::Wallet;
use wallet_sandbox::issuer::AuthRequest;
use wallet_sandbox::server::{OTP_OUTBOX, authorize_remote};
use zeroize::Zeroizing;

#[derive(clap::Args)]
pub struct ProvisionArgs {
    /// Token service base URL, e.g. https://127.0.0.1:8443.
    #[arg(long)]
    server: String,
    /// The CA certificate (PEM) to pin for that server.
    #[arg(long)]
    ca: PathBuf,
    /// Card number. Prefer `--pan -` to read it from stdin so it stays out of shell history.
    #[arg(long)]
    pan: String,
    /// MM/YY.
    #[arg(long)]
    expiry: String,
    #[arg(long)]
    name: String,
    /// The one-time password, when the issuer asks for one.
    #[arg(long, conflicts_with = "otp_from_sandbox")]
    otp: Option<String>,
    /// Read the OTP from the sandbox server's outbox in DIR (the sandbox's stand-in for SMS).
    #[arg(long)]
    otp_from_sandbox: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

pub fn provision(home: &Home, args: &ProvisionArgs) -> Result<()> {
    if !home.is_initialised() {
        home.create()?;
    }
    let ca = std::fs::canonicalize(&args.ca).with_context(|| format!("{}", args.ca.display()))?;
    home.save_settings(&Settings {
        server_url: Some(args.server.clone()),
        server_ca: Some(ca),
    })?;
    let wallet = home.open_or_create()?;
    let pan = read_pan(&args.pan)?;
    let mut p = wallet.begin_provisioning(pan.as_bytes(), &args.expiry, &args.name)?;
    drop(pan);
    say(args, &p);
    loop {
        p = match p.state {
            ProvisioningState::Eligible => {
                if let Some(t) = &p.terms {
                    eprintln!(
                        "Terms {} ({}) — accepted by running this command.",
                        t.id, t.url
                    );
                }
                wallet.accept_terms(&p.id)?
            }
            ProvisioningState::IdvRequired => {
                let method = p
                    .idv_methods
                    .first()
                    .context("the issuer asks for verification but offers no method")?;
                eprintln!(
                    "Verification: a code is sent by {} to {}",
                    method.kind, method.target
                );
                wallet.select_idv_method(&p.id, &method.id)?
            }
            ProvisioningState::IdvPending => {
                let otp = otp(args, &p.id)?;
                wallet.submit_otp(&p.id, &otp)?
            }
            ProvisioningState::TermsAccepted
            | ProvisioningState::TokenizeSent
            | ProvisioningState::Approved
            | ProvisioningState::CredentialsPending
            | ProvisioningState::New => wallet.resume_provisioning(&p.id)?,
            ProvisioningState::Active | ProvisioningState::Declined | ProvisioningState::Failed => {
                break;
            }
        };
        say(args, &p);
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&p)?);
    }
    match (p.state, &p.card_id) {
        (ProvisioningState::Active, Some(card)) => {
            if !args.json {
                println!("{card}");
            }
            let info = wallet.card(card)?;
            eprintln!(
                "Card {} {} added — {} single-use keys",
                info.scheme.name(),
                info.masked_pan,
                info.keys_left
            );
            Ok(())
        }
        _ => bail!(
            "provisioning {} ended {}: {}",
            p.id,
            p.state.as_str(),
            p.last_error.as_deref().unwrap_or("declined by the issuer")
        ),
    }
}

fn say(args: &ProvisionArgs, p: &Provisioning) {
    if !args.json {
        eprintln!("provisioning {}: {}", p.id, p.state.as_str());
    }
}

/// `-` reads the PAN from stdin. Either way it lives in a zeroizing buffer.
fn read_pan(arg: &str) -> Result<Zeroizing<String>> {
    if arg != "-" {
        return Ok(Zeroizing::new(arg.to_owned()));
    }
    let mut line = Zeroizing::new(String::new());
    std::io::stdin().read_line(&mut line)?;
    Ok(Zeroizing::new(line.trim().to_owned()))
}

fn otp(args: &ProvisionArgs, provisioning_id: &str) -> Result<Zeroizing<String>> {
    if let Some(otp) = &args.otp {
        return Ok(Zeroizing::new(otp.clone()));
    }
    let Some(dir) = &args.otp_from_sandbox else {
        bail!("the issuer sent an OTP: run again with --otp CODE or --otp-from-sandbox DIR");
    };
    let path = dir.join(OTP_OUTBOX).join(format!("{provisioning_id}.json"));
    let text = Zeroizing::new(
        std::fs::read_to_string(&path).with_context(|| format!("{}", path.display()))?,
    );
    let v: serde_json::Value = serde_json::from_str(&text)?;
    let otp = v["otp"]
        .as_str()
        .context("no otp in the sandbox outbox entry")?;
    Ok(Zeroizing::new(otp.to_owned()))
}

pub fn sync(home: &Home, json: bool) -> Result<()> {
    let wallet = home.open_wallet()?;
    let report = wallet.sync()?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "events {} · provisionings resumed {} · cards replenished {} ({} keys) · statuses updated {}",
            report.events_applied,
            report.provisionings_resumed,
            report.cards_replenished,
            report.keys_added,
            report.statuses_updated
        );
        for d in &report.deferred {
            println!("  deferred: {d}");
        }
    }
    Ok(())
}

pub fn qr_pay(
    home: &Home,
    payload: &str,
    amount: Option<&str>,
    card: Option<&str>,
    json: bool,
) -> Result<()> {
    let wallet = home.open_wallet()?;
    let paid = wallet.pay_merchant_qr(payload, amount, card)?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "card_id": paid.card_id,
                "atc": paid.atc,
                "amount": format_amount(paid.amount_minor, paid.currency),
                "currency": format!("{:03}", paid.currency),
                "merchant": paid.merchant,
                "approved": paid.approved,
                "response_code": paid.response_code,
                "reason": paid.reason,
            }))?
        );
    } else {
        println!(
            "{} {} {} to {} with {} (ATC {}): {} ({})",
            if paid.approved { "Paid" } else { "Declined:" },
            format_amount(paid.amount_minor, paid.currency),
            currency_label(paid.currency),
            paid.merchant.as_deref().unwrap_or("the merchant"),
            paid.card_id,
            paid.atc,
            paid.reason,
            paid.response_code
        );
    }
    if !paid.approved {
        std::process::exit(3);
    }
    Ok(())
}

/// Suspend, resume or delete a card (at the token service first when it came from one).
pub fn lifecycle(_home: &Home, wallet: &Wallet, id: &str, status: CardStatus) -> Result<()> {
    wallet.set_card_status(id, status)?;
    Ok(())
}

/// Authorise a tap of a card that came from the token service: the terminal's acquirer sends
/// the authorisation to the server, which has the issuer verify it.
pub fn authorise_remote(home: &Home, auth: &AuthRequest) -> Result<(bool, String)> {
    let settings = home.settings()?;
    let (Some(url), Some(ca)) = (settings.server_url, settings.server_ca) else {
        bail!("this card came from a token service, but no server is configured");
    };
    let pem = std::fs::read(&ca).with_context(|| format!("{}", ca.display()))?;
    let client = TokenClient::new(&url, &pem, ClientOptions::default())?;
    let answer = authorize_remote(&client, auth)?;
    Ok((
        answer.approved,
        format!("{} ({})", answer.reason, answer.response_code),
    ))
}
