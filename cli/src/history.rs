//! `wallet history`, `history stats`, `history export`.

use crate::home::Home;
use anyhow::{Context, Result, bail};
use std::io::Write;
use std::path::PathBuf;
use wallet_core::history::{Filter, Month, Record, StatsQuery, Status, parse_channel};
use wallet_core::money::{currency_label, format_amount};
use wallet_core::store::clock::{iso8601, ms_from_civil};
use wallet_core::wallet::ExportFormat;

#[derive(Debug, Default, Clone)]
pub struct FilterArgs {
    pub card: Option<String>,
    pub channel: Option<String>,
    pub status: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub q: Option<String>,
}

impl FilterArgs {
    pub fn to_filter(&self) -> Result<Filter> {
        Ok(Filter {
            card_id: self.card.clone(),
            channel: self
                .channel
                .as_deref()
                .map(parse_channel)
                .transpose()
                .map_err(anyhow::Error::msg)?,
            status: self
                .status
                .as_deref()
                .map(str::parse::<Status>)
                .transpose()
                .map_err(|e| anyhow::anyhow!("--status: {e:?}"))?,
            from_ms: self.from.as_deref().map(day_start).transpose()?,
            // --to is inclusive: everything before the start of the next day.
            to_ms: self
                .to
                .as_deref()
                .map(|d| day_start(d).map(|ms| ms + 86_400_000))
                .transpose()?,
            text: self.q.clone(),
            ..Filter::default()
        })
    }
}

/// `YYYY-MM-DD` -> Unix ms at 00:00 UTC.
fn day_start(s: &str) -> Result<i64> {
    let parts: Vec<&str> = s.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        bail!("date '{s}' is not YYYY-MM-DD");
    };
    let (y, m, d): (i64, u32, u32) = (
        y.parse().with_context(|| format!("date '{s}'"))?,
        m.parse().with_context(|| format!("date '{s}'"))?,
        d.parse().with_context(|| format!("date '{s}'"))?,
    );
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        bail!("date '{s}' is out of range");
    }
    Ok(ms_from_civil(y, m, d))
}

pub fn list(
    home: &Home,
    filter: &FilterArgs,
    limit: usize,
    after: Option<&str>,
    json: bool,
) -> Result<()> {
    let wallet = home.open_wallet()?;
    let page = wallet.history(&filter.to_filter()?, limit, after)?;
    let next = page.next.map(|c| c.to_string());
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "records": page.records.iter().map(record_json).collect::<Vec<_>>(),
                "next": next,
            }))?
        );
        return Ok(());
    }
    if page.records.is_empty() {
        println!("No transactions.");
    }
    for r in &page.records {
        println!(
            "{:>6}  {}  {:<12} {:>12} {:<4} {:<9} {:<24} ATC {:>5}  {}",
            r.id,
            iso8601(r.created_at_ms),
            r.channel.as_str(),
            amount_text(r),
            r.currency.map(currency_label).unwrap_or_default(),
            r.status.as_str(),
            r.card_id,
            r.atc,
            r.merchant.as_deref().unwrap_or("")
        );
    }
    if let Some(next) = next {
        println!("more: --after {next}");
    }
    Ok(())
}

fn amount_text(r: &Record) -> String {
    match (r.amount_minor, r.currency) {
        (Some(a), Some(c)) => format_amount(a, c),
        (Some(a), None) => a.to_string(),
        _ => "-".into(),
    }
}

fn record_json(r: &Record) -> serde_json::Value {
    serde_json::json!({
        "id": r.id,
        "card_id": r.card_id,
        "channel": r.channel.as_str(),
        "status": r.status.as_str(),
        "amount_minor": r.amount_minor,
        "amount": r.amount_minor.zip(r.currency).map(|(a, c)| format_amount(a, c)),
        "currency": r.currency.map(|c| format!("{c:03}")),
        "country": r.country.map(|c| format!("{c:03}")),
        "merchant": r.merchant,
        "atc": r.atc,
        "cdcvm": r.cdcvm,
        "created_at": iso8601(r.created_at_ms),
        "updated_at": iso8601(r.updated_at_ms),
    })
}

pub fn stats(home: &Home, month: Option<&str>, card: Option<&str>, json: bool) -> Result<()> {
    let wallet = home.open_wallet()?;
    let month = month
        .map(str::parse::<Month>)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--month must be YYYY-MM: {e:?}"))?;
    let q = StatsQuery {
        from: month,
        to: month,
        card_id: card.map(str::to_owned),
        by_card: card.is_some(),
    };
    let totals = wallet.history_stats(&q)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&totals)?);
        return Ok(());
    }
    if totals.is_empty() {
        println!("No transactions in that period.");
    }
    for t in &totals {
        let cur = t.currency.unwrap_or(0);
        let fmt = |m: u64| format_amount(m, cur);
        println!(
            "{}  {:<4} spent {:>12} ({} payments)  approved {:>12}  pending {:>12}  declined {}",
            t.month,
            t.currency.map(currency_label).unwrap_or("-".into()),
            fmt(t.spent().total_minor),
            t.spent().count,
            fmt(t.approved.total_minor),
            fmt(t.pending.total_minor),
            t.declined.count
        );
    }
    Ok(())
}

pub fn export(home: &Home, format: &str, out: Option<&PathBuf>, filter: &FilterArgs) -> Result<()> {
    let format = match format {
        "csv" => ExportFormat::Csv,
        "json" => ExportFormat::Json,
        other => bail!("--format must be csv or json, not '{other}'"),
    };
    let wallet = home.open_wallet()?;
    let filter = filter.to_filter()?;
    let n = match out {
        Some(path) => {
            // Write beside the target and rename, so a failed export never leaves half a file
            // where a previous good one was.
            let tmp = path.with_extension("partial");
            let file = std::fs::File::create(&tmp).with_context(|| format!("{}", tmp.display()))?;
            let mut w = std::io::BufWriter::new(file);
            let n = wallet.export_history(format, &filter, &mut w)?;
            w.flush()?;
            std::fs::rename(&tmp, path)?;
            n
        }
        None => {
            let mut w = std::io::BufWriter::new(std::io::stdout().lock());
            let n = wallet.export_history(format, &filter, &mut w)?;
            w.flush()?;
            n
        }
    };
    eprintln!("exported {n} records");
    Ok(())
}
