//! `wallet-sandbox`: run the sandbox token service and issuer host, and inspect it.
//!
//! ```text
//! wallet-sandbox serve --dir DIR [--addr 127.0.0.1:8443] [--json]
//! wallet-sandbox test-cards [--dir DIR] [--json]
//! wallet-sandbox keys --dir DIR [--json]
//! ```

use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use wallet_sandbox::catalogue;
use wallet_sandbox::server::{self, Config};

#[derive(Parser)]
#[command(
    name = "wallet-sandbox",
    version,
    about = "walletcore sandbox: token service + issuer host on loopback"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTPS API; creates the CA, certificate, database and keys in DIR on first start.
    Serve {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long, default_value = "127.0.0.1:8443")]
        addr: SocketAddr,
        /// Print one JSON line {"url":…,"ca":…} once listening.
        #[arg(long)]
        json: bool,
    },
    /// List the test cards (PAN, expiry, name, scheme, outcome).
    TestCards {
        /// Accepted for symmetry with the other commands; the catalogue is built in.
        #[arg(long)]
        dir: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Print the issuer master keys (sandbox only: for outside tools that verify cryptograms).
    Keys {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

/// Log lines to stderr, `RUST_LOG`-style level (error, warn, info, debug, trace; default info).
struct StderrLogger;

impl log::Log for StderrLogger {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.level() <= log::max_level()
    }
    fn log(&self, r: &log::Record<'_>) {
        if self.enabled(r.metadata()) && r.target().starts_with("wallet") {
            eprintln!("{:<5} {}: {}", r.level(), r.target(), r.args());
        }
    }
    fn flush(&self) {}
}

fn init_log() {
    let level = std::env::var("RUST_LOG")
        .ok()
        .and_then(|l| l.parse().ok())
        .unwrap_or(log::LevelFilter::Info);
    if log::set_logger(&StderrLogger).is_ok() {
        log::set_max_level(level);
    }
}

fn main() -> ExitCode {
    init_log();
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wallet-sandbox: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    match cli.command {
        Command::Serve { dir, addr, json } => serve(dir, addr, json),
        Command::TestCards { json, .. } => {
            if json {
                println!("{}", serde_json::to_string_pretty(catalogue::CARDS)?);
            } else {
                for c in catalogue::CARDS {
                    println!(
                        "{:<20} {}  {:<10} {:<13} {}",
                        c.pan,
                        c.expiry,
                        c.scheme.name(),
                        c.name,
                        c.note
                    );
                }
            }
            Ok(())
        }
        Command::Keys { dir, json } => {
            server::prepare(&dir)?;
            let keys = server::issuer_keys(&dir)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&keys)?);
            } else {
                println!("sandbox issuer master keys (test only, never use for real cards)");
                for (scheme, hex) in keys.as_object().into_iter().flatten() {
                    println!("{scheme:<11} {hex}");
                }
            }
            Ok(())
        }
    }
}

fn serve(dir: PathBuf, addr: SocketAddr, json: bool) -> Result<(), Box<dyn std::error::Error>> {
    let running = server::start(Config { dir, addr })?;
    if json {
        println!(
            "{}",
            serde_json::json!({"url": running.url, "ca": running.ca_path})
        );
    } else {
        println!("walletcore sandbox token service: {}", running.url);
        println!(
            "CA to pin in the wallet:          {}",
            running.ca_path.display()
        );
        println!(
            "OTP outbox:                        {}",
            running.dir.join(server::OTP_OUTBOX).display()
        );
    }
    use std::io::Write;
    std::io::stdout().flush()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(tokio::signal::ctrl_c())?;
    running.shutdown();
    Ok(())
}
