//! The wallet's card on a wire: a line protocol on stdin/stdout, and vpcd for PC/SC programs.

use crate::home::Home;
use anyhow::{Context, Result};
use std::io::{BufRead, Write};
use std::sync::Arc;
use wallet_core::wallet::Wallet;
use wallet_sandbox::vpcd::{self, VirtualCard};

/// One hex C-APDU per line in, one hex R-APDU per line out. `!poweron`, `!poweroff` and
/// `!reset` answer `OK`; power-off and reset end the NFC session. A line that is not hex
/// answers `ERR …` and the session goes on.
pub fn stdio(home: &Home) -> Result<()> {
    let wallet = home.open_wallet()?;
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let line = line?;
        let reply = answer_line(&wallet, line.trim());
        if let Some(reply) = reply {
            writeln!(out, "{reply}")?;
            out.flush()?;
        }
    }
    wallet.deactivate();
    Ok(())
}

fn answer_line(wallet: &Wallet, line: &str) -> Option<String> {
    match line {
        "" => None,
        "!poweron" => {
            wallet.deactivate();
            Some("OK".into())
        }
        "!poweroff" | "!reset" => {
            wallet.deactivate();
            Some("OK".into())
        }
        _ => {
            let compact: String = line.chars().filter(|c| !c.is_whitespace()).collect();
            match hex::decode(&compact) {
                Ok(apdu) => Some(hex::encode_upper(wallet.process_apdu(&apdu))),
                Err(e) => Some(format!("ERR not hex: {e}")),
            }
        }
    }
}

/// Connect to vpcd (pcscd's virtual reader driver) and be the card in its reader until vpcd
/// closes the connection.
pub fn vcard(home: &Home, addr: &str) -> Result<()> {
    let wallet = home.open_wallet()?;
    eprintln!("wallet: serving the card to vpcd at {addr} (Ctrl-C to stop)");
    let mut card = WalletCard { wallet };
    vpcd::run(addr, &mut card).with_context(|| format!("vpcd at {addr}"))?;
    Ok(())
}

struct WalletCard {
    wallet: Arc<Wallet>,
}

impl VirtualCard for WalletCard {
    fn power_on(&mut self) {
        self.wallet.deactivate();
    }
    fn power_off(&mut self) {
        self.wallet.deactivate();
    }
    fn reset(&mut self) {
        self.wallet.deactivate();
    }
    fn transmit(&mut self, apdu: &[u8]) -> Vec<u8> {
        self.wallet.process_apdu(apdu)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_lines_and_bad_hex() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::new(dir.path().to_path_buf());
        let wallet = home.open_or_create().unwrap();
        assert_eq!(answer_line(&wallet, "!poweron").as_deref(), Some("OK"));
        assert_eq!(answer_line(&wallet, "!reset").as_deref(), Some("OK"));
        assert_eq!(answer_line(&wallet, ""), None);
        assert!(answer_line(&wallet, "zz").unwrap().starts_with("ERR"));
        // No cards: SELECT PPSE finds nothing.
        let r = answer_line(&wallet, "00A404000E325041592E5359532E444446303100").unwrap();
        assert_eq!(r, "6A82");
        // Too short for an APDU.
        assert_eq!(answer_line(&wallet, "00A4").as_deref(), Some("6700"));
    }
}
