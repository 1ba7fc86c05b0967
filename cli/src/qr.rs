//! `wallet qr parse|show|pay`.

use crate::home::Home;
use anyhow::{Context, Result};
use std::path::PathBuf;
use wallet_core::qr::render::{QrSymbol, RenderOptions};
use wallet_core::qr::{self, ScanReport};

pub fn parse(payload: &str, json: bool) -> Result<bool> {
    let report = match qr::scan_str(payload) {
        Ok(r) => r,
        Err(e) => {
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "kind": null, "valid": false, "crc_ok": null,
                        "network": null, "warnings": [], "errors": [e.to_string()], "fields": {} })
                );
            } else {
                println!("Not a payment code: {e}");
            }
            return Ok(false);
        }
    };
    if json {
        println!("{}", report.to_json());
    } else {
        print_report(&report);
    }
    Ok(report.valid)
}

pub fn print_report(r: &ScanReport) {
    let kind = match r.kind {
        qr::Kind::Mpm => "EMVCo merchant-presented",
        qr::Kind::Cpm => "EMVCo consumer-presented",
        qr::Kind::Url => "payment URL",
    };
    println!("{kind} code: {}", r.verdict.as_str());
    if let Some(ok) = r.crc_ok {
        println!("  CRC: {}", if ok { "ok" } else { "MISMATCH" });
    }
    println!("  network: {}", r.network.unwrap_or("unknown"));
    if !r.schemes.is_empty() {
        println!("  schemes: {}", r.schemes.join(", "));
    }
    let f = &r.fields;
    for (name, v) in [
        ("merchant", &f.merchant_name),
        ("city", &f.merchant_city),
        ("country", &f.country),
        ("currency", &f.currency),
        ("amount", &f.amount),
        ("MCC", &f.mcc),
        ("URL", &f.url),
    ] {
        if let Some(v) = v {
            println!("  {name}: {v}");
        }
    }
    for app in &f.applications {
        println!(
            "  application {} {} {} ATC {}",
            app.aid,
            app.network.unwrap_or(""),
            app.pan.as_deref().unwrap_or(""),
            app.atc.map_or("-".into(), |a| a.to_string())
        );
    }
    println!(
        "  this wallet {} pay it: {}",
        if r.payable.can_pay { "can" } else { "cannot" },
        r.payable.reason
    );
    for w in &r.warnings {
        println!("  warning: {w}");
    }
    for e in &r.errors {
        println!("  error: {e}");
    }
}

pub struct ShowArgs {
    pub card: Option<String>,
    pub png: Option<PathBuf>,
    pub svg: Option<PathBuf>,
    pub json: bool,
}

pub fn show(home: &Home, args: &ShowArgs) -> Result<()> {
    let wallet = home.open_wallet()?;
    let code = wallet.present_qr(args.card.as_deref())?;
    let symbol = QrSymbol::encode(code.payload.as_bytes(), RenderOptions::default())
        .context("rendering the payment code")?;
    if let Some(path) = &args.png {
        std::fs::write(path, symbol.png(8)?).with_context(|| format!("{}", path.display()))?;
    }
    if let Some(path) = &args.svg {
        std::fs::write(path, symbol.svg()).with_context(|| format!("{}", path.display()))?;
    }
    let report = qr::scan_str(&code.payload)?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "payload": code.payload,
                "card_id": code.card_id,
                "atc": code.atc,
                "issued_at": code.issued_at,
                "expires_at": code.expires_at,
                "modules": symbol.size(),
                "fields": report.fields,
            }))?
        );
        return Ok(());
    }
    print!("{}", symbol.terminal(true));
    println!("{}", code.payload);
    println!(
        "Card {} ATC {} — valid for {} s; show it to the cashier's scanner",
        code.card_id,
        code.atc,
        code.expires_at.saturating_sub(code.issued_at)
    );
    print_report(&report);
    Ok(())
}
