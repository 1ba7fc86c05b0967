//! `wallet`: walletcore without a phone — a wallet in a directory, driven from the shell.

mod cards;
mod decode;
mod demo;
mod history;
mod home;
mod provision;
mod qr;
mod reader;
mod tap;

use anyhow::Result;
use clap::{Parser, Subcommand};
use home::Home;
use std::path::PathBuf;
use wallet_core::card::Scheme;
use wallet_core::store::CardStatus;

#[derive(Parser)]
#[command(
    name = "wallet",
    version,
    about = "walletcore: an EMV contactless + QR payment wallet, headless"
)]
struct Cli {
    /// The wallet's directory (default: $WALLET_HOME, else ~/.walletcore).
    #[arg(long, global = true)]
    home: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

// Parsed once per process: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Create a wallet (desktop software key wrapper).
    Init,
    /// A self-contained tour: a temporary wallet, a card per scheme, taps, a QR code.
    Demo,
    /// List the cards.
    Cards {
        #[arg(long)]
        json: bool,
    },
    /// Manage one card.
    #[command(subcommand)]
    Card(CardCommand),
    /// Open the CDCVM window, as a biometric prompt on the phone would.
    Unlock {
        #[arg(long, default_value_t = 60)]
        seconds: u32,
    },
    /// Close the CDCVM window.
    Lock,
    /// Pay at the sandbox POS terminal.
    Tap {
        #[arg(long)]
        card: Option<String>,
        /// Decimal amount, e.g. 12.34.
        #[arg(long)]
        amount: String,
        /// ISO 4217 numeric currency (156 = CNY).
        #[arg(long, default_value = "156", value_parser = tap::numeric_code)]
        currency: u16,
        /// ISO 3166 numeric terminal country (156 = China).
        #[arg(long, default_value = "156", value_parser = tap::numeric_code)]
        country: u16,
        #[arg(long)]
        json: bool,
    },
    /// Be the card on stdin/stdout: hex C-APDU per line in, hex R-APDU per line out.
    Apdu {
        #[arg(long, required = true)]
        stdio: bool,
    },
    /// Be the card in a PC/SC reader through vpcd (vsmartcard).
    Vcard {
        #[arg(long, default_value = "127.0.0.1:35963")]
        addr: String,
    },
    /// QR payment codes.
    #[command(subcommand)]
    Qr(QrCommand),
    /// Transaction history (newest first).
    History {
        #[command(subcommand)]
        command: Option<HistoryCommand>,
        #[arg(long)]
        json: bool,
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// The cursor printed after the previous page.
        #[arg(long)]
        after: Option<String>,
        #[command(flatten)]
        filter: FilterOpts,
    },
    /// Provision a card from a token service.
    Provision(provision::ProvisionArgs),
    /// Talk to the token service: events, key replenishment, payment statuses.
    Sync {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum CardCommand {
    /// Personalise a test card from the sandbox issuer; prints its id.
    AddTest {
        #[arg(long)]
        scheme: Scheme,
        /// Issuer master key (32 hex digits); default the well-known test key.
        #[arg(long)]
        issuer_key: Option<String>,
        #[arg(long, default_value_t = 20)]
        keys: u16,
    },
    /// Make a card the default (first in the PPSE).
    Default {
        id: String,
    },
    Suspend {
        id: String,
    },
    Resume {
        id: String,
    },
    Delete {
        id: String,
    },
}

#[derive(Subcommand)]
enum QrCommand {
    /// Parse any payment code: EMVCo MPM or CPM, or a China payment URL.
    Parse {
        payload: String,
        #[arg(long)]
        json: bool,
    },
    /// Show a consumer-presented payment code (spends one single-use key).
    Show {
        #[arg(long)]
        card: Option<String>,
        #[arg(long)]
        png: Option<PathBuf>,
        #[arg(long)]
        svg: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Pay a scanned merchant code through the token service.
    Pay {
        payload: String,
        #[arg(long)]
        amount: Option<String>,
        #[arg(long)]
        card: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum HistoryCommand {
    /// Monthly totals per currency.
    Stats {
        /// YYYY-MM.
        #[arg(long)]
        month: Option<String>,
        #[arg(long)]
        card: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Stream the history as CSV or JSON.
    Export {
        #[arg(long, default_value = "csv")]
        format: String,
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        filter: FilterOpts,
    },
}

#[derive(clap::Args, Default, Clone)]
struct FilterOpts {
    #[arg(long)]
    card: Option<String>,
    /// nfc, qr_presented or qr_scanned.
    #[arg(long)]
    channel: Option<String>,
    /// pending, approved, declined, reversed or expired.
    #[arg(long)]
    status: Option<String>,
    /// YYYY-MM-DD (UTC), inclusive.
    #[arg(long)]
    from: Option<String>,
    /// YYYY-MM-DD (UTC), inclusive.
    #[arg(long)]
    to: Option<String>,
    /// Text in the merchant name or note.
    #[arg(long)]
    q: Option<String>,
}

impl From<FilterOpts> for history::FilterArgs {
    fn from(f: FilterOpts) -> Self {
        Self {
            card: f.card,
            channel: f.channel,
            status: f.status,
            from: f.from,
            to: f.to,
            q: f.q,
        }
    }
}

fn main() {
    let cli = Cli::parse();
    if std::env::var_os("RUST_LOG").is_some() {
        init_stderr_logger();
    }
    match run(cli) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("wallet: {e:#}");
            std::process::exit(1);
        }
    }
}

fn run(cli: Cli) -> Result<i32> {
    if let Command::Demo = cli.command {
        demo::run()?;
        return Ok(0);
    }
    let home = Home::resolve(cli.home)?;
    match cli.command {
        Command::Demo => unreachable!("handled above"),
        Command::Init => cards::init(&home)?,
        Command::Cards { json } => cards::list(&home, json)?,
        Command::Card(CardCommand::AddTest {
            scheme,
            issuer_key,
            keys,
        }) => {
            let info = cards::add_test(&home, scheme, issuer_key.as_deref(), keys)?;
            cards::print_added(&info, issuer_key.as_deref());
        }
        Command::Card(CardCommand::Default { id }) => cards::set_default(&home, &id)?,
        Command::Card(CardCommand::Suspend { id }) => {
            cards::set_status(&home, &id, CardStatus::Suspended)?
        }
        Command::Card(CardCommand::Resume { id }) => {
            cards::set_status(&home, &id, CardStatus::Active)?
        }
        Command::Card(CardCommand::Delete { id }) => {
            cards::set_status(&home, &id, CardStatus::Deleted)?
        }
        Command::Unlock { seconds } => cards::unlock(&home, seconds)?,
        Command::Lock => {
            home.open_wallet()?.lock()?;
            println!("CDCVM window closed");
        }
        Command::Tap {
            card,
            amount,
            currency,
            country,
            json,
        } => tap::run(
            &home,
            &tap::TapArgs {
                card,
                amount,
                currency,
                country,
                json,
            },
        )?,
        Command::Apdu { .. } => reader::stdio(&home)?,
        Command::Vcard { addr } => reader::vcard(&home, &addr)?,
        Command::Qr(QrCommand::Parse { payload, json }) => {
            return Ok(if qr::parse(&payload, json)? { 0 } else { 2 });
        }
        Command::Qr(QrCommand::Show {
            card,
            png,
            svg,
            json,
        }) => qr::show(
            &home,
            &qr::ShowArgs {
                card,
                png,
                svg,
                json,
            },
        )?,
        Command::Qr(QrCommand::Pay {
            payload,
            amount,
            card,
            json,
        }) => provision::qr_pay(&home, &payload, amount.as_deref(), card.as_deref(), json)?,
        Command::History {
            command: None,
            json,
            limit,
            after,
            filter,
        } => history::list(&home, &filter.into(), limit, after.as_deref(), json)?,
        Command::History {
            command: Some(HistoryCommand::Stats { month, card, json }),
            ..
        } => history::stats(&home, month.as_deref(), card.as_deref(), json)?,
        Command::History {
            command:
                Some(HistoryCommand::Export {
                    format,
                    out,
                    filter,
                }),
            ..
        } => history::export(&home, &format, out.as_ref(), &filter.into())?,
        Command::Provision(args) => provision::provision(&home, &args)?,
        Command::Sync { json } => provision::sync(&home, json)?,
    }
    Ok(0)
}

/// `RUST_LOG=debug wallet …` logs to stderr. The core never logs secrets (tested), so this is
/// safe to turn on.
fn init_stderr_logger() {
    struct Stderr(log::LevelFilter);
    impl log::Log for Stderr {
        fn enabled(&self, m: &log::Metadata<'_>) -> bool {
            m.level() <= self.0
        }
        fn log(&self, r: &log::Record<'_>) {
            if self.enabled(r.metadata()) {
                eprintln!("[{} {}] {}", r.level(), r.target(), r.args());
            }
        }
        fn flush(&self) {}
    }
    let level = match std::env::var("RUST_LOG").unwrap_or_default().as_str() {
        "trace" => log::LevelFilter::Trace,
        "debug" => log::LevelFilter::Debug,
        "warn" => log::LevelFilter::Warn,
        "error" => log::LevelFilter::Error,
        _ => log::LevelFilter::Info,
    };
    if log::set_logger(Box::leak(Box::new(Stderr(level)))).is_ok() {
        log::set_max_level(level);
    }
}
