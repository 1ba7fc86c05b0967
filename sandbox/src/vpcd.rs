//! The card as a virtual smart card for pcscd's vpcd driver (vsmartcard, Debian
//! `vsmartcard-vpcd`), so any PC/SC terminal program can talk to the wallet.
//!
//! Protocol, as `virtualsmartcard/src/vpcd/vpcd.c` implements it: vpcd listens (port 35963
//! by default) and the virtual card connects. Every message, both ways, is a 2-byte big-endian
//! length followed by that many bytes. From vpcd, a 1-byte message is a control code —
//! `00` power off, `01` power on, `02` reset (no answer to any of the three), `04` get ATR
//! (answered with the ATR) — and anything longer is a C-APDU, answered with the R-APDU.
//! vpcd asks for the ATR whenever pcscd polls for card presence.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::SystemTime;
use wallet_core::hce::Engine;
use wallet_core::ledger::KeyLedger;

/// ATR of an ISO 14443-4 card as a contactless PC/SC reader reports it (PC/SC part 3, §3.1.3.2.3:
/// `3B 8n 80 01` + historical bytes + TCK; no historical bytes here, so TCK = 01).
pub const ATR: [u8; 5] = [0x3B, 0x80, 0x80, 0x01, 0x01];

/// Default port of vpcd's listener (`VPCDPORT` in vpcd.h).
pub const DEFAULT_PORT: u16 = 35963;

const CTRL_OFF: u8 = 0x00;
const CTRL_ON: u8 = 0x01;
const CTRL_RESET: u8 = 0x02;
const CTRL_ATR: u8 = 0x04;

/// One message from vpcd.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame<'a> {
    PowerOff,
    PowerOn,
    Reset,
    GetAtr,
    Apdu(&'a [u8]),
}

#[derive(Debug, thiserror::Error)]
pub enum VpcdError {
    #[error("unknown vpcd control code {0:#04x}")]
    UnknownControl(u8),
    #[error("empty vpcd message")]
    Empty,
    #[error("message of {0} bytes does not fit a 2-byte length")]
    TooLong(usize),
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Interpret one message payload (the bytes after the length prefix).
pub fn decode(payload: &[u8]) -> Result<Frame<'_>, VpcdError> {
    match payload {
        [] => Err(VpcdError::Empty),
        [CTRL_OFF] => Ok(Frame::PowerOff),
        [CTRL_ON] => Ok(Frame::PowerOn),
        [CTRL_RESET] => Ok(Frame::Reset),
        [CTRL_ATR] => Ok(Frame::GetAtr),
        [other] => Err(VpcdError::UnknownControl(*other)),
        apdu => Ok(Frame::Apdu(apdu)),
    }
}

/// `length (2 bytes, big-endian) | payload`.
pub fn encode(payload: &[u8]) -> Result<Vec<u8>, VpcdError> {
    let len = u16::try_from(payload.len()).map_err(|_| VpcdError::TooLong(payload.len()))?;
    let mut out = Vec::with_capacity(payload.len() + 2);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(payload);
    Ok(out)
}

/// Read one length-prefixed message; `None` when the peer closed the connection cleanly.
pub fn read_message(r: &mut impl Read) -> Result<Option<Vec<u8>>, VpcdError> {
    let mut first = [0u8; 1];
    loop {
        match r.read(&mut first) {
            Ok(0) => return Ok(None),
            Ok(_) => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        }
    }
    let mut second = [0u8; 1];
    r.read_exact(&mut second)?;
    let mut payload = vec![0u8; usize::from(u16::from_be_bytes([first[0], second[0]]))];
    r.read_exact(&mut payload)?;
    Ok(Some(payload))
}

/// What vpcd drives.
pub trait VirtualCard {
    /// Power on (the reader's field came up).
    fn power_on(&mut self);
    /// Power off: ends the card session.
    fn power_off(&mut self);
    /// Warm reset: ends the card session.
    fn reset(&mut self);
    /// One C-APDU in, one R-APDU out.
    fn transmit(&mut self, apdu: &[u8]) -> Vec<u8>;
    fn atr(&self) -> &[u8] {
        &ATR
    }
}

/// Serve `card` over an established vpcd connection until vpcd closes it.
pub fn serve(
    stream: &mut (impl Read + Write),
    card: &mut dyn VirtualCard,
) -> Result<(), VpcdError> {
    while let Some(payload) = read_message(stream)? {
        let reply = match decode(&payload) {
            Ok(Frame::PowerOff) => {
                card.power_off();
                None
            }
            Ok(Frame::PowerOn) => {
                card.power_on();
                None
            }
            Ok(Frame::Reset) => {
                card.reset();
                None
            }
            Ok(Frame::GetAtr) => Some(card.atr().to_vec()),
            Ok(Frame::Apdu(apdu)) => Some(card.transmit(apdu)),
            Err(e) => {
                // vpcd only sends the four codes; a stray one is logged, not fatal, and gets
                // no answer (vpcd expects none for a control message).
                log::warn!("vpcd: {e}");
                None
            }
        };
        if let Some(reply) = reply {
            stream.write_all(&encode(&reply)?)?;
            stream.flush()?;
        }
    }
    Ok(())
}

/// Connect to vpcd at `addr` (e.g. `127.0.0.1:35963`) and serve `card` until vpcd closes the
/// connection. Blocking.
pub fn run(addr: impl ToSocketAddrs, card: &mut dyn VirtualCard) -> Result<(), VpcdError> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    serve(&mut stream, card)
}

/// The HCE engine as a virtual card, spending keys from the ledger it is lent.
pub struct EngineCard<'a> {
    pub engine: &'a mut Engine,
    pub ledger: &'a mut dyn KeyLedger,
    uid: [u8; 4],
}

impl<'a> EngineCard<'a> {
    pub fn new(engine: &'a mut Engine, ledger: &'a mut dyn KeyLedger) -> Self {
        Self {
            engine,
            ledger,
            uid: random_uid(),
        }
    }
}

impl VirtualCard for EngineCard<'_> {
    fn power_on(&mut self) {
        self.engine.deactivate();
        self.uid = random_uid();
    }
    fn power_off(&mut self) {
        self.engine.deactivate();
    }
    fn reset(&mut self) {
        self.engine.deactivate();
    }
    fn transmit(&mut self, apdu: &[u8]) -> Vec<u8> {
        // PC/SC part 3 GET DATA (UID): a contactless reader answers it itself; vpcd passes it
        // on, so the card plays the reader's part.
        if apdu.starts_with(&[0xFF, 0xCA, 0x00, 0x00]) {
            let mut r = self.uid.to_vec();
            r.extend_from_slice(&[0x90, 0x00]);
            return r;
        }
        self.engine.process(apdu, self.ledger, SystemTime::now())
    }
}

/// A random 4-byte NFCID1 starting with 08, as phones emulating a card present (ISO/IEC
/// 14443-3: first byte 08 marks a random UID).
fn random_uid() -> [u8; 4] {
    let mut uid = [0x08, 0, 0, 0];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut uid[1..]);
    uid
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codec() {
        assert_eq!(decode(&[0x00]).ok(), Some(Frame::PowerOff));
        assert_eq!(decode(&[0x04]).ok(), Some(Frame::GetAtr));
        assert!(matches!(decode(&[0x03]), Err(VpcdError::UnknownControl(3))));
        assert!(matches!(decode(&[]), Err(VpcdError::Empty)));
        assert_eq!(
            decode(&[0, 0xA4, 4, 0]).ok(),
            Some(Frame::Apdu(&[0, 0xA4, 4, 0][..]))
        );
        assert_eq!(
            encode(&ATR).ok(),
            Some(vec![0, 5, 0x3B, 0x80, 0x80, 0x01, 0x01])
        );
        assert!(matches!(
            encode(&vec![0; 65_536]),
            Err(VpcdError::TooLong(65_536))
        ));
        let mut r: &[u8] = &[0x00, 0x02, 0xAB, 0xCD, 0x00];
        assert_eq!(read_message(&mut r).ok().flatten(), Some(vec![0xAB, 0xCD]));
        // A truncated length is an error, a clean end is `None`.
        assert!(read_message(&mut r).is_err());
        let mut empty: &[u8] = &[];
        assert!(matches!(read_message(&mut empty), Ok(None)));
    }
}
